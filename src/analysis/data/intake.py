"""Intake: new figures become new raw files, checked first, with a sidecar written by the package.

``python -m analysis add`` writes one figure into an analyst entry file under ``data/raw/``
(``analyst-YYYY-MM-DD.csv``), extending that file while no edition has published it;
``python -m analysis import FILE`` does the same for many rows from a CSV or Excel sheet;
``python -m analysis template FILE.xlsx`` writes the Excel sheet analysts fill in.  Nothing is
appended to a raw file once an edition has published it, and nothing is written when a row
fails its checks.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import os
import re
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data.cleaning import KINDS, RAW_COLUMNS, parse_row, read_raw_file, repeated_across_files
from analysis.data.files import locked, published_checksums, raw_files
from analysis.data.provenance import RAW_COLUMN_DESCRIPTIONS, check_checksum, sidecar_path, sidecar_text
from analysis.data.registry import Registry, load_registry
from analysis.errors import Problem, RawDataError
from analysis.storage import publish_files

#: Command-line option of each raw column (``python -m analysis add``).
OPTIONS = {
    "indicator": "--indicator",
    "geography": "--geography",
    "period": "--period",
    "value_as_published": "--value",
    "unit_as_published": "--unit",
    "kind": "--kind",
    "methodology_or_estimator": "--estimator",
    "source_publisher": "--publisher",
    "source_title": "--title",
    "source_url": "--url",
    "published_date": "--published-date",
}
ANALYST_PREFIX = "analyst-"
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*\.[^\s]+", re.IGNORECASE)
_SEED_ARTICLE = re.compile(r"\(seeds/[\w.-]+\.txt\)")


#: The example row of the Excel template: a row left exactly as this is not imported.
TEMPLATE_EXAMPLE = {
    "indicator": "digital_economy_share_GRDP",
    "geography": "HCMC",
    "period": "2025",
    "value_as_published": "khoảng 25",
    "unit_as_published": "% GRDP",
    "kind": "estimate",
    "methodology_or_estimator": "MIC/MST-framework series (Bộ KH&CN), year-end estimate",
    "source_publisher": "VietNamNet",
    "source_title": "Bí thư TPHCM: Năm 2026 là năm nghĩ thật, làm thật, có kết quả thật",
    "source_url": "https://vietnamnet.vn/bi-thu-tphcm-nam-2026-la-nam-nghi-that-lam-that-co-ket-qua-that-2481741.html",
    "published_date": "2026-01-14",
}
EXAMPLE_NOTE = "Example row: import leaves it out while it stays exactly as written. Type over it or below it."


def published_raw_files(editions: Path | None = None) -> set[str]:
    """Raw files that some edition has published (their names; see :func:`analysis.data.files.published_checksums`)."""
    return set(published_checksums(editions))


def check_rows(
    rows: list[dict], file_name: str, registry: Registry, require_date: bool = False, today: dt.date | None = None
) -> list[Problem]:
    """Every problem of new raw rows: the cleaning parsers, plus a source address (and date) for each.

    Parameters
    ----------
    rows : list of dict
        Raw column -> text, one dict per row, in file order (row 2 is the first).
    require_date : bool
        A single figure added by hand must carry its publication date.
    """
    problems = []
    for offset, row in enumerate(rows):
        number = offset + 2
        raw = {column: str(row.get(column, "") or "").strip() for column in RAW_COLUMNS}
        raw.update(raw_file=file_name, raw_row=number)
        _, row_problems = parse_row(raw, registry, today=today)
        # each problem once: the address is checked below, more strictly than cleaning does (it must be there)
        row_problems = [p for p in row_problems if p.column != "source_url"]
        problems.extend(row_problems)
        # a seed article of the project is cited by its file, as seed_articles_indicators.csv does: it has no address
        cites_seed = not raw["source_url"] and _SEED_ARTICLE.search(raw["source_title"])
        if not cites_seed and not _URL.fullmatch(raw["source_url"]):
            what = "missing" if not raw["source_url"] else f"'{raw['source_url']}' is not an http(s) address"
            problems.append(
                Problem(
                    file_name,
                    number,
                    "source_url",
                    f"source address {what}",
                    "https://... of the page the figure was read from",
                )
            )
        if (
            require_date
            and "published_date" not in {p.column for p in row_problems}
            and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["published_date"])
        ):
            what = "missing" if not raw["published_date"] else f"'{raw['published_date']}' is not a date"
            problems.append(
                Problem(
                    file_name,
                    number,
                    "published_date",
                    f"publication date {what}",
                    "YYYY-MM-DD, as printed with the figure",
                )
            )
        for column in ("source_publisher", "methodology_or_estimator"):
            if not raw[column]:
                problems.append(
                    Problem(
                        file_name, number, column, "empty", "who published the figure, and who estimated it and how"
                    )
                )
    return problems


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RAW_COLUMNS)
    for row in rows:
        writer.writerow([str(row.get(column, "") or "").strip() for column in RAW_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def _sources(rows: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for number, row in enumerate(rows, 2):
        entry = seen.setdefault(
            row["source_url"],
            {
                "publisher": row["source_publisher"],
                "url": row["source_url"],
                "published_date": row.get("published_date") or None,
                "rows": [],
            },
        )
        entry["rows"].append(number)
    return list(seen.values())


def _analyst() -> str:
    return os.environ.get("ANALYSIS_ANALYST") or getpass.getuser()


def _write(path: Path, data: bytes, origin: dict, rows: int) -> Path:
    """Write a raw file and its sidecar together (staging + rename: both or neither)."""
    staging = path.parent / f".intake-{path.name}"
    staging.write_bytes(data)
    try:
        sidecar = sidecar_text(staging, origin, rows=rows).replace(f"path: {staging.name}", f"path: {path.name}")
        sidecar = sidecar.replace(f"data/raw/{staging.name}", f"data/raw/{path.name}")
    finally:
        staging.unlink(missing_ok=True)
    publish_files(path.parent, {path.name: data, sidecar_path(path).name: sidecar.encode("utf-8")})
    return path


def analyst_file(today: dt.date, name: str | None = None, raw_dir: Path | None = None) -> Path:
    """The analyst entry file to write into: ``name``, or today's, or a new one if today's was published."""
    folder = raw_dir or config.raw_dir()
    if name:
        stem = name.removesuffix(".csv")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", stem):
            raise RawDataError(
                [Problem("--file", None, None, f"'{name}' is not a plain file name", "letters, digits, - _ .")]
            )
        return folder / f"{stem}.csv"
    published = published_raw_files()
    candidate = folder / f"{ANALYST_PREFIX}{today.isoformat()}.csv"
    number = 2
    while candidate.name in published:
        candidate = folder / f"{ANALYST_PREFIX}{today.isoformat()}-{number}.csv"
        number += 1
    return candidate


def add_figure(
    fields: dict[str, str], file_name: str | None = None, today: dt.date | None = None, wait: float = 0.0
) -> tuple[Path, int]:
    """Check one figure and write it into an analyst entry file under ``data/raw/``.

    The data's lock is held throughout (waiting up to ``wait`` seconds for a run's data stage or a
    ``clean``), so the figure lands wholly before or wholly after what a batch run reads.

    Parameters
    ----------
    fields : dict
        Raw column -> text (``indicator``, ``geography``, ``period``, ``value_as_published``, ...).
    file_name : str, optional
        The entry file (default ``analyst-<today>.csv``); it may not be a file an edition published.

    Raises
    ------
    RawDataError
        Every problem, named by its command-line option; nothing is written then.
    LockedError
        When the lock is not free within ``wait`` seconds (nothing is written).

    Returns
    -------
    (Path, int)
        The entry file and the row the figure was written to.
    """
    with locked(wait, "add"):
        return _add_figure(fields, file_name, today or dt.date.today())


def _add_figure(fields: dict[str, str], file_name: str | None, today: dt.date) -> tuple[Path, int]:
    registry = load_registry()
    path = analyst_file(today, file_name)
    problems = [
        Problem(OPTIONS.get(p.column, p.column or "--"), None, None, p.message, p.expected)
        for p in check_rows([fields], path.name, registry, require_date=True, today=today)
    ]
    if path.exists() and path.name in published_raw_files():
        problems.append(
            Problem(
                "--file",
                None,
                None,
                f"{path.name} was published in an edition and is immutable",
                "a new file name (or no --file: a new entry file is made)",
            )
        )
    elif path.exists():
        problems.extend(check_checksum(path))  # an entry file edited by hand is not extended (nor laundered)
    new = {column: str(fields.get(column, "") or "").strip() for column in RAW_COLUMNS}
    problems.extend(
        Problem("--", None, None, f"the figure is already in data/raw: it {p.message}", "a figure not yet in data/raw")
        for p in already_in_raw([(2, new)], "the new figure")
    )
    if problems:
        raise RawDataError(problems)
    existing = []
    if path.exists():
        frame, shape = read_raw_file(path)
        if shape:
            raise RawDataError(shape)
        existing = frame[RAW_COLUMNS].to_dict("records")
    rows = [*existing, {column: fields.get(column, "") for column in RAW_COLUMNS}]
    origin = {
        "title": f"Figures entered by hand with `python -m analysis add` ({path.stem})",
        "description": "One row per figure, each copied from the source it names (publisher, title, address, date).",
        "producer": _analyst(),
        "collection": "Entered with `python -m analysis add`, which checks each figure against the registry and the "
        "parsers "
        "before writing it.",
        "date_accessed": today.isoformat(),
        "status": "draft: extended by later `add` commands until an edition publishes it; immutable from then on",
        "sources": _sources(rows),
    }
    _write(path, _csv_bytes(rows), origin, len(rows))
    return path, len(rows) + 1


def already_in_raw(rows: list[tuple[int, dict]], file_name: str, skip: str | None = None) -> list[Problem]:
    """New rows that repeat a row already in ``data/raw`` cell for cell (other than in the file ``skip``).

    Returns
    -------
    list of Problem
        One per repeating row, at ``file_name`` and the new row's number, naming where the figure already is.
    """
    new = pd.DataFrame([{**row, "raw_file": file_name, "raw_row": number} for number, row in rows])
    frames = [read_raw_file(p)[0] for p in raw_files() if p.name not in (skip, file_name)]
    raw = pd.concat([*frames, new], ignore_index=True)
    return [p for p in repeated_across_files(raw, lambda name: (name == file_name, name)) if p.file == file_name]


#: Limits on a file to import, checked before it is read in full: a 110 KB sheet can unpack to gigabytes.
MAX_IMPORT_BYTES = 10 * 2**20
MAX_UNPACKED_BYTES = 50 * 2**20
MAX_IMPORT_ROWS = 5_000
MAX_IMPORT_CELLS = 100_000
#: Columns read from a sheet: the raw columns and a few of the analyst's own; the rest is never parsed.
MAX_IMPORT_COLUMNS = 40


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count:,} bytes"


def _too_large(path: Path, what: str, limit: str) -> RawDataError:
    return RawDataError([Problem(path.name, None, None, f"{what}; import takes at most {limit}", "a smaller file")])


def check_import_size(path: Path) -> None:
    """Refuse a file to import that is too large to read safely, before reading it in full.

    Raises
    ------
    RawDataError
        Naming the file and the limit: over :data:`MAX_IMPORT_BYTES` on disk, an Excel file whose parts
        unpack to over :data:`MAX_UNPACKED_BYTES`, or a CSV over :data:`MAX_IMPORT_ROWS` rows or
        :data:`MAX_IMPORT_CELLS` cells (counted while streaming; Excel rows are counted as they are read).
    """
    import zipfile

    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise _too_large(path, f"the file is {_size(size)}", _size(MAX_IMPORT_BYTES))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
        except zipfile.BadZipFile:
            raise RawDataError([Problem(path.name, None, None, "not an Excel file", "an .xlsx file")]) from None
        if unpacked > MAX_UNPACKED_BYTES:
            raise _too_large(path, f"its parts unpack to {_size(unpacked)}", f"{_size(MAX_UNPACKED_BYTES)} unpacked")
        return
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
        rows = cells = 0
        try:
            for row in csv.reader(stream):
                rows, cells = rows + 1, cells + len(row)
                _check_counts(path, rows, cells)
        except csv.Error:
            return  # read_raw_file names the malformed row


def _check_counts(path: Path, rows: int, cells: int) -> None:
    if rows > MAX_IMPORT_ROWS + 1:
        raise _too_large(path, f"it has more than {MAX_IMPORT_ROWS:,} rows", f"{MAX_IMPORT_ROWS:,} rows")
    if cells > MAX_IMPORT_CELLS:
        raise _too_large(path, f"it has more than {MAX_IMPORT_CELLS:,} cells", f"{MAX_IMPORT_CELLS:,} cells")


def _sheet_rows(path: Path):
    """The header and the rows of the sheet to import, streamed (openpyxl read-only), within the limits."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book["figures"] if "figures" in book.sheetnames else book.worksheets[0]
        # the width is the header's, never the sheet's declared dimension (which can say 16,384 columns)
        first = next(sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_IMPORT_COLUMNS, values_only=True), ())
        header = [str(h).strip() if h is not None else "" for h in first]
        while header and not header[-1]:
            header.pop()
        yield header
        cells = len(header)
        for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=max(len(header), 1), values_only=True), 2):
            cells += len(header)
            _check_counts(path, number, cells)
            yield number, values
    finally:
        book.close()


