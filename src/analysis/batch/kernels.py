"""Warm kernels: a report runs in a kernel that is already up, with the heavy imports done.

A :class:`KernelSlot` owns one IPython kernel for the length of a run.  The kernel starts (and
imports pandas, matplotlib, the package and WeasyPrint) while the data stage is still
running; each report then gets a fresh namespace in it (``%reset``, figures closed, options and
the working folder restored), is executed by nbclient with papermill's parameter injection, and
is rendered to HTML and PDF *in the same kernel process*, where fonts and templates are already
loaded.  A kernel that dies, times out or fails to render is replaced before the next report.

Kernels talk over IPC sockets in a private folder (no TCP ports to collide when two start at
once) and exit on their own when the process that started them dies (ipykernel polls its parent).
The folder is under the run's output (``runtime_dir``), so that what a killed run leaves is removed
by the next run; a kernel's error log is kept only when the kernel wrote something into it.

Every wait on a kernel polls it (its process alive, the slot not stopped) every
:data:`POLL_SECONDS`: a stop (:meth:`KernelSlot.stop`, :meth:`KernelSlot.kill`) ends a report in
progress within seconds, whatever its time limit.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

#: Optional modules that nothing in a run uses and that are slow to import: nbformat's jsonschema
#: imports rfc3987-syntax 1.1 for IRI formats, which builds a grammar at import (1.6 s in each
#: process; python-jsonschema#1521). Notebooks have no IRI formats. Blocked in the run and its kernels.
UNUSED_SLOW_MODULES = ("rfc3987_syntax",)

#: Imports done once per kernel, before its first report.
WARM_UP = """
from analysis.batch.kernels import block_unused_slow_modules
block_unused_slow_modules()
import matplotlib
matplotlib.use("agg")
import pandas, matplotlib.pyplot, weasyprint
import analysis.reports.sections, analysis.reports.html, analysis.reports.loading, analysis.reports.render
"""


def block_unused_slow_modules() -> None:
    """Make :data:`UNUSED_SLOW_MODULES` fail to import in this process (their users treat them as optional)."""
    for name in UNUSED_SLOW_MODULES:
        sys.modules.setdefault(name, None)


#: Run before every report: the previous report leaves nothing behind but imported modules.
RESET = """
get_ipython().run_line_magic("reset", "-f")
import os as _os, sys as _sys, warnings as _warnings
import matplotlib as _matplotlib, matplotlib.pyplot as _pyplot
_pyplot.close("all")
_matplotlib.rcdefaults()
if "pandas" in _sys.modules:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        _sys.modules["pandas"].reset_option("all")
_os.chdir({cwd!r})
del _os, _sys, _warnings, _matplotlib, _pyplot
"""

RENDER = """
from analysis.reports.render import render_files as _render_files
_render_files({executed!r}, {html!r}, {pdf!r}, {lang!r}, {title!r}, {vintage!r}, {as_of!r})
del _render_files
"""


class KernelError(RuntimeError):
    """The kernel itself failed (did not start, died, hung): the slot replaces it."""


#: How often a wait on a kernel checks that the kernel lives and the run goes on.
POLL_SECONDS = 0.5
#: Unix socket paths are limited to 107 bytes: a runtime folder deeper than this falls back to the temp folder.
MAX_SOCKET_PATH = 104
#: Kernel folders in the temp folder are named after the process that made them (``hcmc-dx-run-<pid>``), so
#: that those of a process that was killed can be told and removed (:func:`remove_orphan_runtime_folders`).
RUNTIME_PREFIX = "hcmc-dx-"


class KernelSlot:
    """One kernel, reused report after report, replaced when it misbehaves.

    Parameters
    ----------
    cwd : str
        Working folder of the notebooks (``notebooks/``).
    env : dict
        Environment of the kernel (``ANALYSIS_ROOT`` and the like).
    log_dir : str, optional
        Where the kernel's own stderr goes (default: discarded); an empty log is removed.
    runtime_dir : str, optional
        Folder for the kernel's connection file and sockets (default: the temp folder).
    """

    START_ATTEMPTS = 2

    def __init__(self, cwd: str, env: dict | None = None, log_dir: str | None = None, runtime_dir: str | None = None):
        self.cwd, self.env, self.log_dir, self.runtime_dir = cwd, dict(env or {}), log_dir, runtime_dir
        self.km = None
        self.kc = None
        self.reports = 0
        self.starts = 0
        self.closed = False
        self.attempts = 0
        self._runtime = None

    @property
    def log_file(self) -> str | None:
        """The kernel's error log (None without a log folder)."""
        return os.path.join(self.log_dir, f"kernel-{os.getpid()}-{id(self)}.log") if self.log_dir else None

    def _error_log(self):
        """The file the kernel's stderr goes to (a null context when no log folder was given)."""
        if not self.log_file:
            return contextlib.nullcontext(None)
        os.makedirs(self.log_dir, exist_ok=True)
        return open(self.log_file, "ab")

    def _runtime_folder(self) -> str:
        base = self.runtime_dir
        if not base or len(os.path.join(base, "kxxxxxxxx", "kernel-ipc-65535")) > MAX_SOCKET_PATH:
            base = os.path.join(tempfile.gettempdir(), f"{RUNTIME_PREFIX}run-{os.getpid()}")
        os.makedirs(base, exist_ok=True)
        return tempfile.mkdtemp(prefix="k", dir=base)

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the kernel and warm it up; a kernel that dies at start is retried once.

        Raises
        ------
        KernelError
            When it fails :data:`START_ATTEMPTS` times.
        """
        from jupyter_client import KernelManager

        if self.closed:
            raise KernelError("the run is stopping")
        problem = None
        self.attempts = 0
        for _attempt in range(self.START_ATTEMPTS):
            self.attempts += 1
            self._runtime = self._runtime_folder()
            km = KernelManager(kernel_name="python3", transport="ipc")
            km.connection_file = os.path.join(self._runtime, "kernel.json")
            try:
                with open(os.devnull, "wb") as quiet, self._error_log() as errors:
                    km.start_kernel(cwd=self.cwd, env={**os.environ, **self.env}, stdout=quiet, stderr=errors or quiet)
                # this process's side of a report, imported while the kernel boots, not by the first report
                block_unused_slow_modules()
                import nbclient  # noqa: F401
                import papermill.parameterize  # noqa: F401

                # nbclient needs an asynchronous client (a blocking one stalls its dead-kernel watch);
                # the slot's own calls run it to completion with run_sync, on this thread's loop
                km.client_class = "jupyter_client.asynchronous.AsyncKernelClient"
                kc = km.client()
                kc.start_channels()
                _run_sync()(kc.wait_for_ready)(timeout=60)
                self.km, self.kc = km, kc
                self.starts += 1
                self.execute(WARM_UP, timeout=120)
                return
            except Exception as exc:  # a kernel that died before replying, a port or socket problem
                problem = exc
                self._discard(km)
        raise KernelError(f"kernel did not start after {self.START_ATTEMPTS} attempts: {problem}")

    def _discard(self, km=None) -> None:
        km = km or self.km
        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
        if km is not None:
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception:
                pass
            with contextlib.suppress(Exception):
                km.cleanup_resources()
        if self._runtime:
            shutil.rmtree(self._runtime, ignore_errors=True)
        self.km, self.kc, self._runtime = None, None, None
        remove_if_empty(self.log_file)

    def replace(self) -> None:
        """Throw the kernel away and start a fresh one."""
        self._discard()
        self.start()

    def close(self) -> None:
        """Shut the kernel down for good (end of run); a closed slot never starts another kernel."""
        self.closed = True
        self._discard()

    def stop(self) -> None:
        """A stop, first step: interrupt the running cell (SIGINT to the kernel); start no other kernel.

        Every wait on this slot ends within :data:`POLL_SECONDS` (:class:`KernelError`).
        """
        self.closed = True
        with contextlib.suppress(Exception):
            if self.km is not None and self.km.has_kernel:
                self.km.interrupt_kernel()

    def kill(self) -> None:
        """A stop, second step: kill the kernel and every process it started (its process group)."""
        self.closed = True
        pid = self.pid
        if not pid:
            return
        with contextlib.suppress(OSError):
            group = os.getpgid(pid)
            if group != os.getpgid(0):  # the kernel runs in its own session; never our own group
                os.killpg(group, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    # --- work -------------------------------------------------------------------------------

    def execute(self, code: str, timeout: float) -> None:
        """Run code in the kernel, outside any notebook.

        Raises
        ------
        KernelError
            When the kernel does not answer in ``timeout`` seconds or is dead.
        RuntimeError
            When the code raises (its exception name and message).
        """
        if self.km is None or not self.km.is_alive():
            raise KernelError("the kernel is not running")
        content = _run_sync()(self._reply)(code, timeout)["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")

    async def _reply(self, code: str, timeout: float) -> dict:
        """Send code and wait for its reply, checking the kernel and the slot every :data:`POLL_SECONDS`."""
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        while True:
            if self.closed:
                raise KernelError("the run is stopping")
            if not self.km.is_alive():
                raise KernelError("the kernel died")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelError(f"no answer from the kernel within {timeout:g} s")
            try:
                reply = await self.kc.get_shell_msg(timeout=min(POLL_SECONDS, remaining))
            except queue.Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                with contextlib.suppress(queue.Empty):  # the outputs, which nobody reads
                    while True:
                        await self.kc.get_iopub_msg(timeout=0)
                return reply

    def run_notebook(self, notebook: Path, executed: Path, parameters: dict, timeout: int):
        """Execute a notebook with papermill's parameter injection in this kernel; write the result.

        Raises
        ------
        nbclient.exceptions.CellExecutionError
            When a cell raises (the kernel is fine; the notebook, with the error, is written).
        KernelError
            When the kernel died or a cell ran past ``timeout`` (the slot is replaced).
        """
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        if self.km is None or not self.km.is_alive():
            self.replace()
        self.execute(RESET.format(cwd=self.cwd), timeout=60)
        document = load_notebook_node(str(notebook))
        document = parameterize_notebook(document, parameters, report_mode=False, kernel_name="python3")
        client = NotebookClient(document, km=self.km, timeout=timeout, kernel_name="python3", allow_errors=False)
        # nbclient drives the slot's own client: a second client of the same kernel, once stopped,
        # leaves the first one deaf on its output channel
        client.kc = self.kc
        started = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError:
            raise
        except (CellTimeoutError, DeadKernelError, TimeoutError) as exc:
            lines = str(exc).strip().splitlines()
            raise KernelError(f"{type(exc).__name__}: {lines[-1] if lines else ''}") from exc
        finally:
            nbformat.write(client.nb, str(executed))
            self.reports += 1
        return time.perf_counter() - started

    def render(self, executed: Path, html: Path, pdf: Path, lang: str, title: str, vintage, as_of, timeout: int):
        """Render the executed notebook to HTML and PDF in the kernel process (its fonts are warm)."""
        code = RENDER.format(
            executed=str(executed), html=str(html), pdf=str(pdf), lang=lang, title=title, vintage=vintage, as_of=as_of
        )
        self.execute(code, timeout=timeout)


def _run_sync():
    """jupyter_core's ``run_sync`` (imported when a kernel is used: asyncio is not needed to clean up)."""
    from jupyter_core.utils import run_sync

    return run_sync


def remove_orphan_runtime_folders() -> list[str]:
    """Remove the kernel folders in the temp folder of processes that are gone (a run or a Dask worker killed
    with ``kill -9`` could not); the names of those removed."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}*-*"):
        pid = folder.name.rpartition("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_if_empty(path: str | None) -> None:
    """Remove a kernel log that nothing was written into."""
    with contextlib.suppress(OSError):
        if path and os.path.getsize(path) == 0:
            os.unlink(path)
