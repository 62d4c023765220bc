"""Stages that read and write files: validate raw files, clean them, assess targets.

The pure work happens in :mod:`analysis.cleaning` and :mod:`analysis.assessment`; this
module adds file I/O, checksums and atomic publishing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis import __version__, config
from analysis.cleaning import RAW_COLUMNS, clean_frames, load_curation, parse_rows, read_raw_file
from analysis.errors import Problem, RawDataError
from analysis.provenance import check_checksum, sha256_of
from analysis.schemas import validate_tables
from analysis.storage import publish_tables


def raw_files(directory: Path | None = None) -> list[Path]:
    """The raw CSV files, in name order."""
    return sorted((directory or config.raw_dir()).glob("*.csv"))


def validate_files(paths: list[Path], curation: Path | None = None) -> list[Problem]:
    """Check raw files against the raw schema and the parsers, as ``clean`` would.

    A file inside ``data/raw`` must have a sidecar whose checksum matches; a candidate file
    elsewhere is checked for content only.

    Returns
    -------
    list of Problem
        Every problem found (empty when the files are fine).
    """
    problems: list[Problem] = []
    exclusions = load_curation(curation if curation is not None else config.curation_file())
    raw_dir = config.raw_dir().resolve()
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), None, None, "file not found", "an existing CSV file"))
            continue
        inside_raw = path.resolve().parent == raw_dir
        problems.extend(check_checksum(path, require_sidecar=inside_raw))
        frame, shape_problems = read_raw_file(path)
        problems.extend(shape_problems)
        if any(p.row == 1 and p.column in RAW_COLUMNS for p in shape_problems):
            continue
        _, _, row_problems = parse_rows(frame, exclusions)
        problems.extend(row_problems)
    return problems


def clean(raw_directory: Path | None = None, output_directory: Path | None = None, curation: Path | None = None) -> dict[str, Path]:
    """Clean every raw file and publish the processed tables atomically.

    Raises
    ------
    RawDataError
        When a raw file fails its checksum, its schema or its parsers; nothing is written then.

    Returns
    -------
    dict of str to Path
        Table name -> published CSV path.
    """
    paths = raw_files(raw_directory)
    if not paths:
        raise RawDataError([Problem(str(raw_directory or config.raw_dir()), None, None, "no raw CSV files", "data/raw/*.csv")])
    problems: list[Problem] = []
    frames = []
    for path in paths:
        problems.extend(check_checksum(path))
        frame, shape_problems = read_raw_file(path)
        problems.extend(shape_problems)
        frames.append(frame)
    if problems:
        raise RawDataError(problems)
    raw = pd.concat(frames, ignore_index=True)
    result = clean_frames(raw, load_curation(curation if curation is not None else config.curation_file()))
    tables, schema_problems = validate_tables(result.tables())
    if schema_problems:
        raise RawDataError(schema_problems)
    published_dates = [d for d in raw["published_date"] if d]
    manifest = {
        "package_version": __version__,
        "raw_files": {p.name: {"sha256": sha256_of(p), "rows": int((raw["raw_file"] == p.name).sum())} for p in paths},
        "data_vintage": max(published_dates) if published_dates else None,
        "tables": {name: int(len(frame)) for name, frame in tables.items()},
        "format": "CSV, UTF-8, comma-separated, '.' decimal point; empty cell = missing",
    }
    out = output_directory or config.processed_dir()
    published = publish_tables(out, tables, {"clean_manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"})
    return {p.stem: p for p in published}


def load_table(name: str, directory: Path | None = None) -> pd.DataFrame:
    """Read a processed table (``indicators``, ``targets``, ``conflicts``, ...)."""
    path = (directory or config.processed_dir()) / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m analysis clean` first")
    frame = pd.read_csv(path, keep_default_na=True)
    for column in ("year", "span_start", "span_end", "target_year", "as_of", "latest_year"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def load_manifest(directory: Path | None = None) -> dict:
    path = (directory or config.processed_dir()) / "clean_manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def assess(as_of: int | None = None, directory: Path | None = None, n_paths: int = 4000) -> dict[str, Path]:
    """Fit the models and rules on the processed tables; publish forecasts.csv and assessments.csv.

    Returns
    -------
    dict of str to Path
    """
    from analysis.assessment import assess as run_assessment

    folder = directory or config.processed_dir()
    forecasts, assessments = run_assessment(load_table("indicators", folder), load_table("targets", folder),
                                            as_of=as_of, n_paths=n_paths)
    suffix = "" if as_of is None else f"-as-of-{as_of}"
    published = publish_tables(folder, {f"forecasts{suffix}": forecasts, f"assessments{suffix}": assessments})
    return {p.stem: p for p in published}