def read_table(path: Path) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """Rows of a CSV or Excel sheet to import, as (row number in the file, raw column -> text).

    Excel cells are read as typed; a number in ``value_as_published`` is refused, because the text as
    published ("18,66", "khoảng 25") is what the package keeps (the template formats every column as text).
    Empty rows and the template's example row (:data:`TEMPLATE_EXAMPLE`, unchanged) are left out.

    Raises
    ------
    RawDataError
        When the file is over the limits of :func:`check_import_size`.
    """
    check_import_size(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        frame, problems = read_raw_file(path)
        records = frame[[*RAW_COLUMNS, "raw_row"]].to_dict("records") if not frame.empty else []
        return [(int(r.pop("raw_row")), r) for r in records], problems
    rows_of_sheet = _sheet_rows(path)
    header = next(rows_of_sheet)
    problems = [
        Problem(path.name, 1, c, "missing column", ", ".join(RAW_COLUMNS)) for c in RAW_COLUMNS if c not in header
    ]
    example = [TEMPLATE_EXAMPLE[c] for c in RAW_COLUMNS]
    rows = []
    for number, cells in rows_of_sheet:
        if all(cell in (None, "") for cell in cells):
            continue
        record = dict(zip(header, cells, strict=False))
        row = {c: _cell_text(record.get(c)) for c in RAW_COLUMNS}
        if [row[c] for c in RAW_COLUMNS] == example:
            continue
        if isinstance(record.get("value_as_published"), int | float):
            problems.append(
                Problem(
                    path.name,
                    number,
                    "value_as_published",
                    "the cell holds a number, not the text as published",
                    "the column formatted as Text, as in `python -m analysis template`",
                )
            )
        rows.append((number, row))
    return rows, problems


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def import_file(
    source: Path, origin: dict, name: str | None = None, today: dt.date | None = None, wait: float = 0.0
) -> Path:
    """Check every row of a CSV or Excel file, then write it as a new raw file with its sidecar.

    A CSV with exactly the raw columns is kept byte for byte (the figures as published); an Excel
    sheet is written as UTF-8 CSV.  Rows listed in ``data/curation.yml`` for the new file's name are
    excluded there, as for any raw file.  A file over the limits of :func:`check_import_size` is refused
    before it is read in full.  The data's lock is held throughout (see :func:`add_figure`).

    Raises
    ------
    RawDataError
        Every problem as file:row:column, when a raw file of that name exists, or when a row repeats a
        figure already in ``data/raw``; nothing is written then.
    LockedError
        When the lock is not free within ``wait`` seconds.
    """
    with locked(wait, "import"):
        return _import_file(source, origin, name, today or dt.date.today())


def _import_file(source: Path, origin: dict, name: str | None, today: dt.date) -> Path:
    from analysis.data.curation import load_curation

    target = config.raw_dir() / f"{(name or source.stem).removesuffix('.csv')}.csv"
    if not source.exists():
        raise RawDataError([Problem(str(source), None, None, "file not found", "a CSV or Excel file")])
    if target.exists():
        raise RawDataError(
            [
                Problem(
                    target.name,
                    None,
                    None,
                    "a raw file of this name exists; raw files are never replaced",
                    "--name NEW_NAME",
                )
            ]
        )
    numbered, problems = read_table(source)
    if not numbered and not problems:
        raise RawDataError([Problem(source.name, None, None, "no figures to import", "one row per figure")])
    rows = [row for _, row in numbered]
    curated = {e.row for e in load_curation(config.curation_file()).exclusions if e.file == target.name}
    registry = load_registry()
    # curation names rows of the new raw file; problems name rows of the file the analyst filled in
    for position, (number, row) in enumerate(numbered, 2):
        if position in curated:
            continue
        for problem in check_rows([row], target.name, registry, today=today):
            problems.append(Problem(source.name, number, problem.column, problem.message, problem.expected))
    problems.extend(already_in_raw(numbered, source.name))
    if problems:
        raise RawDataError(problems)
    is_raw_csv = (
        source.suffix.lower() == ".csv"
        and next(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"))), []) == RAW_COLUMNS
    )
    data = source.read_bytes() if is_raw_csv else _csv_bytes(rows)
    full_origin = {
        "title": origin.get("title") or source.stem,
        "description": origin.get("description") or f"Figures imported from {source.name}.",
        "producer": origin.get("producer") or _analyst(),
        "collection": origin.get("collection") or f"Imported with `python -m analysis import {source.name}`.",
        "copied_from": f"{source} ({'unchanged byte for byte' if is_raw_csv else 'converted to UTF-8 CSV'})",
        "date_accessed": origin.get("date_accessed") or today.isoformat(),
        "latest_date_published_in_file": max(
            (r["published_date"] for r in rows if r.get("published_date")), default=None
        ),
        "sources": len({r["source_url"] for r in rows}),
        "excluded_in_curation": sorted(curated),
    }
    return _write(target, data, full_origin, len(rows))


def write_template(path: Path) -> Path:
    """An Excel sheet to fill in: raw columns as text, dropdowns for indicator, kind and estimator, one example row."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    registry = load_registry()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "figures"
    sheet.append(RAW_COLUMNS)
    sheet.append([TEMPLATE_EXAMPLE[c] for c in RAW_COLUMNS])
    # the example row is marked (grey italics, a note) and, left as it is, never imported
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    sheet.cell(2, 1).comment = Comment(EXAMPLE_NOTE, "python -m analysis template")
    for index, column in enumerate(RAW_COLUMNS, 1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = (
            28 if column not in ("source_title", "source_url", "methodology_or_estimator") else 48
        )
        sheet.cell(1, index).font = Font(bold=True, color="FFFFFF")
        sheet.cell(1, index).fill = PatternFill("solid", fgColor="123A66")
        for row in range(2, 1001):
            sheet.cell(row, index).number_format = "@"  # text: keep "18,66" as typed
    lists = book.create_sheet("lists")
    lists.sheet_state = "hidden"
    families = [
        "GSO (Cục Thống kê)",
        "MIC/MST-framework series (Bộ KH&CN)",
        "HIDS",
        "PTIT",
        "City department (Sở, UBND)",
    ]
    for column, values in enumerate((sorted(registry.indicators), list(KINDS), families), 1):
        for row, value in enumerate(values, 1):
            lists.cell(row, column, value)
    choices = {
        "indicator": ("A", len(registry.indicators), True),
        "kind": ("B", len(KINDS), True),
        "methodology_or_estimator": ("C", len(families), False),
    }
    for column, (letter, count, strict) in choices.items():
        target = openpyxl.utils.get_column_letter(RAW_COLUMNS.index(column) + 1)
        validation = DataValidation(
            type="list", formula1=f"lists!${letter}$1:${letter}${count}", allow_blank=True, showErrorMessage=strict
        )
        validation.add(f"{target}2:{target}1000")
        sheet.add_data_validation(validation)
    notes = book.create_sheet("columns")
    notes.append(["column", "what to write"])
    for column in RAW_COLUMNS:
        notes.append([column, RAW_COLUMN_DESCRIPTIONS[column]])
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 28, 110
    buffer = io.BytesIO()
    book.save(buffer)
    publish_files(path.parent if str(path.parent) else Path("."), {path.name: buffer.getvalue()})
    return path
