"""Shared fixtures: a throw-away copy of the project's data folders for tests that write."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config) -> None:
    """Under pytest-xdist (``make test`` runs two workers), each worker has a temp folder of its own, inherited
    by the runs and kernels it starts: a test that checks what a killed run left in the temp folder sees only
    its own worker's files."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        folder = Path(tempfile.gettempdir()) / f"pytest-worker-{os.getpid()}-{worker}"
        folder.mkdir(exist_ok=True)
        os.environ["TMPDIR"] = str(folder)
        tempfile.tempdir = None  # re-read TMPDIR


def copy_project(root: Path, notebooks: bool = False, cache: Path | None = None) -> Path:
    """Copy the raw files, sidecars, curation list, assessment plan (and notebooks) into a throw-away project root.

    ``cache``: a track-record cache to start from (see :func:`track_record_cache`).
    """
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    (root / "data" / "processed").mkdir(parents=True, exist_ok=True)
    if cache is not None:
        shutil.copytree(cache, root / "data" / "processed" / ".cache")
    for name in ("curation.yml", "assessment_plan.yml"):
        shutil.copy(ROOT / "data" / name, root / "data" / name)
    shutil.copytree(ROOT / "data" / "registry", root / "data" / "registry")
    if notebooks:
        shutil.copytree(ROOT / "notebooks", root / "notebooks")
    return root


@contextlib.contextmanager
def project_root(root: Path):
    """Point the package at ``root`` (``ANALYSIS_ROOT``) for the duration of a module-scoped fixture."""
    old = os.environ.get("ANALYSIS_ROOT")
    os.environ["ANALYSIS_ROOT"] = str(root)
    try:
        yield root
    finally:
        if old is None:
            os.environ.pop("ANALYSIS_ROOT", None)
        else:
            os.environ["ANALYSIS_ROOT"] = old


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """A project root in tmp_path with the real raw files, sidecars and curation list."""
    copy_project(tmp_path)
    monkeypatch.setenv("ANALYSIS_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def cleaned(tmp_path_factory) -> dict:
    """The shipped raw data cleaned once per session into a temporary folder."""
    import pandas as pd

    from analysis.data.cleaning import clean_frames, read_raw_file
    from analysis.data.curation import load_curation
    from analysis.data.registry import load_registry

    frames = [read_raw_file(p)[0] for p in sorted((ROOT / "data" / "raw").glob("*.csv"))]
    curation = load_curation(ROOT / "data" / "curation.yml")
    result = clean_frames(pd.concat(frames, ignore_index=True), curation, load_registry(ROOT / "data" / "registry"))
    return result.tables()


def made_once(tmp_path_factory, name: str, make) -> Path:
    """A folder ``make(folder)`` fills, made once for the whole run: under pytest-xdist the first worker to
    ask makes it while the others wait for it (a session fixture is otherwise made once per worker, and
    these are minutes of CPU). What is made here is only read by the tests."""
    from filelock import FileLock

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        make(folder)
        return folder
    folder = tmp_path_factory.getbasetemp().parent / name  # shared by the workers of this run
    with FileLock(f"{folder}.lock"):
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a worker that failed left half made
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder


@pytest.fixture(scope="session")
def track_record_cache(tmp_path_factory) -> Path:
    """The track record's cache of the shipped data, made once per run: each past year's restatement is
    keyed by the figures public then, so a copy of the project reuses it (its first run's data stage is then
    seconds, not tens of seconds)."""
    from analysis import pipeline

    def make(root: Path) -> None:
        copy_project(root)
        with project_root(root):
            pipeline.bring_up_to_date(["track_record"])

    return made_once(tmp_path_factory, "track-record", make) / "data" / "processed" / ".cache"


#: The reports the session builds once, for the report tests and the real-browser test alike.
BUILT_REPORTS = [
    "summary",
    "hcmc-digital-economy",
    "hcmc-dx-budget",
    "data-appendix",
    "method-appendix",
    "scorecard",
]


@pytest.fixture(scope="session")
def built(tmp_path_factory, track_record_cache):
    """Run the batch once per run of the suite (the reports of :data:`BUILT_REPORTS`, Vietnamese and English)
    into a temporary project; returns its root, which the tests only read."""
    from analysis.batch.run import RunOptions, run

    def make(root: Path) -> None:
        copy_project(root, notebooks=True, cache=track_record_cache)
        with project_root(root):
            code = run(RunOptions(only=BUILT_REPORTS, langs=["vi", "en"], jobs=2), log=lambda *_: None)
        assert code == 0

    return made_once(tmp_path_factory, "built", make)


#: Fixtures that run the batch (kernels, notebooks, PDFs): a test using one is slow, marked or not.
SLOW_FIXTURES = ("built", "track_record_cache")


#: Modules that take longest (``--durations``, 2 cores: about 150, 115, 85, 45 and 35 s), run first by
#: ``make test`` (``--no-loadscope-reorder``: xdist would otherwise start the modules with most tests first, and
#: these few-but-long ones would end the run on one worker while the other sits idle); the rest follow.
LONGEST_FIRST = (
    "test_run_faults.py",
    "test_batch_faults.py",
    "test_batch.py",
    "test_notebooks_and_reports.py",
    "test_editions.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test that uses a batch-running fixture as ``slow`` (``make test-fast`` leaves it out), and
    put the modules of :data:`LONGEST_FIRST` first (a module's own order is kept)."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
