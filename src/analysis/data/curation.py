"""Curation by hand (``data/curation.yml``): raw rows left out, rows whose estimator is attributed, and rows
whose kind the collection got wrong.

Raw files are never edited.  A row the parsers cannot read, or a figure that should not enter
the tables, is *excluded* here with its reason; a digital-economy figure whose methodology text
does not name its estimator family is *attributed* here, with the reason; a row labelled with the
wrong kind (a budget allocation labelled ``target``) is *reclassified* here, with the reason.  Every
entry names the file, the row (header = row 1) and the value the row must still hold, so that a
changed raw file cannot be curated silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis.errors import CurationError
from analysis.storage import parse_yaml


@dataclass(frozen=True)
class Exclusion:
    """A curated exclusion: a raw row left out by hand, with its reason (English, and Vietnamese)."""

    file: str
    row: int
    value: str
    reason: str
    reason_vi: str | None = None


@dataclass(frozen=True)
class Attribution:
    """A curated attribution: the estimator family of a row whose methodology text does not name it."""

    file: str
    row: int
    value: str
    estimator: str
    reason: str


@dataclass(frozen=True)
class Reclassification:
    """A curated kind: the kind a raw row should have had (a ``plan``, not a ``target``), with the reason."""

    file: str
    row: int
    value: str
    kind: str
    reason: str
    reason_vi: str | None = None


@dataclass(frozen=True)
class Curation:
    """Every curated exclusion, attribution and reclassification."""

    exclusions: tuple[Exclusion, ...] = ()
    attributions: tuple[Attribution, ...] = field(default_factory=tuple)
    kinds: tuple[Reclassification, ...] = field(default_factory=tuple)


def _entries(document: dict, key: str, required: tuple[str, ...], source: str) -> list[dict]:
    entries = document.get(key) or []
    if not isinstance(entries, list):
        raise CurationError(f"{source}: '{key}' should be a list of entries")
    problems = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            problems.append(f"{source}: {key} entry {number}: expected a mapping, got {entry!r}")
            continue
        missing = [name for name in required if entry.get(name) in (None, "")]
        if missing:
            problems.append(
                f"{source}: {key} entry {number} ({entry.get('file')} row {entry.get('row')}): "
                f"missing {', '.join(missing)}"
            )
        elif not isinstance(entry["row"], int) or entry["row"] < 2:
            problems.append(
                f"{source}: {key} entry {number}: 'row' should be a row number of 2 or more, got {entry['row']!r}"
            )
    if problems:
        raise CurationError("\n".join(problems))
    return entries


def load_curation(path: Path | None) -> Curation:
    """Read ``data/curation.yml``; a missing file means nothing is curated.

    Raises
    ------
    CurationError
        When the file is not YAML or an entry lacks a field, naming the entry.
    """
    if path is None or not path.exists():
        return Curation()
    try:
        document = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CurationError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise CurationError(f"{path.name}: expected a mapping with 'exclusions', 'attributions' and 'kinds'")
    exclusions = _entries(document, "exclusions", ("file", "row", "value", "reason"), path.name)
    attributions = _entries(document, "attributions", ("file", "row", "value", "estimator", "reason"), path.name)
    kinds = _entries(document, "kinds", ("file", "row", "value", "kind", "reason"), path.name)
    return Curation(
        tuple(Exclusion(e["file"], e["row"], str(e["value"]), e["reason"], e.get("reason_vi")) for e in exclusions),
        tuple(Attribution(a["file"], a["row"], str(a["value"]), a["estimator"], a["reason"]) for a in attributions),
        tuple(
            Reclassification(k["file"], k["row"], str(k["value"]), str(k["kind"]), k["reason"], k.get("reason_vi"))
            for k in kinds
        ),
    )
