"""Project paths. Resolved from the package location, overridable with ``ANALYSIS_ROOT``.

Notebooks and the batch resolve paths here rather than relying on the working directory
(papermill runs kernels in the notebook's folder unless told otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """Return the project root: ``$ANALYSIS_ROOT`` if set, else the checkout holding ``src/``."""
    override = os.environ.get("ANALYSIS_ROOT")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def raw_dir() -> Path:
    return project_root() / "data" / "raw"


def processed_dir() -> Path:
    return project_root() / "data" / "processed"


def curation_file() -> Path:
    return project_root() / "data" / "curation.yml"


def reports_dir() -> Path:
    return project_root() / "reports"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def benchmark_file() -> Path:
    """The M3 yearly benchmark shipped beside the project (``../shared/benchmarks``)."""
    override = os.environ.get("ANALYSIS_M3_FILE")
    if override:
        return Path(override)
    return project_root().parent / "shared" / "benchmarks" / "m3_yearly.csv"


def assessment_plan_file() -> Path:
    """Which series are assessed against which targets (``data/assessment_plan.yml``)."""
    return project_root() / "data" / "assessment_plan.yml"


def run_plan_file() -> Path:
    """Which reports the batch produces (``notebooks/plan.yml``)."""
    return notebooks_dir() / "plan.yml"


def registry_dir() -> Path:
    """The registry of indicators, places and estimator families (``data/registry/``)."""
    return project_root() / "data" / "registry"


def chart_cache_dir() -> Path:
    """Charts a batch run drew, by their inputs (``data/processed/.cache/charts``; see ``reports.charts``)."""
    return processed_dir() / ".cache" / "charts"
