"""The scheduled batch: one command regenerates every report, safely.

``python -m analysis run`` (what ``make report`` calls):

1. takes a lock (``reports/.batch.lock``) so two runs never write at once;
2. runs the data stage (clean, assess, benchmark) unless its inputs are unchanged;
3. checks every plan entry's parameters against its notebook's ``parameters`` cell;
4. executes each report (notebook x language) with papermill in a staging folder, on a
   local process pool or a Dask cluster, and renders HTML and PDF there;
5. publishes only complete reports (rename into ``reports/<lang>/``), keeps failed
   notebooks under ``reports/_failed/<lang>/<name>.ipynb``, writes ``reports/index.html``
   and a run record ``reports/_runs/<timestamp>.json``.

A report whose inputs (notebook, parameters, language, package code, processed data) are
unchanged since it was last published is skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from analysis import __version__, config
from analysis.batch.editions import editions_dir, record_edition
from analysis.batch.plan import Task, load_plan, plan_tasks
from analysis.data import stage as data_stage
from analysis.errors import PlanError, RawDataError
from analysis.models import stage as model_stage
from analysis.storage import atomic_write_json

STATE_FILE = ".state.json"


# --- fingerprints ----------------------------------------------------------------------


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_fingerprint() -> str:
    """Hash of the package source (code, styles, catalogue)."""
    package = Path(__file__).resolve().parents[1]
    return _hash_files(
        [p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".mplstyle", ".yml", ".j2", ".css")]
    )


def data_inputs() -> list[Path]:
    """Every file the data and models stages read: raw files and sidecars, curation, registry, assessment plan."""
    raw = sorted(p for p in config.raw_dir().glob("*") if p.is_file())
    return raw + [p for p in data_stage.input_files() if p not in raw] + [config.assessment_plan_file()]


def task_fingerprint(task: Task, code: str, processed: str) -> str:
    notebook = (config.notebooks_dir() / task.notebook).read_bytes()
    # The timeout is how a report is run, not what it contains: changing it rebuilds nothing.
    inputs = {k: v for k, v in asdict(task).items() if k != "timeout"}
    payload = json.dumps({"task": inputs, "code": code, "processed": processed}, sort_keys=True).encode()
    return hashlib.sha256(notebook + payload).hexdigest()


# --- the data stage --------------------------------------------------------------------


def run_data_stage(state: dict, as_of: int, force: bool, log) -> bool:
    """Clean, assess and restate the track record unless their inputs are unchanged; return whether it ran.

    The M3 benchmark is cached apart, on the package code and the M3 file only: a new city figure
    never reruns it.
    """
    code = code_fingerprint()
    # The year matters: a target year passes on 1 January.
    inputs = _hash_files(data_inputs()) + code + str(as_of) + str(dt.date.today().year)
    processed = config.processed_dir()
    expected = ["indicators.csv", "targets.csv", "assessments.csv", "forecasts.csv", "track_record.csv"]
    if as_of:
        expected += [f"assessments-as-of-{as_of}.csv"]
    ran = False
    if force or state.get("data_inputs") != inputs or not all((processed / f).exists() for f in expected):
        started = time.perf_counter()
        data_stage.clean()
        model_stage.assess()
        if as_of:
            model_stage.assess(as_of=as_of)
        model_stage.publish_track_record()
        log(f"data: cleaned, assessed and restated the track record in {time.perf_counter() - started:.1f} s")
        state["data_inputs"] = inputs
        ran = True
    else:
        log("data: inputs unchanged, skipping clean/assess")
    run_benchmark(force, log)
    return ran


def run_benchmark(force: bool, log) -> None:
    """The M3 back-test (every window of the README table), rerun only when the methods' code or the M3 file changed.

    ``data/processed/benchmark.json`` records the fingerprint of its inputs; ``make bench`` writes the same file.
    """
    from analysis.models.benchmark import WINDOWS, evaluate_windows, fingerprint, load_series, window_key

    benchmark = config.benchmark_file()
    if not benchmark.exists():
        return
    target = config.processed_dir() / "benchmark.json"
    key = fingerprint(benchmark)
    if not force and target.exists():
        recorded = json.loads(target.read_text(encoding="utf-8"))
        if recorded.get("fingerprint") == key and all(window_key(w) in recorded.get("windows", {}) for w in WINDOWS):
            return
    started = time.perf_counter()
    results = evaluate_windows(load_series(benchmark))
    atomic_write_json(target, {"data": benchmark.name, "fingerprint": key, "windows": results})
    log(f"data: M3 benchmark ({', '.join(results)}) in {time.perf_counter() - started:.1f} s")


def processed_fingerprint() -> str:
    """Hash of every processed table (what the reports read)."""
    processed = config.processed_dir()
    return _hash_files([p for p in processed.glob("*") if p.is_file() and p.suffix in (".csv", ".json")])


# --- one report ------------------------------------------------------------------------


def build_report(task: Task, staging: str, root: str) -> dict:
    """Execute one notebook and render it; everything is written under ``staging``.

    Runs in a worker process (local pool or Dask), so it takes and returns plain data.
    """
    os.environ["ANALYSIS_ROOT"] = root
    import papermill

    from analysis.i18n import t
    from analysis.reports.render import html_to_pdf, notebook_to_html

    started = time.perf_counter()
    folder = Path(staging) / task.lang
    folder.mkdir(parents=True, exist_ok=True)
    stem = task.name + (f"-as-of-{task.as_of}" if task.as_of else "")
    executed = folder / f"{stem}.ipynb"
    result = {"key": task.key, "name": task.name, "lang": task.lang, "stem": stem, "executed": str(executed)}
    try:
        papermill.execute_notebook(
            str(Path(root) / "notebooks" / task.notebook),
            str(executed),
            parameters={**task.parameters, "lang": task.lang, "as_of": task.as_of},
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=task.timeout,
            cwd=str(Path(root) / "notebooks"),
        )
        executed_seconds = time.perf_counter() - started
        vintage = data_stage.load_manifest().get("data_vintage")
        page = notebook_to_html(executed, task.lang, t(task.title_key, task.lang), vintage, task.as_of or None)
        (folder / f"{stem}.html").write_text(page, encoding="utf-8")
        html_to_pdf(page, folder / f"{stem}.pdf")
        result.update(
            status="ok", seconds=round(time.perf_counter() - started, 2), execute_seconds=round(executed_seconds, 2)
        )
    except BaseException as exc:
        message = str(exc).strip().splitlines()
        result.update(
            status="failed",
            seconds=round(time.perf_counter() - started, 2),
            error=f"{type(exc).__name__}: {message[-1] if message else ''}"[:500],
        )
    return result


# --- publishing ------------------------------------------------------------------------


def publish(result: dict, staging: Path, output: Path) -> list[str]:
    """Move a complete report's HTML and PDF into ``output/<lang>/`` (rename: never half-written)."""
    target = output / result["lang"]
    target.mkdir(parents=True, exist_ok=True)
    published = []
    for suffix in (".html", ".pdf"):
        source = staging / result["lang"] / f"{result['stem']}{suffix}"
        os.replace(source, target / source.name)
        published.append(str((target / source.name).relative_to(output)))
    return published


