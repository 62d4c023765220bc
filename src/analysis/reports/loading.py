"""The tables a report reads, loaded once per notebook and computed on demand.

A notebook calls ``report = load_report(lang, as_of)`` and reads ``report.assessments``,
``report.indicators``, ... Each table is read the first time it is used.  When a table is
missing or older than its inputs (an analyst changed ``as_of`` in JupyterLab, or added a raw
file), the stage that makes it runs first, in the kernel: the report is right for the
parameters it was given, without a separate command.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import config, tables
from analysis.data import stage as data_stage
from analysis.data.provenance import sha256_of
from analysis.errors import PlanError
from analysis.models import stage as model_stage
from analysis.models.assessment import observed_series
from analysis.models.plan import (
    PlanEntry,
    Programme,
    load_assessment_plan,
    load_peers,
    load_programme,
    report_parameter_problems,
)
from analysis.models.schemas import SCHEMAS
from analysis.storage import parse_yaml

BENCHMARK_FILE = "benchmark.json"


def _recorded_inputs(folder: Path, table: str) -> dict[str, str]:
    meta = folder / f"{table}.meta.yml"
    if not meta.exists():
        return {}
    return (parse_yaml(meta.read_text(encoding="utf-8")) or {}).get("inputs") or {}


def _stale(folder: Path, table: str, inputs: list[Path]) -> bool:
    """True when ``table`` is missing or was made from inputs other than those on disk now.

    In a batch run's kernels (``ANALYSIS_TABLES_READY``) a table that exists is never stale: the run made
    the tables from the inputs it fingerprinted, and a figure added since is for the next run.
    """
    if not (folder / f"{table}.csv").exists():
        return True
    if os.environ.get("ANALYSIS_TABLES_READY"):
        return False
    recorded = _recorded_inputs(folder, table)
    return any(recorded.get(path.name) != (sha256_of(path) if path.exists() else None) for path in inputs)


def ensure_cleaned(folder: Path | None = None) -> None:
    """Run the data stage when the processed tables are missing or older than the raw files."""
    folder = folder or config.processed_dir()
    raw = data_stage.raw_files()
    if any(_stale(folder, name, raw) for name in ("indicators", "targets")):
        data_stage.clean()


def ensure_assessed(as_of: int | None, folder: Path | None = None) -> None:
    """Run the models stage for ``as_of`` when its tables are missing or older than their inputs."""
    folder = folder or config.processed_dir()
    ensure_cleaned(folder)
    inputs = [folder / "indicators.csv", folder / "targets.csv", config.assessment_plan_file()]
    if any(
        _stale(folder, model_stage.table_name(name, as_of), inputs)
        for name in ("assessments", "forecasts", "scorecard")
    ):
        model_stage.assess(as_of=as_of)


@dataclass
class ReportData:
    """The tables one report reads, in one language and for one ``as_of`` year (0 = every figure)."""

    lang: str
    as_of: int = 0
    _checked: set = field(default_factory=set, repr=False, compare=False)

    @functools.cached_property
    def plan(self) -> tuple[PlanEntry, ...]:
        """The assessment plan (``data/assessment_plan.yml``)."""
        return load_assessment_plan()

    def _data_table(self, name: str) -> pd.DataFrame:
        ensure_cleaned()
        return data_stage.load_table(name)

    @functools.cached_property
    def _as_of_tables(self):
        """The data as it stood at the end of ``as_of`` (vintage by vintage), cleaned in memory."""
        return data_stage.clean_in_memory(self.as_of)

    def _model_table(self, name: str) -> pd.DataFrame:
        ensure_assessed(self.as_of or None)
        return model_stage.load_result(name, self.as_of or None)

    @functools.cached_property
    def indicators(self) -> pd.DataFrame:
        """Figures kept after conflicts are resolved (as they stood at ``as_of``, when given)."""
        return self._as_of_tables.indicators if self.as_of else self._data_table("indicators")

    @functools.cached_property
    def targets(self) -> pd.DataFrame:
        return self._as_of_tables.targets if self.as_of else self._data_table("targets")

    @functools.cached_property
    def conflicts(self) -> pd.DataFrame:
        return self._data_table("conflicts")

    @functools.cached_property
    def exclusions(self) -> pd.DataFrame:
        return self._data_table("exclusions")

    @functools.cached_property
    def sources(self) -> pd.DataFrame:
        return self._data_table("sources")

    @functools.cached_property
    def assessments(self) -> pd.DataFrame:
        return self._model_table("assessments")

    @functools.cached_property
    def forecasts(self) -> pd.DataFrame:
        return self._model_table("forecasts")

    @functools.cached_property
    def scorecard(self) -> pd.DataFrame:
        """Every target of the city's programme with its one status (``scorecard.csv``)."""
        return self._model_table("scorecard")

    @functools.cached_property
    def programme(self) -> Programme | None:
        """The programme's targets and texts (``programme`` in the assessment plan)."""
        return load_programme()

    @functools.cached_property
    def peers(self):
        """The places set beside the city (``peers`` in the assessment plan)."""
        return load_peers()

    def _derived(self, name: str) -> pd.DataFrame:
        folder = config.processed_dir()
        ensure_assessed(None)
        if _stale(folder, name, [folder / "indicators.csv", folder / "assessments.csv"]):
            model_stage.publish_derived(folder)
        return tables.read(name, SCHEMAS[name])

    @functools.cached_property
    def what_it_takes(self) -> pd.DataFrame:
        """Growth and money each open share target needs (``what_it_takes.csv``)."""
        return self._derived("what_it_takes")

    @functools.cached_property
    def merged_city(self) -> pd.DataFrame:
        """The merged city's share before the merger, or its band (``merged_city.csv``)."""
        return self._derived("merged_city")

    @functools.cached_property
    def changes(self) -> pd.DataFrame:
        """What changed since the previous edition (``changes.csv``, made on demand from ``reports/editions``)."""
        if self.as_of:
            return pd.DataFrame()  # editions compare what was published; an as-of report restates the past
        folder = config.processed_dir()
        ensure_assessed(None)
        if _stale(folder, "changes", [folder / "indicators.csv", folder / "assessments.csv"]):
            model_stage.publish_changes(config.reports_dir() / "editions")
        return tables.read("changes", SCHEMAS["changes"])

    @functools.cached_property
    def previous_edition(self) -> str | None:
        """Id of the edition the changes compare with (None before the first edition)."""
        return tables.read_json("changes.json").get("previous_edition")

    @functools.cached_property
    def track_record(self) -> pd.DataFrame:
        """Earlier statements and how they scored (``track_record.csv``, made on demand)."""
        folder = config.processed_dir()
        ensure_assessed(None)
        if _stale(folder, "track_record", [folder / "assessments.csv", config.assessment_plan_file()]):
            model_stage.publish_track_record()
        return tables.read("track_record", SCHEMAS["track_record"])

    @functools.cached_property
    def benchmarks(self) -> dict[str, dict]:
        """Benchmark results by dataset ('share_series', 'm3_yearly'): kind, data file and results by window
        ('full', '6', ... '3'), from the batch or ``make bench`` ({} if not run)."""
        return (tables.read_json(BENCHMARK_FILE) or {}).get("datasets", {})

    @functools.cached_property
    def forecast_checks(self) -> pd.DataFrame:
        """Earlier forecasts beside the figures published since (``forecast_checks.csv``, made with the track
        record)."""
        self.track_record  # noqa: B018 - the track record makes both tables
        return tables.read("forecast_checks", SCHEMAS["forecast_checks"])

    def check(self, **parameters: str) -> None:
        """A clear error for a notebook parameter the registry does not know, or an indicator and a boundary
        that do not fit together (a report in JupyterLab, or run with papermill, says which and the nearest
        valid value instead of showing empty sections).

        Raises
        ------
        PlanError
            Naming the parameter, its value and the nearest valid value.
        """
        key = tuple(sorted(parameters.items()))
        if key in self._checked:
            return
        problems = report_parameter_problems(parameters, plan=self.plan)
        if problems:
            raise PlanError("; ".join(problems))
        self._checked.add(key)

    def entry(self, indicator: str, boundary: str) -> PlanEntry | None:
        """The plan entry of an indicator and boundary (both checked: see :meth:`check`)."""
        self.check(indicator=indicator, boundary=boundary)
        return next((e for e in self.plan if e.indicator == indicator and e.boundary == boundary), None)

    def observed(self, indicator: str, boundary: str) -> dict[str, pd.Series]:
        """Observed yearly series per estimator, exactly as the models saw them."""
        return observed_series(self.indicators, indicator, boundary, self.as_of or None)

    def forecast(self, indicator: str, boundary: str, estimator: str) -> pd.DataFrame:
        """Rows of ``forecasts`` for one series."""
        frame = self.forecasts
        return frame[(frame.indicator == indicator) & (frame.boundary == boundary) & (frame.estimator == estimator)]

    def assessed(self, indicator: str, boundary: str) -> pd.DataFrame:
        """Rows of ``assessments`` for one indicator and boundary (both checked: see :meth:`check`)."""
        self.check(indicator=indicator, boundary=boundary)
        frame = self.assessments
        return frame[(frame.indicator == indicator) & (frame.boundary == boundary)]


def load_report(lang: str, as_of: int = 0) -> ReportData:
    """The tables for a report in ``lang`` with figures published up to ``as_of`` (0: all).

    Raises
    ------
    ValueError
        For a language without a text catalogue.
    """
    from analysis.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    return ReportData(lang, int(as_of or 0))
