"""Provenance of raw files: a metadata sidecar beside each, with who, when, how, and a sha256 checksum.

``data/raw/x.csv`` has ``data/raw/x.csv.meta.yml`` (in the spirit of Our World in Data's
snapshot ``.dvc`` files): ``meta.origin`` says what the file is, who produced it, how it was
collected and when it was retrieved; ``outs`` records its sha256, size and rows.  A file whose
bytes no longer match its sidecar, or whose sidecar lacks a required field, is an error: raw
files are immutable.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from analysis.errors import Problem
from analysis.storage import parse_yaml

#: Fields every sidecar must fill: (section path, field).
REQUIRED_FIELDS = (
    (("meta", "origin"), "title"),
    (("meta", "origin"), "producer"),
    (("meta", "origin"), "collection"),
    (("meta", "origin"), "date_accessed"),
    (("outs",), "sha256"),
)

#: What each raw column holds (written into every sidecar the package creates).
RAW_COLUMN_DESCRIPTIONS = {
    "indicator": "indicator id of data/registry/indicators.yml",
    "geography": "place as found: HCMC, HCMC (merged), HCMC (pre-merger), Vietnam, other provinces; "
    "levels in parentheses",
    "period": "free text: '2023', '2024-9M', '2025-H1', '2016-2020 avg', 'annual (from 2025)', 'c. 2023'",
    "value_as_published": "exactly as printed: decimal commas, thousands dots, ranges, "
    "qualifiers (khoảng, hơn, about), "
    "words (tất cả, thứ 53)",
    "unit_as_published": "unit as printed (% GRDP, tỷ đồng, rank /63, ...)",
    "kind": "actual | estimate | preliminary | target | projection",
    "methodology_or_estimator": "who estimated the figure and how (GSO, MIC/MST, HIDS, PTIT, city department), "
    "or the legal basis of a target",
    "source_publisher": "outlet; mirrors and scraped copies say so and name the original",
    "source_title": "title of the article or document",
    "source_url": "address of the page the figure was read from",
    "published_date": "date printed with the figure: YYYY, YYYY-MM or YYYY-MM-DD; empty when not printed",
}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_files(paths: list[Path]) -> str:
    """Hex sha256 of several files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def package_fingerprint() -> str:
    """Hash of the package source (code, styles, catalogue, templates): what a cached result was computed with."""
    package = Path(__file__).resolve().parents[1]
    suffixes = (".py", ".mplstyle", ".yml", ".j2", ".css")
    return hash_files([p for p in package.rglob("*") if p.is_file() and p.suffix in suffixes])


def sidecar_path(path: Path) -> Path:
    """``data/raw/x.csv`` -> ``data/raw/x.csv.meta.yml``."""
    return path.with_name(path.name + ".meta.yml")


def read_sidecar(path: Path) -> dict:
    """The sidecar of a raw file as a dict (empty when there is none).

    Raises
    ------
    yaml.YAMLError
        When the sidecar is not valid YAML (:func:`check_checksum` reports it as a problem).
    """
    meta = sidecar_path(path)
    if not meta.exists():
        return {}
    document = parse_yaml(meta.read_text(encoding="utf-8"))
    return document if isinstance(document, dict) else {"_not_a_mapping": document}


def sidecar_field(document: dict, section: tuple[str, ...], name: str):
    """A field of a parsed sidecar (``("meta", "origin"), "title"``), or None."""
    node = document
    for key in section:
        node = node.get(key) if isinstance(node, dict) else None
    return node.get(name) if isinstance(node, dict) else None


def check_checksum(path: Path, require_sidecar: bool = True) -> list[Problem]:
    """Check a raw file against its sidecar: the sidecar is complete and the sha256 matches.

    Returns
    -------
    list of Problem
        Empty when the file matches; otherwise why not (no sidecar, unreadable sidecar, a
        missing field, checksum mismatch), each naming the file.
    """
    name = path.name
    expected = "a sidecar with title, producer, collection, date_accessed and outs.sha256 beside every raw file"
    try:
        meta = read_sidecar(path)
    except yaml.YAMLError as exc:
        return [
            Problem(
                sidecar_path(path).name, None, None, f"sidecar is not valid YAML ({str(exc).splitlines()[0]})", expected
            )
        ]
    if not meta:
        if require_sidecar:
            return [Problem(name, None, None, f"no provenance sidecar {sidecar_path(path).name}", expected)]
        return []
    missing = [".".join((*section, f)) for section, f in REQUIRED_FIELDS if not sidecar_field(meta, section, f)]
    if missing:
        return [Problem(sidecar_path(path).name, None, None, f"sidecar lacks {', '.join(missing)}", expected)]
    recorded = meta["outs"]["sha256"]
    actual = sha256_of(path)
    if actual != recorded:
        return [
            Problem(
                name,
                None,
                None,
                f"checksum {actual[:12]}... does not match the sidecar's {recorded[:12]}...; raw files are immutable",
                "the file exactly as recorded (add a new raw file instead of editing)",
            )
        ]
    return []


def sidecar_text(path: Path, origin: dict, caveats: list[str] | None = None, rows: int | None = None) -> str:
    """The sidecar of a raw file the package writes (``python -m analysis add`` / ``import``).

    Parameters
    ----------
    path : Path
        The raw file, already written (its sha256 and size are recorded).
    origin : dict
        ``title``, ``description``, ``producer``, ``collection``, ``date_accessed`` and any
        other provenance (``copied_from``, ``sources``, ``status``).
    """
    document = {
        "meta": {"origin": origin, "columns": RAW_COLUMN_DESCRIPTIONS, "caveats": caveats or []},
        "outs": {"path": path.name, "sha256": sha256_of(path), "size": path.stat().st_size, "rows": rows},
    }
    header = f"# Provenance of data/raw/{path.name} (written by the package; the CSV is immutable once published).\n"
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)
