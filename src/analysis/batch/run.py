"""The scheduled batch: one command regenerates every report, safely.

``python -m analysis run`` (what ``make report`` calls):

1. takes a lock (``reports/.batch.lock``) so two runs never write at once, and removes what a run
   killed earlier left behind (``reports/.staging-*``);
2. starts warm kernels (:mod:`analysis.batch.execute`) while it runs the data stage (clean,
   assess, track record; the benchmarks apart) unless the data stage's inputs are unchanged;
3. checks every plan entry's parameters against its notebook's ``parameters`` cell;
4. rebuilds each report (notebook x language) whose inputs changed: its notebook, parameters,
   the package code, and the slice of processed data it reads (``reads`` in the plan);
5. publishes each complete report as soon as it is built (rename into ``reports/<lang>/``), keeps
   failed notebooks under ``reports/_failed/<lang>/<name>.ipynb``, and always writes the state,
   ``reports/index.html`` and a run record ``reports/_runs/<timestamp>.json`` that match the disk,
   even when the run is stopped by a signal.

Exit codes: 0 ok, 1 a report failed (its previous version kept), 2 bad input, plan or options,
3 another run holds the lock, 4 the Dask scheduler cannot be reached, 130 stopped by a signal.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from analysis import __version__, config
from analysis.batch.editions import editions_dir, record_edition
from analysis.batch.execute import LocalPool, build_report, report_stem
from analysis.batch.plan import Task, check_as_of, load_plan, plan_tasks
from analysis.data import stage as data_stage
from analysis.data.provenance import hash_files, package_fingerprint
from analysis.errors import AnalysisError
from analysis.models import stage as model_stage
from analysis.storage import atomic_write_bytes, atomic_write_json

STATE_FILE = ".state.json"
EXIT_OK, EXIT_REPORT_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED, EXIT_NO_SCHEDULER, EXIT_STOPPED = 0, 1, 2, 3, 4, 130


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived: stop the kernels, publish nothing half-done, write the record."""


# --- fingerprints ----------------------------------------------------------------------


def data_inputs() -> list[Path]:
    """Every file the data and models stages read: raw files and sidecars, curation, registry, assessment plan."""
    raw = sorted(p for p in config.raw_dir().glob("*") if p.is_file())
    return raw + [p for p in data_stage.input_files() if p not in raw] + [config.assessment_plan_file()]


def data_slice_fingerprint(reads: dict | None, cache: dict | None = None) -> str:
    """Hash of the processed data a report reads.

    ``reads`` is ``None`` (everything in ``data/processed``) or ``{"indicators": [...], "tables": [...]}``:
    the rows of every processed table whose ``indicator`` is listed, and the whole of each listed table.
    """
    key = json.dumps(reads, sort_keys=True)
    if cache is not None and key in cache:
        return cache[key]
    processed = config.processed_dir()
    files = sorted(p for p in processed.glob("*") if p.is_file() and p.suffix in (".csv", ".json"))
    digest = hashlib.sha256()
    indicators = set((reads or {}).get("indicators", []))
    whole = set((reads or {}).get("tables", []))
    for path in files:
        if reads is None or path.name in whole:
            digest.update(path.name.encode() + path.read_bytes())
        elif indicators and path.suffix == ".csv":
            rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
            header = next(rows, [])
            if "indicator" not in header:
                continue
            column = header.index("indicator")
            digest.update(path.name.encode())
            for row in rows:
                if len(row) > column and row[column] in indicators:
                    digest.update("\x1f".join(row).encode() + b"\n")
    value = digest.hexdigest()
    if cache is not None:
        cache[key] = value
    return value


def report_fingerprint(task: Task, code: str, data: str) -> dict[str, str]:
    """The parts of a report's fingerprint, kept apart so that a dry run can say which one changed."""
    notebook = (config.notebooks_dir() / task.notebook).read_bytes()
    # The timeout is how a report is run, not what it contains: changing it rebuilds nothing.
    inputs = {k: v for k, v in asdict(task).items() if k != "timeout"}
    return {
        "notebook": hashlib.sha256(notebook).hexdigest(),
        "task": hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest(),
        "code": code,
        "data": data,
    }


REASONS = {
    "notebook": "its notebook changed",
    "task": "its plan entry changed",
    "code": "the package code changed",
    "data": "the data it reads changed",
}


def rebuild_reason(task: Task, parts: dict, info: dict, output: Path, force: bool) -> str | None:
    """Why a report must be rebuilt, or None when its published version is up to date."""
    stem = report_stem(task)
    if force:
        return "--force"
    if not all((output / task.lang / f"{stem}{s}").exists() for s in (".html", ".pdf")):
        return "not published yet"
    if info.get("status") != "ok":
        return "its last build failed"
    recorded = info.get("fingerprint")
    if not isinstance(recorded, dict):
        return "built before fingerprints were kept"
    changed = [REASONS[k] for k in ("notebook", "task", "code", "data") if recorded.get(k) != parts[k]]
    return "; ".join(changed) or None


