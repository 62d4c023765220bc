"""Atomic writes: a reader never sees a half-written table, report or record.

Every file the package writes goes through :func:`atomic_write_bytes` (one file) or
:func:`publish_files` (a set of files that appear together).  Files are created with the
permissions an ordinary ``open()`` would give (0644 under the usual umask), so that a web
server reading ``reports/`` can serve them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import yaml


def parse_yaml(text: str):
    """Parse YAML text safely, with libyaml's loader when it is installed (about ten times faster).

    Raises
    ------
    yaml.YAMLError
        With the line and column of the problem.
    """
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), _default_mode())
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        _name_the_file(exc, path)
        raise


def _name_the_file(exc: BaseException, path: Path) -> None:
    """A write that fails for lack of space says which file it was (``write()`` errors carry no name)."""
    if isinstance(exc, OSError) and not exc.filename:
        exc.filename = str(path)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: object) -> None:
    """:func:`atomic_write_bytes` for JSON (indented, UTF-8, non-ASCII kept)."""
    atomic_write_text(path, json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def publish_files(directory: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write every file into a staging folder, then move them into ``directory``.

    Nothing in ``directory`` changes until every file has been written in full; each file is
    then replaced by a rename, so a failure part-way leaves the previous files in place.

    Returns
    -------
    list of Path
        The published files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    mode = _default_mode()
    try:
        staged = []
        for name, data in files.items():
            target = staging / name
            try:
                target.write_bytes(data)
            except OSError as exc:
                _name_the_file(exc, directory / name)
                raise
            os.chmod(target, mode)
            staged.append(target)
        published = []
        for file in staged:
            os.replace(file, directory / file.name)
            published.append(directory / file.name)
        return published
    finally:
        shutil.rmtree(staging, ignore_errors=True)
