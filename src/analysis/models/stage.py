"""The models stage with its files: processed tables -> forecasts and assessments.

The pure work happens in :mod:`analysis.models.assessment`; this module reads the processed
tables and the assessment plan and publishes ``forecasts.csv`` and ``assessments.csv`` (or
``...-as-of-YEAR.csv``) with their data dictionaries.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import config, tables
from analysis.data.provenance import sha256_of
from analysis.data.stage import load_table
from analysis.models.assessment import assess as run_assessment
from analysis.models.plan import load_assessment_plan
from analysis.models.schemas import SCHEMAS


def table_name(name: str, as_of: int | None = None) -> str:
    """``assessments`` or ``assessments-as-of-2024``."""
    return name if not as_of else f"{name}-as-of-{as_of}"


def assess(as_of: int | None = None, directory: Path | None = None, n_paths: int = 4000) -> dict[str, Path]:
    """Fit the models and rules on the processed tables; publish forecasts and assessments.

    Returns
    -------
    dict of str to Path
        Table name -> published CSV path.
    """
    folder = directory or config.processed_dir()
    plan = load_assessment_plan()
    forecasts, assessments = run_assessment(
        load_table("indicators", folder), load_table("targets", folder), plan, as_of=as_of, n_paths=n_paths
    )
    inputs = {
        path.name: sha256_of(path)
        for path in (folder / "indicators.csv", folder / "targets.csv", config.assessment_plan_file())
    }
    produced_by = "python -m analysis assess" + (f" --as-of {as_of}" if as_of else "")
    return tables.publish(
        folder,
        {
            table_name("forecasts", as_of): (forecasts, SCHEMAS["forecasts"]),
            table_name("assessments", as_of): (assessments, SCHEMAS["assessments"]),
        },
        produced_by=produced_by,
        inputs=inputs,
    )


def load_result(name: str, as_of: int | None = None, directory: Path | None = None) -> pd.DataFrame:
    """Read ``forecasts`` or ``assessments`` (for ``as_of``, the as-of table)."""
    return tables.read(table_name(name, as_of), SCHEMAS[name], directory)
