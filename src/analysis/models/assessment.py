"""Targets x estimators: official-style verdicts and probabilities from the cleaned tables.

:func:`assess` is pure: it takes the processed ``indicators`` and ``targets`` tables and an
assessment plan, and returns the ``forecasts`` and ``assessments`` tables (the contract the
reports read).  No line is ever fitted through several estimators or across the July 2025
boundary change: a series is one indicator x boundary x estimator.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from analysis import tables
from analysis.errors import PlanError
from analysis.models import forecasting, progress
from analysis.models.plan import PlanEntry
from analysis.models.schemas import ASSESSMENTS, FORECASTS

FORECAST_COLUMNS = tables.columns(FORECASTS)
ASSESSMENT_COLUMNS = tables.columns(ASSESSMENTS)
OBSERVED_KINDS = ("actual", "estimate")
MIN_POINTS_FOR_FORECAST = 3


def published_year(row: pd.Series) -> int:
    """Year a figure became public: its first publication date, else (undated) the year after the data year."""
    date = row.get("first_published")
    if isinstance(date, str) and date:
        return int(date[:4])
    return int(row["year"]) + 1


def observed_series(
    indicators: pd.DataFrame, indicator: str, boundary: str, as_of: int | None = None
) -> dict[str, pd.Series]:
    """Yearly observations per estimator for one indicator and boundary.

    Only calendar-year actuals and estimates; a point value is preferred to a range's
    midpoint for the same year.  With ``as_of``, only figures published by that year.

    Returns
    -------
    dict of str to pandas.Series
        Estimator -> values indexed by year (indicator units), sorted by year.
    """
    frame = indicators[
        (indicators["indicator"] == indicator)
        & (indicators["boundary"] == boundary)
        & (indicators["kind"].isin(OBSERVED_KINDS))
        & (indicators["period"] == "Y")
        & (indicators["value_type"].isin(["point", "range"]))
    ].copy()
    if as_of is not None and not frame.empty:
        frame = frame[frame.apply(published_year, axis=1) <= as_of]
        frame = frame[frame["year"] <= as_of]
    out = {}
    for estimator, group in frame.groupby("estimator", sort=True):
        group = group.assign(_point=(group["value_type"] == "point").astype(int)).sort_values(["year", "_point"])
        series = group.drop_duplicates("year", keep="last").set_index("year")["value"].astype(float)
        series.index = series.index.astype(int)
        out[str(estimator)] = series.sort_index()
    return out


def plan_targets(targets: pd.DataFrame, entry: PlanEntry) -> list[dict]:
    """Targets for a plan entry: the preferred target for each listed year; open annual targets in each annual year.

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
        year = row["target_year"]
        if entry.target_years and not pd.isna(year) and int(year) in entry.target_years and row["period"] != "annual":
            chosen.append(
                {
                    "target_id": row["target_id"],
                    "target_year": int(year),
                    "value": float(row["value"]),
                    "comparator": row["comparator"],
                    "unit": row["unit"],
                }
            )
        if entry.annual_target_years and row["period"] == "annual" and not pd.isna(year):
            for extra in entry.annual_target_years:
                if extra >= int(year):
                    chosen.append(
                        {
                            "target_id": row["target_id"],
                            "target_year": extra,
                            "value": float(row["value"]),
                            "comparator": row["comparator"],
                            "unit": row["unit"],
                        }
                    )
    return sorted(chosen, key=lambda t: t["target_year"])


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


def assess_series(
    series: pd.Series, target: dict, unit: str, n_paths: int = 4000, seed: int = 0, horizon_end: int | None = None
) -> tuple[dict, np.ndarray | None]:
    """Deterministic rules and probabilities for one series against one target.

    Returns
    -------
    (dict, paths or None)
        Assessment fields (see :data:`ASSESSMENT_COLUMNS`) and the pooled paths for years
        latest + 1 ... ``horizon_end`` (None when the series is too short to forecast).
    """
    target_year, target_value, comparator = target["target_year"], target["value"], target["comparator"]
    result: dict = {c: math.nan for c in ASSESSMENT_COLUMNS}
    result.update(
        target_id=target["target_id"],
        target_year=target_year,
        target_value=target_value,
        comparator=comparator,
        n_obs=len(series),
        eurostat_category=None,
        unsd_category=None,
        escap_category=None,
        eurostat_by_base=None,
    )
    if series.empty:
        result["status"] = "no_observations"
        return result, None
    latest_year, latest_value = int(series.index[-1]), float(series.iloc[-1])
    result.update(
        first_year=int(series.index[0]),
        latest_year=latest_year,
        latest_value=latest_value,
        required_pace_pp=progress.required_pace_pp(latest_value, target_value, latest_year, target_year),
    )
    if len(series) < 2:
        result["status"] = "one_observation"
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
        result["status"] = "too_few_points_for_forecast"
        return result, None
    end = max(horizon_end or target_year, target_year)
    horizon = end - latest_year
    if horizon <= 0:
        result["status"] = "target_year_observed"
        met = latest_value >= target_value if comparator != "at_most" else latest_value <= target_value
        result.update(p_meet_in_year=float(met), p_met_by_year=float(met))
        return result, None
    per_model = _paths_by_model(
        tuple(int(y) for y in series.index), tuple(float(v) for v in series), horizon, unit, n_paths, seed
    )
    paths = np.vstack([per_model[m] for m in forecasting.DEFAULT_MODELS])
    step = target_year - latest_year - 1
    observed_met = (
        bool((series >= target_value).any()) if comparator != "at_most" else bool((series <= target_value).any())
    )
    p_by_model = [float(forecasting.probability_meets(p, target_value, comparator)[step]) for p in per_model.values()]
    result.update(
        status="ok",
        p_meet_in_year=float(forecasting.probability_meets(paths, target_value, comparator)[step]),
        p_met_by_year=1.0
        if observed_met
        else float(forecasting.probability_met_by(paths, target_value, comparator)[step]),
        p_meet_model_min=min(p_by_model),
        p_meet_model_max=max(p_by_model),
        median_year_met=(
            latest_year
            if observed_met
            else forecasting.median_first_year(paths, latest_year + 1, target_value, comparator)
        ),
        median_projection_value=float(np.median(paths[:, step])),
    )
    return result, paths


