"""The data stage with its files: validate raw files, clean them into ``data/processed/``.

The pure work happens in :mod:`analysis.data.cleaning`; this module adds file I/O,
checksums, schemas and atomic publishing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from analysis import __version__, config, tables
from analysis.data.cleaning import (
    RAW_COLUMNS,
    CleanResult,
    Records,
    clean_frames,
    parse_rows,
    prepare_records,
    published_by,
    read_raw_file,
    repeated_across_files,
    resolve,
)
from analysis.data.curation import Curation, load_curation
from analysis.data.files import check_published, input_files, lock, published_checksums, raw_files
from analysis.data.provenance import check_checksum, read_sidecar, sha256_of, sidecar_field
from analysis.data.registry import load_registry
from analysis.data.schemas import SCHEMAS
from analysis.errors import Problem, RawDataError

MANIFEST = "clean_manifest.json"
__all__ = ["input_files", "lock", "raw_files"]  # the stage's files live in analysis.data.files


def _curation(path: Path | None) -> Curation:
    return load_curation(path if path is not None else config.curation_file())


def validate_files(paths: list[Path], curation: Path | None = None, editions: Path | None = None) -> list[Problem]:
    """Check raw files against the raw schema, the registry and the parsers, as ``clean`` would.

    A file inside ``data/raw`` must have a sidecar whose checksum matches, and hold the bytes an edition
    published (``editions``, default ``reports/editions``); a candidate file elsewhere is checked for
    content only.  A row that repeats a row of another raw file is a problem at the newer file's row.

    Returns
    -------
    list of Problem
        Every problem found (empty when the files are fine).
    """
    problems: list[Problem] = []
    exclusions = _curation(curation)
    registry = load_registry()
    raw_dir = config.raw_dir().resolve()
    published = published_checksums(editions)
    checked = {path.resolve() for path in paths}
    frames = []
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), None, None, "file not found", "an existing CSV file"))
            continue
        inside_raw = path.resolve().parent == raw_dir
        problems.extend(check_checksum(path, require_sidecar=inside_raw))
        if inside_raw:
            problems.extend(check_published(path, published))
        frame, shape_problems = read_raw_file(path)
        problems.extend(shape_problems)
        if any(p.row == 1 and p.column in RAW_COLUMNS for p in shape_problems):
            continue
        frames.append(frame)
        _, _, row_problems = parse_rows(frame, exclusions, registry)
        problems.extend(row_problems)
    # a row repeated from another file is found against every raw file, not only those checked
    frames += [read_raw_file(p)[0] for p in raw_files() if p.resolve() not in checked]
    outside = {p.name for p in paths if p.resolve().parent != raw_dir}
    repeats = repeated_across_files(pd.concat(frames, ignore_index=True), _age(published, outside)) if frames else []
    problems.extend(p for p in repeats if p.file in {path.name for path in paths})
    return problems


def _age(published: dict, outside: set[str] = frozenset()):
    """Sort key of a raw file, oldest first: published by an edition, then in ``data/raw`` by the date its
    sidecar says it was retrieved, then a candidate file elsewhere."""

    def key(name: str) -> tuple:
        if name in outside:
            return (2, "", name)
        try:
            sidecar = read_sidecar(config.raw_dir() / name)
        except yaml.YAMLError:
            sidecar = {}
        retrieved = str(sidecar_field(sidecar, ("meta", "origin"), "date_accessed") or "")
        return (0 if name in published else 1, retrieved, name)

    return key


def read_raw(raw_directory: Path | None = None, editions: Path | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """Every raw file's rows (as text), after checking each file's checksum, bytes as published, and columns.

    Raises
    ------
    RawDataError
        When there is no raw file, a file fails its checksum, differs from what an edition published
        (``editions``, default ``reports/editions``), has the wrong shape, or repeats another file's row.
    """
    paths = raw_files(raw_directory)
    if not paths:
        folder = raw_directory or config.raw_dir()
        raise RawDataError([Problem(str(folder), None, None, "no raw CSV files", "data/raw/*.csv")])
    problems: list[Problem] = []
    frames = []
    published = published_checksums(editions)
    for path in paths:
        problems.extend(check_checksum(path))
        problems.extend(check_published(path, published))
        frame, shape_problems = read_raw_file(path)
        problems.extend(shape_problems)
        frames.append(frame)
    raw = pd.concat(frames, ignore_index=True)
    problems.extend(repeated_across_files(raw, _age(published)))
    if problems:
        raise RawDataError(problems)
    return raw, paths


def clean_in_memory(
    as_of: int | None = None, raw_directory: Path | None = None, curation: Path | None = None
) -> CleanResult:
    """Clean every raw file without publishing; with ``as_of``, as the data stood then.

    With ``as_of``, conflicts are resolved among the figures published by that year only (the
    vintage then public), not among the figures kept today.

    Raises
    ------
    RawDataError
        When any raw file cannot be cleaned.
    """
    raw, _ = read_raw(raw_directory)
    result = clean_frames(raw, _curation(curation), load_registry(), as_of=as_of)
    coerced = {name: tables.validate(name, frame, SCHEMAS[name])[0] for name, frame in result.tables().items()}
    return CleanResult(**coerced)


def records_in_memory(raw_directory: Path | None = None, curation: Path | None = None) -> Records:
    """Every raw file parsed once, for restating the tables at several past years (see :func:`resolve_tables`)."""
    raw, _ = read_raw(raw_directory)
    return prepare_records(raw, _curation(curation), load_registry())


def visible_as_of(records: Records, as_of: int) -> pd.DataFrame:
    """The kept figures public by the end of ``as_of`` (targets whenever stated)."""
    return published_by(records.kept, as_of)


def resolve_tables(visible: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(indicators, targets)`` resolved from the figures of :func:`visible_as_of`, typed by their schemas."""
    indicators, targets, _ = resolve(visible)
    return (
        tables.validate("indicators", indicators, SCHEMAS["indicators"])[0],
        tables.validate("targets", targets, SCHEMAS["targets"])[0],
    )


