"""The models stage with its files: processed tables -> forecasts and assessments.

The pure work happens in :mod:`analysis.models.assessment`; this module reads the processed
tables and the assessment plan and publishes ``forecasts.csv`` and ``assessments.csv`` (or
``...-as-of-YEAR.csv``) with their data dictionaries.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from analysis import config, tables
from analysis.data.provenance import hash_files, package_fingerprint, sha256_of
from analysis.data.registry import registry_files
from analysis.data.stage import load_table, records_in_memory, resolve_tables, visible_as_of
from analysis.models.assessment import assess as run_assessment
from analysis.models.plan import load_assessment_plan
from analysis.models.schemas import SCHEMAS
from analysis.storage import atomic_write_bytes


def table_name(name: str, as_of: int | None = None) -> str:
    """``assessments`` or ``assessments-as-of-2024``."""
    return name if not as_of else f"{name}-as-of-{as_of}"


def tables_as_of(as_of: int | None, folder: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``indicators`` and ``targets``: the published tables, or (``as_of``) the tables as the data stood then.

    As of a year, conflicts are resolved among the figures published by then (vintage by vintage),
    so a series whose later revision won today is still there as it was then.
    """
    if as_of:
        return resolve_tables(visible_as_of(records_in_memory(), as_of))
    return load_table("indicators", folder), load_table("targets", folder)


def assess(as_of: int | None = None, directory: Path | None = None, n_paths: int = 4000) -> dict[str, Path]:
    """Fit the models and rules on the processed tables; publish forecasts and assessments.

    Returns
    -------
    dict of str to Path
        Table name -> published CSV path.
    """
    folder = directory or config.processed_dir()
    plan = load_assessment_plan()
    indicators, targets = tables_as_of(as_of, folder)
    forecasts, assessments = run_assessment(indicators, targets, plan, as_of=as_of, n_paths=n_paths)
    inputs = {
        path.name: sha256_of(path)
        for path in (folder / "indicators.csv", folder / "targets.csv", config.assessment_plan_file())
    }
    produced_by = "python -m analysis assess" + (f" --as-of {as_of}" if as_of else "")
    published = tables.publish(
        folder,
        {
            table_name("forecasts", as_of): (forecasts, SCHEMAS["forecasts"]),
            table_name("assessments", as_of): (assessments, SCHEMAS["assessments"]),
        },
        produced_by=produced_by,
        inputs=inputs,
    )
    if not as_of:
        published.update(publish_derived(folder))
    return published


def load_result(name: str, as_of: int | None = None, directory: Path | None = None) -> pd.DataFrame:
    """Read ``forecasts`` or ``assessments`` (for ``as_of``, the as-of table)."""
    return tables.read(table_name(name, as_of), SCHEMAS[name], directory)


def publish_track_record(directory: Path | None = None, n_paths: int = 2000, reference_year: int | None = None) -> Path:
    """Restate every planned target at each past year and publish ``track_record.csv`` (see :mod:`track_record`).

    Reads today's ``assessments.csv`` for the outcomes that score the earlier statements.  Each
    year's restatement is cached in ``data/processed/.cache/`` on the figures public by then, the
    plan, the registry and the package's code: a figure published this year restates no past year.
    """
    import datetime as dt

    from analysis.models.track_record import track_record

    folder = directory or config.processed_dir()
    plan = load_assessment_plan()
    outcomes = load_result("assessments", directory=folder)
    reference = reference_year or dt.date.today().year
    records = records_in_memory()
    settings = "\n".join(
        [package_fingerprint(), hash_files([config.assessment_plan_file(), *registry_files()]), str(n_paths)]
    )
    record = track_record(
        lambda year: restated_as_of(visible_as_of(records, year), year, plan, settings, n_paths, folder / ".cache"),
        outcomes,
        reference,
    )
    inputs = {path.name: sha256_of(path) for path in (folder / "assessments.csv", config.assessment_plan_file())}
    return tables.publish(
        folder,
        {"track_record": (record, SCHEMAS["track_record"])},
        produced_by="python -m analysis track-record",
        inputs=inputs,
    )["track_record"]


def restated_as_of(
    visible: pd.DataFrame, as_of: int, plan: tuple, settings: str, n_paths: int, cache: Path
) -> pd.DataFrame:
    """The statements of ``as_of`` (see :func:`track_record.restate`), from the cache when its inputs are unchanged.

    The cache file's name carries the hash of its inputs (the figures public then and ``settings``);
    another file for the same year is stale and removed.
    """
    from analysis.models.track_record import STATEMENT_COLUMNS, restate

    digest = hashlib.sha256(settings.encode() + visible.to_csv(index=False).encode()).hexdigest()[:20]
    path = cache / f"track-record-as-of-{as_of}.{digest}.csv"
    if path.exists():
        try:
            return pd.read_csv(path, dtype={"comparator": str})[STATEMENT_COLUMNS]
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is recomputed
    statements = restate(*resolve_tables(visible), plan, as_of, n_paths=n_paths)
    cache.mkdir(parents=True, exist_ok=True)
    for stale in cache.glob(f"track-record-as-of-{as_of}.*.csv"):
        stale.unlink(missing_ok=True)
    atomic_write_bytes(path, statements.to_csv(index=False).encode("utf-8"))
    return statements


def publish_changes(editions: Path, directory: Path | None = None) -> tuple[Path, str | None]:
    """Write ``changes.csv``: what the next edition says changed since the latest one in ``editions``.

    Returns
    -------
    (Path, str or None)
        The table, and the id of the edition it compares with (None before the first edition).
    """
    from analysis.models.changes import pending_changes

    folder = directory or config.processed_dir()
    changes, previous = pending_changes(editions, folder, load_assessment_plan())
    inputs = {path.name: sha256_of(path) for path in (folder / "indicators.csv", folder / "assessments.csv")}
    extra = {"changes.json": json.dumps({"previous_edition": previous}) + "\n"}
    published = tables.publish(
        folder,
        {"changes": (changes, SCHEMAS["changes"])},
        produced_by="python -m analysis run",
        inputs=inputs,
        extra_files=extra,
    )
    return published["changes"], previous


def publish_derived(directory: Path | None = None) -> dict[str, Path]:
    """Publish the tables derived from the assessments: ``what_it_takes.csv`` and ``merged_city.csv``.

    See :mod:`analysis.models.what_it_takes` (growth and money each open share target needs) and
    :mod:`analysis.models.merged_city` (the merged city's share before the merger, or its band).
    """
    from analysis.data.registry import load_registry
    from analysis.models.merged_city import bridge
    from analysis.models.what_it_takes import requirements

    folder = directory or config.processed_dir()
    indicators, targets = load_table("indicators", folder), load_table("targets", folder)
    plan, registry = load_assessment_plan(), load_registry()
    needs = requirements(indicators, targets, load_result("assessments", directory=folder), plan, registry)
    bridges = [
        bridge(indicators, entry.indicator, entry.boundary, entry.primary_estimator, registry).assign(
            boundary=entry.boundary, indicator=entry.indicator
        )
        for entry in plan
        if entry.primary_estimator
    ]
    merged = pd.concat(
        [b for b in bridges if not b.empty] or [pd.DataFrame(columns=list(SCHEMAS["merged_city"].columns))]
    )
    inputs = {path.name: sha256_of(path) for path in (folder / "indicators.csv", folder / "assessments.csv")}
    return tables.publish(
        folder,
        {"what_it_takes": (needs, SCHEMAS["what_it_takes"]), "merged_city": (merged, SCHEMAS["merged_city"])},
        produced_by="python -m analysis assess",
        inputs=inputs,
    )
