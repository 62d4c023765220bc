"""Schemas of the tables the models stage publishes (forecasts, assessments), with a data dictionary."""

from __future__ import annotations

import pandera.pandas as pa

from analysis.data.schemas import BOUNDARY, COMPARATORS, ESTIMATOR, GEOGRAPHY, INDICATOR, column

_ESTIMATOR_OR_NONE = column(str, "Estimator", ESTIMATOR.description + "; 'none' when no figure exists for the boundary")
_AS_OF = column(
    "Int64", "As of", "Only figures published up to this year were used; empty = every figure", nullable=True
)
_PROBABILITY = pa.Check.in_range(0, 1)


def _band(level: int, side: str) -> pa.Column:
    edge = "Lower" if side == "lo" else "Upper"
    return column(
        float,
        f"{edge} {level}% bound",
        f"{edge} end of the central {level}% forecast interval, in the unit; empty for observed years",
        nullable=True,
    )


FORECASTS = pa.DataFrameSchema(
    {
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "estimator": ESTIMATOR,
        "as_of": _AS_OF,
        "year": column(int, "Year", "Calendar year"),
        "median": column(
            float, "Median", "Observed value for observed years; median of the simulated paths for later years"
        ),
        "lo50": _band(50, "lo"),
        "hi50": _band(50, "hi"),
        "lo80": _band(80, "lo"),
        "hi80": _band(80, "hi"),
        "lo95": _band(95, "lo"),
        "hi95": _band(95, "hi"),
    },
    unique=["indicator", "boundary", "estimator", "as_of", "year"],
    strict=True,
    coerce=True,
    title="Forecasts",
    description="One row per indicator x boundary x estimator x year: the observations, "
    "then the forecast median and its "
    "50/80/95% intervals from the pooled model paths.",
)

ASSESSMENTS = pa.DataFrameSchema(
    {
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "estimator": _ESTIMATOR_OR_NONE,
        "as_of": _AS_OF,
        "target_id": column(str, "Target id", "Id of the target in targets.csv"),
        "target_year": column("Int64", "Target year", "Year in which the target is judged"),
        "target_value": column(float, "Target value", "The target in the indicator's unit"),
        "comparator": column(str, "Comparator", "How the target is met", pa.Check.isin(COMPARATORS)),
        "status": column(
            str, "Status", "ok, no_observations, one_observation, too_few_points_for_forecast, target_year_observed"
        ),
        "n_obs": column(int, "Observations", "Number of yearly figures in the series", pa.Check.ge(0)),
        "first_year": column("Int64", "First year", "First year of the series", nullable=True),
        "latest_year": column("Int64", "Latest year", "Latest year of the series", nullable=True),
        "latest_value": column(float, "Latest value", "Latest figure, in the unit", nullable=True),
        "observed_pace_pp": column(
            float,
            "Observed pace",
            "Average change per year from the first to the latest figure (percentage points a year for shares)",
            nullable=True,
        ),
        "required_pace_pp": column(
            float,
            "Required pace",
            "Change per year needed from the latest figure to the target (percentage points a year for shares)",
            nullable=True,
        ),
        "years_to_target_at_pace": column(
            float,
            "Years to target at pace",
            "Years from the latest figure to the target at the observed pace (inf: never)",
            nullable=True,
        ),
        "p_meet_in_year": column(
            float,
            "Probability in the target year",
            "Share of simulated paths meeting the target in the target year",
            _PROBABILITY,
            nullable=True,
        ),
        "p_met_by_year": column(
            float,
            "Probability met by the target year",
            "Share of paths that met the target in any year up to the target year",
            _PROBABILITY,
            nullable=True,
        ),
        "p_meet_model_min": column(
            float, "Lowest model probability", "Lowest probability among the single models", _PROBABILITY, nullable=True
        ),
        "p_meet_model_max": column(
            float,
            "Highest model probability",
            "Highest probability among the single models",
            _PROBABILITY,
            nullable=True,
        ),
        "median_year_met": column(
            float,
            "Median year met",
            "Median over paths of the first year the target is met (inf: half the paths never meet it by the horizon)",
            nullable=True,
        ),
        "eurostat_category": column(
            str,
            "Eurostat category",
            "Eurostat rule on the whole series (ratio of actual to required compound growth)",
            nullable=True,
        ),
        "eurostat_ratio": column(float, "Eurostat ratio", "Actual over required compound growth rate", nullable=True),
        "eurostat_by_base": column(
            str,
            "Eurostat category by base year",
            "base_year:category for every possible base year, ';'-separated",
            nullable=True,
        ),
        "unsd_r": column(
            float,
            "UNSD ratio r",
            "Share of the required progress achieved by the target year at the current compound growth",
            nullable=True,
        ),
        "unsd_category": column(str, "UNSD category", "UNSD progress-chart category", nullable=True),
        "escap_ap": column(
            float, "ESCAP anticipated progress", "ESCAP's weighted-trend anticipated progress ratio", nullable=True
        ),
        "escap_category": column(str, "ESCAP category", "maintain, accelerate or reverse", nullable=True),
        "cagr_projection_value": column(
            float,
            "Compound-growth projection",
            "Value in the target year if the compound growth rate continued (unbounded), in the unit",
            nullable=True,
        ),
        "median_projection_value": column(
            float, "Median forecast", "Median of the bounded model's paths in the target year", nullable=True
        ),
    },
    strict=True,
    coerce=True,
    title="Assessments",
    description="One row per indicator x boundary x estimator x target: paces, official-style verdicts, "
    "and the probability "
    "of meeting the target from the bounded forecast.",
)

SCHEMAS = {"forecasts": FORECASTS, "assessments": ASSESSMENTS}
