"""Faults an operator meets in a year, with real processes: dead kernels, signals, kill -9, a kernel that
fails to start, corrupt state, deleted tables, hostile notebook output, bad plans and options; an `add`
racing a run, a run killed between publishing and recording its edition, full and immutable disks, a
scheduler that is not one or loses its workers, wrong parameters, and what a killed run leaves behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml
from filelock import FileLock, Timeout
from nbformat.v4 import new_code_cell, new_notebook

from analysis.batch.kernels import KernelSlot
from analysis.batch.run import DASK_CONNECT_SECONDS, DASK_NO_WORKER_SECONDS, RunOptions, _pool_size, run
from conftest import copy_project, project_root

#: every test here runs the batch (kernels, notebooks, PDFs): `make test-fast` leaves them out
pytestmark = pytest.mark.slow

BUDGET = {
    "name": "hcmc-dx-budget",
    "notebook": "03-budget.ipynb",
    "title_key": "report.budget",
    "parameters": {"indicator": "dt_budget_share", "boundary": "hcmc-pre-2025-07"},
}


def _notebook(path: Path, *sources: str) -> None:
    notebook = new_notebook()
    parameters = new_code_cell('lang: str = "vi"  # language\nas_of: int = 0  # year (0: all)')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, *(new_code_cell(source) for source in sources)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(path))


def _entry(name: str, notebook: str | None = None) -> dict:
    """A plan entry; a new name is a report never published, so it is built without --force."""
    return {"name": name, "notebook": f"{notebook or name}.ipynb", "title_key": "report.budget", "parameters": {}}


def _plan(root: Path, name: str, entries: list[dict]) -> Path:
    path = root / f"{name}.yml"
    path.write_text(yaml.safe_dump({"languages": ["vi"], "reports": entries}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory, track_record_cache):
    root = copy_project(tmp_path_factory.mktemp("faults"), notebooks=True, cache=track_record_cache)
    notebooks = root / "notebooks"
    _notebook(
        notebooks / "leaks.ipynb",
        "import os, pandas as pd\nleaked = 42",
        "pd.set_option('display.max_rows', 3)\nos.chdir('/')",
    )
    _notebook(
        notebooks / "checks.ipynb",
        "import os, pandas as pd\nassert 'leaked' not in globals(), 'state leaked from the previous report'\n"
        "assert pd.get_option('display.max_rows') == 60\nassert os.getcwd().endswith('notebooks')",
    )
    _notebook(notebooks / "killed.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    _notebook(notebooks / "sleeps.ipynb", "import time\ntime.sleep(120)")
    _notebook(
        notebooks / "no-target.ipynb",
        "from analysis.reports.html import heading, show, status_block\n"
        "show(heading('h.verdict', lang), status_block('A series without targets', []))",
    )
    _notebook(
        notebooks / "huge.ipynb",
        "from IPython.display import HTML, display\n"
        "display(HTML('<table>' + ''.join(f'<tr><td>{i}</td><td>row</td></tr>' for i in range(60000)) + '</table>'))",
    )
    _notebook(
        notebooks / "hostile.ipynb",
        "from IPython.display import HTML, display\n"
        'display(HTML(\'<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<a rel="attachment" href="file:///etc/hostname">attached</a><p>hostile</p>\'))',
    )
    with project_root(root):
        assert run(RunOptions(plan=_plan(root, "plan", [BUDGET]), jobs=1), log=lambda *_: None) == 0
        yield root


def _record(root: Path, output: str = "reports") -> dict:
    return json.loads((root / output / "_runs" / "latest.json").read_text(encoding="utf-8"))


def _state(root: Path, output: str = "reports") -> dict:
    return json.loads((root / output / ".state.json").read_text(encoding="utf-8"))


# --- kernels -------------------------------------------------------------------------------


def test_a_reused_kernel_leaves_no_state_from_the_previous_report(project):
    plan = _plan(project, "reuse", [_entry("leaks"), _entry("checks")])
    assert run(RunOptions(plan=plan, jobs=1), log=lambda *_: None) == 0
    reports = {r["key"]: r for r in _record(project)["reports"]}
    assert reports["vi/leaks"]["status"] == reports["vi/checks"]["status"] == "ok"
    assert reports["vi/leaks"]["kernel_pid"] == reports["vi/checks"]["kernel_pid"]  # one kernel, two reports


def test_a_kernel_killed_mid_report_fails_that_report_only_and_is_replaced(project):
    plan = _plan(project, "killed", [_entry("killed"), _entry("after-killed", "checks")])
    messages: list[str] = []
    assert run(RunOptions(plan=plan, jobs=1), log=messages.append) == 1
    reports = {r["key"]: r for r in _record(project)["reports"]}
    assert reports["vi/killed"]["status"] == "failed" and "Kernel died" in reports["vi/killed"]["error"]
    assert reports["vi/after-killed"]["status"] == "ok"
    assert reports["vi/killed"]["kernel_pid"] != reports["vi/after-killed"]["kernel_pid"]
    state = _state(project)["reports"]
    assert state["vi/after-killed"]["status"] == "ok" and state["vi/killed"]["status"].startswith("failed")
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "vi/after-killed.pdf" in index and "vi/killed.pdf" not in index
    assert not list((project / "reports").glob(".staging-*"))


def test_rendering_has_a_time_limit(project):
    plan = _plan(project, "huge", [_entry("huge")])
    assert run(RunOptions(plan=plan, jobs=1, timeout=4), log=lambda *_: None) == 1
    report = _record(project)["reports"][0]
    assert report["status"] == "failed" and "rendering took longer than 4 s" in report["error"]


def test_the_pdf_renderer_fetches_nothing_and_attaches_nothing(project):
    plan = _plan(project, "hostile", [_entry("hostile")])
    assert run(RunOptions(plan=plan, jobs=1), log=lambda *_: None) == 0
    pdf = project / "reports" / "vi" / "hostile.pdf"
    listing = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert listing.startswith("0 embedded files")


def test_a_kernel_that_dies_at_start_is_retried_once(tmp_path):
    # An IPython start-up file kills the first kernel before it replies, once.
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    marker = tmp_path / "die-once"
    marker.write_text("x")
    (startup / "00-die-once.py").write_text(
        f"import os, pathlib\nmarker = pathlib.Path({str(marker)!r})\n"
        "if marker.exists():\n    marker.unlink()\n    os._exit(1)\n",
        encoding="utf-8",
    )
    slot = KernelSlot(str(tmp_path), {"IPYTHONDIR": str(tmp_path / "ipython")})
    try:
        slot.start()
        assert slot.attempts == 2 and slot.km.is_alive()
        # IPC sockets, not TCP ports: nothing to collide when two kernels start at once
        assert json.loads(Path(slot.km.connection_file).read_text())["transport"] == "ipc"
    finally:
        slot.close()


def test_jobs_are_capped_by_reports_and_cores():
    assert _pool_size(RunOptions(jobs=1000), 1) == 1
    assert _pool_size(RunOptions(jobs=1000), 50) <= (os.cpu_count() or 1)
    assert _pool_size(RunOptions(jobs=0), 5) == 1


# --- signals, with the batch as a real process ---------------------------------------------


#: Seconds a stop may take (the kernels get LocalPool.INTERRUPT_GRACE to end what they do, then are killed).
STOP_WITHIN = 20


def _start_run(root: Path, plan: Path) -> subprocess.Popen:
    env = {**os.environ, "ANALYSIS_ROOT": str(root)}
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "run", "--plan", str(plan), "--jobs", "1"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_stops_its_kernels_and_cleans_up(project, sig):
    quick = f"quick-{sig.name.lower()}"
    plan = _plan(project, "sleep", [_entry(quick, "checks"), _entry("sleeps")])
    published = project / "reports" / "vi" / f"{quick}.pdf"
    process = _start_run(project, plan)
    kernels = _wait_for_kernel(process)
    deadline = time.monotonic() + 120
    while not published.exists() and time.monotonic() < deadline:  # the quick report is published
        time.sleep(0.3)
    time.sleep(1)  # and the sleeping report is running (it would sleep 120 s; --timeout is 600)
    process.send_signal(sig)
    output, _ = process.communicate(timeout=STOP_WITHIN)  # interrupt, then kill: seconds, not the timeout
    assert process.returncode == 130, output
    assert "stopped by SIG" in output and "1 report(s) finished and published" in output
    _gone, alive = psutil.wait_procs(kernels, timeout=15)
    assert not alive, "kernels left running"
    assert not list((project / "reports").glob(".staging-*"))
    record = _record(project)
    assert record["status"] == "stopped" and record["exit_code"] == 130
    # what finished before the stop is published, in the state and on the index
    assert {r["key"]: r["status"] for r in record["reports"]} == {f"vi/{quick}": "ok"}
    assert _state(project)["reports"][f"vi/{quick}"]["status"] == "ok"
    assert f"vi/{quick}.pdf" in (project / "reports" / "index.html").read_text(encoding="utf-8")
    # the lock is free: the next run starts at once
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET])), log=lambda *_: None) == 0


def test_a_stop_while_a_report_renders_is_prompt_too(project):
    plan = _plan(project, "render-stop", [_entry("huge-stop", "huge")])
    process = _start_run(project, plan)
    kernels = _wait_for_kernel(process)
    deadline = time.monotonic() + 120
    while not list((project / "reports").glob(".staging-*/vi/huge-stop.ipynb")) and time.monotonic() < deadline:
        time.sleep(0.1)  # executed: the rendering (tens of seconds for this page) begins
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=STOP_WITHIN)
    assert process.returncode == 130, output
    _gone, alive = psutil.wait_procs(kernels, timeout=5)
    assert not alive, "kernels left running"
    assert "0 report(s) finished and published" in output


def test_after_kill_9_nothing_is_left_running_and_the_next_run_cleans_up(project):
    plan = _plan(project, "sleep", [_entry("sleeps")])
    process = _start_run(project, plan)
    kernels = _wait_for_kernel(process)
    deadline = time.monotonic() + 120
    while not list((project / "reports").glob(".staging-*")) and time.monotonic() < deadline:
        time.sleep(0.2)  # the data stage is over and the report is running
    time.sleep(1)
    process.kill()
    process.wait(timeout=10)
    _gone, alive = psutil.wait_procs(kernels, timeout=15)  # kernels watch their parent and exit
    assert not alive, "kernels outlived the killed run"
    assert list((project / "reports").glob(".staging-*")), "a killed run leaves its staging folder"
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET])), log=messages.append) == 0
    assert not list((project / "reports").glob(".staging-*"))
    assert any("left by a run that was killed" in m for m in messages)


def _command_line(process: psutil.Process) -> str:
    """A process's command line; '' for one that has ended or is a zombie (a short-lived child of the run)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _wait_for_kernel(process: subprocess.Popen, wait: float = 90) -> list[psutil.Process]:
    """The run's kernels once one has started; the run is killed when none does (it would hold the lock)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the run ended early: {process.stdout.read()}")
        kernels = [child for child in psutil.Process(process.pid).children() if "ipykernel" in _command_line(child)]
        if kernels:
            return kernels
        time.sleep(0.2)
    process.kill()
    process.wait(timeout=10)
    raise AssertionError("no kernel started")


# --- state, tables, files ------------------------------------------------------------------


@pytest.mark.parametrize("content", ['{"reports": {"vi/hcmc', '{"reports": null}'])
def test_corrupt_or_foreign_state_means_rebuild_with_a_warning(project, content):
    (project / "reports" / ".state.json").write_text(content, encoding="utf-8")
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET])), log=messages.append) == 0
    assert any(m.startswith("warning") and ".state.json" in m for m in messages)
    assert _state(project)["reports"]["vi/hcmc-dx-budget"]["status"] == "ok"


def test_a_processed_table_deleted_by_hand_is_rebuilt(project):
    plan = _plan(project, "plan", [BUDGET])
    assert run(RunOptions(plan=plan), log=lambda *_: None) == 0
    (project / "data" / "processed" / "assessments.csv").unlink()
    messages: list[str] = []
    assert run(RunOptions(plan=plan), log=messages.append) == 0
    assert (project / "data" / "processed" / "assessments.csv").exists()
    # only the step that writes it runs again (the clean is current; what reads it finds the same bytes)
    assert any(m.startswith("data: assess ") and "not made yet: assessments.csv" in m for m in messages), messages


def test_a_stale_failed_notebook_goes_once_the_report_builds_again(project):
    stale = project / "reports" / "_failed" / "vi" / "mended.ipynb"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("{}", encoding="utf-8")
    assert run(RunOptions(plan=_plan(project, "mended", [_entry("mended", "checks")])), log=lambda *_: None) == 0
    assert not stale.exists()


def test_published_files_are_readable_by_a_web_server(project):
    old = os.umask(0o022)
    try:
        assert run(RunOptions(plan=_plan(project, "perm", [_entry("perm", "checks")])), log=lambda *_: None) == 0
    finally:
        os.umask(old)
    reports = project / "reports"
    published = ["index.html", "_runs/latest.json", ".state.json", "vi/perm.pdf", "vi/perm.html"]
    for path in (reports / name for name in published):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_a_full_disk_still_leaves_a_record_and_prints_the_failure(project, monkeypatch):
    import errno

    from analysis.batch import run as batch_run

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(batch_run, "atomic_write_bytes", full)  # only the copy of a failed notebook
    _notebook(project / "notebooks" / "raises.ipynb", "raise ValueError('injected')")
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "raises", [_entry("raises")])), log=messages.append) == 1
    assert any("could not keep the failed notebook" in m and "No space left" in m for m in messages)
    assert any(m.startswith("FAILED vi/raises") for m in messages)
    assert _record(project)["reports"][0]["failed_notebook"] is None
    assert not (project / "reports" / "_failed" / "vi" / "raises.ipynb").exists()


# --- plans, options and exit codes ---------------------------------------------------------


@pytest.mark.parametrize(
    "document, message",
    [
        ("reports: [", "not valid YAML"),
        ({"reports": [{"notebook": "03-budget.ipynb", "parameters": {}}]}, "has no name"),
        ({"reports": [BUDGET, BUDGET]}, "used twice"),
        ({"reports": [{**BUDGET, "parameters": ["indicator"]}]}, "parameters must be a mapping"),
        ({"languages": ["fr"], "reports": [BUDGET]}, "languages must be"),
        ({"reports": [{**BUDGET, "notebook": "../../etc/x.ipynb"}]}, "outside notebooks/"),
        ({"reports": [{**BUDGET, "name": "../../escape"}]}, "is not a plain file name"),
    ],
)
def test_a_bad_plan_is_one_line_per_problem_and_exit_2(project, document, message):
    path = project / "bad-plan.yml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document), encoding="utf-8")
    messages: list[str] = []
    assert run(RunOptions(plan=path), log=messages.append) == 2
    assert any(m.startswith("error: ") and "bad-plan.yml" in m and message in m for m in messages), messages


def test_an_unreachable_scheduler_has_its_own_exit_code(project):
    messages: list[str] = []
    options = RunOptions(plan=_plan(project, "remote", [_entry("remote", "checks")]), scheduler="tcp://127.0.0.1:9")
    assert run(options, log=messages.append) == 4
    assert any("scheduler" in m and m.startswith("error") for m in messages)


def test_an_output_folder_that_cannot_be_written_is_exit_2(project):
    blocker = project / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET]), output=blocker / "reports"), log=messages.append) == 2
    assert messages[0].startswith("error:")


@pytest.mark.parametrize("year", [1800, 2999])
def test_as_of_must_be_a_year_the_data_speaks_to(project, year):
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET]), as_of=year), log=messages.append) == 2
    assert any("--as-of" in m for m in messages)


def test_the_help_lists_the_exit_codes():
    shown = subprocess.run([sys.executable, "-m", "analysis", "run", "--help"], capture_output=True, text=True).stdout
    assert "exit codes:\n  0    ok" in shown and "3    another run holds the lock" in shown and "130  stopped" in shown


def test_the_data_stage_waits_for_another_writer(project, capsys):
    import threading

    from analysis.__main__ import main
    from analysis.data import stage as data_stage

    with project_root(project):
        holder = data_stage.lock()
        holder.acquire()
        released = []

        def release():
            time.sleep(2)
            released.append(time.time())
            holder.release()

        threading.Thread(target=release).start()
        assert main(["clean"]) == 0  # the same lock as the batch's data stage
    written = (project / "data" / "processed" / "indicators.csv").stat().st_mtime
    assert released and written >= released[0] - 0.5


# --- the faults of issue 21, with real processes ---------------------------------------------------------

#: A budget figure for `add` (its period has begun, its date has passed).
FIGURE = [
    "--indicator", "dt_budget_share", "--geography", "HCMC", "--period", "2023", "--value", "1,1",
    "--unit", "% tổng chi ngân sách", "--kind", "actual", "--estimator", "Stated by the city",
    "--publisher", "Test outlet", "--title", "A budget figure", "--url", "https://example.vn/budget",
    "--published-date", "2026-11-20",
]  # fmt: skip


def _env(root: Path) -> dict:
    return {**os.environ, "ANALYSIS_ROOT": str(root)}


def _analysis(root: Path, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)], env=_env(root), capture_output=True, text=True, **kwargs
    )


def _run_process(root: Path, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "run", "--jobs", "1", *map(str, args)],
        env=_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(condition, process: subprocess.Popen, what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {process.stdout.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {seconds} s")
        time.sleep(0.1)


def _held(path: Path) -> bool:
    probe = FileLock(str(path), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        return True
    probe.release()
    return False


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


# --- no lost figure ------------------------------------------------------------------------


def test_a_figure_added_while_a_run_reads_the_data_lands_wholly_after_it(project):
    plan = _plan(project, "race", [BUDGET])
    process = _run_process(project, "--plan", plan, "--force")  # --force: the data stage runs
    _wait_for(lambda: _held(project / "data" / "processed" / ".lock"), process, "data stage")
    added = _analysis(project, "add", *FIGURE, "--wait", "300", timeout=300)  # a real add, racing
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0 and added.returncode == 0, (output, added.stderr)
    entry = next((project / "data" / "raw").glob("analyst-*.csv"))
    # the run fingerprinted what it read, under the lock, before reading: the figure came after it
    assert entry.name not in _record(project)["inputs"]
    dry: list[str] = []
    assert run(RunOptions(plan=plan, dry_run=True), log=dry.append) == 0
    assert any(m.startswith("data stage: would run") for m in dry), dry
    messages: list[str] = []
    assert run(RunOptions(plan=plan, jobs=1), log=messages.append) == 0
    assert any("vi/hcmc-dx-budget ok" in m for m in messages), messages
    assert entry.name in _record(project)["inputs"]
    assert entry.name in (project / "data" / "processed" / "indicators.csv").read_text(encoding="utf-8")


# --- publishing and recording the edition are one step ---------------------------------------


def test_an_edition_a_killed_run_left_pending_is_recorded_by_the_next_and_its_file_is_immutable(project):
    added = _analysis(project, "add", *[*FIGURE[:5], "2022", *FIGURE[6:]])  # new content: an edition is due
    assert added.returncode == 0, added.stderr
    entry = max((project / "data" / "raw").glob("analyst-*.csv"), key=lambda p: p.stat().st_mtime_ns)
    editions = project / "reports" / "editions"
    before = {p.name for p in editions.iterdir()}
    plan = _plan(project, "pending", [_entry("quick-pending", "checks"), _entry("sleeps")])
    process = _run_process(project, "--plan", plan)
    published = project / "reports" / "vi" / "quick-pending.pdf"
    _wait_for(published.exists, process, "the quick report")
    time.sleep(1)
    process.kill()  # after publishing one report, before recording the edition
    process.wait(timeout=10)
    pending = list(editions.glob(".pending-*"))
    assert len(pending) == 1 and {p.name for p in editions.iterdir()} - before == {pending[0].name}
    record = json.loads((pending[0] / "edition.json").read_text(encoding="utf-8"))
    assert record["raw_files"][entry.name] and record["reports"] == ["vi/quick-pending"]
    # the entry file was published: a later figure goes into a new one
    again = _analysis(project, "add", *[*FIGURE[:5], "2021", *FIGURE[6:]])
    assert again.returncode == 0 and entry.name not in again.stdout, again.stdout
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET]), jobs=1), log=messages.append) == 0
    assert any("recorded: a run that was killed published 1 report(s)" in m for m in messages), messages
    recorded = json.loads((editions / record["edition"] / "edition.json").read_text(encoding="utf-8"))
    assert recorded["reports"] == ["vi/quick-pending"] and "publishing" not in recorded
    assert not list(editions.glob(".pending-*"))


def test_a_published_entry_file_edited_with_its_sidecar_updated_stops_the_run(project):
    from analysis.data.provenance import sha256_of, sidecar_path

    entry = min((project / "data" / "raw").glob("analyst-*.csv"), key=lambda p: p.stat().st_mtime_ns)
    original, sidecar = entry.read_bytes(), sidecar_path(entry).read_text(encoding="utf-8")
    try:
        entry.write_bytes(original.replace(b"1,1", b"9,9"))
        sidecar_path(entry).write_text(sidecar.replace(sha256_of_bytes(original), sha256_of(entry)), encoding="utf-8")
        before = (project / "reports" / "vi" / "hcmc-dx-budget.pdf").read_bytes()
        done = _analysis(project, "run", "--plan", _plan(project, "plan", [BUDGET]))
        assert done.returncode == 2, done.stdout
        assert f"error: {entry.name}: changed since edition" in done.stdout and "immutable" in done.stdout
        assert (project / "reports" / "vi" / "hcmc-dx-budget.pdf").read_bytes() == before
        assert _record(project)["status"] == "bad input" and _record(project)["exit_code"] == 2
    finally:
        entry.write_bytes(original)
        sidecar_path(entry).write_text(sidecar, encoding="utf-8")


def sha256_of_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_an_as_of_run_of_one_report_records_no_edition(project):
    editions = {p.name for p in (project / "reports" / "editions").iterdir()}
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET]), as_of=2024, only=["hcmc-dx-budget"])) == 0
    assert (project / "reports" / "vi" / "hcmc-dx-budget-as-of-2024.pdf").exists()
    assert {p.name for p in (project / "reports" / "editions").iterdir()} == editions


# --- an honest run record ------------------------------------------------------------------


def test_a_scheduler_address_that_is_no_address_is_exit_2_in_one_line_and_recorded(project):
    done = _analysis(project, "run", "--plan", _plan(project, "plan", [BUDGET]), "--scheduler", "notascheme")
    assert done.returncode == 2 and done.stdout.count("error:") == 1 and "--scheduler notascheme" in done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert (_record(project)["status"], _record(project)["exit_code"]) == ("bad input", 2)


def test_a_crash_is_recorded_as_a_crash(project, monkeypatch):
    from analysis.batch import run as batch_run

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(batch_run, "report_fingerprint", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        run(RunOptions(plan=_plan(project, "plan", [BUDGET])), log=lambda *_: None)
    record = _record(project)
    assert record["status"] == "crashed" and record["exit_code"] == 1 and "a bug" in record["error"]
    assert not _held(project / "reports" / ".batch.lock")


@pytest.fixture()
def immutable(tmp_path):
    """chattr +i on a folder, or a skip where the file system cannot (tmpfs and ext4 can, as root)."""
    folders: list[Path] = []

    def make(folder: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not possible here: {done.stderr.decode().strip()}")
        folders.append(folder)

    yield make
    for folder in folders:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_an_immutable_reports_folder_fails_the_report_in_one_line_and_keeps_it(project, immutable):
    target = project / "reports" / "vi"
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    plan = _plan(project, "plan", [BUDGET])
    immutable(target)
    done = _analysis(project, "run", "--plan", plan, "--force")
    assert done.returncode == 1, done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert "FAILED vi/hcmc-dx-budget: could not publish it" in done.stdout and "Operation not permitted" in done.stdout
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    record = _record(project)
    assert (record["status"], record["exit_code"]) == ("failed", 1)
    assert record["reports"][0]["status"] == "failed"


@pytest.fixture()
def tmpfs():
    """Mount a small tmpfs (a disk that fills up), or skip where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(folder: Path, size: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill a file system up to ``leave`` bytes free."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    (folder / "ballast").write_bytes(b"\0" * max(0, free - leave))


def test_a_full_output_disk_keeps_what_was_published_and_says_so_in_one_line_each(project, tmpfs):
    output = tmpfs(project / "reports-full", "8m")
    plan = _plan(project, "plan", [BUDGET])
    done = _analysis(project, "run", "--plan", plan, "--output", output)
    assert done.returncode == 0, done.stdout
    before = {p.name: p.read_bytes() for p in (output / "vi").iterdir()}
    _fill(output, 40_000)  # room for the record, not for a report
    done = _analysis(project, "run", "--plan", plan, "--output", output, "--force")
    assert done.returncode == 1, done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert "FAILED vi/hcmc-dx-budget" in done.stdout
    assert {p.name: p.read_bytes() for p in (output / "vi").iterdir()} == before
    assert not [p for p in output.glob("_failed/**/*") if p.is_file() and p.stat().st_size == 0]
    (output / "ballast").unlink()
    record = _record(project, "reports-full")
    assert (record["status"], record["exit_code"]) == ("failed", 1)


def test_a_full_processed_disk_keeps_the_data_and_is_one_line_and_exit_1(project, tmpfs):
    fresh = copy_project(project / "full-data", notebooks=True)
    processed = tmpfs(fresh / "data" / "processed", "100k")
    done = _analysis(fresh, "run", "--plan", _plan(fresh, "plan", [BUDGET]))
    assert done.returncode == 1, done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert done.stdout.count("error:") == 1 and "No space left on device" in done.stdout
    assert not list(processed.glob("*.csv"))  # nothing half-published
    record = _record(fresh)
    assert (record["status"], record["exit_code"]) == ("failed", 1)
    cleaned = _analysis(fresh, "clean")
    assert cleaned.returncode == 1 and cleaned.stderr.count("error:") == 1 and "No space left" in cleaned.stderr
    _no_traceback(cleaned.stderr)


# --- Dask ---------------------------------------------------------------------------------------


def test_an_address_that_is_not_a_scheduler_is_exit_4_within_the_stated_time(project):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_like_a_web_server() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threading.Thread(target=answer_like_a_web_server, daemon=True).start()
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    try:
        done = _analysis(
            project,
            "run",
            "--plan",
            _plan(project, "remote", [_entry("remote", "checks")]),
            "--scheduler",
            address,
            timeout=DASK_CONNECT_SECONDS + 40,
        )
    finally:
        listener.close()
    assert done.returncode == 4, done.stdout
    assert f"error: the Dask scheduler {address} cannot be reached" in done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert _record(project)["exit_code"] == 4


def test_a_scheduler_whose_workers_are_all_gone_ends_the_run_with_exit_4(project):
    port = _free_port()
    dask = Path(sys.executable).with_name("dask")
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [dask, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
        env=_env(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        plan = _plan(project, "remote-sleeps", [_entry("remote-sleeps", "sleeps")])
        process = _run_process(project, "--plan", plan, "--scheduler", f"tcp://127.0.0.1:{port}")
        kernels = lambda: [  # noqa: E731
            p for p in psutil.Process(worker.pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())
        ]
        _wait_for(lambda: bool(kernels()) and list((project / "reports").glob(".staging-*")), process, "the report")
        time.sleep(3)
        for child in psutil.Process(worker.pid).children(recursive=True):
            child.kill()
        worker.kill()  # the only worker dies mid-report
        output, _ = process.communicate(timeout=DASK_NO_WORKER_SECONDS + 40)
        assert process.returncode == 4, output
        assert "has had no worker for" in output
        _no_traceback(output)
        assert _record(project)["status"] == "scheduler unreachable"
    finally:
        for child in (worker, scheduler):
            child.kill()
            child.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- parameters checked against the registry -------------------------------------------------


@pytest.mark.parametrize(
    "parameters, message",
    [
        (
            {"indicator": "dt_budget_share", "boundary": "hcmc-pre-2025"},
            "parameter boundary='hcmc-pre-2025' is not a boundary of data/registry/places.yml; "
            "did you mean 'hcmc-pre-2025-07'?",
        ),
        (
            {"indicator": "digital_economy_share_GRDP", "boundary": "vietnam", "merged_boundary": ""},
            "parameter boundary='vietnam' does not fit indicator='digital_economy_share_GRDP'",
        ),
        (
            {"indicator": "digital_economy_share_GRDP", "primary_estimator": "mci"},
            "parameter primary_estimator='mci' is not an estimator family",
        ),
    ],
)
def test_a_wrong_parameter_in_the_plan_is_exit_2_before_anything_runs(project, parameters, message):
    notebook = (
        "03-budget.ipynb"
        if "merged_boundary" not in parameters and "primary_estimator" not in parameters
        else ("02-digital-economy.ipynb")
    )
    entry = {"name": "typo", "notebook": notebook, "title_key": "report.budget", "parameters": parameters}
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "typo", [entry])), log=messages.append) == 2
    assert any(m.startswith("error: plan entry 'typo': ") and message in m for m in messages), messages
    assert not (project / "reports" / "vi" / "typo.pdf").exists()


