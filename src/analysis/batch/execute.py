"""Running reports: warm kernels on this machine, or the same work on a Dask cluster.

Locally, :class:`LocalPool` keeps one :class:`~analysis.batch.kernels.KernelSlot` per job; the
kernels start (and import the heavy libraries) as soon as the pool exists, which the batch arranges
to be while the data stage runs.  Each report takes a free slot, runs and renders in it, and gives
it back.  A report whose kernel dies or hangs fails alone: its slot gets a new kernel and the
other reports go on.  On a Dask cluster each worker thread keeps its own slot between reports.

Every function here takes and returns plain data (tasks and result dicts), so it runs the same in
a Dask worker.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from analysis import config
from analysis.batch.kernels import RUNTIME_PREFIX, KernelError, KernelSlot, remove_orphan_runtime_folders
from analysis.batch.run_plan import Task, report_stem

STOPPED = "the run was stopped"


def batch_kernel_env(root: str) -> dict[str, str]:
    """A batch kernel's environment: it reads the tables the run made, never remaking them on demand (see
    ``reports.loading``), and draws a chart only when its inputs changed (see ``reports.charts``); the
    caller's ``ANALYSIS_ROOT`` is ``root``."""
    return {"ANALYSIS_ROOT": root, "ANALYSIS_TABLES_READY": "1", "ANALYSIS_CHART_CACHE": str(config.chart_cache_dir())}


def _identity(task: Task) -> dict:
    return {"key": task.key, "name": task.name, "lang": task.lang, "stem": report_stem(task), "executed": ""}


def _short(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1] if lines else ''}"[:500]


def build_in_slot(slot: KernelSlot, task: Task, staging: str, root: str, vintage: str | None) -> dict:
    """Execute and render one report in a kernel slot; everything is written under ``staging``.

    Returns
    -------
    dict
        ``key, name, lang, stem, executed`` (path of the executed notebook, '' when there is none),
        ``status`` ('ok' or 'failed'), ``seconds``, ``execute_seconds``, ``error``, ``kernel_replaced``.
    """
    from nbclient.exceptions import CellExecutionError

    from analysis.i18n import t

    started = time.perf_counter()
    folder = Path(staging) / task.lang
    folder.mkdir(parents=True, exist_ok=True)
    stem = report_stem(task)
    executed = folder / f"{stem}.ipynb"
    result = _identity(task)
    # the notebook's parameter says 0 for every figure
    parameters = {**task.parameters, "lang": task.lang, "as_of": task.as_of or 0}
    result["kernel_pid"] = slot.pid
    try:
        try:
            if slot.km is None or not slot.km.is_alive():
                slot.replace()
            result["kernel_pid"] = slot.pid
            seconds = slot.run_notebook(Path(root) / "notebooks" / task.notebook, executed, parameters, task.timeout)
        finally:
            if executed.exists():
                result["executed"] = str(executed)
        title = t(task.title_key, task.lang)
        html, pdf = folder / f"{stem}.html", folder / f"{stem}.pdf"
        try:
            slot.render(executed, html, pdf, task.lang, title, vintage, task.as_of, task.timeout)
        except KernelError as exc:
            raise KernelError(f"rendering took longer than {task.timeout} s ({exc})") from exc
        result.update(status="ok", execute_seconds=round(seconds, 2))
    except CellExecutionError as exc:
        result.update(status="failed", error=_short(exc))
    except KernelError as exc:
        result.update(status="failed", error=_short(exc), kernel_replaced=True)
        with contextlib.suppress(KernelError):  # the next report tries again
            slot.replace()
    except Exception as exc:
        result.update(status="failed", error=_short(exc))
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


