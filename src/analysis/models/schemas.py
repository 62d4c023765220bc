"""Schemas of the tables the models stage publishes (forecasts, assessments), with a data dictionary."""

from __future__ import annotations

import pandera.pandas as pa

from analysis.data.schemas import BOUNDARY, COMPARATORS, ESTIMATOR, GEOGRAPHY, INDICATOR, column
from analysis.models.assessment_plan import PROGRAMME_GROUPS, PROGRAMME_RULES
from analysis.models.judging import OUTCOMES
from analysis.models.judging import STATUSES as STATUS_IDS
from analysis.models.scorecard import BASES

_ESTIMATOR_OR_NONE = column(str, "Estimator", ESTIMATOR.description + "; 'none' when no figure exists for the boundary")
_AS_OF = column(
    "Int64", "As of", "Only figures published up to this year were used; empty = every figure", nullable=True
)
_PROBABILITY = pa.Check.in_range(0, 1)
STATUSES = list(STATUS_IDS)


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
        "reference_year": column(
            int, "Reference year", "The year from which 'passed' is counted: as_of, or the year of the run"
        ),
        "target_passed": column(bool, "Target year passed", "True when the target year is before the reference year"),
        "status": column(
            str,
            "Status",
            "The one status (models/judging.py): met, reported_reached (an approximate or not-yet-final figure "
            "at the target, within its precision), not_met, boundary_ended (the target's boundary no longer "
            "existed in its year; the successor's figure is shown), awaiting_figure (passed, no figure yet), "
            "on_track / uncertain / off_track (the forecast gives the target a probability of at least 66%, "
            "33-66%, below 33%; by pace with two figures), not_measurable (too few figures)",
            pa.Check.isin(STATUSES),
        ),
        "data_status": column(
            str,
            "Data status",
            "no_observations, one_observation, too_few_points_for_forecast "
            "(two figures: paces and rules only), ok (three or more: forecast)",
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
        "outcome": column(
            str,
            "Outcome",
            "met, reported_reached, not_met or boundary_ended: the passed target year judged on the figure "
            "published for it (models/judging.py)",
            pa.Check.isin(list(OUTCOMES)),
            nullable=True,
        ),
        "outcome_value": column(
            float, "Outcome value", "The figure published for the target year, in the unit", nullable=True
        ),
        "outcome_kind": column(str, "Outcome kind", "final, estimate, preliminary or projection", nullable=True),
        "outcome_qualifier": column(
            str, "Outcome qualifier", "How the source qualified the figure (approx: 'about')", nullable=True
        ),
        "outcome_source": column(str, "Outcome source", "Source id (sources.csv) of the outcome figure", nullable=True),
        "outcome_boundary": column(
            str,
            "Outcome boundary",
            "Set (boundary_ended only) when the figure shown was published for the place after its merger: "
            "the former place no longer reports separately, and the target is not judged on it",
            nullable=True,
        ),
        "outcome_precision": column(
            float,
            "Outcome precision",
            "How far the deciding figure may lie from the true value, in the unit: half a unit of its last "
            "printed digit, a whole unit when the source qualifies it ('about 25': 1)",
            nullable=True,
        ),
        "outcome_self_reported": column(
            "boolean",
            "Self-reported",
            "True when the target is reported as met or reached by the government's own figure only (no "
            "figure of the statistics office for the same year confirms it)",
            nullable=True,
        ),
        "plan_value": column(
            float,
            "Plan",
            "The plan published for the target year (an allocation in a budget estimate), in the unit; "
            "evidence about the year, never its outcome",
            nullable=True,
        ),
        "plan_source": column(str, "Plan source", "Source id (sources.csv) of the plan figure", nullable=True),
        "cagr_projection_value": column(
            float,
            "Compound-growth projection",
            "Value in the target year if the compound growth rate continued (unbounded), in the unit",
            nullable=True,
        ),
        "median_projection_value": column(
            float,
            "Median forecast",
            "Median of the bounded model's paths in the target year (for a passed year without a figure: the nowcast)",
            nullable=True,
        ),
        "projection_lo80": column(
            float, "Forecast 80% low", "Lower end of the 80% forecast interval in the target year", nullable=True
        ),
        "projection_hi80": column(
            float, "Forecast 80% high", "Upper end of the 80% forecast interval in the target year", nullable=True
        ),
    },
    strict=True,
    coerce=True,
    title="Assessments",
    description="One row per indicator x boundary x estimator x target: paces, official-style verdicts, "
    "and the probability "
    "of meeting the target from the bounded forecast.",
)

