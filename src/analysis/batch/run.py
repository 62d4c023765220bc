"""The scheduled batch: one command regenerates every report, safely.

``python -m analysis run`` (what ``make report`` calls):

1. takes the batch lock (``reports/.batch.lock``), finishes recording an edition that a killed run
   left pending, and removes what such a run left behind (staging and kernel folders, empty logs);
2. checks every plan entry (notebook, parameters against its ``parameters`` cell and the registry);
3. under the data's lock (``data/processed/.lock``, which ``add``, ``import`` and ``clean`` also
   take), fingerprints the inputs *before* reading them, runs the data stage (clean, assess, track
   record; the benchmarks apart) if they changed, while warm kernels start, and fingerprints the
   slice of processed data each report reads;
4. rebuilds each report (notebook x language) whose notebook, parameters, package code or data
   slice changed, in the order of their last build times (longest first);
5. publishes each complete report as soon as it is built (rename into ``reports/<lang>/``) and
   records the edition with it (see :mod:`analysis.batch.editions`); keeps failed notebooks under
   ``reports/_failed/<lang>/<name>.ipynb``;
6. writes the state, ``reports/index.html`` and a run record ``reports/_runs/<timestamp>.json`` (and
   ``latest.json``) whose status is the one the process exits with, on every path.

SIGTERM and SIGINT interrupt the kernels, kill them after :data:`LocalPool.INTERRUPT_GRACE` seconds,
and end the run with what was published recorded (exit 130), within seconds.  A full, read-only or
immutable disk is one line per failure, never a traceback.  A run with nothing to do reads only
fingerprints: it imports neither pandas nor the notebook machinery.

Exit codes: :data:`analysis.errors.EXIT_CODES`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from analysis import __version__, config
from analysis import pipeline as data_pipeline
from analysis.batch.run_plan import Task, check_as_of, load_plan, plan_tasks, report_stem
from analysis.data import files as data_files
from analysis.data.provenance import package_fingerprint, sha256_of
from analysis.errors import EXIT_STATUS, WRITE_ERRNOS, AnalysisError, ExitCode, WriteError
from analysis.pipeline.reports import data_slice, report_fingerprint, report_reason
from analysis.pipeline.steps import DATA_STAGE
from analysis.storage import atomic_write_bytes, atomic_write_json

STATE_FILE = ".state.json"
EXIT_OK, EXIT_REPORT_FAILED, EXIT_BAD_INPUT = ExitCode.OK, ExitCode.REPORT_FAILED, ExitCode.BAD_INPUT
EXIT_LOCKED, EXIT_NO_SCHEDULER, EXIT_STOPPED = ExitCode.LOCKED, ExitCode.NO_SCHEDULER, ExitCode.STOPPED
#: The run record's status for each exit code.
STATUS = EXIT_STATUS


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived: stop the kernels, publish nothing half-done, write the record."""


class SchedulerUnreachableError(AnalysisError):
    """The Dask scheduler cannot be reached, is not a scheduler, or has had no worker for too long."""

    exit_code = EXIT_NO_SCHEDULER


# --- fingerprints ----------------------------------------------------------------------


def data_inputs() -> dict[str, str]:
    """sha256 of every file the data and models stages read: raw files and sidecars, curation, registry, plan.

    The caller holds the data's lock, so that these are the bytes the data stage then reads.
    """
    plan = config.assessment_plan_file()
    return {**data_files.input_checksums(), plan.name: sha256_of(plan)}


