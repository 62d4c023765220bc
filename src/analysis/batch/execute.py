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
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from analysis.batch.kernels import KernelError, KernelSlot
from analysis.batch.plan import Task


def report_stem(task: Task) -> str:
    """File stem of a report: its plan name, with ``-as-of-YEAR`` when built as of a year."""
    return task.name + (f"-as-of-{task.as_of}" if task.as_of else "")


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
    parameters = {**task.parameters, "lang": task.lang, "as_of": task.as_of}
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
            slot.render(executed, html, pdf, task.lang, title, vintage, task.as_of or None, task.timeout)
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
    """Warm kernel slots on this machine and threads that drive them (the kernels do the work).

    Parameters
    ----------
    size : int
        Number of kernels (reports at a time).
    root : str
        Project root (the kernels see it as ``ANALYSIS_ROOT``).
    log_dir : str, optional
        Folder for the kernels' own error output.
    """

    def __init__(self, size: int, root: str, log_dir: str | None = None):
        self.root = root
        env = {"ANALYSIS_ROOT": root, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.slots = [KernelSlot(str(Path(root) / "notebooks"), env, log_dir) for _ in range(size)]
        self.free: queue.Queue[KernelSlot] = queue.Queue()
        self.threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="report")
        self._stopped = threading.Event()
        # start every kernel now, in the background: the caller goes on with the data stage
        for slot in self.slots:
            self.threads.submit(self._warm, slot)

    def _warm(self, slot: KernelSlot) -> None:
        with contextlib.suppress(KernelError):  # build_in_slot tries again and fails a report with it
            slot.start()
        self.free.put(slot)

    def submit(self, task: Task, staging: str, vintage: str | None) -> Future:
        """Queue one report; the future gives its result dict."""
        return self.threads.submit(self._build, task, staging, vintage)

    def _build(self, task: Task, staging: str, vintage: str | None) -> dict:
        slot = self.free.get()
        try:
            if self._stopped.is_set():
                return {**_identity(task), "status": "failed", "seconds": 0.0, "error": "the run was stopped"}
            return build_in_slot(slot, task, staging, self.root, vintage)
        finally:
            self.free.put(slot)

    def shutdown(self, stop: bool = False) -> None:
        """Stop every kernel; with ``stop`` (a signal), kill them at once so running reports end now."""
        if stop:
            self._stopped.set()
            for slot in self.slots:
                slot.close(kill=True)
        self.threads.shutdown(wait=True, cancel_futures=True)
        for slot in self.slots:
            slot.close()


# --- Dask ----------------------------------------------------------------------------------

_worker_slots = threading.local()


def build_report(task: Task, staging: str, root: str, vintage: str | None) -> dict:
    """One report on a Dask worker: each worker thread keeps a warm kernel between reports."""
    import atexit

    os.environ["ANALYSIS_ROOT"] = root
    slot = getattr(_worker_slots, "slot", None)
    if slot is None:
        slot = KernelSlot(str(Path(root) / "notebooks"), {"ANALYSIS_ROOT": root})
        with contextlib.suppress(KernelError):
            slot.start()
        _worker_slots.slot = slot
        atexit.register(slot.close)
    return build_in_slot(slot, task, staging, root, vintage)