CHANGE_TYPES = [
    "first_edition",
    "unchanged",
    "new_figure",
    "revised_figure",
    "new_target",
    "outcome",
    "status",
    "probability",
    "programme_status",
]

CHANGES = pa.DataFrameSchema(
    {
        "change": column(
            str,
            "Change",
            "first_edition, new_figure, revised_figure, new_target, outcome (a target year's figure "
            "was published), status, probability, programme_status (a programme target's status in the "
            "scorecard, for a target not judged by an assessment)",
            pa.Check.isin(CHANGE_TYPES),
        ),
        "indicator": column(str, "Indicator", "Indicator id (empty for the first edition)", nullable=True),
        "geography": column(str, "Place", "Place id (empty for the first edition)", nullable=True),
        "boundary": column(str, "Boundary", "Boundary id (empty for the first edition)", nullable=True),
        "estimator": column(str, "Estimator", "Estimator family of the figure or the assessment", nullable=True),
        "target_year": column("Int64", "Target year", "Year of the target (assessment changes)", nullable=True),
        "programme_target": column(
            "Int64", "Programme target", "Number of the programme's target (programme_status changes)", nullable=True
        ),
        "year": column("Int64", "Year", "Year of the figure (figure changes)", nullable=True),
        "before": column(str, "Before", "Value in the previous edition (empty: there was none)", nullable=True),
        "after": column(str, "After", "Value in this edition", nullable=True),
        "reason": column(
            str,
            "Reason",
            "What moved it: new data (with the figure and its source), a change of method "
            "(package version), or the target year passing",
        ),
        "source_id": column(str, "Source", "Source id (sources.csv) of a new or revised figure", nullable=True),
        "cause": column(
            str,
            "Cause",
            "data (a new or revised figure), method (the package changed), time (a target year "
            "passed), plan (a target newly assessed), first (the first edition)",
            pa.Check.isin(["data", "method", "time", "plan", "first"]),
        ),
    },
    strict=True,
    coerce=True,
    title="Changes since the previous edition",
    description="One row per change between the previous edition and this one; "
    "the first edition has one row saying so.",
)
TRACK_RECORD = pa.DataFrameSchema(
    {
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "estimator": column(str, "Estimator", "Estimator family of the series"),
        "target_year": column(int, "Target year", "Year of the target"),
        "target_value": column(float, "Target value", "The target in the indicator's unit"),
        "as_of": column(int, "As of", "The statement as it stood at the end of this year"),
        "n_obs": column(int, "Observations", "Figures of the series published by then"),
        "latest_year": column("Int64", "Latest year", "Latest year with a figure then", nullable=True),
        "latest_value": column(float, "Latest value", "Latest figure then", nullable=True),
        "p_meet_in_year": column(
            float,
            "Probability then",
            "Probability of meeting the target, as it stood then",
            pa.Check.in_range(0, 1),
            nullable=True,
        ),
        "median": column(float, "Median then", "Median forecast for the target year, as it stood then", nullable=True),
        "lo80": column(float, "80% low then", "Lower end of the 80% interval for the target year", nullable=True),
        "hi80": column(float, "80% high then", "Upper end of the 80% interval for the target year", nullable=True),
        "lo95": column(float, "95% low then", "Lower end of the 95% interval for the target year", nullable=True),
        "hi95": column(float, "95% high then", "Upper end of the 95% interval for the target year", nullable=True),
        "outcome": column(
            str,
            "Outcome",
            "met, reported_reached or not_met, from the figure published since for the same boundary (empty: "
            "not yet, or the boundary ended)",
            nullable=True,
        ),
        "outcome_value": column(float, "Outcome value", "The figure published for the target year", nullable=True),
        "brier": column(
            float,
            "Brier score",
            "(probability then - outcome)^2, outcome 1 when met, 0 when not met; empty for a figure reported "
            "as reached within its precision",
            nullable=True,
        ),
        "inside80": column("boolean", "Inside 80%", "The published figure lay inside the 80% interval", nullable=True),
        "inside95": column("boolean", "Inside 95%", "The published figure lay inside the 95% interval", nullable=True),
    },
    strict=True,
    coerce=True,
    title="Track record",
    description="For each planned target and estimator, the probability and forecast interval "
    "as they stood at the end of "
    "each past year, scored against the figure published since where there is one.",
)
FORECAST_CHECKS = pa.DataFrameSchema(
    {
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "estimator": column(str, "Estimator", "Estimator family of the series"),
        "as_of": column(int, "As of", "The forecast as it stood at the end of this year"),
        "year": column(int, "Year", "The year forecast"),
        "horizon": column(int, "Horizon", "Years from as_of to the year forecast"),
        "median": column(float, "Median then", "Median forecast for the year, as it stood then"),
        "lo80": column(float, "80% low then", "Lower end of the 80% interval then"),
        "hi80": column(float, "80% high then", "Upper end of the 80% interval then"),
        "lo95": column(float, "95% low then", "Lower end of the 95% interval then"),
        "hi95": column(float, "95% high then", "Upper end of the 95% interval then"),
        "outcome_value": column(float, "Figure", "The figure published since for that series and year"),
        "error": column(
            float, "Error", "Median then minus the figure, in the unit (positive: the forecast was too high)"
        ),
        "inside80": column(bool, "Inside 80%", "The figure lay inside the 80% interval"),
        "inside95": column(bool, "Inside 95%", "The figure lay inside the 95% interval"),
    },
    strict=True,
    coerce=True,
    title="Forecast checks",
    description="Every forecast the package would have made at the end of each past year, for each later year "
    "whose figure is now published, beside that figure: how often the intervals held it, and the bias of the "
    "median, per estimator.",
)
_PCT_YEAR = "percent a year"
WHAT_IT_TAKES = pa.DataFrameSchema(
    {
        "indicator": INDICATOR,
        "geography": GEOGRAPHY,
        "boundary": BOUNDARY,
        "estimator": column(str, "Estimator", "Estimator family the target is tied to"),
        "status": column(str, "Status", "The target's one status (assessments.csv)", pa.Check.isin(STATUSES)),
        "target_year": column(int, "Target year", "Year of the target"),
        "target_value": column(float, "Target value", "The target share in percent (a range's low end)"),
        "target_high": column(
            float, "Target high end", "High end of a target range ('at least 4-5%': 5)", nullable=True
        ),
        "latest_year": column("Int64", "Latest year", "Year of the latest figure", nullable=True),
        "latest_value": column(float, "Latest value", "Latest share in percent", nullable=True),
        "denominator": column(str, "Denominator", "What the share is a share of (registry id: GRDP, budget spending)"),
        "denominator_growth_pct": column(
            float, "Denominator growth", f"Nominal GRDP growth observed in the data, {_PCT_YEAR}", nullable=True
        ),
        "denominator_basis": column(str, "Denominator basis", "Which GRDP figures gave the growth rate"),
        "growth_boundary": column(
            str,
            "Growth boundary",
            "The boundary whose nominal GRDP gave the growth rate (the city before the merger for the merged "
            "city, whose own series is too short)",
            nullable=True,
        ),
        "required_excess_growth_pct": column(
            float,
            "Required excess growth",
            f"How much faster than the denominator the numerator must grow to reach the target, {_PCT_YEAR}",
            nullable=True,
        ),
        "required_growth_pct": column(
            float, "Required growth", f"Nominal growth the numerator needs, {_PCT_YEAR}", nullable=True
        ),
        "observed_growth_pct": column(
            float,
            "Observed growth",
            f"Nominal growth of the numerator (share x GRDP) so far, {_PCT_YEAR}",
            nullable=True,
        ),
        "observed_years": column(str, "Observed years", "Years the observed growth spans", nullable=True),
        "denominator_value": column(
            float,
            "Budget spending",
            "Budget spending of the target's boundary in the target year, billion dong",
            nullable=True,
        ),
        "required_amount": column(
            float, "Amount the target represents", "Target share x spending in the target year", nullable=True
        ),
        "amount_at_latest_share": column(
            float, "Amount at today's share", "Latest share x spending in the target year", nullable=True
        ),
        "amount_unit": column(str, "Amount unit", "VND_billion (tỷ đồng)", nullable=True),
        "amount_basis": column(
            str,
            "Amount basis",
            "published (outturn), published estimate (expected outturn), budget estimate (plan), or projected "
            "from an earlier year's figure with nominal GRDP growth",
            nullable=True,
        ),
        "amount_boundary": column(
            str,
            "Amount boundary",
            "The boundary whose budget spending the amounts use: always the target's own",
            nullable=True,
        ),
        "amount_base_year": column(
            "Int64",
            "Amount base year",
            "Year of the published budget figure the amount is, or is projected from",
            nullable=True,
        ),
    },
    strict=True,
    coerce=True,
    title="What it would take",
    description="For each future share target: how fast the numerator must grow (against the denominator's observed "
    "growth) and, for budget targets, the amount in billion dong the target represents.",
)

