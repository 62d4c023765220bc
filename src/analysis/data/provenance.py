"""Provenance of raw files: metadata sidecars with a sha256 checksum, checked before use."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from analysis.errors import Problem


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(path: Path) -> Path:
    """``data/raw/x.csv`` -> ``data/raw/x.csv.meta.yml``."""
    return path.with_name(path.name + ".meta.yml")


def read_sidecar(path: Path) -> dict:
    """The sidecar of a raw file as a dict (empty when there is none)."""
    meta = sidecar_path(path)
    if not meta.exists():
        return {}
    return yaml.safe_load(meta.read_text(encoding="utf-8")) or {}


def check_checksum(path: Path, require_sidecar: bool = True) -> list[Problem]:
    """Compare a raw file with the sha256 recorded in its sidecar.

    Returns
    -------
    list of Problem
        Empty when the file matches; otherwise why not (no sidecar, no checksum, mismatch).
    """
    meta = read_sidecar(path)
    name = path.name
    if not meta:
        if require_sidecar:
            return [
                Problem(
                    name,
                    None,
                    None,
                    f"no provenance sidecar {sidecar_path(path).name}",
                    "a sidecar with producer, retrieval date and sha256 beside every raw file",
                )
            ]
        return []
    recorded = (meta.get("outs") or {}).get("sha256")
    if not recorded:
        return [Problem(name, None, None, "sidecar has no outs.sha256", "outs: {sha256: ...} in the sidecar")]
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
