"""The batch: plan validation, caching, parallel and Dask runs, and safety under injected faults."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from filelock import FileLock
from nbformat.v4 import new_code_cell, new_notebook

from analysis.batch.run import RunOptions, run
from conftest import copy_project, project_root

#: every test here runs the batch (kernels, notebooks, PDFs): `make test-fast` leaves them out
pytestmark = pytest.mark.slow

PLAN = {
    "languages": ["vi"],
    "reports": [
        {
            "name": "hcmc-dx-budget",
            "notebook": "03-budget.ipynb",
            "title_key": "report.budget",
            "parameters": {"indicator": "dt_budget_share", "boundary": "hcmc-pre-2025-07"},
        },
    ],
}


def _fault_notebook(path: Path, source: str) -> None:
    notebook = new_notebook()
    parameters = new_code_cell('lang: str = "vi"  # language\nas_of: int = 0  # year (0: all)')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, new_code_cell(source)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(path))


@pytest.fixture(scope="module")
def project(tmp_path_factory, track_record_cache):
    root = copy_project(tmp_path_factory.mktemp("batch"), notebooks=True, cache=track_record_cache)
    _fault_notebook(root / "notebooks" / "raises.ipynb", "raise ValueError('injected failure')")
    _fault_notebook(root / "notebooks" / "dies.ipynb", "import os\nos._exit(1)")
    _fault_notebook(root / "notebooks" / "sleeps.ipynb", "import time\ntime.sleep(60)")
    with project_root(root):
        plan = root / "plan.yml"
        plan.write_text(yaml.safe_dump(PLAN), encoding="utf-8")
        assert run(RunOptions(plan=plan, jobs=1), log=lambda *_: None) == 0
        yield root


def _published(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in (root / "reports").glob("*/*")
        if p.suffix in (".html", ".pdf")
    }


def _plan_with(root: Path, entry: dict) -> Path:
    plan = root / "plan-fault.yml"
    plan.write_text(yaml.safe_dump({"languages": ["vi"], "reports": PLAN["reports"] + [entry]}), encoding="utf-8")
    return plan


def test_second_run_does_no_work(project):
    messages: list[str] = []
    before = _published(project)
    assert run(RunOptions(plan=project / "plan.yml"), log=messages.append) == 0
    assert any("nothing to do" in m for m in messages)
    assert any("data: inputs unchanged" in m for m in messages)
    assert _published(project) == before
    record = json.loads((project / "reports" / "_runs" / "latest.json").read_text())
    assert record["reports"] == [{"key": "vi/hcmc-dx-budget", "status": "unchanged"}]
    assert set(record["inputs"]) >= {"press_indicators.csv", "seed_articles_indicators.csv"}


def test_a_run_with_nothing_to_do_reads_only_fingerprints(project):
    """The everyday answer 'up to date' comes without pandas, matplotlib or the notebook machinery."""
    shown = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "analysis", "run", "--plan", str(project / "plan.yml")],
        env={**os.environ, "ANALYSIS_ROOT": str(project)},
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0 and "nothing to do" in shown.stdout, shown.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in shown.stderr.splitlines() if "|" in line}
    heavy = {"pandas", "numpy", "matplotlib", "scipy", "pandera", "nbformat", "nbclient", "papermill"}
    assert "analysis" in imported and not heavy & imported, heavy & imported
    assert not {"jupyter_client", "weasyprint", "asyncio", "babel"} & imported


def test_each_report_is_dated_by_the_figures_it_reads(project):
    import csv

    rows = [
        row
        for name in ("indicators.csv", "targets.csv")
        for row in csv.DictReader((project / "data" / "processed" / name).open(encoding="utf-8"))
    ]
    budget = max(r["published_date"] for r in rows if r["indicator"] == "dt_budget_share" and r["published_date"])
    everything = max(r["published_date"] for r in rows if r["published_date"])
    assert budget < everything  # so the test can tell them apart
    state = json.loads((project / "reports" / ".state.json").read_text(encoding="utf-8"))
    assert state["reports"]["vi/hcmc-dx-budget"]["vintage"] == budget
    from analysis.i18n import fmt_date

    page = (project / "reports" / "vi" / "hcmc-dx-budget.html").read_text(encoding="utf-8")
    assert fmt_date(budget, "vi") in page and fmt_date(everything, "vi") not in page


@pytest.mark.parametrize(
    "name, notebook, timeout",
    [("raises", "raises.ipynb", 600), ("dies", "dies.ipynb", 600), ("sleeps", "sleeps.ipynb", 3)],
)
def test_failing_notebook_keeps_published_reports_and_the_failed_notebook(project, name, notebook, timeout):
    before = _published(project)
    messages: list[str] = []
    plan = _plan_with(project, {"name": name, "notebook": notebook, "title_key": "report.budget", "parameters": {}})
    code = run(RunOptions(plan=plan, timeout=timeout, jobs=2), log=messages.append)
    assert code == 1
    failures = [m for m in messages if m.startswith("FAILED")]
    assert len(failures) == 1 and f"vi/{name}" in failures[0]
    assert (project / "reports" / "_failed" / "vi" / f"{name}.ipynb").exists()
    assert _published(project) == before


def test_failure_after_success_keeps_yesterdays_version(project):
    before = _published(project)
    budget = project / "notebooks" / "03-budget.ipynb"
    original = budget.read_bytes()
    notebook = nbformat.read(str(budget), as_version=4)
    notebook.cells.append(new_code_cell("raise RuntimeError('broken today')"))
    nbformat.write(notebook, str(budget))
    try:
        assert run(RunOptions(plan=project / "plan.yml"), log=lambda *_: None) == 1
        assert _published(project) == before
        index = (project / "reports" / "index.html").read_text(encoding="utf-8")
        assert "lần lập gần nhất bị lỗi; đang giữ bản trước" in index
    finally:
        budget.write_bytes(original)


def test_corrupt_raw_file_fails_loudly_and_keeps_reports(project):
    before = _published(project)
    raw = project / "data" / "raw" / "press_indicators.csv"
    original = raw.read_bytes()
    raw.write_bytes(original.replace(b"21,5", b"2x,5", 1))
    messages: list[str] = []
    try:
        assert run(RunOptions(plan=project / "plan.yml"), log=messages.append) == 2
        assert any("press_indicators.csv" in m and m.startswith("error") for m in messages)
        assert _published(project) == before
    finally:
        raw.write_bytes(original)


def test_two_runs_at_once_second_exits_with_a_clear_message(project):
    before = _published(project)
    messages: list[str] = []
    with FileLock(str(project / "reports" / ".batch.lock")):
        assert run(RunOptions(plan=project / "plan.yml"), log=messages.append) == 3
    assert "another batch run" in messages[0]
    assert _published(project) == before


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"boundry": "x"}, "'boundry' is not declared"),
        ({"indicator": 5}, "should be str"),
        ({"as_of": 2024}, "'as_of' is set by the run"),
        ({"lang": "en"}, "'lang' is set by the run"),
    ],
)
def test_plan_parameters_are_checked_before_anything_runs(project, parameters, message):
    plan = _plan_with(
        project, {"name": "typo", "notebook": "03-budget.ipynb", "title_key": "report.budget", "parameters": parameters}
    )
    messages: list[str] = []
    assert run(RunOptions(plan=plan), log=messages.append) == 2
    assert any("'typo'" in m and message in m for m in messages), messages


def test_change_to_one_input_reruns_only_what_depends_on_it(project):
    plan = project / "plan-two.yml"
    entries = PLAN["reports"] + [
        {
            "name": "data-appendix",
            "notebook": "04-data-appendix.ipynb",
            "title_key": "report.data_appendix",
            "parameters": {},
        }
    ]
    plan.write_text(yaml.safe_dump({"languages": ["vi"], "reports": entries}), encoding="utf-8")
    assert run(RunOptions(plan=plan, jobs=2), log=lambda *_: None) == 0
    appendix = project / "notebooks" / "04-data-appendix.ipynb"
    original = appendix.read_bytes()
    notebook = nbformat.read(str(appendix), as_version=4)
    notebook.cells[0].source += "\n"
    nbformat.write(notebook, str(appendix))
    messages: list[str] = []
    try:
        assert run(RunOptions(plan=plan), log=messages.append) == 0
        built = [m for m in messages if m.startswith("[")]
        assert len(built) == 1 and "vi/data-appendix" in built[0]
    finally:
        appendix.write_bytes(original)


def test_dask_scheduler_runs_the_same_work(project):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        messages: list[str] = []
        code = run(
            RunOptions(
                plan=project / "plan.yml",
                scheduler=cluster.scheduler_address,
                force=True,
                output=project / "reports-dask",
            ),
            log=messages.append,
        )
    assert code == 0
    assert (project / "reports-dask" / "vi" / "hcmc-dx-budget.pdf").read_bytes()[:5] == b"%PDF-"


# --- rebuild only what a new figure touches ------------------------------------------------

BUDGET_FIGURE = {
    "indicator": "dt_budget_share",
    "geography": "HCMC",
    "period": "2023",
    "value_as_published": "1,1",
    "unit_as_published": "percent of budget",
    "kind": "actual",
    "methodology_or_estimator": "Stated by the city",
    "source_publisher": "Test outlet",
    "source_title": "A budget figure",
    "source_url": "https://example.vn/budget",
    "published_date": "2026-11-20",
}


def _small_m3(path: Path) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for series in range(12):
        values = 100 * np.exp(np.cumsum(rng.normal(0.04, 0.05, 16)))
        rows += [
            {"series_id": f"S{series}", "t": t, "value": v, "split": "train" if t < 10 else "test"}
            for t, v in enumerate(values)
        ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_budget_figure_rebuilds_the_budget_report_only_and_never_the_benchmark(
    tmp_path, monkeypatch, track_record_cache
):
    from analysis.batch.timings import NEW_FIGURE
    from analysis.data.intake import add_figure

    root = copy_project(tmp_path, notebooks=True, cache=track_record_cache)
    monkeypatch.setenv("ANALYSIS_M3_FILE", str(_small_m3(tmp_path / "m3.csv")))
    economy = {
        "name": "hcmc-digital-economy",
        "notebook": "02-digital-economy.ipynb",
        "title_key": "report.digital_economy.hcmc",
        "parameters": {
            "indicator": "digital_economy_share_GRDP",
            "boundary": "hcmc-pre-2025-07",
            "merged_boundary": "hcmc-merged-2025-07",
        },
    }
    with project_root(root):
        plan = root / "plan.yml"
        plan.write_text(yaml.safe_dump({"languages": ["vi"], "reports": [*PLAN["reports"], economy]}), "utf-8")
        messages: list[str] = []
        assert run(RunOptions(plan=plan, jobs=2), log=messages.append) == 0
        assert any("benchmark m3_yearly" in m for m in messages)
        benchmark = root / "data" / "processed" / "benchmark.json"
        written = benchmark.stat().st_mtime_ns
        add_figure(dict(BUDGET_FIGURE))
        dry: list[str] = []
        assert run(RunOptions(plan=plan, dry_run=True), log=dry.append) == 0
        assert any(m.startswith("data stage: would run") for m in dry)
        messages = []
        assert run(RunOptions(plan=plan, jobs=2), log=messages.append) == 0
        built = [m for m in messages if m.startswith("[")]
        assert len(built) == 1 and "vi/hcmc-dx-budget ok" in built[0], messages
        assert not any("benchmark m3_yearly" in m for m in messages)
        assert benchmark.stat().st_mtime_ns == written
        # a digital-economy figure, the latest-dated of all, moves the cover date of its own report only
        add_figure({**NEW_FIGURE, "published_date": dt.date.today().isoformat()})  # what batch-timings adds
        messages = []
        assert run(RunOptions(plan=plan, jobs=2), log=messages.append) == 0
        built = [m for m in messages if m.startswith("[")]
        assert len(built) == 1 and "vi/hcmc-digital-economy ok" in built[0], messages
        # and a dry run now finds both up to date, saying why for anything it would rebuild
        dry = []
        assert run(RunOptions(plan=plan, dry_run=True), log=dry.append) == 0
        assert "vi/hcmc-digital-economy: up to date" in dry and "vi/hcmc-dx-budget: up to date" in dry
        dry = []
        assert run(RunOptions(plan=plan, dry_run=True, force=True), log=dry.append) == 0
        assert "vi/hcmc-dx-budget: rebuild (--force)" in dry
