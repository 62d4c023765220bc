"""Warm kernels: a report runs in a kernel that is already up, with the heavy imports done.

A :class:`KernelSlot` owns one IPython kernel for the length of a run.  The kernel starts (and
imports pandas, matplotlib, the package, nbconvert and WeasyPrint) while the data stage is still
running; each report then gets a fresh namespace in it (``%reset``, figures closed, options and
the working folder restored), is executed by nbclient with papermill's parameter injection, and
is rendered to HTML and PDF *in the same kernel process*, where fonts and templates are already
loaded.  A kernel that dies, times out or fails to render is replaced before the next report.

Kernels talk over IPC sockets in a private folder (no TCP ports to collide when two start at
once) and exit on their own when the process that started them dies (ipykernel polls its parent).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from jupyter_core.utils import run_sync

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
import pandas, matplotlib.pyplot, nbformat, nbconvert.filters, weasyprint
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


class KernelSlot:
    """One kernel, reused report after report, replaced when it misbehaves.

    Parameters
    ----------
    cwd : str
        Working folder of the notebooks (``notebooks/``).
    env : dict
        Environment of the kernel (``ANALYSIS_ROOT`` and the like).
    log_dir : str, optional
        Where the kernel's own stderr goes (default: discarded).
    """

    START_ATTEMPTS = 2

    def __init__(self, cwd: str, env: dict | None = None, log_dir: str | None = None):
        self.cwd, self.env, self.log_dir = cwd, dict(env or {}), log_dir
        self.km = None
        self.kc = None
        self.reports = 0
        self.starts = 0
        self.closed = False
        self.attempts = 0
        self._runtime = None

    def _error_log(self):
        """The file the kernel's stderr goes to (a null context when no log folder was given)."""
        import contextlib

        if not self.log_dir:
            return contextlib.nullcontext(None)
        os.makedirs(self.log_dir, exist_ok=True)
        return open(os.path.join(self.log_dir, f"kernel-{os.getpid()}-{id(self)}.log"), "ab")

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
            self._runtime = tempfile.mkdtemp(prefix="hcmc-k-")
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
                run_sync(kc.wait_for_ready)(timeout=60)
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

    def replace(self) -> None:
        """Throw the kernel away and start a fresh one."""
        self._discard()
        self.start()

    def close(self, kill: bool = False) -> None:
        """Stop the kernel for good (end of run); with ``kill``, at once (the run was stopped).

        A closed slot never starts another kernel, so a report that sees its kernel die during a
        stop does not bring a new one up.
        """
        self.closed = True
        if kill and self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, 9)
            return
        self._discard()

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
        try:
            reply = run_sync(self.kc.execute_interactive)(
                code, timeout=timeout, store_history=False, allow_stdin=False, output_hook=lambda _msg: None
            )
        except TimeoutError as exc:
            raise KernelError(f"no answer from the kernel within {timeout:g} s") from exc
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")

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


def connection_info(slot: KernelSlot) -> dict:
    """The slot's connection settings (for the tests: transport and socket paths)."""
    return json.loads(Path(slot.km.connection_file).read_text(encoding="utf-8")) if slot.km else {}