def keep_failure(result: dict, output: Path) -> str | None:
    """Keep a failed executed notebook (with its error) under ``output/_failed/<lang>/``."""
    executed = Path(result["executed"])
    if not executed.exists():
        return None
    target = output / "_failed" / result["lang"]
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target / executed.name)
    return str((target / executed.name).relative_to(output))


def write_index(output: Path, plan: dict, state: dict, vintage: str | None) -> None:
    """``reports/index.html`` (Vietnamese) and ``index.en.html``: every report with its status line."""
    from analysis.i18n import LANGUAGES
    from analysis.models.plan import load_assessment_plan
    from analysis.reports.index_page import INDEX_FILES, render_index
    from analysis.storage import atomic_write_text

    try:
        assessments = model_stage.load_result("assessments")
    except FileNotFoundError:
        assessments = pd.DataFrame(columns=["indicator", "boundary"])
    entries = load_assessment_plan()
    languages = [lang for lang in LANGUAGES if lang in plan.get("languages", LANGUAGES)]
    for lang in languages:
        page = render_index(output, plan, state, vintage, assessments, entries, lang, languages)
        # index.html is the page of the first language (Vietnamese), whatever the plan builds
        name = "index.html" if lang == languages[0] else INDEX_FILES[lang]
        atomic_write_text(output / name, page)


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


def run(options: RunOptions, log=print) -> int:
    """Run the batch; return the exit code (0 ok, 1 a report failed, 2 bad input or plan, 3 locked)."""
    from filelock import FileLock, Timeout

    output = (options.output or config.reports_dir()).resolve()
    output.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(output / ".batch.lock"))
    try:
        lock.acquire(timeout=options.wait)
    except Timeout:
        log(f"error: another batch run holds {output / '.batch.lock'}; try again later (or pass --wait SECONDS)")
        return 3
    try:
        return _run_locked(options, output, log)
    finally:
        lock.release()


