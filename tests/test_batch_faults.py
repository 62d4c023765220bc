"""Faults an operator meets in a year, with real processes (I): dead kernels, signals, kill -9, a kernel
that fails to start, corrupt state, deleted tables, hostile notebook output, bad plans and options.
The rest are in ``test_run_faults.py``; the two modules share the fixture of ``fault_project.py``."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import yaml

from analysis.batch.kernels import KernelSlot
from analysis.batch.run import RunOptions, _pool_size, run
from conftest import project_root
from fault_project import (
    BUDGET,
    fault_project,  # noqa: F401  (the module's `project` fixture)
    last_record,
    plan_entry,
    run_state,
    write_notebook,
    write_plan,
)

#: every test here runs the batch (kernels, notebooks, PDFs): `make test-fast` leaves them out
pytestmark = pytest.mark.slow

# --- kernels -------------------------------------------------------------------------------


def test_a_reused_kernel_leaves_no_state_from_the_previous_report(project):
    plan = write_plan(project, "reuse", [plan_entry("leaks"), plan_entry("checks")])
    assert run(RunOptions(plan=plan, jobs=1), log=lambda *_: None) == 0
    reports = {r["key"]: r for r in last_record(project)["reports"]}
    assert reports["vi/leaks"]["status"] == reports["vi/checks"]["status"] == "ok"
    assert reports["vi/leaks"]["kernel_pid"] == reports["vi/checks"]["kernel_pid"]  # one kernel, two reports


def test_a_kernel_killed_mid_report_fails_that_report_only_and_is_replaced(project):
    plan = write_plan(project, "killed", [plan_entry("killed"), plan_entry("after-killed", "checks")])
    messages: list[str] = []
    assert run(RunOptions(plan=plan, jobs=1), log=messages.append) == 1
    reports = {r["key"]: r for r in last_record(project)["reports"]}
    assert reports["vi/killed"]["status"] == "failed" and "Kernel died" in reports["vi/killed"]["error"]
    assert reports["vi/after-killed"]["status"] == "ok"
    assert reports["vi/killed"]["kernel_pid"] != reports["vi/after-killed"]["kernel_pid"]
    state = run_state(project)["reports"]
    assert state["vi/after-killed"]["status"] == "ok" and state["vi/killed"]["status"].startswith("failed")
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "vi/after-killed.pdf" in index and "vi/killed.pdf" not in index
    assert not list((project / "reports").glob(".staging-*"))


def test_rendering_has_a_time_limit(project):
    plan = write_plan(project, "huge", [plan_entry("huge")])
    assert run(RunOptions(plan=plan, jobs=1, timeout=4), log=lambda *_: None) == 1
    report = last_record(project)["reports"][0]
    assert report["status"] == "failed" and "rendering took longer than 4 s" in report["error"]


def test_the_pdf_renderer_fetches_nothing_and_attaches_nothing(project):
    plan = write_plan(project, "hostile", [plan_entry("hostile")])
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
    plan = write_plan(project, "sleep", [plan_entry(quick, "checks"), plan_entry("sleeps")])
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
    record = last_record(project)
    assert record["status"] == "stopped" and record["exit_code"] == 130
    # what finished before the stop is published, in the state and on the index
    assert {r["key"]: r["status"] for r in record["reports"]} == {f"vi/{quick}": "ok"}
    assert run_state(project)["reports"][f"vi/{quick}"]["status"] == "ok"
    assert f"vi/{quick}.pdf" in (project / "reports" / "index.html").read_text(encoding="utf-8")
    # the lock is free: the next run starts at once
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET])), log=lambda *_: None) == 0


def test_a_stop_while_a_report_renders_is_prompt_too(project):
    plan = write_plan(project, "render-stop", [plan_entry("huge-stop", "huge")])
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
    plan = write_plan(project, "sleep", [plan_entry("sleeps")])
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
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET])), log=messages.append) == 0
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
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET])), log=messages.append) == 0
    assert any(m.startswith("warning") and ".state.json" in m for m in messages)
    assert run_state(project)["reports"]["vi/hcmc-dx-budget"]["status"] == "ok"


def test_a_processed_table_deleted_by_hand_is_rebuilt(project):
    plan = write_plan(project, "plan", [BUDGET])
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
    assert (
        run(RunOptions(plan=write_plan(project, "mended", [plan_entry("mended", "checks")])), log=lambda *_: None) == 0
    )
    assert not stale.exists()


def test_published_files_are_readable_by_a_web_server(project):
    old = os.umask(0o022)
    try:
        assert (
            run(RunOptions(plan=write_plan(project, "perm", [plan_entry("perm", "checks")])), log=lambda *_: None) == 0
        )
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
    write_notebook(project / "notebooks" / "raises.ipynb", "raise ValueError('injected')")
    messages: list[str] = []
    assert run(RunOptions(plan=write_plan(project, "raises", [plan_entry("raises")])), log=messages.append) == 1
    assert any("could not keep the failed notebook" in m and "No space left" in m for m in messages)
    assert any(m.startswith("FAILED vi/raises") for m in messages)
    assert last_record(project)["reports"][0]["failed_notebook"] is None
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
    options = RunOptions(
        plan=write_plan(project, "remote", [plan_entry("remote", "checks")]), scheduler="tcp://127.0.0.1:9"
    )
    assert run(options, log=messages.append) == 4
    assert any("scheduler" in m and m.startswith("error") for m in messages)


def test_an_output_folder_that_cannot_be_written_is_exit_2(project):
    blocker = project / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    messages: list[str] = []
    assert (
        run(RunOptions(plan=write_plan(project, "plan", [BUDGET]), output=blocker / "reports"), log=messages.append)
        == 2
    )
    assert messages[0].startswith("error:")


@pytest.mark.parametrize("year", [1800, 2999])
def test_as_of_must_be_a_year_the_data_speaks_to(project, year):
    messages: list[str] = []
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET]), as_of=year), log=messages.append) == 2
    assert any("--as-of" in m for m in messages)


def test_the_help_lists_the_exit_codes():
    shown = subprocess.run([sys.executable, "-m", "analysis", "run", "--help"], capture_output=True, text=True).stdout
    assert "exit codes:\n  0    ok" in shown and "3    another run holds the lock" in shown and "130  stopped" in shown


def test_the_data_stage_waits_for_another_writer(project, capsys):

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