# --- the data stage --------------------------------------------------------------------


def data_stage_inputs(as_of: int) -> str:
    """Hash of what the data stage reads (and the year: a target year passes on 1 January)."""
    return hash_files(data_inputs()) + package_fingerprint() + str(as_of) + str(dt.date.today().year)


def data_stage_needed(state: dict, as_of: int, force: bool) -> str | None:
    """Why the data stage must run (None: its inputs and outputs are as the last run left them)."""
    processed = config.processed_dir()
    expected = ["indicators.csv", "targets.csv", "assessments.csv", "forecasts.csv", "track_record.csv"]
    expected += ["what_it_takes.csv", "merged_city.csv", "conflicts.csv", "exclusions.csv", "sources.csv"]
    if as_of:
        expected += [f"assessments-as-of-{as_of}.csv"]
    if force:
        return "--force"
    missing = [name for name in expected if not (processed / name).exists()]
    if missing:
        return f"processed table(s) missing: {', '.join(missing)}"
    if state.get("data_inputs") != data_stage_inputs(as_of):
        return "raw data, curation, registry, plan or code changed"
    return None


def run_data_stage(state: dict, as_of: int, reason: str | None, log) -> bool:
    """Clean, assess and restate the track record when ``reason`` says so; return whether it ran.

    The stage takes ``data/processed/.lock``: a ``clean`` or a run into another output folder waits.
    The benchmarks are cached apart, on the methods' code and their files only: a new city figure
    never reruns it.
    """
    ran = False
    if reason:
        with data_stage.lock():
            started = time.perf_counter()
            data_stage.clean()
            model_stage.assess()
            if as_of:
                model_stage.assess(as_of=as_of)
            model_stage.publish_track_record()
            log(f"data: cleaned, assessed and restated the track record in {time.perf_counter() - started:.1f} s")
        state["data_inputs"] = data_stage_inputs(as_of)
        ran = True
    else:
        log("data: inputs unchanged, skipping clean/assess")
    run_benchmark(False, log)
    return ran


def run_benchmark(force: bool, log) -> None:
    """The back-test of every benchmark file (M3 levels, World Bank shares), rerun only when the methods' code,
    the shipped defaults or a benchmark file changed (:func:`analysis.models.stage.run_benchmarks`)."""
    model_stage.run_benchmarks(
        force=force, log=lambda line: log(f"data: {line}") if line.startswith("benchmark") else None
    )


# --- publishing ------------------------------------------------------------------------


def publish(result: dict, staging: Path, output: Path) -> list[str]:
    """Move a complete report's HTML and PDF into ``output/<lang>/`` (rename: never half-written).

    A notebook kept from an earlier failure of the same report is removed: it no longer applies.
    """
    target = output / result["lang"]
    target.mkdir(parents=True, exist_ok=True)
    published = []
    for suffix in (".html", ".pdf"):
        source = staging / result["lang"] / f"{result['stem']}{suffix}"
        os.chmod(source, 0o644)
        os.replace(source, target / source.name)
        published.append(str((target / source.name).relative_to(output)))
    (output / "_failed" / result["lang"] / f"{result['stem']}.ipynb").unlink(missing_ok=True)
    return published


def keep_failure(result: dict, output: Path, log) -> str | None:
    """Keep a failed executed notebook (with its error) under ``output/_failed/<lang>/``; None when there is none."""
    if not result.get("executed"):
        return None
    executed = Path(result["executed"])
    if not executed.is_file():
        return None
    target = output / "_failed" / result["lang"] / executed.name
    try:
        atomic_write_bytes(target, executed.read_bytes())
    except OSError as exc:
        log(f"warning: could not keep the failed notebook of {result['key']} ({exc.strerror or exc})")
        return None
    return str(target.relative_to(output))


def write_index(output: Path, plan: dict, state: dict, vintage: str | None) -> None:
    """``reports/index.html`` (Vietnamese) and ``index.en.html``: every report with its status line."""
    import pandas as pd

    from analysis.i18n import LANGUAGES
    from analysis.models.plan import load_assessment_plan
    from analysis.reports.index_page import INDEX_FILES, render_index
    from analysis.storage import atomic_write_text

    try:
        assessments = model_stage.load_result("assessments")
    except (FileNotFoundError, AnalysisError, ValueError):
        assessments = pd.DataFrame(columns=["indicator", "boundary"])
    entries = load_assessment_plan()
    languages = [lang for lang in LANGUAGES if lang in plan.get("languages", LANGUAGES)]
    for lang in languages:
        page = render_index(output, plan, state, vintage, assessments, entries, lang, languages)
        # index.html is the page of the first language (Vietnamese), whatever the plan builds
        name = "index.html" if lang == languages[0] else INDEX_FILES[lang]
        atomic_write_text(output / name, page)