class LocalPool:
    """Warm kernel slots on this machine, each driven by its own thread (the kernels do the work).

    The threads are daemons: a stopped run never waits for a report thread to notice it is over.

    Parameters
    ----------
    size : int
        Number of kernels (reports at a time).
    root : str
        Project root (the kernels see it as ``ANALYSIS_ROOT``).
    log_dir : str, optional
        Folder for the kernels' own error output.
    runtime_dir : str, optional
        Folder for the kernels' connection files and sockets (removed by :meth:`shutdown`).
    """

    #: Seconds a stop lets interrupted reports end before their kernels are killed.
    INTERRUPT_GRACE = 2.0

    def __init__(self, size: int, root: str, log_dir: str | None = None, runtime_dir: str | None = None):
        self.root, self.runtime_dir = root, runtime_dir
        env = {"PYDEVD_DISABLE_FILE_VALIDATION": "1", **batch_kernel_env(root)}
        self.slots = [KernelSlot(str(Path(root) / "notebooks"), env, log_dir, runtime_dir) for _ in range(size)]
        self.jobs: queue.Queue = queue.Queue()
        self._stopped = threading.Event()
        # every kernel starts now, in the background: the caller goes on with the data stage
        self.threads = [
            threading.Thread(target=self._work, args=(slot,), name=f"report-{n}", daemon=True)
            for n, slot in enumerate(self.slots)
        ]
        for thread in self.threads:
            thread.start()

    def _work(self, slot: KernelSlot) -> None:
        with contextlib.suppress(KernelError):  # build_in_slot tries again and fails a report with it
            slot.start()
        while True:
            job = self.jobs.get()
            if job is None:
                return
            future, task, staging, vintage = job
            if not future.set_running_or_notify_cancel():
                continue
            if self._stopped.is_set():
                future.set_result({**_identity(task), "status": "failed", "seconds": 0.0, "error": STOPPED})
                continue
            try:
                future.set_result(build_in_slot(slot, task, staging, self.root, vintage))
            except BaseException as exc:  # build_in_slot turns report errors into results; this is a bug
                future.set_exception(exc)

    def submit(self, task: Task, staging: str, vintage: str | None) -> Future:
        """Queue one report; the future gives its result dict."""
        future: Future = Future()
        self.jobs.put((future, task, staging, vintage))
        return future

    def shutdown(self, stop: bool = False) -> None:
        """Shut every kernel down at the end of a run.

        With ``stop`` (a signal): interrupt every kernel, give running reports
        :data:`INTERRUPT_GRACE` seconds to end, then kill what is left; never wait long for a thread.
        """
        for _ in self.threads:
            self.jobs.put(None)
        if stop:
            self._stopped.set()
            for slot in self.slots:
                slot.stop()
            _join(self.threads, self.INTERRUPT_GRACE)
            for slot in self.slots:
                slot.kill()
            _join(self.threads, self.INTERRUPT_GRACE)
        else:
            _join(self.threads, None)
        for slot in self.slots:
            slot.close()
        if self.runtime_dir:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)


def _join(threads: list[threading.Thread], seconds: float | None) -> None:
    """Wait for threads to end, at most ``seconds`` in all (None: as long as they take)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    for thread in threads:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))


# --- Dask ----------------------------------------------------------------------------------

_worker_slots = threading.local()
#: Every slot of this worker process, so that a stopped run can stop them (``client.run(stop_worker_kernels)``).
_all_worker_slots: set[KernelSlot] = set()


def build_report(task: Task, staging: str, root: str, vintage: str | None) -> dict:
    """One report on a Dask worker: each worker thread keeps a warm kernel between reports."""
    import atexit

    os.environ["ANALYSIS_ROOT"] = root
    slot = getattr(_worker_slots, "slot", None)
    if slot is None or slot.closed:
        env = batch_kernel_env(root)
        slot = KernelSlot(str(Path(root) / "notebooks"), env, runtime_dir=worker_runtime_dir())
        with contextlib.suppress(KernelError):
            slot.start()
        _worker_slots.slot = slot
        _all_worker_slots.add(slot)
        atexit.register(slot.close)
    return build_in_slot(slot, task, staging, root, vintage)


def worker_runtime_dir() -> str:
    """This worker's folder for kernel sockets (``<temp>/hcmc-dx-worker-<pid>``); the folders of workers and
    runs that were killed are removed first."""
    remove_orphan_runtime_folders()
    return str(Path(tempfile.gettempdir()) / f"{RUNTIME_PREFIX}worker-{os.getpid()}")


def stop_worker_kernels() -> int:
    """Run on every Dask worker when the run is stopped: interrupt, then kill, its kernels; how many there were."""
    slots = list(_all_worker_slots)
    for slot in slots:
        slot.stop()
    time.sleep(LocalPool.INTERRUPT_GRACE)
    for slot in slots:
        slot.kill()
    _all_worker_slots.clear()
    return len(slots)
