"""The models stage with its files: processed tables -> forecasts and assessments.

The pure work happens in :mod:`analysis.models.assessment`; this module reads the processed
tables and the assessment plan and publishes ``forecasts.csv`` and ``assessments.csv`` (or
``...-as-of-YEAR.csv``) with their data dictionaries.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pandas as pd

from analysis import config, tables
from analysis.data.provenance import sha256_of
from analysis.data.stage import load_table, records_in_memory, resolve_tables, visible_as_of
from analysis.models.assessment import assess as run_assessment
from analysis.models.assessment_plan import load_assessment_plan, load_plan_execution, load_programme
from analysis.models.schemas import SCHEMAS
from analysis.models.scorecard import scorecard
from analysis.storage import atomic_write_bytes


def table_name(name: str, as_of: int | None = None) -> str:
    """``assessments`` or ``assessments-as-of-2024`` (:func:`analysis.config.as_of_name`)."""
    return config.as_of_name(name, as_of)


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
    forecasts, assessments = run_assessment(
        indicators, targets, plan, as_of=as_of, n_paths=n_paths, plan_execution=load_plan_execution()
    )
    inputs = {
        path.name: sha256_of(path)
        for path in (folder / "indicators.csv", folder / "targets.csv", config.assessment_plan_file())
    }
    produced_by = "python -m analysis assess" + (f" --as-of {as_of}" if as_of else "")
    published_tables = {
        table_name("forecasts", as_of): (forecasts, SCHEMAS["forecasts"]),
        table_name("assessments", as_of): (assessments, SCHEMAS["assessments"]),
    }
    programme = load_programme()
    if programme is not None:
        card = scorecard(programme, indicators, targets, assessments, reference_year=as_of or None)
        published_tables[table_name("scorecard", as_of)] = (card, SCHEMAS["scorecard"])
    published = tables.publish(
        folder,
        published_tables,
        produced_by=produced_by,
        inputs=inputs,
    )
    if not as_of:
        published.update(publish_derived(folder))
    return published


def load_result(name: str, as_of: int | None = None, directory: Path | None = None) -> pd.DataFrame:
    """Read ``forecasts`` or ``assessments`` (for ``as_of``, the as-of table)."""
    return tables.read(table_name(name, as_of), SCHEMAS[name], directory)


def publish_track_record(
    cache_key: str, directory: Path | None = None, n_paths: int = 2000, reference_year: int | None = None
) -> Path:
    """Restate every planned target at each past year and publish ``track_record.csv`` and ``forecast_checks.csv``
    (see :mod:`track_record`).

    Reads today's ``assessments.csv`` for the outcomes that score the earlier statements, and today's
    ``indicators.csv`` for the figures that check the earlier forecasts.  Each year's restatement is cached
    in ``data/processed/.cache/`` on the figures public by then and ``cache_key`` (what else the step depends
    on, from :func:`analysis.pipeline.cache_key`: its code, the plan, the registry): a figure published this
    year restates no past year.
    """
    import datetime as dt

    from analysis.models.track_record import forecast_checks, track_record

    folder = directory or config.processed_dir()
    plan = load_assessment_plan()
    outcomes = load_result("assessments", directory=folder)
    reference = reference_year or dt.date.today().year
    records = records_in_memory()
    settings = f"{cache_key}\n{n_paths}"
    record, forecasts = track_record(
        lambda year: restated_as_of(visible_as_of(records, year), year, plan, settings, n_paths, folder / ".cache"),
        outcomes,
        reference,
    )
    checks = forecast_checks(forecasts, load_table("indicators", folder))
    inputs = {
        path.name: sha256_of(path)
        for path in (folder / "assessments.csv", folder / "indicators.csv", config.assessment_plan_file())
    }
    return tables.publish(
        folder,
        {
            "track_record": (record, SCHEMAS["track_record"]),
            "forecast_checks": (checks, SCHEMAS["forecast_checks"]),
        },
        produced_by="python -m analysis track-record",
        inputs=inputs,
    )["track_record"]


def restated_as_of(
    visible: pd.DataFrame, as_of: int, plan: tuple, settings: str, n_paths: int, cache: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The statements and forecasts of ``as_of`` (see :func:`track_record.restate`), from the cache when its inputs
    are unchanged.

    The cache files' names carry the hash of their inputs (the figures public then and ``settings``); other
    files for the same year are stale and removed.
    """
    from analysis.models.track_record import FORECAST_COLUMNS, STATEMENT_COLUMNS, restate

    digest = hashlib.sha256(settings.encode() + visible.to_csv(index=False).encode()).hexdigest()[:20]
    paths = (
        cache / f"{config.as_of_name('track-record', as_of)}.{digest}.csv",
        cache / f"{config.as_of_name('track-record-forecasts', as_of)}.{digest}.csv",
    )
    if all(path.exists() for path in paths):
        try:
            return (
                pd.read_csv(paths[0], dtype={"comparator": str})[STATEMENT_COLUMNS],
                pd.read_csv(paths[1])[FORECAST_COLUMNS],
            )
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is recomputed
    statements, forecasts = restate(
        *resolve_tables(visible), plan, as_of, n_paths=n_paths, plan_execution=load_plan_execution()
    )
    cache.mkdir(parents=True, exist_ok=True)
    for stale in [
        *cache.glob(f"{config.as_of_name('track-record', as_of)}.*.csv"),
        *cache.glob(f"{config.as_of_name('track-record-forecasts', as_of)}.*.csv"),
    ]:
        stale.unlink(missing_ok=True)
    atomic_write_bytes(paths[0], statements.to_csv(index=False).encode("utf-8"))
    atomic_write_bytes(paths[1], forecasts.to_csv(index=False).encode("utf-8"))
    return statements, forecasts


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
    inputs = {
        path.name: sha256_of(path)
        for path in (folder / name for name in ("indicators.csv", "assessments.csv", "scorecard.csv"))
        if path.exists()
    }
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