def clean(
    raw_directory: Path | None = None,
    output_directory: Path | None = None,
    curation: Path | None = None,
    editions: Path | None = None,
) -> dict[str, Path]:
    """Clean every raw file and publish the processed tables (with their data dictionaries) atomically.

    The caller holds the data's lock (:func:`analysis.data.files.lock`).

    Raises
    ------
    RawDataError
        When a raw file fails its checksum, differs from what an edition published (``editions``), or fails
        its schema or its parsers; nothing is written then.

    Returns
    -------
    dict of str to Path
        Table name -> published CSV path.
    """
    raw, paths = read_raw(raw_directory, editions)
    result = clean_frames(raw, _curation(curation), load_registry())
    checksums = {p.name: sha256_of(p) for p in paths}
    manifest = {
        "package_version": __version__,
        "raw_files": {
            name: {"sha256": digest, "rows": int((raw["raw_file"] == name).sum())} for name, digest in checksums.items()
        },
        "data_vintage": result.vintage(),
        "tables": {name: len(frame) for name, frame in result.tables().items()},
        "format": tables.CSV_FORMAT,
    }
    inputs = {p.name: sha256_of(p) for p in input_files()}
    out = output_directory or config.processed_dir()
    return tables.publish(
        out,
        {name: (frame, SCHEMAS[name]) for name, frame in result.tables().items()},
        produced_by="python -m analysis clean",
        inputs=inputs,
        extra_files={MANIFEST: json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"},
    )


def load_table(name: str, directory: Path | None = None) -> pd.DataFrame:
    """Read a table the data stage published (indicators, targets, conflicts, exclusions, sources)."""
    return tables.read(name, SCHEMAS.get(name), directory)


def load_manifest(directory: Path | None = None) -> dict:
    """The manifest of the last clean: raw checksums, row counts, data vintage (``{}`` before the first clean)."""
    return tables.read_json(MANIFEST, directory)
