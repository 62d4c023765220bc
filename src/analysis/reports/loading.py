"""The tables a report reads, loaded once per notebook and brought up to date on demand.

A notebook calls ``report = load_report(lang, as_of)`` and reads ``report.assessments``,
``report.indicators``, ... Each table is read the first time it is used.  Before that, the pipeline
(:mod:`analysis.pipeline`) is asked whether the step that makes it is stale, by the rule the batch
applies: an analyst who edits ``data/curation.yml``, a registry file or ``data/assessment_plan.yml``,
adds a raw file or changes ``as_of`` in JupyterLab gets the steps rerun that need it (under the
data's lock), exactly as ``python -m analysis run`` would, without a separate command.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd

from analysis import pipeline, tables
from analysis.data import stage as data_stage
from analysis.errors import PlanError
from analysis.models import stage as model_stage
from analysis.models.assessment import observed_series
from analysis.models.assessment_plan import (
    PlanEntry,
    Programme,
    load_assessment_plan,
    load_peers,
    load_programme,
    report_parameter_problems,
)
from analysis.models.schemas import SCHEMAS

BENCHMARK_FILE = "benchmark.json"


def ensure_current(steps: list[str], as_of: int | None = None) -> dict[str, str]:
    """Run the pipeline's steps ``steps`` (and those they read from) that are stale, under the data's lock.

    Returns
    -------
    dict of str to str
        Step -> why it ran (empty when everything was up to date).
    """
    return pipeline.bring_up_to_date(steps, pipeline.Context(as_of=as_of), lock=True, say=print)


def ensure_cleaned() -> None:
    """The processed tables of the data stage, brought up to date (see :func:`ensure_current`)."""
    ensure_current(["clean"])


def ensure_assessed(as_of: int | None) -> None:
    """The assessments and forecasts (as of ``as_of``, when given), brought up to date."""
    ensure_current(["assess-as-of" if as_of else "assess"], as_of)


@dataclass
class ReportData:
    """The tables one report reads, in one language and for one ``as_of`` year (None: every figure)."""

    lang: str
    as_of: int | None = None
    _checked: set = field(default_factory=set, repr=False, compare=False)
    _current: set = field(default_factory=set, repr=False, compare=False)

    def _ensure(self, step: str) -> None:
        """Ask the pipeline once per report whether ``step`` is stale, and run what is."""
        if step not in self._current:
            ensure_current([step], self.as_of)
            self._current.add(step)

    @functools.cached_property
    def plan(self) -> tuple[PlanEntry, ...]:
        """The assessment plan (``data/assessment_plan.yml``)."""
        return load_assessment_plan()

    def _data_table(self, name: str) -> pd.DataFrame:
        self._ensure("clean")
        return data_stage.load_table(name)

    @functools.cached_property
    def _as_of_tables(self):
        """The data as it stood at the end of ``as_of`` (vintage by vintage), cleaned in memory."""
        return data_stage.clean_in_memory(self.as_of)

    def _model_table(self, name: str) -> pd.DataFrame:
        self._ensure("assess-as-of" if self.as_of else "assess")
        return model_stage.load_result(name, self.as_of)

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
        self._ensure("assess")  # the assessment step makes the derived tables
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
        self._ensure("changes")
        return tables.read("changes", SCHEMAS["changes"])

    @functools.cached_property
    def previous_edition(self) -> str | None:
        """Id of the edition the changes compare with (None before the first edition)."""
        return tables.read_json("changes.json").get("previous_edition")

    @functools.cached_property
    def track_record(self) -> pd.DataFrame:
        """Earlier statements and how they scored (``track_record.csv``, made on demand)."""
        self._ensure("track_record")
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
        return observed_series(self.indicators, indicator, boundary, self.as_of)

    def forecast(self, indicator: str, boundary: str, estimator: str) -> pd.DataFrame:
        """Rows of ``forecasts`` for one series."""
        frame = self.forecasts
        return frame[(frame.indicator == indicator) & (frame.boundary == boundary) & (frame.estimator == estimator)]

    def assessed(self, indicator: str, boundary: str) -> pd.DataFrame:
        """Rows of ``assessments`` for one indicator and boundary (both checked: see :meth:`check`)."""
        self.check(indicator=indicator, boundary=boundary)
        frame = self.assessments
        return frame[(frame.indicator == indicator) & (frame.boundary == boundary)]


def load_report(lang: str, as_of: int | None = 0) -> ReportData:
    """The tables for a report in ``lang`` with figures published up to ``as_of`` (0 or None: all; a notebook's
    parameter is 0, the tables inside say None).

    Raises
    ------
    ValueError
        For a language without a text catalogue.
    """
    from analysis.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    return ReportData(lang, int(as_of) if as_of else None)
