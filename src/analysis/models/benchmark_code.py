"""The files of the forecasting methods the benchmarks run, with their shipped defaults.

What the cached benchmarks depend on besides their data (:func:`analysis.models.benchmark.fingerprint`, and the
pipeline's ``benchmark`` step); kept apart from :mod:`analysis.models.benchmark` so that the pipeline reads it
without numpy.
"""

from __future__ import annotations

#: Files of ``src/analysis/models`` the benchmarks' results depend on.
METHOD_FILES = (
    "forecasting.py",
    "forecast_fit.py",
    "benchmark.py",
    "progress.py",
    "single_models.py",
    "forecast_defaults.yml",
)
