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
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from analysis import __version__, config, pipeline
from analysis.errors import RawDataError
from analysis.storage import atomic_write_json

STATE_FILE = ".state.json"


class PlanError(ValueError):
    """The run plan is invalid; the message names the plan entry."""


@dataclass
class Task:
    """One report to build: a notebook with parameters in one language."""

    name: str
    notebook: str
    lang: str
    title_key: str
    parameters: dict = field(default_factory=dict)
    as_of: int = 0
    timeout: int = 600

    @property
    def key(self) -> str:
        return f"{self.lang}/{self.name}" + (f"-as-of-{self.as_of}" if self.as_of else "")


def load_plan(path: Path | None = None) -> dict:
    """Read the run plan (``notebooks/plan.yml``)."""
    plan_path = path or config.notebooks_dir() / "plan.yml"
    document = yaml.safe_load(plan_path.read_text(encoding="utf-8")) or {}
    if not isinstance(document.get("reports"), list):
        raise PlanError(f"{plan_path}: expected a list under 'reports'")
    return document


def notebook_parameters(notebook: Path) -> dict[str, str]:
    """Declared parameters of a notebook: name -> type name, from its ``parameters`` cell (papermill)."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    return {name: (info.get("inferred_type_name") or "None") for name, info in declared.items()}


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


def check_parameters(entry: dict, notebook: Path) -> list[str]:
    """Problems with one plan entry's parameters: unknown names and wrong types, naming the entry."""
    declared = notebook_parameters(notebook)
    problems = []
    for name, value in (entry.get("parameters") or {}).items():
        if name not in declared:
            problems.append(f"plan entry '{entry['name']}': parameter '{name}' is not declared in {notebook.name} "
                            f"(declared: {', '.join(sorted(declared))})")
            continue
        expected = _TYPES.get(declared[name])
        if expected is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            problems.append(f"plan entry '{entry['name']}': parameter '{name}' should be {declared[name]}, got {type(value).__name__} {value!r}")
    return problems


def plan_tasks(plan: dict, only: list[str] | None = None, langs: list[str] | None = None, as_of: int = 0,
               timeout: int = 600) -> list[Task]:
    """Expand the plan into tasks, validating every entry first.

    Raises
    ------
    PlanError
        Listing every invalid entry (missing notebook, unknown or mistyped parameter, unknown --only name).
    """
    problems = []
    names = [entry.get("name") for entry in plan["reports"]]
    for name in only or []:
        if name not in names:
            problems.append(f"--only {name}: no such plan entry (entries: {', '.join(names)})")
    languages = langs or plan.get("languages") or ["vi", "en"]
    tasks = []
    for entry in plan["reports"]:
        notebook = config.notebooks_dir() / entry["notebook"]
        if not notebook.exists():
            problems.append(f"plan entry '{entry.get('name')}': notebook {entry['notebook']} not found")
            continue
        problems.extend(check_parameters(entry, notebook))
        if only and entry["name"] not in only:
            continue
        for lang in languages:
            tasks.append(Task(entry["name"], entry["notebook"], lang, entry.get("title_key", entry["name"]),
                              dict(entry.get("parameters") or {}), as_of, timeout))
    if problems:
        raise PlanError("\n".join(problems))
    return tasks


# --- fingerprints ----------------------------------------------------------------------

def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_fingerprint() -> str:
    """Hash of the package source (code, styles, catalogue)."""
    package = Path(__file__).resolve().parent
    return _hash_files([p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".mplstyle", ".yml")])


def data_inputs() -> list[Path]:
    raw = sorted(config.raw_dir().glob("*"))
    curation = [config.curation_file()] if config.curation_file().exists() else []
    return [p for p in raw if p.is_file()] + curation


def task_fingerprint(task: Task, code: str, processed: str) -> str:
    notebook = (config.notebooks_dir() / task.notebook).read_bytes()
    # The timeout is how a report is run, not what it contains: changing it rebuilds nothing.
    inputs = {k: v for k, v in asdict(task).items() if k != "timeout"}
    payload = json.dumps({"task": inputs, "code": code, "processed": processed}, sort_keys=True).encode()
    return hashlib.sha256(notebook + payload).hexdigest()


# --- the data stage --------------------------------------------------------------------

