"""``python -m analysis bench-batch``: the batch against the naive chain of command-line tools, in one run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import config
from analysis.batch.plan import load_plan, plan_tasks
from analysis.batch.run import RunOptions, run


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
            params = [
                arg
                for name, value in {**task.parameters, "lang": task.lang}.items()
                for arg in ("-p", name, str(value))
            ]
            subprocess.run(
                [
                    str(venv_bin / "papermill"),
                    str(config.notebooks_dir() / task.notebook),
                    str(executed),
                    "-k",
                    "python3",
                    "--no-progress-bar",
                    *params,
                ],
                check=True,
                capture_output=True,
                cwd=config.notebooks_dir(),
            )
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
    return {
        "reports": len(tasks),
        "naive_chain_seconds": round(naive, 2),
        "batch_cold_seconds": round(cold, 2),
        "batch_warm_seconds": round(warm, 2),
        "cold_over_naive": round(cold / naive, 3),
        "warm_over_cold": round(warm / cold, 4),
        "cores": os.cpu_count(),
    }
