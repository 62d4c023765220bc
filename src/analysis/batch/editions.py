"""Editions: each publishing run that puts out new content records what it published and what changed.

``reports/editions/<edition-id>/`` holds ``edition.json`` (when, data vintage, package version,
git commit, the raw files with the sha256 the run read, the reports published, the previous
edition), the ``indicators.csv``, ``assessments.csv`` and ``scorecard.csv`` it published, and ``changes.csv`` (see
:mod:`analysis.models.changes`).  A run that publishes nothing new records no edition, and a run
``--as-of`` a past year never does (it restates the past; the regular reports do not show it).

Publishing and recording are one step: before its first report is published, the run writes the
whole edition as ``.pending-<id>/`` (which already makes its raw files immutable), notes each report
it publishes, and renames the folder to ``<id>`` at the end, also when it is stopped.  A run killed
in between leaves the pending edition; the next run finishes recording it (:func:`recover_editions`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from analysis import __version__
from analysis.storage import atomic_write_json, publish_files

EDITION_FILES = ("indicators.csv", "assessments.csv", "scorecard.csv", "changes.csv")
PENDING = ".pending-"


def editions_dir(output: Path) -> Path:
    """Where a reports folder keeps its editions."""
    return output / "editions"


@dataclass
class EditionDraft:
    """What an edition would record, read when the run made its tables (under the data's lock)."""

    content: str
    files: dict[str, bytes]
    previous: str | None
    raw_files: dict[str, str]
    vintage: str | None
    git_commit: str | None = None


def draft_edition(
    output: Path, processed: Path, raw_files: dict[str, str], vintage: str | None, git_commit: str | None
) -> EditionDraft | None:
    """The edition this run would record, or None when the processed tables say nothing the latest edition
    does not (the same figures, assessments and package version).

    Parameters
    ----------
    raw_files : dict
        Raw file name -> the sha256 the run read (what the edition makes immutable).
    """
    from analysis.models.changes import content_fingerprint, latest_edition

    previous = latest_edition(editions_dir(output))
    content = content_fingerprint(processed)
    if previous is not None and previous.record.get("content") == content:
        return None
    # an edition of a package before the scorecard has none: its tables are recorded all the same
    files = {
        name: (processed / name).read_bytes()
        for name in EDITION_FILES
        if name != "scorecard.csv" or (processed / name).exists()
    }
    return EditionDraft(content, files, previous.id if previous else None, dict(raw_files), vintage, git_commit)


@dataclass
class PendingEdition:
    """An edition being recorded while its reports are published (``editions/.pending-<id>/``)."""

    folder: Path
    record: dict = field(default_factory=dict)

    @classmethod
    def begin(cls, output: Path, draft: EditionDraft, now: dt.datetime | None = None) -> PendingEdition:
        """Write the whole edition as pending, before the first of its reports is published."""
        now = now or dt.datetime.now(dt.UTC)
        edition_id = _free_id(editions_dir(output), now.strftime("%Y%m%dT%H%M%SZ"))
        record = {
            "edition": edition_id,
            "created_at": now.isoformat(timespec="seconds"),
            "previous": draft.previous,
            "data_vintage": draft.vintage,
            "package_version": __version__,
            "git_commit": draft.git_commit,
            "content": draft.content,
            "raw_files": draft.raw_files,
            "reports": [],
            "publishing": None,
        }
        folder = editions_dir(output) / f"{PENDING}{edition_id}"
        files = {**draft.files, "edition.json": _json(record)}
        try:
            publish_files(folder, files)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # an edition is whole or absent
            raise
        return cls(folder, record)

    def publishing(self, key: str) -> None:
        """About to publish report ``key`` (so a run killed during the rename still lists it)."""
        self.record["publishing"] = {"report": key, "since_ns": time.time_ns()}
        atomic_write_json(self.folder / "edition.json", self.record)

    def published(self, key: str) -> None:
        """Report ``key`` is published."""
        self.record["reports"] = sorted({*self.record["reports"], key})
        self.record["publishing"] = None
        atomic_write_json(self.folder / "edition.json", self.record)

    def finish(self) -> str | None:
        """Record the edition (rename into place); None, and nothing kept, when no report was published."""
        self.record.pop("publishing", None)
        if not self.record["reports"]:
            shutil.rmtree(self.folder, ignore_errors=True)
            return None
        atomic_write_json(self.folder / "edition.json", self.record)
        os.replace(self.folder, self.folder.with_name(self.record["edition"]))
        return self.record["edition"]


def recover_editions(output: Path, log) -> list[str]:
    """Finish recording the editions a killed run left pending (the caller holds the batch lock).

    A report the killed run was publishing counts when its files on disk are newer than the note.

    Returns
    -------
    list of str
        The ids of the editions recorded now.
    """
    recorded = []
    for folder in sorted(editions_dir(output).glob(f"{PENDING}*")):
        try:
            record = json.loads((folder / "edition.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)  # never whole: its reports were not published yet
            continue
        pending = PendingEdition(folder, record)
        note = record.get("publishing") or {}
        if note and _published_since(output, note.get("report", ""), int(note.get("since_ns", 0))):
            record["reports"] = sorted({*record.get("reports", []), note["report"]})
        edition = pending.finish()
        if edition:
            recorded.append(edition)
            log(f"edition {edition} recorded: a run that was killed published {len(record['reports'])} report(s)")
    return recorded


def _published_since(output: Path, key: str, since_ns: int) -> bool:
    lang, _, stem = key.partition("/")
    files = [output / lang / f"{stem}{suffix}" for suffix in (".html", ".pdf")]
    return all(path.exists() and path.stat().st_mtime_ns >= since_ns for path in files)


def _free_id(folder: Path, edition_id: str) -> str:
    """``edition_id``, or with ``-2``, ``-3``... when an edition of that second exists (they sort after it)."""
    candidate, number = edition_id, 2
    while (folder / candidate).exists() or (folder / f"{PENDING}{candidate}").exists():
        candidate, number = f"{edition_id}-{number}", number + 1
    return candidate


def _json(record: dict) -> bytes:
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
