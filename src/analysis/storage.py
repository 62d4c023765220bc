"""Atomic writes: a reader never sees a half-written table, report or record."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: object) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def publish_tables(directory: Path, tables: Mapping[str, pd.DataFrame], extra_files: Mapping[str, str] | None = None) -> list[Path]:
    """Write every table as CSV into a staging folder, then move them into ``directory``.

    Nothing in ``directory`` changes until every file has been written in full; each file is
    then replaced by a rename, so a failure part-way leaves the previous tables in place.

    Returns
    -------
    list of Path
        The published files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        staged = []
        for name, frame in tables.items():
            target = staging / f"{name}.csv"
            frame.to_csv(target, index=False, lineterminator="\n")
            staged.append(target)
        for name, text in (extra_files or {}).items():
            target = staging / name
            target.write_text(text, encoding="utf-8")
            staged.append(target)
        published = []
        for file in staged:
            os.replace(file, directory / file.name)
            published.append(directory / file.name)
        return published
    finally:
        shutil.rmtree(staging, ignore_errors=True)