def run_data_stage(state: dict, as_of: int, force: bool, log) -> tuple[str, bool]:
    """Clean, assess and benchmark unless their inputs are unchanged; return (processed hash, ran)."""
    code = code_fingerprint()
    benchmark = config.benchmark_file()
    inputs = _hash_files(data_inputs()) + code + (_hash_files([benchmark]) if benchmark.exists() else "") + str(as_of)
    processed = config.processed_dir()
    expected = ["indicators.csv", "targets.csv", "assessments.csv", "forecasts.csv"]
    if as_of:
        expected += [f"assessments-as-of-{as_of}.csv"]
    if not force and state.get("data_inputs") == inputs and all((processed / f).exists() for f in expected):
        log("data: inputs unchanged, skipping clean/assess/benchmark")
        return state["processed"], False
    started = time.perf_counter()
    pipeline.clean()
    pipeline.assess()
    if as_of:
        pipeline.assess(as_of=as_of)
    if benchmark.exists():
        from analysis.benchmark import evaluate, load_series

        series = load_series(benchmark)
        for name, window in (("full", None), ("window6", 6)):
            result = evaluate(series, window=window)
            result.pop("seconds")  # timings would make unchanged results look changed to the cache
            atomic_write_json(processed / f"benchmark-{name}.json", {**result, "data": benchmark.name})
    log(f"data: cleaned, assessed and benchmarked in {time.perf_counter() - started:.1f} s")
    state["data_inputs"] = inputs
    state["processed"] = _hash_files([p for p in processed.glob("*") if p.is_file() and p.suffix in (".csv", ".json")])
    return state["processed"], True


# --- one report ------------------------------------------------------------------------

