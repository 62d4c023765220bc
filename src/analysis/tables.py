"""Processed tables: validated against their schema, published with a data dictionary, read back.

Every table in ``data/processed/`` has a pandera schema whose columns carry a title and a
description.  :func:`publish` validates each table, writes it as CSV and writes its data
dictionary ``<table>.meta.yml`` beside it (as Our World in Data's garden steps do), all
through a staging folder so that nothing is half-written.  :func:`read` reads a table back
with the types its schema declares.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from analysis import __version__
from analysis.errors import MissingTableError, Problem, TableError
from analysis.storage import publish_files

CSV_FORMAT = "CSV, UTF-8, comma-separated, '.' decimal point, header row; an empty cell is a missing value"
MAX_SCHEMA_PROBLEMS = 50


def columns(schema: pa.DataFrameSchema) -> list[str]:
    """The columns of a table, in order, as its schema declares them."""
    return list(schema.columns)


def empty(schema: pa.DataFrameSchema) -> pd.DataFrame:
    """An empty table with the schema's columns."""
    return pd.DataFrame(columns=columns(schema))


def validate(name: str, frame: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate (and coerce) one table against its schema.

    Returns
    -------
    (DataFrame, list of Problem)
        The coerced table and every failure, named by table, row (header = row 1) and column.
    """
    try:
        return schema.validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as exc:
        problems = []
        for _, failure in exc.failure_cases.head(MAX_SCHEMA_PROBLEMS).iterrows():
            row = failure.get("index")
            problems.append(
                Problem(
                    f"{name}.csv (processed)",
                    None if pd.isna(row) else int(row) + 2,
                    failure.get("column"),
                    f"failed {failure.get('check')}: {failure.get('failure_case')}",
                )
            )
        return frame, problems


def check_entry(check: pa.Check) -> dict:
    """A column check as the data dictionary states it: the check's name and its bounds, values or pattern
    (``{"isin": {"allowed_values": [...]}}``, ``{"in_range": {"min_value": 0, ...}}``), or, for a check of
    the package's own, what it requires (``{"estimator_in_registry": "an estimator id of ..."}``)."""
    statistics = {
        key: list(value) if isinstance(value, tuple | set | frozenset) else value
        for key, value in (check.statistics or {}).items()
    }
    return {check.name: statistics or check.error}


def data_dictionary(
    name: str,
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    produced_by: str,
    inputs: Mapping[str, str] | None = None,
) -> dict:
    """The data dictionary of one table: what it is, how it was made, and every column.

    Parameters
    ----------
    produced_by : str
        The command that wrote the table.
    inputs : mapping, optional
        Input file name -> sha256 (the provenance of the rows).
    """
    described = {}
    for column_name, column in schema.columns.items():
        entry = {
            "title": column.title,
            "description": column.description,
            "type": str(column.dtype),
            "missing_allowed": bool(column.nullable),
        }
        checks = [check_entry(check) for check in column.checks]
        if checks:
            entry["checks"] = checks
        described[column_name] = entry
    return {
        "table": name,
        "title": schema.title,
        "description": schema.description,
        "file": f"{name}.csv",
        "format": CSV_FORMAT,
        "rows": len(frame),
        "produced_by": f"{produced_by} (analysis {__version__})",
        "inputs": dict(inputs or {}),
        "columns": described,
    }


#: A text cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9.,\s]*%?")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with formula-like text cells neutralised by a leading apostrophe.

    Analysts open the processed CSVs in Excel: a source title such as ``=HYPERLINK(...)`` must be
    shown as text, not run.  Signed numbers written as text ("-3,5") are left as they are; the raw
    files keep every cell as published.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(
                lambda value: (
                    f"'{value}"
                    if isinstance(value, str)
                    and value.startswith(FORMULA_STARTS)
                    and not _PLAIN_NUMBER.fullmatch(value)
                    else value
                )
            )
    return out


def publish(
    directory: Path,
    tables: Mapping[str, tuple[pd.DataFrame, pa.DataFrameSchema]],
    produced_by: str,
    inputs: Mapping[str, str] | None = None,
    extra_files: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Validate every table, then publish it as CSV with its ``.meta.yml`` data dictionary.

    Raises
    ------
    TableError
        When any table fails its schema; nothing is written then.

    Returns
    -------
    dict of str to Path
        Table name -> published CSV.
    """
    validated, problems = {}, []
    for name, (frame, schema) in tables.items():
        validated[name], table_problems = validate(
            name, frame[columns(schema)] if set(columns(schema)) <= set(frame.columns) else frame, schema
        )
        problems.extend(table_problems)
    if problems:
        raise TableError(problems)
    files: dict[str, bytes] = {}
    for name, frame in validated.items():
        files[f"{name}.csv"] = spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
        dictionary = data_dictionary(name, frame, tables[name][1], produced_by, inputs)
        files[f"{name}.meta.yml"] = yaml.safe_dump(dictionary, allow_unicode=True, sort_keys=False, width=100).encode(
            "utf-8"
        )
    for file_name, text in (extra_files or {}).items():
        files[file_name] = text.encode("utf-8")
    published = publish_files(directory, files)
    return {path.stem: path for path in published if path.suffix == ".csv"}


def _shown(path: Path) -> str:
    """A path as an operator types it: relative to the project when inside it."""
    from analysis import config

    try:
        return str(path.resolve().relative_to(config.project_root().resolve()))
    except ValueError:
        return str(path)


def read(name: str, schema: pa.DataFrameSchema | None = None, directory: Path | None = None) -> pd.DataFrame:
    """Read a processed table, with whole-number columns as nullable integers.

    Raises
    ------
    FileNotFoundError
        When the table has not been produced; the message names the command that makes it.
    """
    from analysis import config

    path = (directory or config.processed_dir()) / f"{name}.csv"
    if not path.exists():
        raise MissingTableError(
            f"{_shown(path)} is missing: run `python -m analysis clean` and `python -m analysis assess` "
            "(or `make report`) first"
        )
    frame = pd.read_csv(path, keep_default_na=True)
    if schema is not None:
        for column_name, column in schema.columns.items():
            if column_name in frame and str(column.dtype) == "Int64":
                frame[column_name] = frame[column_name].astype("Int64")
    return frame


def read_json(name: str, directory: Path | None = None) -> dict:
    """A JSON file beside the processed tables (``{}`` when absent)."""
    from analysis import config

    path = (directory or config.processed_dir()) / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
