"""The data stage's files: which raw files and inputs there are, the lock over them, and which are published.

Kept apart from :mod:`analysis.data.stage` (which imports pandas) so that the batch can fingerprint
its inputs, and ``add`` can take the lock, without the heavy libraries.
"""

from __future__ import annotations

import json
from pathlib import Path

from analysis import config
from analysis.data.provenance import sha256_of
from analysis.data.registry import registry_files
from analysis.errors import LockedError, Problem

#: Seconds a command that writes raw or processed data waits for the lock by default (the batch's data
#: stage and ``clean`` wait longer: they are the ones an analyst's ``add`` waits for).
LOCK_WAIT = 900


def raw_files(directory: Path | None = None) -> list[Path]:
    """The raw CSV files, in name order."""
    return sorted((directory or config.raw_dir()).glob("*.csv"))


def input_files() -> list[Path]:
    """Every file the data stage reads: raw files (and their sidecars), the curation list and the registry."""
    raw = sorted(p for p in config.raw_dir().glob("*") if p.is_file() and not p.name.startswith("."))
    curation = [config.curation_file()] if config.curation_file().exists() else []
    return [*raw, *curation, *registry_files()]


def lock(timeout: float = LOCK_WAIT):
    """The lock of the data: whoever reads the raw files to clean them, writes into ``data/raw`` or writes
    ``data/processed`` holds it (``data/processed/.lock``).

    A run's data stage, ``clean``, ``add`` and ``import`` take turns, so a figure added lands wholly
    before or wholly after what a run reads.  Returns a ``filelock.FileLock`` (a context manager);
    entering it raises ``filelock.Timeout`` after ``timeout`` seconds (see :func:`locked`).
    """
    from filelock import FileLock

    folder = config.processed_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / ".lock"), timeout=timeout, thread_local=False)


class locked:  # noqa: N801 - used as a context manager, like the lock it wraps
    """:func:`lock`, raising :class:`~analysis.errors.LockedError` (exit 3) when it is not free within ``wait`` s."""

    def __init__(self, wait: float = LOCK_WAIT, what: str = "this command"):
        self.held = lock(timeout=wait)
        self.wait, self.what = wait, what

    def __enter__(self):
        from filelock import Timeout

        try:
            self.held.acquire()
        except Timeout:
            waited = f" for {self.wait:g} s" if self.wait else ""
            raise LockedError(
                f"{self.held.lock_file}: a batch run or a clean is using the data (waited{waited or ' not at all'}); "
                f"{self.what} wrote nothing; try again, or pass --wait SECONDS"
            ) from None
        return self

    def __exit__(self, *_exc) -> None:
        self.held.release()


def input_checksums() -> dict[str, str]:
    """sha256 of every input of the data stage (:func:`input_files`), by file name."""
    return {path.name: sha256_of(path) for path in input_files()}


def published_checksums(editions: Path | None = None) -> dict[str, tuple[str, str]]:
    """Raw files that an edition has published: name -> (sha256 the first edition recorded, that edition's id).

    Editions are ``reports/editions/<id>/edition.json`` (an edition still being recorded, ``.pending-<id>``,
    counts: its reports may already be out).
    """
    folder = editions or config.reports_dir() / "editions"
    published: dict[str, tuple[str, str]] = {}
    for record in sorted(folder.glob("*/edition.json"), key=lambda p: p.parent.name.removeprefix(".pending-")):
        try:
            files = json.loads(record.read_text(encoding="utf-8")).get("raw_files", {})
        except (OSError, ValueError, AttributeError):
            continue
        for name, digest in files.items() if isinstance(files, dict) else ():
            published.setdefault(name, (str(digest), record.parent.name.removeprefix(".pending-")))
    return published


def check_published(path: Path, published: dict[str, tuple[str, str]]) -> list[Problem]:
    """A raw file an edition published must hold the bytes it published, whatever its sidecar says.

    Returns
    -------
    list of Problem
        Empty when the file is unpublished or unchanged; otherwise one problem naming the file and the edition.
    """
    if path.name not in published:
        return []
    recorded, edition = published[path.name]
    actual = sha256_of(path)
    if actual == recorded:
        return []
    return [
        Problem(
            path.name,
            None,
            None,
            f"changed since edition {edition} published it (sha256 {actual[:12]}... instead of {recorded[:12]}...); "
            "a published entry file is immutable, whatever its sidecar says",
            "the file as published (git checkout or a backup); new figures go into a new file with "
            "`python -m analysis add` or `import`",
        )
    ]
