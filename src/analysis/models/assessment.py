"""Targets x estimators: official-style verdicts and probabilities from the cleaned tables.

:func:`assess` is pure: it takes the processed ``indicators`` and ``targets`` tables and an
assessment plan, and returns the ``forecasts`` and ``assessments`` tables (the contract the
reports read).  No line is ever fitted through several estimators or across the July 2025
boundary change: a series is one indicator x boundary x estimator.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
import pandas as pd
from scipy import special  # stats.norm's functions, without importing scipy.stats

from analysis import tables
from analysis.data.observations import FIGURE_KIND_ORDER, FIGURE_TYPE_ORDER, observations, preferred_figure
from analysis.data.registry import Registry, load_registry
from analysis.errors import PlanError
from analysis.models import forecasting, progress, single_models
from analysis.models.assessment_plan import PlanEntry, PlanExecution
from analysis.models.judging import judge_outcome, meets, precision_margin, self_reported, status_for
from analysis.models.schemas import ASSESSMENTS, FORECASTS

FORECAST_COLUMNS = tables.columns(FORECASTS)
ASSESSMENT_COLUMNS = tables.columns(ASSESSMENTS)
#: How a published figure's kind reads as an outcome (a projection or a plan is never one).
OUTCOME_KINDS = {"actual": "final", "estimate": "estimate", "preliminary": "preliminary"}
MIN_POINTS_FOR_FORECAST = 3


def observed_series(
    indicators: pd.DataFrame, indicator: str, boundary: str, as_of: int | None = None
) -> dict[str, pd.Series]:
    """Yearly observations per estimator for one indicator and boundary.

    Only calendar-year actuals, estimates and preliminary figures (never projections, never a
    figure whose year is not stated); a point value is preferred to a range's midpoint for the same
    year.  With ``as_of``, only years up to it (the tables passed should be those cleaned as of it).

    Returns
    -------
    dict of str to pandas.Series
        Estimator -> values indexed by year (indicator units), sorted by year.
    """
    frame = observations(indicators, indicator, boundary)
    if as_of is not None:
        frame = frame[frame["year"] <= as_of]
    out = {}
    for estimator, group in frame.groupby("estimator", sort=True):
        group = group.assign(_point=(group["value_type"] == "point").astype(int)).sort_values(["year", "_point"])
        series = group.drop_duplicates("year", keep="last").set_index("year")["value"].astype(float)
        series.index = series.index.astype(int)
        out[str(estimator)] = series.sort_index()
    return out


def _target(row: pd.Series, year: int) -> dict:
    return {
        "target_id": row["target_id"],
        "target_year": year,
        "value": float(row["value"]),
        "comparator": row["comparator"],
        "unit": row["unit"],
    }


def plan_targets(targets: pd.DataFrame, entry: PlanEntry) -> list[dict]:
    """Targets for a plan entry: the preferred target for each listed year; an annual target in each annual year.

    An annual target ("at least 2% a year from 2025", "4-5% a year in 2026-2030") applies in every
    year of its span; the plan's ``annual_target_years`` inside that span are assessed.

    Returns
    -------
    list of dict
        ``target_id``, ``target_year``, ``value`` (in the indicator's unit), ``comparator``, ``unit``; by year.
    """
    rows = targets[
        (targets["indicator"] == entry.indicator) & (targets["boundary"] == entry.boundary) & targets["preferred"]
    ]
    chosen = []
    for _, row in rows.iterrows():
        year, start, end = (None if pd.isna(row[c]) else int(row[c]) for c in ("target_year", "span_start", "span_end"))
        if row["period"] != "annual":
            if year in entry.target_years:
                chosen.append(_target(row, year))
            continue
        first = start if start is not None else year
        if first is None:
            continue
        chosen.extend(_target(row, y) for y in entry.annual_target_years if y >= first and (end is None or y <= end))
    by_year = {t["target_year"]: t for t in sorted(chosen, key=lambda t: (t["target_year"], t["target_id"]))}
    return [by_year[y] for y in sorted(by_year)]


def missing_targets(targets: pd.DataFrame, plan: tuple[PlanEntry, ...]) -> list[str]:
    """Plan entries asking for a target year that ``targets`` does not hold, one message per year."""
    problems = []
    for entry in plan:
        found = {t["target_year"] for t in plan_targets(targets, entry)}
        for year in (*entry.target_years, *entry.annual_target_years):
            if year not in found:
                problems.append(
                    f"assessment plan: {entry.indicator} @ {entry.boundary}: no target for {year} in targets.csv "
                    "(add the figure as a raw row of kind 'target', or remove the year from data/assessment_plan.yml)"
                )
    return problems


def outcome_figure(
    indicators: pd.DataFrame, indicator: str, boundary: str, estimator: str, year: int
) -> pd.Series | None:
    """The figure published for a (passed) target year at one boundary, by one estimator (None when none).

    Final, estimated and preliminary figures only (a projection or a plan is not an outcome), the one
    :func:`preferred_figure` picks.
    """
    # an outcome may be a bound, a rank or a top-k (a target can be one): every value type counts
    rows = observations(indicators, indicator, boundary, kinds=FIGURE_KIND_ORDER, value_types=FIGURE_TYPE_ORDER)
    return preferred_figure(rows[(rows["estimator"] == estimator) & (rows["year"] == year)])


def series_plan(
    indicators: pd.DataFrame, entry: PlanEntry, series: pd.Series, execution: PlanExecution | None
) -> tuple[int, float, float, float] | None:
    """The earliest plan published for a year after a series' latest figure, as forecast evidence:
    (year, value, median ratio, log sd); None without a plan or without ``execution``."""
    if execution is None or series.empty:
        return None
    rows = observations(indicators, entry.indicator, entry.boundary, kinds=("plan",))
    rows = rows[rows["year"] > int(series.index[-1])]
    if rows.empty:
        return None
    year = int(rows["year"].min())
    plan = plan_figure(indicators, entry.indicator, entry.boundary, year)
    return year, float(plan["value"]), execution.median_ratio, execution.log_sd


def plan_figure(indicators: pd.DataFrame, indicator: str, boundary: str, year: int) -> pd.Series | None:
    """The plan published for a year (an allocation in a budget estimate), or None.

    A plan is evidence about its year, never its outcome.
    """
    rows = observations(indicators, indicator, boundary, kinds=("plan",))
    rows = rows[rows["year"] == year]
    return None if rows.empty else rows.sort_values("value_type", kind="stable").iloc[-1]


def assess_series(
    series: pd.Series,
    target: dict,
    unit: str,
    n_paths: int = 4000,
    seed: int = 0,
    horizon_end: int | None = None,
    reference_year: int | None = None,
    plan: tuple[int, float, float, float] | None = None,
) -> tuple[dict, forecasting.Forecast | None]:
    """Deterministic rules and probabilities for one series against one target.

    Parameters
    ----------
    series : Series
        Observed values by year (indicator units).
    target : dict
        ``target_id``, ``target_year``, ``value``, ``comparator``.
    reference_year : int, optional
        The year "now" (``as_of``, or the year the run happens): a target year before it has passed,
        and is then never given a probability of being met.
    plan : (year, value, median ratio, log sd), optional
        A plan published for a year after the latest figure: the forecast is conditioned on it
        (:func:`forecasting.plan_evidence`); with too few figures to forecast, the plan alone gives the
        distribution of its own year (``data_status`` ``plan_only``).

    Returns
    -------
    (dict, Forecast or None)
        Assessment fields (see :data:`ASSESSMENT_COLUMNS`, without the outcome) and the default
        method's forecast for years latest + 1 ... ``horizon_end`` (None when the series is too
        short to forecast).
    """
    target_year, target_value, comparator = target["target_year"], target["value"], target["comparator"]
    reference_year = reference_year or dt.date.today().year
    passed = target_year < reference_year
    result: dict = {c: math.nan for c in ASSESSMENT_COLUMNS}
    result.update(
        target_id=target["target_id"],
        target_year=target_year,
        target_value=target_value,
        comparator=comparator,
        n_obs=len(series),
        reference_year=reference_year,
        target_passed=passed,
        eurostat_category=None,
        unsd_category=None,
        escap_category=None,
        eurostat_by_base=None,
        outcome=None,
        outcome_kind=None,
        outcome_qualifier=None,
        outcome_source=None,
        outcome_boundary=None,
        plan_source=None,
    )
    if series.empty:
        result["data_status"] = "no_observations"
        return result, None
    latest_year, latest_value = int(series.index[-1]), float(series.iloc[-1])
    result.update(
        first_year=int(series.index[0]),
        latest_year=latest_year,
        latest_value=latest_value,
        required_pace_pp=progress.required_pace_pp(latest_value, target_value, latest_year, target_year),
    )
    plan = plan if plan is not None and plan[0] > latest_year else None
    if len(series) < 2:
        result["data_status"] = "one_observation"
        return _plan_only(result, plan, target, unit, passed), None
    if target_year <= latest_year:
        # The target year is observed: its figure decides (see with_outcome), paces and rules do not apply.
        result.update(
            data_status="ok" if len(series) >= MIN_POINTS_FOR_FORECAST else "too_few_points_for_forecast",
            required_pace_pp=math.nan,
        )
        return result, None
    first_year, first_value = int(series.index[0]), float(series.iloc[0])
    observed = progress.pace_pp(first_value, latest_value, first_year, latest_year)
    result.update(
        observed_pace_pp=observed,
        years_to_target_at_pace=progress.years_to_target(latest_value, target_value, observed),
    )
    euro = progress.eurostat_assessment(series, target_value, target_year)
    result.update(eurostat_category=euro["category"], eurostat_ratio=euro["ratio"])
    by_base = []
    for base in series.index[:-1]:
        alternative = progress.eurostat_assessment(series, target_value, target_year, base_year=int(base))
        by_base.append(f"{int(base)}:{alternative['category']}")
    result["eurostat_by_base"] = ";".join(by_base)
    unsd = progress.unsd_assessment(series, target_value, target_year)
    result.update(unsd_r=unsd["r"], unsd_category=unsd["category"], cagr_projection_value=unsd["expected_value"])
    escap = progress.escap_anticipated(series, target_value, target_year)
    result.update(escap_ap=escap["ap"], escap_category=escap["category"])
    if len(series) < MIN_POINTS_FOR_FORECAST:
        result["data_status"] = "too_few_points_for_forecast"
        return _plan_only(result, plan, target, unit, passed), None
    result["data_status"] = "ok"
    end = max(horizon_end or target_year, target_year)
    horizon = end - latest_year
    key = (tuple(int(y) for y in series.index), tuple(float(v) for v in series), horizon, unit, plan)
    default = _forecast(*key)
    step = target_year - latest_year - 1
    bands = _quantiles(*key)
    result.update(
        median_projection_value=float(bands["median"][step]),
        projection_lo80=float(bands["lo80"][step]),
        projection_hi80=float(bands["hi80"][step]),
    )
    if passed:
        return result, default  # a nowcast of a passed year, never a probability of meeting it
    observed_met = bool(any(meets(v, target_value, comparator) for v in series))
    p_by_model = _single_model_probabilities(key, target_value, comparator, step)
    paths = _paths(*key, n_paths, seed)
    result.update(
        p_meet_in_year=float(default.probability_in_year(target_value, comparator)[step]),
        p_met_by_year=1.0
        if observed_met
        else float(forecasting.probability_met_by(paths, target_value, comparator)[step]),
        p_meet_model_min=min(p_by_model) if p_by_model else math.nan,
        p_meet_model_max=max(p_by_model) if p_by_model else math.nan,
        median_year_met=(
            latest_year
            if observed_met
            else forecasting.median_first_year(paths, latest_year + 1, target_value, comparator)
        ),
    )
    return result, default


_NO_PROBABILITY = ("p_meet_in_year", "p_met_by_year", "p_meet_model_min", "p_meet_model_max", "median_year_met")
_NO_NOWCAST = ("median_projection_value", "projection_lo80", "projection_hi80")


def with_outcome(
    result: dict, figure: pd.Series | None, ended: bool = False, successor: pd.Series | None = None
) -> dict:
    """The assessment with the judged outcome of its (passed) target year.

    Parameters
    ----------
    figure : Series, optional
        The figure of the target's own boundary and estimator for the target year (see
        :func:`outcome_figure`); it decides, by :func:`judging.judge_outcome`.
    ended : bool
        The target's boundary no longer existed in the target year.  Without ``figure`` the status is
        then ``boundary_ended``, never met or not met: ``successor`` (the figure the place after the
        merger published, if any) is shown beside it, and the former boundary's nowcast is kept.
    """
    if figure is None and not ended:
        return result
    result = dict(result, **dict.fromkeys(_NO_PROBABILITY, math.nan))
    if figure is None:
        result["outcome"] = "boundary_ended"
        if successor is not None:
            result.update(_figure_fields(successor), outcome_boundary=successor["boundary"])
        return result
    margin = precision_margin(figure["value_as_published"], figure["qualifier"])
    value = float(figure["value"])
    outcome = judge_outcome(
        value, result["target_value"], result["comparator"], margin, figure["qualifier"], figure["kind"]
    )
    result.update(_figure_fields(figure), outcome=outcome, outcome_precision=margin, outcome_boundary=None)
    return result | dict.fromkeys(_NO_NOWCAST, math.nan)


def _figure_fields(figure: pd.Series) -> dict:
    return {
        "outcome_value": float(figure["value"]),
        "outcome_kind": OUTCOME_KINDS[figure["kind"]],
        "outcome_qualifier": figure["qualifier"],
        "outcome_source": figure["source_id"],
    }


def _plan_only(result: dict, plan, target: dict, unit: str | None, passed: bool) -> dict:
    """A series too short to forecast whose target year has a plan: the plan alone gives that year's distribution.

    The status then follows that probability; a passed year gets the plan-based nowcast only.
    """
    if plan is None or plan[0] != target["target_year"]:
        return result
    scale = forecasting.scale_for([plan[1]], unit)
    evidence = forecasting.plan_evidence(plan, scale, plan[0] - 1)
    centre, spread = evidence.observed - evidence.bias, evidence.sd
    z_target = float(scale.forward(target["value"]))
    below = float(special.ndtr((z_target - centre) / spread))
    bands = {
        name: float(scale.inverse(centre + spread * special.ndtri(level)))
        for name, level in forecasting.QUANTILES.items()
    }
    result = dict(
        result,
        data_status="plan_only",
        median_projection_value=bands["median"],
        projection_lo80=bands["lo80"],
        projection_hi80=bands["hi80"],
    )
    if not passed:
        probability = below if target["comparator"] in ("at_most", "top_k") else 1.0 - below
        result.update(p_meet_in_year=probability, p_met_by_year=probability)
    return result


# Every target of one series uses the same forecasts, quantiles and paths: computed once per series.


@functools.lru_cache(maxsize=64)
def _forecast(
    years: tuple[int, ...], values: tuple[float, ...], horizon: int, unit: str | None, plan
) -> forecasting.Forecast:
    """The default method's forecast (conditioned on the plan, when one is given)."""
    return forecasting.forecast(np.array(years), np.array(values), horizon, unit, plan=plan)