def test_a_misspelt_default_in_a_notebook_is_named_too(project):
    source = (project / "notebooks" / "03-budget.ipynb").read_text(encoding="utf-8")
    (project / "notebooks" / "budget-typo.ipynb").write_text(
        source.replace('boundary: str = \\"hcmc-pre-2025-07\\"', 'boundary: str = \\"hcmc-pre-2O25-07\\"'),
        encoding="utf-8",
    )
    entry = {"name": "typo", "notebook": "budget-typo.ipynb", "title_key": "report.budget", "parameters": {}}
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "typo", [entry])), log=messages.append) == 2
    assert any("boundary='hcmc-pre-2O25-07'" in m and "did you mean 'hcmc-pre-2025-07'" in m for m in messages)


def test_papermill_with_a_misspelt_boundary_names_the_parameter_and_the_nearest_value(project, tmp_path):
    papermill = Path(sys.executable).with_name("papermill")
    done = subprocess.run(
        [
            papermill,
            project / "notebooks" / "03-budget.ipynb",
            tmp_path / "out.ipynb",
            "-p",
            "boundary",
            "hcmc-pre-2025",
        ],
        env=_env(project),
        capture_output=True,
        text=True,
        cwd=project / "notebooks",
        timeout=300,
    )
    assert done.returncode != 0
    assert (
        "boundary='hcmc-pre-2025' is not a boundary" in done.stderr and "did you mean 'hcmc-pre-2025-07'" in done.stderr
    )