def global_vintage() -> str | None:
    """The data vintage of the last clean (``clean_manifest.json``), read without pandas."""
    try:
        manifest = json.loads((config.processed_dir() / "clean_manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest.get("data_vintage") if isinstance(manifest, dict) else None


# --- publishing ------------------------------------------------------------------------


def publish(result: dict, staging: Path, output: Path) -> list[str]:
    """Move a complete report's HTML and PDF into ``output/<lang>/`` (rename: never half-written).

    A notebook kept from an earlier failure of the same report is removed: it no longer applies.

    Raises
    ------
    OSError
        When the folder refuses the files (full, immutable, read-only); the PDF goes first, so a failure
        leaves the previous HTML and PDF together.
    """
    target = output / result["lang"]
    target.mkdir(parents=True, exist_ok=True)
    published = []
    for suffix in (".pdf", ".html"):
        source = staging / result["lang"] / f"{result['stem']}{suffix}"
        os.chmod(source, 0o644)
        os.replace(source, target / source.name)
        published.append(str((target / source.name).relative_to(output)))
    with contextlib.suppress(OSError):
        (output / "_failed" / result["lang"] / f"{result['stem']}.ipynb").unlink(missing_ok=True)
    return sorted(published)


def keep_failure(result: dict, output: Path, log) -> str | None:
    """Keep a failed executed notebook (with its error) under ``output/_failed/<lang>/``; None when there is none.

    A notebook that is empty or cut short (written on a full disk) is not kept: it would say nothing.
    """
    if not result.get("executed"):
        return None
    executed = Path(result["executed"])
    try:
        data = executed.read_bytes()
        json.loads(data)
    except (OSError, ValueError):
        log(f"warning: the failed notebook of {result['key']} was not kept (it is empty or cut short)")
        return None
    target = output / "_failed" / result["lang"] / executed.name
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        log(f"warning: could not keep the failed notebook of {result['key']} ({exc.strerror or exc})")
        return None
    return str(target.relative_to(output))


def write_index(output: Path, plan: dict, state: dict, vintage: str | None) -> None:
    """``reports/index.html`` (Vietnamese) and ``index.en.html``: every report with its status line."""
    import pandas as pd

    from analysis.i18n import LANGUAGES
    from analysis.models import stage as model_stage
    from analysis.models.assessment_plan import load_assessment_plan
    from analysis.reports.index_page import DATA_FOLDER, INDEX_FILES, data_files, render_index
    from analysis.storage import atomic_write_text, publish_files

    try:
        assessments = model_stage.load_result("assessments")
    except (FileNotFoundError, AnalysisError, ValueError):
        assessments = pd.DataFrame(columns=["indicator", "boundary"])
    try:
        scorecard = model_stage.load_result("scorecard")
    except (FileNotFoundError, AnalysisError, ValueError):
        scorecard = None
    entries = load_assessment_plan()
    languages = [lang for lang in LANGUAGES if lang in plan.get("languages", LANGUAGES)]
    processed = config.processed_dir()
    for lang in languages:
        publish_files(output / DATA_FOLDER, data_files(processed, plan, assessments, entries, lang))
        page = render_index(output, plan, state, vintage, assessments, entries, lang, languages, processed, scorecard)
        # index.html is the page of the first language (Vietnamese), whatever the plan builds
        name = "index.html" if lang == languages[0] else INDEX_FILES[lang]
        atomic_write_text(output / name, page)


# --- state and housekeeping ------------------------------------------------------------------


def load_state(path: Path, log) -> dict:
    """The batch's cache of what it built. Unreadable or foreign state means: rebuild, with a warning."""
    if not path.exists():
        return {"reports": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log(f"warning: {path.name} is unreadable ({exc}); rebuilding every report")
        return {"reports": {}}
    if not isinstance(state, dict) or ("reports" in state and not isinstance(state["reports"], dict)):
        log(f"warning: {path.name} is not a state file this version wrote; rebuilding every report")
        return {"reports": {}}
    if not isinstance(state.get("reports"), dict):
        state["reports"] = {}
    return state


def remove_leftovers(output: Path, log) -> None:
    """Remove what a killed run left (the caller holds the batch lock: nothing of it is in use).

    Staging and kernel folders (``.staging-*``, and ``hcmc-dx-run-<pid>`` in the temp folder when the output
    is too deep for socket paths), kernel logs nothing was written into, and empty
    notebooks under ``_failed`` (an older version kept them when the disk was full).
    """
    from analysis.batch.kernels import remove_orphan_runtime_folders

    for folder in output.glob(".staging-*"):
        shutil.rmtree(folder, ignore_errors=True)
        log(f"removed {folder.name}, left by a run that was killed")
    remove_orphan_runtime_folders()  # kernel folders a killed run had to put in the temp folder (a deep output)
    for path in [*output.glob("_runs/kernel-*.log"), *output.glob("_failed/*/*.ipynb")]:
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:
                path.unlink()


#: Days a drawn chart is kept unused (a report not rebuilt for longer redraws it).
CHART_CACHE_DAYS = 30


def prune_chart_cache() -> None:
    """Remove charts no run has used for :data:`CHART_CACHE_DAYS` days (``reports.charts`` touches those it uses)."""
    oldest = time.time() - CHART_CACHE_DAYS * 86400
    for path in config.chart_cache_dir().glob("*.*"):  # .svg (and the .png of older versions)
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < oldest:
                path.unlink()


# --- signals -----------------------------------------------------------------------------------


class StopSignals:
    """SIGTERM and SIGINT stop the run at once, except inside :meth:`critical` (publishing one report,
    recording the edition), which finishes first; a second signal while stopping changes nothing."""

    def __init__(self):
        self.received: str | None = None
        self.depth = 0
        self.previous: dict = {}

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, _frame) -> None:
        if self.received:
            return
        self.received = signal.Signals(signum).name
        if self.depth == 0:
            raise Stopped(self.received)

    @contextlib.contextmanager
    def critical(self, stop_after: bool = True):
        """A section a signal does not cut; with ``stop_after``, a signal that came during it stops the run after."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if stop_after and self.depth == 0 and self.received:
            raise Stopped(self.received)


# --- the run ---------------------------------------------------------------------------


@dataclass
class RunOptions:
    only: list[str] | None = None
    langs: list[str] | None = None
    as_of: int | None = None  # None: every figure
    jobs: int = 2
    force: bool = False
    output: Path | None = None
    scheduler: str | None = None
    timeout: int = 600
    wait: float = 0.0
    plan: Path | None = None
    dry_run: bool = False
    quiet: bool = False
    progress: bool = False


def run(options: RunOptions, log=print) -> int:
    """Run the batch; return the exit code (:data:`analysis.errors.EXIT_CODES`), which the run record states."""
    from filelock import FileLock, Timeout

    output = (options.output or config.reports_dir()).resolve()
    record = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
        "git_commit": _git_commit(),
        "options": {k: str(v) for k, v in asdict(options).items()},
        "reports": [],
    }
    try:
        output.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(output / ".batch.lock"))
        lock.acquire(timeout=options.wait)
    except Timeout:
        log(f"error: another batch run holds {output / '.batch.lock'}; try again later (or pass --wait SECONDS)")
        # latest.json belongs to the run that holds the lock: this one leaves a record of its own
        _write_record(output, {**record, "status": STATUS[EXIT_LOCKED], "exit_code": EXIT_LOCKED}, log, latest=False)
        return EXIT_LOCKED
    except OSError as exc:
        log(f"error: {output}: cannot write there ({exc.strerror or exc})")
        return EXIT_BAD_INPUT
    signals = StopSignals()
    signals.install()
    batch = Batch(options, output, record, signals, log)
    try:
        try:
            code = batch.run()
        except Stopped as stop:
            batch.say_stopped(stop)
            code = EXIT_STOPPED
        except AnalysisError as exc:
            for line in exc.lines():
                log(f"error: {line}")
            record["error"] = str(exc)
            code = exc.exit_code
        except OSError as exc:
            if exc.errno not in WRITE_ERRNOS:
                raise
            error = WriteError.from_os_error(exc, "go on")
            log(f"error: {error}")
            record["error"] = str(error)
            code = error.exit_code
        try:
            return batch.finish(code)
        except Stopped as stop:  # between the end of the work and the finish
            batch.say_stopped(stop)
            return batch.finish(EXIT_STOPPED)
    except BaseException as exc:  # a bug: the record says so, the traceback follows
        record.update(status="crashed", exit_code=EXIT_REPORT_FAILED, error=repr(exc))
        batch.finish(EXIT_REPORT_FAILED)
        raise
    finally:
        signals.restore()
        lock.release()


class Batch:
    """One run of the batch, holding the batch lock: what it read, built, published and recorded."""

    def __init__(self, options: RunOptions, output: Path, record: dict, signals: StopSignals, log):
        self.options, self.output, self.record, self.signals, self.log = options, output, record, signals, log
        self.say = (lambda *_: None) if options.quiet else log
        self.started = time.perf_counter()
        self.state: dict = {"reports": {}}
        self.plan: dict | None = None
        self.pool = None
        self.staging: Path | None = None
        self.results: list[dict] = []
        self.edition = None
        self.draft = None
        self.vintage: str | None = None
        self.index_due = False
        self.built = False
        self.finished_ = False

    # --- the steps ------------------------------------------------------------------------

    def run(self) -> int:
        from analysis.batch.editions import recover_editions

        options, output = self.options, self.output
        recovered = recover_editions(output, self.say)
        remove_leftovers(output, self.say)
        self.state = load_state(output / STATE_FILE, self.log)
        self.plan = load_plan(options.plan)
        check_as_of(options.as_of)
        check_scheduler_address(options.scheduler)
        tasks = plan_tasks(
            self.plan,
            options.only,
            options.langs,
            options.as_of,
            options.timeout,
            self.state.setdefault("parameters", {}),
        )
        package = package_fingerprint()
        with data_files.locked(data_files.LOCK_WAIT, "the run"):
            self.record["inputs"] = data_inputs()  # before anything reads them: the record is of what is read
            if recovered:  # its changes.csv was made for it before the killed run published it
                data_pipeline.note_edition(self.context)
            stale = data_pipeline.staleness(DATA_STAGE, self.context, options.force)
            if options.dry_run:
                return self._dry_run(tasks, package, stale)
            reason = _first_reason(stale)
            if reason and tasks and not options.scheduler:
                # the data stage will run, so reports will most likely be rebuilt: warm the kernels meanwhile
                self.pool = self._pool(len(tasks))
            self.record["data_stage_ran"] = False
            if reason:
                self._data_stage(reason)
            else:
                self.say("data: inputs unchanged, skipping clean/assess")
            data_pipeline.bring_up_to_date(["benchmark"], self.context)  # apart: --force does not rerun it
            self.vintage = global_vintage()
            todo = self._select(tasks, package)
            if todo and any(not task.as_of for task, _, _, _ in todo):
                raw = {name: digest for name, digest in self.record["inputs"].items() if name.endswith(".csv")}
                self.draft = _draft_edition(output, raw, self.vintage, self.record["git_commit"])
        if not todo:
            self.say(f"nothing to do: {len(tasks)} report(s) up to date ({time.perf_counter() - self.started:.1f} s)")
            return EXIT_OK
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=output))
        if self.pool is None and not options.scheduler:
            self.pool = self._pool(len(todo))
        self._execute(todo)
        self.built = True
        failures = [r for r in self.results if r["status"] != "ok"]
        for failure in failures:
            self.log(f"FAILED {failure['key']}: {failure.get('error')}")
        self.say(
            f"{len(self.results) - len(failures)} built, {len(failures)} failed, {len(tasks) - len(todo)} unchanged "
            f"in {time.perf_counter() - self.started:.1f} s"
        )
        return EXIT_REPORT_FAILED if failures else EXIT_OK

    def _pool(self, reports: int):
        from analysis.batch.execute import LocalPool

        runtime = tempfile.mkdtemp(prefix=".staging-k", dir=self.output)  # short: socket paths are limited
        logs = str(self.output / "_runs")
        return LocalPool(_pool_size(self.options, reports), str(config.project_root()), logs, runtime)

    @property
    def context(self) -> data_pipeline.Context:
        """The pipeline's context of this run: its ``as_of``, its editions folder and its log."""
        from analysis.batch.editions import editions_dir

        return data_pipeline.Context(as_of=self.options.as_of, editions=editions_dir(self.output), log=self.say)

    def _data_stage(self, reason: str) -> None:
        """Bring the data steps up to date (clean, assess, track record, changes; the caller holds the data's lock):
        the pipeline says which are stale, and runs only those."""
        started = time.perf_counter()
        ran = data_pipeline.bring_up_to_date(DATA_STAGE, self.context, force=self.options.force)
        self.record["data_stage_ran"] = bool(ran)
        self.index_due = True
        seconds = time.perf_counter() - started
        self.say(f"data: {', '.join(ran) or 'nothing'} brought up to date in {seconds:.1f} s ({reason})")

    def _select(self, tasks: list[Task], package: str) -> list[tuple]:
        """The reports to rebuild, longest last build first: (task, fingerprint, vintage, why)."""
        slices: dict = {}
        todo = []
        for task in tasks:
            part = data_slice(task.reads, slices)
            parts = _report_inputs(task, package, part.digest)
            why = report_reason(parts, self.state["reports"].get(task.key, {}), self._outputs(task), self.options.force)
            if why is None:
                self.record["reports"].append({"key": task.key, "status": "unchanged"})
            else:
                todo.append((task, parts, part.vintage or self.vintage, why))
        # the longest reports first, so that the last kernel to finish does not start the longest one last
        todo.sort(key=lambda item: -float(self.state["reports"].get(item[0].key, {}).get("seconds") or 0))
        return todo

    def _outputs(self, task: Task) -> list[Path]:
        stem = report_stem(task)
        return [self.output / task.lang / f"{stem}{suffix}" for suffix in (".html", ".pdf")]

    def _dry_run(self, tasks: list[Task], package: str, stale: dict[str, str | None]) -> int:
        """Say what a run would rebuild and why, without running anything (the pipeline's answer, step by step)."""
        reason = _first_reason(stale)
        if reason:
            self.log(f"data stage: would run ({reason}); reports whose data then changes are rebuilt too")
        else:
            self.log("data stage: up to date")
        for step, why in stale.items():
            self.log(f"  {step}: {'would run (' + why + ')' if why else 'up to date'}")
        slices: dict = {}
        for task in tasks:
            parts = _report_inputs(task, package, data_slice(task.reads, slices).digest)
            why = report_reason(parts, self.state["reports"].get(task.key, {}), self._outputs(task), self.options.force)
            self.log(f"{task.key}: {'rebuild (' + why + ')' if why else 'up to date'}")
        self.finished_ = True  # a dry run writes nothing
        return EXIT_OK

    # --- building and publishing ------------------------------------------------------------

    def _execute(self, todo: list[tuple]) -> None:
        """Run the reports; publish each one the moment it is complete, so a stop keeps what is done."""
        progress = None
        if self.options.progress and not self.options.quiet:
            from tqdm import tqdm

            progress = tqdm(total=len(todo), unit="report", file=sys.stderr, leave=False)
        parts_of = {task.key: (parts, vintage) for task, parts, vintage, _ in todo}

        def finished(result: dict) -> None:
            with self.signals.critical():
                self._finished(result, *parts_of[result["key"]])
            if progress is not None:
                progress.set_postfix_str(f"{result['key']} {result['status']}")
                progress.update(1)
            elif not self.options.quiet:
                self.log(f"[{len(self.results)}/{len(todo)}] {result['key']} {result['status']} {result['seconds']} s")

        try:
            if self.options.scheduler:
                _execute_on_dask(todo, self.staging, self.options, finished)
            else:
                from concurrent.futures import FIRST_COMPLETED, wait

                pending = {self.pool.submit(task, str(self.staging), vintage) for task, _, vintage, _ in todo}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        finished(future.result())
        finally:
            if progress is not None:
                progress.close()

    def _finished(self, result: dict, fingerprint: dict, vintage: str | None) -> None:
        """Publish one built report (with its edition) or keep its failure; state and record follow."""
        keys = ("key", "status", "seconds", "execute_seconds", "error", "kernel_replaced", "kernel_pid")
        entry = {k: result.get(k) for k in keys if k in result}
        before = self.state["reports"].get(result["key"], {})
        if result["status"] == "ok":
            try:
                entry["files"] = self._publish(result)
            except OSError as exc:
                result.update(status="failed", error=str(WriteError.from_os_error(exc, "publish it")))
                entry.update(status="failed", error=result["error"])
        if result["status"] == "ok":
            self.state["reports"][result["key"]] = {
                "fingerprint": fingerprint,
                "status": "ok",
                "vintage": vintage,
                "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "seconds": result.get("seconds"),
            }
        else:
            entry["failed_notebook"] = keep_failure(result, self.output, self.log)
            self.state["reports"][result["key"]] = {
                **before,
                "status": "failed (previous version kept)" if before.get("published_at") else "failed",
                "fingerprint": None,
            }
        self.record["reports"].append(entry)
        self.results.append(result)
        self.index_due = True

    def _publish(self, result: dict) -> list[str]:
        """The report's files into place, noted in the edition it belongs to (begun before the first)."""
        from analysis.batch.editions import PendingEdition

        regular = result["stem"] == result["name"]  # a report as of a year restates the past: no edition
        if regular and self.draft is not None and self.edition is None:
            self.edition = PendingEdition.begin(self.output, self.draft)
        if regular and self.edition is not None:
            self.edition.publishing(result["key"])
        files = publish(result, self.staging, self.output)
        if regular and self.edition is not None:
            self.edition.published(result["key"])
        return files

    def say_stopped(self, stop: Stopped) -> None:
        """The stop message counts the reports this run published, not those it started."""
        published = sum(1 for r in self.results if r["status"] == "ok")
        self.log(f"stopped by {stop}: {published} report(s) finished and published; the rest left as they were")
        self.record["status"] = STATUS[EXIT_STOPPED]

    # --- the end -----------------------------------------------------------------------------

    def finish(self, code: int) -> int:
        """Kernels down, staging removed, edition recorded, then state, index and record: whatever happened.

        A signal during this waits for it to end.  A file that cannot be written is one line each, and
        makes the exit code 1 when it was 0.  Returns the exit code, which the record states.
        """
        log = self.log
        with self.signals.critical(stop_after=False):
            if self.finished_:
                return code
            self.finished_ = True
            if self.pool is not None:
                # kernels still warming up, or running reports of a run that ends early, are not waited for
                self.pool.shutdown(stop=code == EXIT_STOPPED or not self.built)
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
            failed_writes = []
            prune_chart_cache()
            if self.edition is not None:
                try:
                    edition = self.edition.finish()
                    if edition:
                        self.record["edition"] = edition
                        # changes.csv already says what this edition says it changed: nothing to remake
                        data_pipeline.note_edition(self.context)
                        previous = self.edition.record.get("previous")
                        self.say(f"edition {edition} recorded (previous: {previous or 'none, this is the first'})")
                except OSError as exc:
                    failed_writes.append(("the edition", exc))
            for what, write in (
                ("state", lambda: atomic_write_json(self.output / STATE_FILE, self.state)),
                ("index", self._write_index),
            ):
                try:
                    write()
                except OSError as exc:
                    failed_writes.append((f"the {what}", exc))
            for what, exc in failed_writes:
                log(f"error: could not write {what} ({exc.strerror or exc}); it is recorded when the disk allows")
            if code == EXIT_OK and failed_writes:
                code = EXIT_REPORT_FAILED
            self.record.setdefault("status", STATUS.get(code, "failed"))
            self.record["exit_code"] = code
            self.record["seconds"] = round(time.perf_counter() - self.started, 2)
            _write_record(self.output, self.record, log)
        return code

    def _write_index(self) -> None:
        if self.plan is not None and (self.index_due or not (self.output / "index.html").exists()):
            write_index(self.output, self.plan, self.state, self.vintage or global_vintage())


def _first_reason(stale: dict[str, str | None]) -> str | None:
    """The first stale step and why (``clean: data/curation.yml changed``), or None when none is."""
    return next((f"{step}: {why}" for step, why in stale.items() if why), None)


def _report_inputs(task: Task, package: str, data: str) -> dict[str, str]:
    """A report's inputs (:func:`analysis.pipeline.reports.report_fingerprint`)."""
    return report_fingerprint(config.notebooks_dir() / task.notebook, asdict(task), package, data)


def _draft_edition(output: Path, raw: dict[str, str], vintage: str | None, git_commit: str | None):
    from analysis.batch.editions import draft_edition

    return draft_edition(output, config.processed_dir(), raw, vintage, git_commit)


def _pool_size(options: RunOptions, reports: int) -> int:
    """Kernels to start: never more than the reports, the cores, or ``--jobs``."""
    return max(1, min(options.jobs, reports, os.cpu_count() or 1))


# --- Dask --------------------------------------------------------------------------------------

#: Seconds to wait for the scheduler to answer, and for a worker to be there while reports are due.
DASK_CONNECT_SECONDS = 5
DASK_NO_WORKER_SECONDS = 15
_ADDRESS = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?[\w.\-\[\]:]+:\d+|inproc://\S+")


def check_scheduler_address(address: str | None) -> None:
    """``--scheduler`` must look like a scheduler's address (checked before anything runs).

    Raises
    ------
    PlanError
        When it does not (exit 2).
    """
    from analysis.errors import PlanError

    if address is not None and not _ADDRESS.fullmatch(address):
        raise PlanError(f"--scheduler {address}: not an address of a Dask scheduler (expected tcp://HOST:PORT)")


def dask_client(address: str):
    """A client of the scheduler at ``address``, or an error within :data:`DASK_CONNECT_SECONDS` seconds.

    Raises
    ------
    PlanError
        When ``address`` is not an address (exit 2).
    SchedulerUnreachableError
        When nothing answers there, or what answers is not a Dask scheduler (exit 4).
    """
    check_scheduler_address(address)
    outcome: dict = {}

    def connect() -> None:
        from distributed import Client

        try:
            outcome["client"] = Client(address, timeout=f"{DASK_CONNECT_SECONDS}s", set_as_default=False)
        except BaseException as exc:  # whatever the comm layer raises, it means: no scheduler there
            outcome["error"] = exc
            _forget_half_made(exc, Client)

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(DASK_CONNECT_SECONDS + 5)
    if "client" in outcome:
        return outcome["client"]
    why = outcome.get("error") or f"no answer within {DASK_CONNECT_SECONDS} s"
    raise SchedulerUnreachableError(
        f"the Dask scheduler {address} cannot be reached, or what answers there is not one ({_first_line(why)})"
    )


def _forget_half_made(error: BaseException, client_type) -> None:
    """A client whose constructor failed would try to close itself for 10 s at exit, with a traceback: mark
    it closed and stop its event loop (it is found in the frames of the error)."""
    frame = error.__traceback__
    while frame is not None:
        client = frame.tb_frame.f_locals.get("self")
        if isinstance(client, client_type):
            client.status = "closed"
            with contextlib.suppress(Exception):
                client._loop_runner.stop()
        frame = frame.tb_next
    error.__traceback__ = None


def _first_line(error) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def _execute_on_dask(todo: list[tuple], staging: Path, options: RunOptions, finished) -> None:
    """The reports on a Dask cluster; ends with :class:`SchedulerUnreachableError` when the scheduler goes away
    or has had no worker for :data:`DASK_NO_WORKER_SECONDS` seconds."""
    from analysis.batch.execute import build_report, stop_worker_kernels

    client = dask_client(options.scheduler)
    root = str(config.project_root())
    tasks = [task for task, _, _, _ in todo]
    vintages = [vintage for _, _, vintage, _ in todo]
    futures = client.map(build_report, tasks, [str(staging)] * len(tasks), [root] * len(tasks), vintages, pure=False)
    pending, no_worker_since, checked = set(futures), None, time.monotonic()
    try:
        while pending:
            done = {future for future in pending if future.done()}
            pending -= done
            for future in done:
                finished(future.result())
            if pending and not done:
                time.sleep(0.2)
            if pending and time.monotonic() - checked > 2:
                no_worker_since, checked = _check_workers(client, options.scheduler, no_worker_since), time.monotonic()
    except Stopped:
        with contextlib.suppress(Exception):
            client.run(stop_worker_kernels, wait=True)
        raise
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachableError(
            f"the Dask scheduler {options.scheduler} went away ({_first_line(exc)})"
        ) from None
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(pending))
        with contextlib.suppress(Exception):
            client.close(timeout=5)


def _check_workers(client, address: str, since: float | None) -> float | None:
    """When the scheduler has had no worker since ``since``; raises once that is too long."""
    try:
        workers = client.sync(client.scheduler.ncores, callback_timeout=5)
    except Exception as exc:
        raise SchedulerUnreachableError(f"the Dask scheduler {address} went away ({_first_line(exc)})") from None
    if workers:
        return None
    since = since or time.monotonic()
    if time.monotonic() - since > DASK_NO_WORKER_SECONDS:
        raise SchedulerUnreachableError(
            f"the Dask scheduler {address} has had no worker for {DASK_NO_WORKER_SECONDS} s; the reports due were "
            "not built"
        )
    return since


# --- records -----------------------------------------------------------------------------------


def _write_record(output: Path, record: dict, log=print, latest: bool = True) -> None:
    stamp = record["started_at"].replace(":", "").replace("+0000", "Z")
    name = f"run-{stamp}.json" if latest else f"run-{stamp}-{record['status']}-{os.getpid()}.json"
    try:
        atomic_write_json(output / "_runs" / name, record)
        if latest:
            atomic_write_json(output / "_runs" / "latest.json", record)
    except OSError as exc:
        log(f"error: could not write the run record ({exc.strerror or exc}); it was: {json.dumps(record)[:2000]}")


def _git_commit() -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=config.project_root(), timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None