@functools.lru_cache(maxsize=64)
def _single_models(years: tuple[int, ...], values: tuple[float, ...], horizon: int, unit: str | None) -> tuple:
    """The statsmodels single models' predictives on the series' scale (see :mod:`single_models`), and the scale."""
    scale = forecasting.scale_for(np.array(values), unit)
    return scale, single_models.statsmodels_forecast(np.array(years), scale.forward(np.array(values)), horizon)


def _single_model_probabilities(key: tuple, target_value: float, comparator: str, step: int) -> list[float]:
    """Each single model's probability of meeting the target in the target year (the model range)."""
    scale, fitted = _single_models(*key[:4])
    z_target = float(scale.forward(target_value))
    out = []
    for location, spread, dof in fitted.values():
        above = float(single_models.probability_at_least(location[step], spread[step], dof, z_target))
        out.append(1.0 - above if comparator in ("at_most", "top_k") else above)
    return out


@functools.lru_cache(maxsize=64)
def _quantiles(years: tuple[int, ...], values: tuple[float, ...], horizon: int, unit: str | None, plan) -> dict:
    return _forecast(years, values, horizon, unit, plan).quantiles()


@functools.lru_cache(maxsize=64)
def _paths(
    years: tuple[int, ...], values: tuple[float, ...], horizon: int, unit: str | None, plan, n_paths: int, seed: int
) -> np.ndarray:
    """Paths of the default method, for "met by year" and the first year a target is met."""
    return _forecast(years, values, horizon, unit, plan).paths(n_paths, seed)


