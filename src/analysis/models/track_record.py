"""Track record: what the package would have said at each past ``as_of`` year, scored where the outcome is known.

For every planned target and estimator, the assessment is rerun as the data stood at the end of
each past year (figures published by then, conflicts resolved among them, vintage by vintage).
Where the target year's figure is now published, each earlier statement is scored: the Brier
score of its probability, and whether the published figure fell inside its 80% and 95% forecast
intervals.  It is the honest test of the method on the city's own data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.models.assessment import assess, observed_series
from analysis.models.assessment_plan import PlanEntry
from analysis.models.judging import meets
from analysis.models.schemas import FORECAST_CHECKS, TRACK_RECORD

#: The first year the package restates: the city's digital-economy figures start to be published in 2021.
FIRST_AS_OF = 2021

COLUMNS = list(TRACK_RECORD.columns)


#: The columns of one restated statement, before it is scored against today's outcome.
STATEMENT_COLUMNS = [
    *(c for c in COLUMNS if c not in ("outcome", "outcome_value", "brier", "inside80", "inside95")),
    "comparator",
]


def restate(
    indicators: pd.DataFrame,
    targets: pd.DataFrame,
    plan: tuple[PlanEntry, ...],
    as_of: int,
    n_paths: int = 2000,
    registry=None,
    plan_execution=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the package would have said at the end of ``as_of``: one row per target then in the future, and
    every forecast it made for the years after ``as_of``.

    Returns
    -------
    (DataFrame, DataFrame)
        :data:`STATEMENT_COLUMNS`: the assessment's probability and the forecast band for the target year
        (shares in percent), not yet scored; and :data:`FORECAST_COLUMNS`: each series' forecast median and
        bands for each later year, to check against the figures published since (:func:`forecast_checks`).
    """
    forecasts, assessments = assess(
        indicators, targets, plan, as_of=as_of, n_paths=n_paths, registry=registry, plan_execution=plan_execution
    )
    said = assessments[(assessments["target_year"] > as_of) & assessments["p_meet_in_year"].notna()]
    bands = forecasts.set_index(["indicator", "boundary", "estimator", "year"])
    rows = []
    for _, row in said.iterrows():
        index = (row["indicator"], row["boundary"], row["estimator"], row["target_year"])
        band = bands.loc[[index]] if index in bands.index else None
        record = {c: row[c] for c in STATEMENT_COLUMNS if c in row.index}
        record.update(
            as_of=as_of,
            **{
                name: (float(band.iloc[0][name]) if band is not None else math.nan)
                for name in ("median", "lo80", "hi80", "lo95", "hi95")
            },
        )
        rows.append(record)
    ahead = forecasts[(forecasts["year"] > as_of) & forecasts["lo80"].notna()].assign(as_of=as_of)
    return pd.DataFrame(rows, columns=STATEMENT_COLUMNS), ahead[FORECAST_COLUMNS].reset_index(drop=True)


#: A restated forecast of one series for one later year (before it is checked against the figure).
FORECAST_COLUMNS = [
    "indicator",
    "geography",
    "boundary",
    "estimator",
    "as_of",
    "year",
    "median",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
]
CHECK_COLUMNS = list(FORECAST_CHECKS.columns)


