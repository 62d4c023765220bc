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


def benchmark_files() -> dict[str, Path]:
    """The benchmark files shipped beside the project (``../shared/benchmarks``), by name: the M3 yearly
    levels and the World Bank yearly shares.  ``ANALYSIS_M3_FILE`` / ``ANALYSIS_SHARE_FILE`` override them."""
    folder = project_root().parent / "shared" / "benchmarks"
    return {
        "m3_yearly": Path(os.environ.get("ANALYSIS_M3_FILE") or folder / "m3_yearly.csv"),
        "share_series": Path(os.environ.get("ANALYSIS_SHARE_FILE") or folder / "share_series.csv"),
    }


def benchmark_file() -> Path:
    """The M3 yearly benchmark (levels), see :func:`benchmark_files`."""
    return benchmark_files()["m3_yearly"]


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


def as_of_name(stem: str, as_of: int | None) -> str:
    """The name of something made as of a year: ``assessments`` -> ``assessments-as-of-2024`` (``as_of`` None:
    every figure, the name unchanged).  Every as-of table, report file and step is named by this function."""
    return f"{stem}-as-of-{as_of}" if as_of else stem