def assess(
    indicators: pd.DataFrame,
    targets: pd.DataFrame,
    plan: tuple[PlanEntry, ...],
    as_of: int | None = None,
    n_paths: int = 4000,
    seed: int = 0,
    registry: Registry | None = None,
    reference_year: int | None = None,
    plan_execution: PlanExecution | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assess every plan entry for every estimator series.

    Parameters
    ----------
    indicators, targets : DataFrame
        The processed tables (``indicators.csv``, ``targets.csv``), or those cleaned as of ``as_of``.
    plan : tuple of PlanEntry
        Which indicator and boundary to assess against which target years (``data/assessment_plan.yml``).
    as_of : int, optional
        The assessment as it stood at the end of this year: only years up to it, and target years
        before it count as passed.
    registry : Registry, optional
        Places and their mergers (a pre-merger target's outcome may be published for the merged place).
    reference_year : int, optional
        The year from which "passed" is counted when ``as_of`` is not given (default: this year).
    plan_execution : PlanExecution, optional
        How a plan published for a future year is read as evidence about it (``plans`` in the assessment
        plan); without it plans are shown but do not move a forecast.

    Raises
    ------
    PlanError
        When the plan asks for a target that ``targets`` does not hold.

    Returns
    -------
    (forecasts, assessments)
        ``forecasts``: one row per indicator x boundary x estimator x year (observed years
        carry the observation as median with empty bands).  ``assessments``: one row per
        indicator x boundary x estimator x target (see ``models/schemas.py``).
    """
    missing = missing_targets(targets, plan)
    if missing:
        raise PlanError("\n".join(missing))
    registry = registry or load_registry()
    reference = as_of or reference_year or dt.date.today().year
    execution = plan_execution
    forecast_rows, assessment_rows = [], []
    as_of_value = as_of if as_of is not None else pd.NA
    for entry in plan:
        entry_targets = plan_targets(targets, entry)
        series_by_estimator = observed_series(indicators, entry.indicator, entry.boundary, as_of) or {
            "none": pd.Series(dtype=float)
        }
        unit = _unit_of(indicators, entry.indicator)
        horizon_end = max([t["target_year"] for t in entry_targets], default=None)
        base = {
            "indicator": entry.indicator,
            "geography": entry.geography,
            "boundary": entry.boundary,
            "as_of": as_of_value,
        }
        for estimator, series in series_by_estimator.items():
            kept = None
            evidence = series_plan(indicators, entry, series, execution)
            for target in entry_targets:
                row, found = assess_series(series, target, unit, n_paths, seed, horizon_end, reference, evidence)
                year = target["target_year"]
                # Only a year that is over has an outcome (a figure "for" a year not yet over is a forecast).
                if year < reference:
                    figure = outcome_figure(indicators, entry.indicator, entry.boundary, estimator, year)
                    ended = registry.boundary_ended(entry.boundary, year)
                    successor = registry.successor(entry.boundary)
                    after = (
                        outcome_figure(indicators, entry.indicator, successor, estimator, year)
                        if ended and figure is None
                        else None
                    )
                    row = with_outcome(row, figure, ended, after)
                plan = plan_figure(indicators, entry.indicator, entry.boundary, year)
                if plan is not None:
                    row.update(plan_value=float(plan["value"]), plan_source=plan["source_id"])
                row["status"] = status_for(row)
                assessment_rows.append({**row, **base, "estimator": estimator})
                if found is not None:
                    kept = found
            for year, value in series.items():
                forecast_rows.append({**base, "estimator": estimator, "year": int(year), "median": float(value)})
            if kept is not None:
                bands = kept.quantiles()
                for step, year in enumerate(kept.years):
                    values = {name: float(band[step]) for name, band in bands.items()}
                    forecast_rows.append({**base, "estimator": estimator, "year": int(year), **values})
    forecasts = pd.DataFrame(forecast_rows, columns=FORECAST_COLUMNS)
    assessments = pd.DataFrame(with_confirmation(assessment_rows, registry), columns=ASSESSMENT_COLUMNS)
    return forecasts, assessments


def with_confirmation(rows: list[dict], registry: Registry) -> list[dict]:
    """Flag each target reported as met by the government's own figure only (``outcome_self_reported``).

    A target is confirmed when a figure of an independent estimator (the statistics office) for the same
    indicator, boundary and year also meets it.
    """
    confirmed = {
        (row["indicator"], row["boundary"], row["target_year"])
        for row in rows
        if row.get("outcome") == "met" and registry.is_independent(row["estimator"])
    }
    out = []
    for row in rows:
        key = (row["indicator"], row["boundary"], row["target_year"])
        flag = self_reported(
            row["estimator"], registry.is_independent(row["estimator"]), row.get("outcome"), key in confirmed
        )
        out.append(
            {**row, "outcome_self_reported": flag if row.get("outcome") in ("met", "reported_reached") else None}
        )
    return out


def _unit_of(indicators: pd.DataFrame, indicator: str) -> str | None:
    units = indicators.loc[indicators["indicator"] == indicator, "unit"].unique()
    return str(units[0]) if len(units) else None
