"""Editions: each publishing run that puts out new content records what it published and what changed.

``reports/editions/<edition-id>/`` holds ``edition.json`` (when, data vintage, package version,
git commit, the raw files with their sha256, the reports published, the previous edition), the
``indicators.csv`` and ``assessments.csv`` it published, and ``changes.csv`` (see
:mod:`analysis.models.changes`).  A run that publishes nothing new records no edition.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from analysis import __version__
from analysis.data.provenance import sha256_of
from analysis.data.stage import raw_files
from analysis.models.changes import content_fingerprint, latest_edition
from analysis.storage import publish_files

EDITION_FILES = ("indicators.csv", "assessments.csv", "changes.csv")


def editions_dir(output: Path) -> Path:
    """Where a reports folder keeps its editions."""
    return output / "editions"


def record_edition(
    output: Path,
    processed: Path,
    reports: list[str],
    vintage: str | None,
    git_commit: str | None,
    now: dt.datetime | None = None,
) -> str | None:
    """Record an edition when the processed tables differ from the latest edition's.

    Parameters
    ----------
    reports : list of str
        The reports this run published (``vi/summary``, ...).

    Returns
    -------
    str or None
        The new edition's id, or None when nothing new was published.
    """
    folder = editions_dir(output)
    previous = latest_edition(folder)
    content = content_fingerprint(processed)
    if previous is not None and previous.record.get("content") == content:
        return None
    now = now or dt.datetime.now(dt.UTC)
    edition_id = now.strftime("%Y%m%dT%H%M%SZ")
    record = {
        "edition": edition_id,
        "created_at": now.isoformat(timespec="seconds"),
        "previous": previous.id if previous else None,
        "data_vintage": vintage,
        "package_version": __version__,
        "git_commit": git_commit,
        "content": content,
        "raw_files": {path.name: sha256_of(path) for path in raw_files()},
        "reports": sorted(reports),
    }
    files = {name: (processed / name).read_bytes() for name in EDITION_FILES}
    files["edition.json"] = (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    target = folder / edition_id
    try:
        publish_files(target, files)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # an edition is whole or absent
        raise
    return edition_id