@functools.lru_cache(maxsize=64)
def _paths_by_model(
    years: tuple[int, ...], values: tuple[float, ...], horizon: int, unit: str | None, n_paths: int, seed: int
) -> dict[str, np.ndarray]:
    """Simulated paths per model; cached because every target of one series uses the same paths."""
    return {
        m: forecasting.simulate_paths(np.array(years), np.array(values), horizon, unit, n_paths, models=(m,), seed=seed)
        for m in forecasting.MODELS
    }


def assess(
    indicators: pd.DataFrame,
    targets: pd.DataFrame,
    plan: tuple[PlanEntry, ...],
    as_of: int | None = None,
    n_paths: int = 4000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assess every plan entry for every estimator series.

    Parameters
    ----------
    indicators, targets : DataFrame
        The processed tables (``indicators.csv``, ``targets.csv``).
    plan : tuple of PlanEntry
        Which indicator and boundary to assess against which target years (``data/assessment_plan.yml``).
    as_of : int, optional
        Use only figures published up to this year.

    Raises
    ------
    PlanError
        When the plan asks for a target that ``targets`` does not hold.

    Returns
    -------
    (forecasts, assessments)
        ``forecasts``: one row per indicator x boundary x estimator x year (observed years
        carry the observation as median with empty bands).  ``assessments``: one row per
        indicator x boundary x estimator x target, with status "no_observations" where the
        data cannot answer.
    """
    missing = missing_targets(targets, plan)
    if missing:
        raise PlanError("\n".join(missing))
    forecast_rows, assessment_rows = [], []
    as_of_value = as_of if as_of is not None else pd.NA
    for entry in plan:
        entry_targets = plan_targets(targets, entry)
        series_by_estimator = observed_series(indicators, entry.indicator, entry.boundary, as_of)
        geography = entry.geography
        unit = _unit_of(indicators, entry.indicator)
        horizon_end = max([t["target_year"] for t in entry_targets], default=None)
        if not series_by_estimator:
            for target in entry_targets:
                row, _ = assess_series(pd.Series(dtype=float), target, unit)
                assessment_rows.append(
                    {
                        **row,
                        "indicator": entry.indicator,
                        "geography": geography,
                        "boundary": entry.boundary,
                        "estimator": "none",
                        "as_of": as_of_value,
                    }
                )
            continue
        for estimator, series in series_by_estimator.items():
            kept_paths = None
            for target in entry_targets:
                row, paths = assess_series(series, target, unit, n_paths, seed, horizon_end)
                assessment_rows.append(
                    {
                        **row,
                        "indicator": entry.indicator,
                        "geography": geography,
                        "boundary": entry.boundary,
                        "estimator": estimator,
                        "as_of": as_of_value,
                    }
                )
                if paths is not None:
                    kept_paths = paths
            base = {
                "indicator": entry.indicator,
                "geography": geography,
                "boundary": entry.boundary,
                "estimator": estimator,
                "as_of": as_of_value,
            }
            for year, value in series.items():
                forecast_rows.append({**base, "year": int(year), "median": float(value)})
            if kept_paths is not None:
                bands = forecasting.path_quantiles(kept_paths)
                for step in range(kept_paths.shape[1]):
                    forecast_rows.append(
                        {
                            **base,
                            "year": int(series.index[-1]) + step + 1,
                            **{name: float(values[step]) for name, values in bands.items()},
                        }
                    )
    forecasts = pd.DataFrame(forecast_rows, columns=FORECAST_COLUMNS)
    assessments = pd.DataFrame(assessment_rows, columns=ASSESSMENT_COLUMNS)
    return forecasts, assessments


def _unit_of(indicators: pd.DataFrame, indicator: str) -> str | None:
    units = indicators.loc[indicators["indicator"] == indicator, "unit"].unique()
    return str(units[0]) if len(units) else None


LIKELIHOOD_SCALE = (
    (0.99, "virtually_certain"),
    (0.90, "very_likely"),
    (0.66, "likely"),
    (0.33, "about_as_likely_as_not"),
    (0.10, "unlikely"),
    (0.01, "very_unlikely"),
    (0.0, "exceptionally_unlikely"),
)


def likelihood_label(probability: float) -> str | None:
    """IPCC-style calibrated language for a probability (likely = 66-100%, unlikely = 0-33%, ...)."""
    if probability is None or (isinstance(probability, float) and math.isnan(probability)):
        return None
    for threshold, label in LIKELIHOOD_SCALE:
        if probability >= threshold:
            return label
    return "exceptionally_unlikely"