# --- state ---------------------------------------------------------------------------------


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


def remove_stale_staging(output: Path, log) -> None:
    """Remove staging folders that a killed run left (the caller holds the lock: none is in use)."""
    for folder in output.glob(".staging-*"):
        shutil.rmtree(folder, ignore_errors=True)
        log(f"removed {folder.name}, left by a run that was killed")


# --- the run ---------------------------------------------------------------------------


@dataclass
class RunOptions:
    only: list[str] | None = None
    langs: list[str] | None = None
    as_of: int = 0
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
    """Run the batch; return the exit code (see :data:`EXIT_CODES`)."""
    from filelock import FileLock, Timeout

    output = (options.output or config.reports_dir()).resolve()
    try:
        output.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(output / ".batch.lock"))
        lock.acquire(timeout=options.wait)
    except Timeout:
        log(f"error: another batch run holds {output / '.batch.lock'}; try again later (or pass --wait SECONDS)")
        return EXIT_LOCKED
    except OSError as exc:
        log(f"error: {output}: cannot write there ({exc.strerror or exc})")
        return EXIT_BAD_INPUT
    previous = _install_stop_handlers()
    try:
        return _run_locked(options, output, log)
    except Stopped:
        return EXIT_STOPPED
    finally:
        _restore_stop_handlers(previous)
        lock.release()


def _install_stop_handlers() -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, _frame):
        raise Stopped(signal.Signals(signum).name)

    return {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_stop_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _run_locked(options: RunOptions, output: Path, log) -> int:
    started = time.perf_counter()
    say = (lambda *_: None) if options.quiet else log
    remove_stale_staging(output, say)
    state = load_state(output / STATE_FILE, log)
    record = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
        "git_commit": _git_commit(),
        "options": {k: str(v) for k, v in asdict(options).items()},
        "reports": [],
    }
    try:
        plan = load_plan(options.plan)
        check_as_of(options.as_of)
        tasks = plan_tasks(
            plan, options.only, options.langs, options.as_of, options.timeout, state.setdefault("parameters", {})
        )
        reason = data_stage_needed(state, options.as_of, options.force)
    except AnalysisError as exc:
        for line in exc.lines():
            log(f"error: {line}")
        record.update(status="failed", error=str(exc))
        _write_record(output, record, log)
        return exc.exit_code
    if options.dry_run:
        return _dry_run(tasks, state, output, options, reason, log)
    pool = None
    if reason and tasks and not options.scheduler:
        # the data stage will run, so reports will most likely be rebuilt: warm the kernels meanwhile
        pool = LocalPool(_pool_size(options, len(tasks)), str(config.project_root()), str(output / "_runs"))
    staging = None
    results: list[dict] = []
    code = EXIT_OK
    vintage = None
    try:
        try:
            data_ran = run_data_stage(state, options.as_of, reason, say)
            _, previous_edition = model_stage.publish_changes(editions_dir(output))
        except AnalysisError as exc:
            for line in exc.lines():
                log(f"error: {line}")
            record.update(status="failed", error=str(exc))
            return exc.exit_code
        record["data_stage_ran"] = data_ran
        record["inputs"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_inputs()}
        package = package_fingerprint()
        vintage = data_stage.load_manifest().get("data_vintage")
        slices: dict = {}
        todo = []
        for task in tasks:
            parts = report_fingerprint(task, package, data_slice_fingerprint(task.reads, slices))
            why = rebuild_reason(task, parts, state["reports"].get(task.key, {}), output, options.force)
            if why is None:
                record["reports"].append({"key": task.key, "status": "unchanged"})
            else:
                todo.append((task, parts, why))
        if not todo:
            say(f"nothing to do: {len(tasks)} report(s) up to date ({time.perf_counter() - started:.1f} s)")
            return EXIT_OK
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=output))
        if pool is None and not options.scheduler:
            pool = LocalPool(_pool_size(options, len(todo)), str(config.project_root()), str(output / "_runs"))
        results = _execute(todo, staging, pool, vintage, options, state, record, output, log)
        failures = [r for r in results if r["status"] != "ok"]
        published = [r["key"] for r in results if r["status"] == "ok"]
        if published:
            edition = record_edition(output, config.processed_dir(), published, vintage, record["git_commit"])
            if edition:
                record["edition"] = edition
                say(f"edition {edition} recorded (previous: {previous_edition or 'none, this is the first'})")
        for failure in failures:
            log(f"FAILED {failure['key']}: {failure.get('error')}")
        say(
            f"{len(results) - len(failures)} built, {len(failures)} failed, {len(tasks) - len(todo)} unchanged "
            f"in {time.perf_counter() - started:.1f} s"
        )
        code = EXIT_REPORT_FAILED if failures else EXIT_OK
        return code
    except Stopped as stop:
        log(f"stopped by {stop}: {len(results)} report(s) finished and published; the rest left as they were")
        record["status"] = "stopped"
        raise
    except SchedulerUnreachableError as exc:
        log(f"error: the Dask scheduler {options.scheduler} cannot be reached ({exc})")
        record["status"] = "failed"
        code = EXIT_NO_SCHEDULER
        return code
    finally:
        if pool is not None:
            pool.shutdown(stop=record.get("status") == "stopped")
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        record.setdefault("status", "failed" if code else "ok")
        record["seconds"] = round(time.perf_counter() - started, 2)
        _finish(output, plan, state, vintage, record, log)