def test_a_report_whose_verdict_shows_no_target_fails_and_keeps_the_previous_version(project):
    plan = _plan(project, "no-target", [_entry("no-target", "checks")])
    assert run(RunOptions(plan=plan), log=lambda *_: None) == 0
    before = (project / "reports" / "vi" / "no-target.pdf").read_bytes()
    plan.write_text(plan.read_text(encoding="utf-8").replace("checks.ipynb", "no-target.ipynb"), encoding="utf-8")
    messages: list[str] = []
    assert run(RunOptions(plan=plan), log=messages.append) == 1
    assert any(m.startswith("FAILED vi/no-target") and "the verdict section shows no target" in m for m in messages)
    assert (project / "reports" / "vi" / "no-target.pdf").read_bytes() == before
    assert _record(project)["status"] == "failed"


# --- housekeeping ---------------------------------------------------------------------------------


def test_kill_9_leaves_no_kernel_folder_in_the_temp_dir_and_no_empty_log(project):
    temp = Path(tempfile.gettempdir())
    before = {p.name for p in temp.iterdir()}
    plan = _plan(project, "killed-nine", [_entry("sleeps")])
    process = _run_process(project, "--plan", plan)
    _wait_for(lambda: list((project / "reports").glob(".staging-k*/k*/kernel.json")), process, "kernels")
    time.sleep(2)
    process.kill()
    process.wait(timeout=10)
    time.sleep(3)  # the kernels notice their parent is gone
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET])), log=lambda *_: None) == 0
    assert not list((project / "reports").glob(".staging-*"))
    assert not [p for p in (project / "reports" / "_runs").glob("kernel-*.log") if p.stat().st_size == 0]
    # the kernels' folders were under the output (waited for above), and none of ours is in the temp folder
    # (other projects' runs may make theirs meanwhile)
    new = {p.name for p in temp.iterdir()} - before
    assert not [name for name in new if name.startswith("hcmc-dx-")], new


def test_a_deleted_manifest_is_rebuilt_and_the_covers_have_a_date(project):
    (project / "data" / "processed" / "clean_manifest.json").unlink()
    messages: list[str] = []
    assert run(RunOptions(plan=_plan(project, "plan", [BUDGET])), log=messages.append) == 0
    assert (project / "data" / "processed" / "clean_manifest.json").exists()
    assert any("clean_manifest.json" in m for m in messages)
    assert "Dữ liệu công bố đến: –" not in (project / "reports" / "vi" / "hcmc-dx-budget.html").read_text("utf-8")