def forecast_checks(forecasts: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Each earlier forecast beside the figure published since for its series and year (only where one is).

    Returns
    -------
    DataFrame
        See ``FORECAST_CHECKS`` (``models/schemas.py``): the error is the forecast median minus the figure, in
        the unit (percentage points for shares): positive when the forecast was too high.
    """
    rows = []
    series = {}
    for key, group in forecasts.groupby(["indicator", "boundary", "estimator"], sort=False):
        if key not in series:
            series[key] = observed_series(indicators, key[0], key[1]).get(key[2], pd.Series(dtype=float))
        observed = series[key]
        for _, row in group.iterrows():
            if int(row["year"]) not in observed.index:
                continue
            value = float(observed.loc[int(row["year"])])
            rows.append(
                {
                    **{c: row[c] for c in FORECAST_COLUMNS},
                    "horizon": int(row["year"]) - int(row["as_of"]),
                    "outcome_value": value,
                    "error": float(row["median"]) - value,
                    "inside80": bool(row["lo80"] <= value <= row["hi80"]),
                    "inside95": bool(row["lo95"] <= value <= row["hi95"]),
                }
            )
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def check_summary(checks: pd.DataFrame) -> pd.DataFrame:
    """Per series (indicator, boundary, estimator): how many forecasts were checked, the share inside their 80%
    and 95% intervals, and the mean error of the median (its bias: forecast minus figure) and its mean size."""
    if checks.empty:
        return pd.DataFrame(
            columns=["indicator", "boundary", "estimator", "checked", "inside80", "inside95", "bias", "mean_abs_error"]
        )
    return (
        checks.groupby(["indicator", "boundary", "estimator"], sort=True)
        .agg(
            checked=("error", "size"),
            inside80=("inside80", "mean"),
            inside95=("inside95", "mean"),
            bias=("error", "mean"),
            mean_abs_error=("error", lambda e: float(np.mean(np.abs(e)))),
        )
        .reset_index()
    )


def score(statements: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Score each statement whose target year's figure is now published for its own boundary.

    Adds the outcome, the published value, whether the value fell inside its 80% and 95% bands, and,
    where the outcome is plainly met or not met, the Brier score of the statement's probability (a
    figure reported as reached within its precision settles no yes-or-no question); the other
    statements keep blanks.  A target whose boundary ended is not scored: the figure shown for it
    belongs to another series.
    """
    key = ["indicator", "boundary", "estimator", "target_year"]
    known = outcomes[outcomes["outcome"].isin(["met", "not_met", "reported_reached"])].set_index(key)
    rows = []
    for _, row in statements.iterrows():
        record = row.to_dict()
        index = tuple(row[c] for c in key)
        if index in known.index:
            outcome = known.loc[index]
            value = float(outcome["outcome_value"])
            record.update(outcome=outcome["outcome"], outcome_value=value)
            if outcome["outcome"] in ("met", "not_met"):
                met = meets(value, float(row["target_value"]), row["comparator"])
                record["brier"] = (float(row["p_meet_in_year"]) - float(met)) ** 2
            if not pd.isna(row["lo80"]):
                record.update(
                    inside80=bool(row["lo80"] <= value <= row["hi80"]),
                    inside95=bool(row["lo95"] <= value <= row["hi95"]),
                )
        rows.append(record)
    return pd.DataFrame(rows, columns=COLUMNS)


def track_record(restated, outcomes: pd.DataFrame, reference_year: int) -> pd.DataFrame:
    """Every planned target restated at each past year, scored where the outcome is known.

    Parameters
    ----------
    restated : callable
        ``as_of -> (statements, forecasts)`` (see :func:`restate`) as the data stood at the end of that year.
    outcomes : DataFrame
        Today's assessments (their ``outcome`` and ``outcome_value`` score the earlier statements).
    reference_year : int
        Statements are restated for the years ``FIRST_AS_OF`` .. ``reference_year - 1``.

    Returns
    -------
    (DataFrame, DataFrame)
        See :data:`TRACK_RECORD` (only statements made before the target year that carried a probability),
        and every restated forecast (:data:`FORECAST_COLUMNS`) for :func:`forecast_checks`.
    """
    said = [restated(as_of) for as_of in range(FIRST_AS_OF, reference_year)]
    statements = pd.concat([s for s, _ in said], ignore_index=True)
    forecasts = pd.concat(
        [f for _, f in said if not f.empty] or [pd.DataFrame(columns=FORECAST_COLUMNS)], ignore_index=True
    )
    return score(statements, outcomes), forecasts


def scores(record: pd.DataFrame) -> dict:
    """Summary of the scored statements: how many, mean Brier score, and the share inside the intervals."""
    scored = record.dropna(subset=["brier"])
    inside80 = scored["inside80"].dropna().astype(bool)
    inside95 = scored["inside95"].dropna().astype(bool)
    return {
        "statements": len(record),
        "scored": len(scored),
        "mean_brier": float(scored["brier"].mean()) if len(scored) else math.nan,
        "inside80": float(inside80.mean()) if len(inside80) else math.nan,
        "inside95": float(inside95.mean()) if len(inside95) else math.nan,
        "as_of_years": sorted(int(y) for y in np.unique(record["as_of"])) if len(record) else [],
    }