BENCHMARK_FILE = "benchmark.json"


def run_benchmarks(
    files: dict[str, tuple[Path, str | None]] | None = None,
    windows=None,
    out: Path | None = None,
    force: bool = False,
    log=None,
) -> dict:
    """The back-test of every benchmark file (``{"datasets": {name: {kind, data, fingerprint, windows}}}``).

    ``files``: name -> (path, kind or None to detect it); default: the shipped M3 levels and World Bank
    shares (:func:`config.benchmark_files`).  A dataset whose fingerprint (the methods' code, the shipped
    defaults and its file) and windows are unchanged in ``out`` is reused, so a new city figure never
    reruns it; the others are recomputed and ``out`` is rewritten with every dataset.
    """
    import json

    from analysis.models.benchmark import WINDOWS, evaluate_windows, fingerprint, load_series, window_key
    from analysis.storage import atomic_write_json

    windows = list(WINDOWS) if windows is None else list(windows)
    files = files or {name: (path, None) for name, path in config.benchmark_files().items() if path.exists()}
    target = out or (config.processed_dir() / BENCHMARK_FILE)
    recorded = {}
    if target.exists():
        try:
            recorded = json.loads(target.read_text(encoding="utf-8")).get("datasets", {})
        except (OSError, ValueError, AttributeError):
            recorded = {}
    datasets, changed = {}, False
    for name, (path, kind) in files.items():
        key = fingerprint(path)
        previous = recorded.get(name) or {}
        wanted = [window_key(w) for w in windows]
        if not force and previous.get("fingerprint") == key and all(w in previous.get("windows", {}) for w in wanted):
            datasets[name] = previous
            continue
        started = time.perf_counter()
        series, found_kind = load_series(path, kind)
        results = evaluate_windows(series, windows, log=log, kind=found_kind)
        datasets[name] = {"data": path.name, "kind": found_kind, "fingerprint": key, "windows": results}
        changed = True
        if log:
            log(f"benchmark {name} ({found_kind}, {', '.join(results)}) in {time.perf_counter() - started:.1f} s")
    for name, entry in recorded.items():
        datasets.setdefault(name, entry)
    document = {"datasets": datasets}
    if changed or not target.exists():  # a reused result is not rewritten: a report reading it stays up to date
        atomic_write_json(target, document)
    return document


def refit_defaults(kind: str, data: Path, out: Path | None = None) -> tuple[Path, dict]:
    """Refit the shipped defaults of one kind on a benchmark file's training parts and write them into
    ``forecast_defaults.yml`` (the other kind's section is kept)."""
    from analysis.models.benchmark import load_series
    from analysis.models.forecast_fit import defaults_document, defaults_section, fit_hyperparameters
    from analysis.models.forecasting import DEFAULTS_FILE, scale_of_kind
    from analysis.models.forecasting import defaults_document as shipped
    from analysis.storage import atomic_write_text, parse_yaml

    series, _ = load_series(data, kind)
    started = time.perf_counter()
    hyper, figures = fit_hyperparameters([train for _, train, _ in series], scale_of_kind(kind))
    target = out or DEFAULTS_FILE
    sections = parse_yaml(target.read_text(encoding="utf-8")) if target.exists() else {}
    sections = {k: v for k, v in (sections or {}).items() if k in ("share", "level")}
    sections[kind] = defaults_section(hyper, figures, data, time.perf_counter() - started, kind)
    ordered = {k: sections[k] for k in ("share", "level") if k in sections}
    atomic_write_text(target, defaults_document(ordered))
    shipped.cache_clear()
    return target, figures