def build_report(task: Task, staging: str, root: str) -> dict:
    """Execute one notebook and render it; everything is written under ``staging``.

    Runs in a worker process (local pool or Dask), so it takes and returns plain data.
    """
    os.environ["ANALYSIS_ROOT"] = root
    import papermill

    from analysis.i18n import t
    from analysis.reporting import html_to_pdf, notebook_to_html

    started = time.perf_counter()
    folder = Path(staging) / task.lang
    folder.mkdir(parents=True, exist_ok=True)
    stem = task.name + (f"-as-of-{task.as_of}" if task.as_of else "")
    executed = folder / f"{stem}.ipynb"
    result = {"key": task.key, "name": task.name, "lang": task.lang, "stem": stem, "executed": str(executed)}
    try:
        papermill.execute_notebook(
            str(Path(root) / "notebooks" / task.notebook), str(executed),
            parameters={**task.parameters, "lang": task.lang, "as_of": task.as_of},
            kernel_name="python3", progress_bar=False, execution_timeout=task.timeout,
            cwd=str(Path(root) / "notebooks"),
        )
        executed_seconds = time.perf_counter() - started
        vintage = pipeline.load_manifest().get("data_vintage")
        page = notebook_to_html(executed, task.lang, t(task.title_key, task.lang), vintage, task.as_of or None)
        (folder / f"{stem}.html").write_text(page, encoding="utf-8")
        html_to_pdf(page, folder / f"{stem}.pdf")
        result.update(status="ok", seconds=round(time.perf_counter() - started, 2), execute_seconds=round(executed_seconds, 2))
    except BaseException as exc:  # noqa: BLE001 - a failed report must never stop the others
        message = str(exc).strip().splitlines()
        result.update(status="failed", seconds=round(time.perf_counter() - started, 2),
                      error=f"{type(exc).__name__}: {message[-1] if message else ''}"[:500])
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
    """``reports/index.html``: every report, its language, data vintage and status."""
    from analysis.i18n import t
    from analysis.storage import atomic_write_text

    rows = []
    for entry in plan["reports"]:
        for lang in plan.get("languages", ["vi", "en"]):
            key = f"{lang}/{entry['name']}"
            info = state.get("reports", {}).get(key, {})
            links = " ".join(f'<a href="{lang}/{entry["name"]}{s}">{s[1:].upper()}</a>' for s in (".pdf", ".html")
                             if (output / lang / f"{entry['name']}{s}").exists())
            rows.append(f"<tr><td>{html.escape(t(entry.get('title_key', entry['name']), lang))}</td><td>{lang}</td>"
                        f"<td>{html.escape(str(info.get('vintage', '–')))}</td><td>{html.escape(info.get('status', 'not built'))}</td>"
                        f"<td>{html.escape(info.get('published_at', '–'))}</td><td>{links}</td></tr>")
    page = ("<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'><title>Reports</title><style>"
            "body{font-family:'Noto Sans','DejaVu Sans',sans-serif;margin:2em;color:#1a1a1a}table{border-collapse:collapse}"
            "td,th{border-bottom:1px solid #dde3ea;padding:6px 10px;text-align:left}th{background:#123a66;color:#fff}</style></head>"
            f"<body><h1>Báo cáo / Reports</h1><p>Data published up to: {html.escape(str(vintage))}</p>"
            "<table><tr><th>Report</th><th>Lang</th><th>Data vintage</th><th>Status</th><th>Published</th><th>Files</th></tr>"
            + "".join(rows) + "</table></body></html>")
    atomic_write_text(output / "index.html", page)


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
    record = {"started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "package_version": __version__,
              "git_commit": _git_commit(), "options": {k: str(v) for k, v in asdict(options).items()}, "reports": []}
    try:
        plan = load_plan(options.plan)
        tasks = plan_tasks(plan, options.only, options.langs, options.as_of, options.timeout)
        processed, data_ran = run_data_stage(state, options.as_of, options.force, log)
    except (PlanError, RawDataError) as exc:
        for line in str(exc).splitlines():
            log(f"error: {line}")
        record.update(status="failed", error=str(exc))
        _write_record(output, record)
        return 2
    record["inputs"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_inputs()}
    code = code_fingerprint()
    vintage = pipeline.load_manifest().get("data_vintage")
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
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        for result in results:
            entry = {k: result.get(k) for k in ("key", "status", "seconds", "execute_seconds", "error")}
            if result["status"] == "ok":
                entry["files"] = publish(result, staging, output)
                state.setdefault("reports", {})[result["key"]] = {"fingerprint": fingerprints[result["key"]], "status": "ok",
                                                                   "vintage": vintage, "published_at": now}
            else:
                entry["failed_notebook"] = keep_failure(result, output)
                failures.append(result)
                previous = state.setdefault("reports", {}).get(result["key"], {})
                state["reports"][result["key"]] = {**previous, "status": "failed (previous version kept)" if previous else "failed",
                                                   "fingerprint": None}
            record["reports"].append(entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    atomic_write_json(state_path, state)
    write_index(output, plan, state, vintage)
    record.update(status="failed" if failures else "ok", data_stage_ran=data_ran, seconds=round(time.perf_counter() - started, 2))
    _write_record(output, record)
    for failure in failures:
        log(f"FAILED {failure['key']}: {failure.get('error')} (notebook kept in {output / '_failed' / failure['lang']})")
    if todo:
        log(f"{len(results) - len(failures)} built, {len(failures)} failed, {len(tasks) - len(todo)} unchanged "
            f"in {time.perf_counter() - started:.1f} s")
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
            except Exception as exc:  # noqa: BLE001 - a worker that died is a failed report
                result = {"key": task.key, "name": task.name, "lang": task.lang, "stem": task.name, "status": "failed",
                          "seconds": None, "executed": "", "error": f"{type(exc).__name__}: {exc}"}
            log(f"[{index}/{len(tasks)}] {result['key']} {result['status']} {result['seconds']} s")
            results.append(result)
    return results


def _write_record(output: Path, record: dict) -> None:
    stamp = record["started_at"].replace(":", "").replace("+0000", "Z")
    atomic_write_json(output / "_runs" / f"run-{stamp}.json", record)
    atomic_write_json(output / "_runs" / "latest.json", record)


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=config.project_root(),
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# --- benchmark of the batch --------------------------------------------------------------

def bench_batch(log=print) -> dict:
    """Time the naive chain (papermill CLI, nbconvert CLI, WeasyPrint CLI, one after another),
    the batch cold and the batch warm, on the same plan, in one process tree.

    Returns
    -------
    dict
        Seconds for each, reports built, and the ratios cold/naive and warm/cold.
    """
    venv_bin = Path(sys.executable).parent
    plan = load_plan()
    tasks = plan_tasks(plan)
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        # Processed data must exist for the notebooks; the batch's data stage makes it.
        run(RunOptions(output=scratch_path / "warmup", jobs=2), log=lambda *_: None)
        started = time.perf_counter()
        for task in tasks:
            executed = scratch_path / "naive" / f"{task.lang}-{task.name}.ipynb"
            executed.parent.mkdir(parents=True, exist_ok=True)
            params = [arg for name, value in {**task.parameters, "lang": task.lang}.items() for arg in ("-p", name, str(value))]
            subprocess.run([str(venv_bin / "papermill"), str(config.notebooks_dir() / task.notebook), str(executed), "-k", "python3",
                            "--no-progress-bar", *params], check=True, capture_output=True, cwd=config.notebooks_dir())
            subprocess.run([str(venv_bin / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)], check=True, capture_output=True)
            subprocess.run([str(venv_bin / "weasyprint"), str(executed.with_suffix(".html")), str(executed.with_suffix(".pdf"))],
                           check=True, capture_output=True)
        naive = time.perf_counter() - started
        log(f"naive chain: {naive:.1f} s for {len(tasks)} reports")
        started = time.perf_counter()
        run(RunOptions(output=scratch_path / "batch", jobs=2, force=True), log=lambda *_: None)
        cold = time.perf_counter() - started
        log(f"batch cold: {cold:.1f} s")
        started = time.perf_counter()
        run(RunOptions(output=scratch_path / "batch", jobs=2), log=lambda *_: None)
        warm = time.perf_counter() - started
        log(f"batch warm: {warm:.2f} s")
    return {"reports": len(tasks), "naive_chain_seconds": round(naive, 2), "batch_cold_seconds": round(cold, 2),
            "batch_warm_seconds": round(warm, 2), "cold_over_naive": round(cold / naive, 3), "warm_over_cold": round(warm / cold, 4),
            "cores": os.cpu_count()}
