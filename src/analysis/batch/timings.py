"""``python -m analysis batch-timings``: the batch's speed, measured in one run on this machine.

Four figures, each in a scratch copy of the project (raw data, registry, curation, plans,
notebooks; the benchmarks' result is reused, as its cache allows):

1. **cold / naive**: the naive chain (papermill CLI, nbconvert CLI, WeasyPrint CLI, one report after
   another) against ``run --force`` (data stage and every report, warm kernels, two at a time);
2. **nothing changed**: a second run with nothing changed, in the process (as a fraction of cold) and as the
   operator waits for it (``python -m analysis run`` as a new process, wall time: the target is under 1 s);
3. **one figure / cold**: a new digital-economy figure added with ``add``, then ``run``: only the
   reports that read that indicator are rebuilt (listed);
4. **seconds per report** for 60 reports (30 plan entries x 2 languages), data stage included.

Per-report execution and rendering times are reported apart (where the time goes).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

from analysis import config
from analysis.batch.run import RunOptions, run
from analysis.batch.run_plan import load_plan, plan_tasks

#: The figure the "one new figure" case adds (a digital-economy share for the merged city).
NEW_FIGURE = {
    "indicator": "digital_economy_share_GRDP",
    "geography": "HCMC (merged)",
    "period": "2026",
    "value_as_published": "khoảng 27",
    "unit_as_published": "% GRDP",
    "kind": "estimate",
    "methodology_or_estimator": "MIC/MST-framework series (Bộ KH&CN)",
    "source_publisher": "Benchmark",
    "source_title": "A figure added by the benchmark",
    "source_url": "https://example.vn/benchmark",
}


@contextmanager
def scratch_project():
    """A copy of the project's inputs in a temporary folder, with the package pointed at it."""
    source = config.project_root()
    benchmarks = config.benchmark_files()
    with tempfile.TemporaryDirectory(prefix="hcmc-bench-") as folder:
        root = Path(folder)
        shutil.copytree(source / "data", root / "data", ignore=shutil.ignore_patterns("processed"))
        (root / "data" / "processed").mkdir()
        cached = source / "data" / "processed" / "benchmark.json"
        if cached.exists():
            shutil.copy2(cached, root / "data" / "processed" / "benchmark.json")
        shutil.copytree(source / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        old = {key: os.environ.get(key) for key in ("ANALYSIS_ROOT", "ANALYSIS_M3_FILE", "ANALYSIS_SHARE_FILE")}
        os.environ["ANALYSIS_ROOT"] = str(root)
        os.environ["ANALYSIS_M3_FILE"] = str(benchmarks["m3_yearly"])
        os.environ["ANALYSIS_SHARE_FILE"] = str(benchmarks["share_series"])
        try:
            yield root
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _timed_run(options: RunOptions) -> tuple[float, list[str], list[dict]]:
    messages: list[str] = []
    started = time.perf_counter()
    code = run(options, log=messages.append)
    seconds = time.perf_counter() - started
    if code not in (0,):
        raise RuntimeError(f"the batch failed (exit {code}): {messages[-5:]}")
    import json

    record = json.loads((options.output / "_runs" / "latest.json").read_text(encoding="utf-8"))
    return seconds, messages, record["reports"]


def warm_process_seconds(root: Path, output: Path, runs: int = 3) -> float:
    """Wall time of ``python -m analysis run`` with nothing to do, as a new process (the best of ``runs``)."""
    env = {**os.environ, "ANALYSIS_ROOT": str(root)}
    command = [sys.executable, "-m", "analysis", "run", "--output", str(output), "--quiet"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def naive_chain(root: Path, output: Path) -> float:
    """The chain of command-line tools, one report after another (what a script would do)."""
    venv_bin = Path(sys.executable).parent
    tasks = plan_tasks(load_plan())
    started = time.perf_counter()
    for task in tasks:
        executed = output / f"{task.lang}-{task.name}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        params = [a for n, v in {**task.parameters, "lang": task.lang}.items() for a in ("-p", n, str(v))]
        notebook = root / "notebooks" / task.notebook
        command = [str(venv_bin / "papermill"), str(notebook), str(executed), "-k", "python3", "--no-progress-bar"]
        subprocess.run([*command, *params], check=True, capture_output=True, cwd=root / "notebooks")
        subprocess.run(
            [str(venv_bin / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(venv_bin / "weasyprint"), str(executed.with_suffix(".html")), str(executed.with_suffix(".pdf"))],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


def load_plan_60(root: Path) -> Path:
    """A run plan of 30 entries (the six reports five times over): 60 reports in two languages."""
    plan = load_plan()
    entries = [{**entry, "name": f"{entry['name']}-{copy}"} for copy in range(1, 6) for entry in plan["reports"]]
    path = root / "plan-60.yml"
    path.write_text(yaml.safe_dump({"languages": plan["languages"], "reports": entries}), encoding="utf-8")
    return path


def _split(reports: list[dict]) -> dict:
    built = [r for r in reports if r.get("status") == "ok" and r.get("execute_seconds") is not None]
    if not built:
        return {}
    execute = sum(r["execute_seconds"] for r in built) / len(built)
    total = sum(r["seconds"] for r in built) / len(built)
    return {"execute_seconds_mean": round(execute, 2), "render_seconds_mean": round(total - execute, 2)}


def time_batch(log=print) -> dict:
    """Measure the four figures of the module docstring in one process tree.

    Returns
    -------
    dict
        Seconds for each case, the ratios, the reports the new figure rebuilt, per-report execution
        and rendering means, and the machine.
    """
    from analysis.data.intake import add_figure

    with scratch_project() as root:
        output = root / "reports"
        naive = naive_chain(root, root / "naive")
        log(f"naive chain: {naive:.1f} s for {len(plan_tasks(load_plan()))} reports")
        cold, _, cold_reports = _timed_run(RunOptions(output=output, jobs=2, force=True))
        log(f"batch cold: {cold:.1f} s ({cold / naive:.2f} of naive)")
        warm, _, _ = _timed_run(RunOptions(output=output, jobs=2))
        log(f"batch warm: {warm:.3f} s ({warm / cold:.2%} of cold)")
        process = warm_process_seconds(root, output)
        log(f"nothing changed, `python -m analysis run` as a process: {process:.2f} s of wall time")
        add_figure({**NEW_FIGURE, "published_date": dt.date.today().isoformat()})
        one, _, one_reports = _timed_run(RunOptions(output=output, jobs=2))
        rebuilt = sorted(r["key"] for r in one_reports if r.get("status") == "ok")
        log(f"one new figure: {one:.1f} s ({one / cold:.2f} of cold), rebuilt {', '.join(rebuilt)}")
        plan_60 = load_plan_60(root)
        many, _, many_reports = _timed_run(RunOptions(output=root / "reports-60", jobs=2, force=True, plan=plan_60))
        built = sum(1 for r in many_reports if r.get("status") == "ok")
        log(f"60 reports: {many:.1f} s, {many / built:.2f} s per report")
    return {
        "reports": len(cold_reports),
        "naive_chain_seconds": round(naive, 2),
        "batch_cold_seconds": round(cold, 2),
        "batch_warm_seconds": round(warm, 3),
        "nothing_changed_process_seconds": round(process, 3),
        "one_figure_seconds": round(one, 2),
        "one_figure_rebuilt": rebuilt,
        "sixty_reports_seconds": round(many, 2),
        "sixty_reports_built": built,
        "cold_over_naive": round(cold / naive, 3),
        "warm_over_cold": round(warm / cold, 4),
        "one_figure_over_cold": round(one / cold, 3),
        "seconds_per_report_60": round(many / built, 2),
        "cold_per_report": _split(cold_reports),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
    }
