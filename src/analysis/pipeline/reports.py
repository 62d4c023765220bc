"""Each report as a step of the pipeline: its inputs (notebook, plan entry, code, the slice of processed data it
reads) and whether it is stale, by the same rule as the data steps (:func:`analysis.pipeline.rule.why_stale`).

The batch keeps each report's recorded fingerprint in ``reports/.state.json``.  No pandas here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from analysis import config
from analysis.pipeline.rule import why_stale

#: Tables whose ``published_date`` says when a figure or target became public (a report's vintage).
DATED_TABLES = ("indicators.csv", "targets.csv")
#: Tables that compare with the latest edition: they move whenever an edition is recorded, so a report reads
#: them only whole (the summary's ``reads: all``), never as rows of its indicators.
EDITION_TABLES = ("changes.csv", "changes.json")
#: The parts of a report's fingerprint, in the order a reason names them.
REPORT_PARTS = ("notebook", "task", "code", "data")


@dataclass
class DataSlice:
    """The processed data one report reads: its hash and the latest publication date among its figures."""

    digest: str
    vintage: str | None


def data_slice(reads: dict | None, cache: dict | None = None) -> DataSlice:
    """Hash of the processed data a report reads, and the latest ``published_date`` of the figures in it.

    ``reads`` is ``None`` (everything in ``data/processed``) or ``{"indicators": [...], "tables": [...]}``:
    the rows of every processed table whose ``indicator`` is listed (but :data:`EDITION_TABLES`), and the
    whole of each listed table.
    The vintage is None when the report reads no figure or target (the method appendix).
    """
    key = json.dumps(reads, sort_keys=True)
    if cache is not None and key in cache:
        return cache[key]
    processed = config.processed_dir()
    files = sorted(p for p in processed.glob("*") if p.is_file() and p.suffix in (".csv", ".json"))
    digest = hashlib.sha256()
    indicators = set((reads or {}).get("indicators", []))
    whole = set((reads or {}).get("tables", []))
    dates: list[str] = []
    for path in files:
        everything = reads is None or path.name in whole
        if not everything and not (indicators and path.suffix == ".csv" and path.name not in EDITION_TABLES):
            continue
        data = path.read_bytes()
        if everything:
            digest.update(path.name.encode() + data)
        if path.suffix != ".csv" or (everything and path.name not in DATED_TABLES):
            continue
        rows = csv.reader(io.StringIO(data.decode("utf-8")))
        header = next(rows, [])
        column = header.index("indicator") if "indicator" in header else None
        if column is None and not everything:
            continue
        dated = header.index("published_date") if path.name in DATED_TABLES and "published_date" in header else None
        if not everything:
            digest.update(path.name.encode())
        for row in rows:
            if not everything and not (column is not None and len(row) > column and row[column] in indicators):
                continue
            if not everything:
                digest.update("\x1f".join(row).encode() + b"\n")
            if dated is not None and len(row) > dated and row[dated]:
                dates.append(row[dated])
    value = DataSlice(digest.hexdigest(), max(dates) if dates else None)
    if cache is not None:
        cache[key] = value
    return value


def report_fingerprint(notebook: Path, entry: dict, code: str, data: str) -> dict[str, str]:
    """The inputs of one report, kept apart so that a dry run can say which one changed.

    Parameters
    ----------
    notebook : Path
        The report's notebook.
    entry : dict
        Its plan entry as run (notebook, parameters, language, ``as_of``); how long it may run is left out,
        since it changes how a report is run, not what it contains.
    code : str
        Fingerprint of the package code.
    data : str
        Digest of the slice of processed data it reads (:func:`data_slice`).
    """
    inputs = {k: v for k, v in entry.items() if k != "timeout"}
    return {
        "notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        "task": hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest(),
        "code": code,
        "data": data,
    }


def report_reason(parts: dict[str, str], info: dict, outputs: list[Path], force: bool) -> str | None:
    """Why a report must be rebuilt (None: its published files are up to date): :func:`why_stale` against the
    fingerprint the batch recorded when it last published it (``info``, its entry in the batch's state)."""
    failed = info.get("status") not in (None, "ok")
    recorded = info.get("fingerprint") if not failed else None
    return why_stale(
        parts,
        recorded if isinstance(recorded, dict) else None,
        outputs,
        force=force,
        missing_says="not published yet",
        no_record_says="its last build failed" if failed else "built before fingerprints were kept",
    )
