"""Shared fixtures: a throw-away copy of the project's data folders for tests that write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """A project root in tmp_path with the real raw files, sidecars and curation list."""
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "processed").mkdir()
    for file in (ROOT / "data" / "raw").iterdir():
        shutil.copy(file, tmp_path / "data" / "raw" / file.name)
    shutil.copy(ROOT / "data" / "curation.yml", tmp_path / "data" / "curation.yml")
    monkeypatch.setenv("ANALYSIS_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def cleaned(tmp_path_factory) -> dict:
    """The shipped raw data cleaned once per session into a temporary folder."""
    from analysis.cleaning import clean_frames, load_curation, read_raw_file
    import pandas as pd

    frames = [read_raw_file(p)[0] for p in sorted((ROOT / "data" / "raw").glob("*.csv"))]
    result = clean_frames(pd.concat(frames, ignore_index=True), load_curation(ROOT / "data" / "curation.yml"))
    return result.tables()