def _pool_size(options: RunOptions, reports: int) -> int:
    """Kernels to start: never more than the reports, the cores, or ``--jobs``."""
    return max(1, min(options.jobs, reports, os.cpu_count() or 1))


class SchedulerUnreachableError(Exception):
    pass


def _execute(todo, staging: Path, pool, vintage, options: RunOptions, state, record, output: Path, log) -> list[dict]:
    """Run the reports; publish each one the moment it is complete, so a stop keeps what is done."""
    results = []
    progress = None
    if options.progress and not options.quiet:
        from tqdm import tqdm

        progress = tqdm(total=len(todo), unit="report", file=sys.stderr, leave=False)
    parts_of = {task.key: parts for task, parts, _ in todo}

    def finished(result: dict, index: int) -> None:
        keys = ("key", "status", "seconds", "execute_seconds", "error", "kernel_replaced", "kernel_pid")
        entry = {k: result.get(k) for k in keys if k in result}
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if result["status"] == "ok":
            entry["files"] = publish(result, staging, output)
            state["reports"][result["key"]] = {
                "fingerprint": parts_of[result["key"]],
                "status": "ok",
                "vintage": vintage,
                "published_at": now,
            }
        else:
            entry["failed_notebook"] = keep_failure(result, output, log)
            before = state["reports"].get(result["key"], {})
            state["reports"][result["key"]] = {
                **before,
                "status": "failed (previous version kept)" if before.get("published_at") else "failed",
                "fingerprint": None,
            }
        record["reports"].append(entry)
        results.append(result)
        if progress is not None:
            progress.set_postfix_str(f"{result['key']} {result['status']}")
            progress.update(1)
        elif not options.quiet:
            log(f"[{index}/{len(todo)}] {result['key']} {result['status']} {result['seconds']} s")

    try:
        if options.scheduler:
            _execute_on_dask([t for t, _, _ in todo], staging, vintage, options, finished)
        else:
            futures = [pool.submit(task, str(staging), vintage) for task, _, _ in todo]
            for index, future in enumerate(as_completed(futures), 1):
                finished(future.result(), index)
    finally:
        if progress is not None:
            progress.close()
    return results


def _execute_on_dask(tasks: list[Task], staging: Path, vintage, options: RunOptions, finished) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed

        client = Client(options.scheduler, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachableError(str(exc)) from exc
    with client:
        root = str(config.project_root())
        futures = client.map(build_report, tasks, staging=str(staging), root=root, vintage=vintage, pure=False)
        for index, future in enumerate(dask_completed(futures), 1):
            finished(future.result(), index)


def _dry_run(tasks: list[Task], state: dict, output: Path, options: RunOptions, reason: str | None, log) -> int:
    """Say what a run would rebuild and why, without running anything."""
    if reason:
        log(f"data stage: would run ({reason}); reports whose data then changes are rebuilt too")
    else:
        log("data stage: up to date")
    package = package_fingerprint()
    slices: dict = {}
    for task in tasks:
        parts = report_fingerprint(task, package, data_slice_fingerprint(task.reads, slices))
        why = rebuild_reason(task, parts, state["reports"].get(task.key, {}), output, options.force)
        log(f"{task.key}: {'rebuild (' + why + ')' if why else 'up to date'}")
    return EXIT_OK


def _finish(output: Path, plan, state: dict, vintage, record: dict, log) -> None:
    """State, index and run record, written whatever happened; a full disk is reported, not raised."""
    for what, write in (
        ("state", lambda: atomic_write_json(output / STATE_FILE, state)),
        ("index", lambda: write_index(output, plan, state, vintage)),
    ):
        try:
            if what == "index" and plan is None:
                continue
            write()
        except OSError as exc:
            log(f"error: could not write the {what} ({exc.strerror or exc})")
    _write_record(output, record, log)


def _write_record(output: Path, record: dict, log=print) -> None:
    stamp = record["started_at"].replace(":", "").replace("+0000", "Z")
    try:
        atomic_write_json(output / "_runs" / f"run-{stamp}.json", record)
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