def _run_locked(options: RunOptions, output: Path, log) -> int:
    started = time.perf_counter()
    state_path = output / STATE_FILE
    state = json.loads(state_path.read_text(encoding="utf-8")) if state_path.exists() else {}
    record = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
        "git_commit": _git_commit(),
        "options": {k: str(v) for k, v in asdict(options).items()},
        "reports": [],
    }
    try:
        plan = load_plan(options.plan)
        tasks = plan_tasks(plan, options.only, options.langs, options.as_of, options.timeout)
        data_ran = run_data_stage(state, options.as_of, options.force, log)
        _, previous_edition = model_stage.publish_changes(editions_dir(output))
        processed = processed_fingerprint()
    except (PlanError, RawDataError) as exc:
        for line in str(exc).splitlines():
            log(f"error: {line}")
        record.update(status="failed", error=str(exc))
        _write_record(output, record)
        return 2
    record["inputs"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_inputs()}
    code = code_fingerprint()
    vintage = data_stage.load_manifest().get("data_vintage")
    todo = []
    for task in tasks:
        fingerprint = task_fingerprint(task, code, processed)
        info = state.get("reports", {}).get(task.key, {})
        stem = task.name + (f"-as-of-{task.as_of}" if task.as_of else "")
        present = all((output / task.lang / f"{stem}{s}").exists() for s in (".html", ".pdf"))
        if not options.force and present and info.get("fingerprint") == fingerprint and info.get("status") == "ok":
            record["reports"].append({"key": task.key, "status": "unchanged"})
            continue
        todo.append((task, fingerprint))
    if not todo:
        log(f"nothing to do: {len(tasks)} report(s) up to date ({time.perf_counter() - started:.1f} s)")
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=output))
    failures = []
    try:
        results = _execute([t for t, _ in todo], staging, options, log) if todo else []
        fingerprints = {t.key: f for t, f in todo}
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for result in results:
            entry = {k: result.get(k) for k in ("key", "status", "seconds", "execute_seconds", "error")}
            if result["status"] == "ok":
                entry["files"] = publish(result, staging, output)
                state.setdefault("reports", {})[result["key"]] = {
                    "fingerprint": fingerprints[result["key"]],
                    "status": "ok",
                    "vintage": vintage,
                    "published_at": now,
                }
            else:
                entry["failed_notebook"] = keep_failure(result, output)
                failures.append(result)
                previous = state.setdefault("reports", {}).get(result["key"], {})
                state["reports"][result["key"]] = {
                    **previous,
                    "status": "failed (previous version kept)" if previous else "failed",
                    "fingerprint": None,
                }
            record["reports"].append(entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    published = [r["key"] for r in results if r["status"] == "ok"]
    if published:
        edition = record_edition(output, config.processed_dir(), published, vintage, record["git_commit"])
        if edition:
            record["edition"] = edition
            log(f"edition {edition} recorded (previous: {previous_edition or 'none, this is the first'})")
    atomic_write_json(state_path, state)
    write_index(output, plan, state, vintage)
    record.update(
        status="failed" if failures else "ok", data_stage_ran=data_ran, seconds=round(time.perf_counter() - started, 2)
    )
    _write_record(output, record)
    for failure in failures:
        log(
            f"FAILED {failure['key']}: {failure.get('error')} (notebook kept in {output / '_failed' / failure['lang']})"
        )
    if todo:
        log(
            f"{len(results) - len(failures)} built, {len(failures)} failed, {len(tasks) - len(todo)} unchanged "
            f"in {time.perf_counter() - started:.1f} s"
        )
    return 1 if failures else 0


def _execute(tasks: list[Task], staging: Path, options: RunOptions, log) -> list[dict]:
    root = str(config.project_root())
    results = []
    if options.scheduler:
        from distributed import Client

        with Client(options.scheduler) as client:
            futures = client.map(build_report, tasks, staging=str(staging), root=root, pure=False)
            for index, result in enumerate(client.gather(futures), 1):
                log(f"[{index}/{len(tasks)}] {result['key']} {result['status']} {result['seconds']} s")
                results.append(result)
        return results
    if options.jobs <= 1:
        for index, task in enumerate(tasks, 1):
            result = build_report(task, str(staging), root)
            log(f"[{index}/{len(tasks)}] {result['key']} {result['status']} {result['seconds']} s")
            results.append(result)
        return results
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        futures = {pool.submit(build_report, task, str(staging), root): task for task in tasks}
        for index, future in enumerate(as_completed(futures), 1):
            task = futures[future]
            try:
                result = future.result(timeout=task.timeout * 10)
            except Exception as exc:
                result = {
                    "key": task.key,
                    "name": task.name,
                    "lang": task.lang,
                    "stem": task.name,
                    "status": "failed",
                    "seconds": None,
                    "executed": "",
                    "error": f"{type(exc).__name__}: {exc}",
                }
            log(f"[{index}/{len(tasks)}] {result['key']} {result['status']} {result['seconds']} s")
            results.append(result)
    return results


def _write_record(output: Path, record: dict) -> None:
    stamp = record["started_at"].replace(":", "").replace("+0000", "Z")
    atomic_write_json(output / "_runs" / f"run-{stamp}.json", record)
    atomic_write_json(output / "_runs" / "latest.json", record)


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