MERGED_CITY = pa.DataFrameSchema(
    {
        "boundary": BOUNDARY,
        "indicator": INDICATOR,
        "year": column(int, "Year", "Year before the merger"),
        "estimator": column(str, "Estimator", "Estimator family of every share combined"),
        "component": column(str, "Former place", "Boundary of one of the places the merged city is made of"),
        "share": column(float, "Share", "Its share in percent (empty: not published)", nullable=True),
        "grdp": column(float, "GRDP", "Its GRDP at current prices, billion dong (empty: not published)", nullable=True),
        "weight": column(float, "Weight", "Its GRDP over the sum of the former places' GRDP", nullable=True),
        "combined": column(
            float,
            "Combined share",
            "GRDP-weighted share of the merged city, when every piece is published",
            nullable=True,
        ),
        "combined_low": column(
            float,
            "Combined low",
            "Lowest combined share, a missing share taken at the lowest share the estimator published for any province",
            nullable=True,
        ),
        "combined_high": column(
            float, "Combined high", "Highest combined share, a missing share taken at the highest", nullable=True
        ),
        "missing_share": column(
            str,
            "Missing shares",
            "Former places whose share for that year and estimator is not published (';'-separated)",
            nullable=True,
        ),
        "missing_grdp": column(
            str, "Missing GRDP", "Former places whose GRDP for that year is not published", nullable=True
        ),
    },
    strict=True,
    coerce=True,
    title="The merged city before the merger",
    description="The merged city's share for years before it existed, from the former places' shares weighted by GRDP, "
    "or the band it lies in and the figures that would settle it.",
)


