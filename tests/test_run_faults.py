"""Faults an operator meets in a year, with real processes (II): an `add` racing a run, a run killed
between publishing and recording its edition, full and immutable disks, a scheduler that is not one or
loses its workers, wrong parameters, and what a killed run leaves behind.
The rest are in ``test_batch_faults.py``; the two modules share the fixture of ``fault_project.py``."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
from filelock import FileLock, Timeout

from analysis.batch.run import DASK_CONNECT_SECONDS, DASK_NO_WORKER_SECONDS, RunOptions, run
from conftest import copy_project
from fault_project import (
    BUDGET,
    fault_project,  # noqa: F401  (the module's `project` fixture)
    last_record,
    plan_entry,
    write_plan,
)

#: every test here runs the batch (kernels, notebooks, PDFs): `make test-fast` leaves them out
pytestmark = pytest.mark.slow

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
    plan = write_plan(project, "race", [BUDGET])
    process = _run_process(project, "--plan", plan, "--force")  # --force: the data stage runs
    _wait_for(lambda: _held(project / "data" / "processed" / ".lock"), process, "data stage")
    added = _analysis(project, "add", *FIGURE, "--wait", "300", timeout=300)  # a real add, racing
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0 and added.returncode == 0, (output, added.stderr)
    entry = next((project / "data" / "raw").glob("analyst-*.csv"))
    # the run fingerprinted what it read, under the lock, before reading: the figure came after it
    assert entry.name not in last_record(project)["inputs"]
    dry: list[str] = []
    assert run(RunOptions(plan=plan, dry_run=True), log=dry.append) == 0
    assert any(m.startswith("data stage: would run") for m in dry), dry
    messages: list[str] = []
    assert run(RunOptions(plan=plan, jobs=1), log=messages.append) == 0
    assert any("vi/hcmc-dx-budget ok" in m for m in messages), messages
    assert entry.name in last_record(project)["inputs"]
    assert entry.name in (project / "data" / "processed" / "indicators.csv").read_text(encoding="utf-8")


# --- publishing and recording the edition are one step ---------------------------------------


def test_an_edition_a_killed_run_left_pending_is_recorded_by_the_next_and_its_file_is_immutable(project):
    added = _analysis(project, "add", *[*FIGURE[:5], "2022", *FIGURE[6:]])  # new content: an edition is due
    assert added.returncode == 0, added.stderr
    entry = max((project / "data" / "raw").glob("analyst-*.csv"), key=lambda p: p.stat().st_mtime_ns)
    editions = project / "reports" / "editions"
    before = {p.name for p in editions.iterdir()}
    plan = write_plan(project, "pending", [plan_entry("quick-pending", "checks"), plan_entry("sleeps")])
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
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET]), jobs=1), log=messages.append) == 0
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
        done = _analysis(project, "run", "--plan", write_plan(project, "plan", [BUDGET]))
        assert done.returncode == 2, done.stdout
        assert f"error: {entry.name}: changed since edition" in done.stdout and "immutable" in done.stdout
        assert (project / "reports" / "vi" / "hcmc-dx-budget.pdf").read_bytes() == before
        assert last_record(project)["status"] == "bad input" and last_record(project)["exit_code"] == 2
    finally:
        entry.write_bytes(original)
        sidecar_path(entry).write_text(sidecar, encoding="utf-8")


def sha256_of_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_an_as_of_run_of_one_report_records_no_edition(project):
    editions = {p.name for p in (project / "reports" / "editions").iterdir()}
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET]), as_of=2024, only=["hcmc-dx-budget"])) == 0
    assert (project / "reports" / "vi" / "hcmc-dx-budget-as-of-2024.pdf").exists()
    assert {p.name for p in (project / "reports" / "editions").iterdir()} == editions


# --- an honest run record ------------------------------------------------------------------


def test_a_scheduler_address_that_is_no_address_is_exit_2_in_one_line_and_recorded(project):
    done = _analysis(project, "run", "--plan", write_plan(project, "plan", [BUDGET]), "--scheduler", "notascheme")
    assert done.returncode == 2 and done.stdout.count("error:") == 1 and "--scheduler notascheme" in done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert (last_record(project)["status"], last_record(project)["exit_code"]) == ("bad input", 2)


def test_a_crash_is_recorded_as_a_crash(project, monkeypatch):
    from analysis.batch import run as batch_run

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(batch_run, "report_fingerprint", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        run(RunOptions(plan=write_plan(project, "plan", [BUDGET])), log=lambda *_: None)
    record = last_record(project)
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
    plan = write_plan(project, "plan", [BUDGET])
    immutable(target)
    done = _analysis(project, "run", "--plan", plan, "--force")
    assert done.returncode == 1, done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert "FAILED vi/hcmc-dx-budget: could not publish it" in done.stdout and "Operation not permitted" in done.stdout
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    record = last_record(project)
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
    plan = write_plan(project, "plan", [BUDGET])
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
    record = last_record(project, "reports-full")
    assert (record["status"], record["exit_code"]) == ("failed", 1)


def test_a_full_processed_disk_keeps_the_data_and_is_one_line_and_exit_1(project, tmpfs):
    fresh = copy_project(project / "full-data", notebooks=True)
    processed = tmpfs(fresh / "data" / "processed", "100k")
    done = _analysis(fresh, "run", "--plan", write_plan(fresh, "plan", [BUDGET]))
    assert done.returncode == 1, done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert done.stdout.count("error:") == 1 and "No space left on device" in done.stdout
    assert not list(processed.glob("*.csv"))  # nothing half-published
    record = last_record(fresh)
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
            write_plan(project, "remote", [plan_entry("remote", "checks")]),
            "--scheduler",
            address,
            timeout=DASK_CONNECT_SECONDS + 40,
        )
    finally:
        listener.close()
    assert done.returncode == 4, done.stdout
    assert f"error: the Dask scheduler {address} cannot be reached" in done.stdout
    _no_traceback(done.stdout + done.stderr)
    assert last_record(project)["exit_code"] == 4


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
        plan = write_plan(project, "remote-sleeps", [plan_entry("remote-sleeps", "sleeps")])
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
        assert last_record(project)["status"] == "scheduler unreachable"
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
    assert run(RunOptions(plan=write_plan(project, "typo", [entry])), log=messages.append) == 2
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
    assert run(RunOptions(plan=write_plan(project, "typo", [entry])), log=messages.append) == 2
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
    plan = write_plan(project, "no-target", [plan_entry("no-target", "checks")])
    assert run(RunOptions(plan=plan), log=lambda *_: None) == 0
    before = (project / "reports" / "vi" / "no-target.pdf").read_bytes()
    plan.write_text(plan.read_text(encoding="utf-8").replace("checks.ipynb", "no-target.ipynb"), encoding="utf-8")
    messages: list[str] = []
    assert run(RunOptions(plan=plan), log=messages.append) == 1
    assert any(m.startswith("FAILED vi/no-target") and "the verdict section shows no target" in m for m in messages)
    assert (project / "reports" / "vi" / "no-target.pdf").read_bytes() == before
    assert last_record(project)["status"] == "failed"


# --- housekeeping ---------------------------------------------------------------------------------


def test_kill_9_leaves_no_kernel_folder_in_the_temp_dir_and_no_empty_log(project):
    temp = Path(tempfile.gettempdir())
    before = {p.name for p in temp.iterdir()}
    plan = write_plan(project, "killed-nine", [plan_entry("sleeps")])
    process = _run_process(project, "--plan", plan)
    _wait_for(lambda: list((project / "reports").glob(".staging-k*/k*/kernel.json")), process, "kernels")
    time.sleep(2)
    process.kill()
    process.wait(timeout=10)
    time.sleep(3)  # the kernels notice their parent is gone
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET])), log=lambda *_: None) == 0
    assert not list((project / "reports").glob(".staging-*"))
    assert not [p for p in (project / "reports" / "_runs").glob("kernel-*.log") if p.stat().st_size == 0]
    # the kernels' folders were under the output (waited for above), and none of ours is in the temp folder
    # (other projects' runs may make theirs meanwhile)
    new = {p.name for p in temp.iterdir()} - before
    assert not [name for name in new if name.startswith("hcmc-dx-")], new


def test_a_deleted_manifest_is_rebuilt_and_the_covers_have_a_date(project):
    (project / "data" / "processed" / "clean_manifest.json").unlink()
    messages: list[str] = []
    assert run(RunOptions(plan=write_plan(project, "plan", [BUDGET])), log=messages.append) == 0
    assert (project / "data" / "processed" / "clean_manifest.json").exists()
    assert any("clean_manifest.json" in m for m in messages)
    assert "Dữ liệu công bố đến: –" not in (project / "reports" / "vi" / "hcmc-dx-budget.html").read_text("utf-8")