def _opt(kind, title: str, description: str) -> pa.Column:
    return column(kind, title, description, nullable=True)


SCORECARD = pa.DataFrameSchema(
    {
        "number": column(
            int, "Number", "The target's number in the programme (data README, 'The programme's targets')"
        ),
        "group": column(
            str, "Group", "digital_government, digital_economy or digital_society", pa.Check.isin(PROGRAMME_GROUPS)
        ),
        "rule": column(str, "Rule", "How the target is judged (models/judging.py)", pa.Check.isin(PROGRAMME_RULES)),
        "target_ids": column(str, "Targets", "Its target ids in targets.csv, ';'-separated (all must be met)"),
        "indicator": INDICATOR,
        "boundary": column(str, "Boundary", "The boundary whose figure decides (the target's own, or judged_on)"),
        "target_year": _opt("Int64", "Target year", "Year of the part that speaks for the target; empty: not stated"),
        "span_start": _opt("Int64", "Span start", "First year of a growth target's span"),
        "target_value": _opt(float, "Target value", "The target as printed, in the indicator's unit"),
        "threshold": _opt(
            float, "Threshold", "The value the figure was judged against (a universal target: the plan's reading)"
        ),
        "status": column(str, "Status", "The target's one status (models/judging.py)", pa.Check.isin(STATUSES)),
        "basis": column(str, "Basis", "How the status was reached (models/scorecard.py BASES)", pa.Check.isin(BASES)),
        "parts": column(
            str, "Parts", "Every part of the target with its status, 'target_id=year:status', ';'-separated"
        ),
        "estimator": _opt(str, "Estimator", "Estimator family of the assessment the status comes from"),
        "figure_value": _opt(
            float, "Figure", "The figure that decided (or the latest of an assessed series), in the unit"
        ),
        "figure_year": _opt("Int64", "Figure year", "Year of the figure that decided"),
        "figure_period": _opt(str, "Figure period", "Period of that figure (Y: the calendar year)"),
        "figure_qualifier": _opt(str, "Figure qualifier", "exact, approx, more_than, at_least or nearly"),
        "figure_kind": _opt(str, "Figure kind", "actual, estimate or preliminary"),
        "figure_boundary": _opt(
            str, "Figure boundary", "Boundary of the figure shown (another than the target's: never judged on)"
        ),
        "figure_rank_group": _opt("Int64", "Ranking group", "For a rank: how many places were ranked"),
        "figure_source": _opt(str, "Figure source", "Source id of that figure (sources.csv)"),
        "p_meet_in_year": _opt(float, "Probability", "Probability of meeting the target in its year (assessed shares)"),
        "required_pace_pp": _opt(float, "Pace needed", "Percentage points a year needed from the latest figure"),
        "observed_pace_pp": _opt(float, "Pace so far", "Percentage points a year observed"),
        "latest_value": _opt(float, "Latest value", "Latest figure of the assessed series"),
        "latest_year": _opt("Int64", "Latest year", "Year of the latest figure of the assessed series"),
        "related_index": _opt(
            "Int64", "Related entry", "Which related figure of the plan entry is shown (0: the first)"
        ),
        "related_indicator": _opt(str, "Related indicator", "A figure near the target that cannot judge it"),
        "related_boundary": _opt(str, "Related boundary", "Boundary of the related figure"),
        "related_value": _opt(float, "Related value", "Value of the related figure, in its unit"),
        "related_year": _opt("Int64", "Related year", "Year of the related figure"),
        "related_period": _opt(str, "Related period", "Period of the related figure (Y, avg, Q1, ...)"),
        "related_span_start": _opt("Int64", "Related span start", "First year of its span (an average over years)"),
        "related_qualifier": _opt(str, "Related qualifier", "exact, approx, more_than, at_least or nearly"),
        "related_rank_group": _opt("Int64", "Related ranking group", "For a rank: how many places were ranked"),
        "related_source": _opt(str, "Related source", "Source id (sources.csv)"),
    },
    strict=True,
    coerce=True,
    unique=["number"],
    title="The programme scorecard",
    description="Every target of the city's digital-transformation programme with its one status, the figure "
    "that decided it and, where no figure of the target's own base exists, the nearest figure and what differs.",
)

SCHEMAS = {
    "forecasts": FORECASTS,
    "assessments": ASSESSMENTS,
    "changes": CHANGES,
    "track_record": TRACK_RECORD,
    "forecast_checks": FORECAST_CHECKS,
    "what_it_takes": WHAT_IT_TAKES,
    "merged_city": MERGED_CITY,
    "scorecard": SCORECARD,
}
