"""The judging rules on constructed cases: own boundary, successor boundary, approximate at the target,
approximate clearly above, exact self-reported, two estimators that disagree, plans, and forecast bands."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.data.registry import load_registry
from analysis.models.assessment import assess
from analysis.models.assessment_plan import PlanEntry
from analysis.models.judging import (
    FORECAST_STATUSES,
    STATUSES,
    disagreeing_signals,
    judge_outcome,
    likelihood_label,
    precision_margin,
    status_for,
)

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = load_registry(ROOT / "data" / "registry")
NAN = float("nan")
SHARE = "digital_economy_share_GRDP"
PRE, MERGED = "hcmc-pre-2025-07", "hcmc-merged-2025-07"


@pytest.mark.parametrize(
    "printed, qualifier, margin",
    [("22", "exact", 0.5), ("14,65", "exact", 0.005), ("khoảng 25", "approx", 1.0), ("hơn 1", "more_than", 1.0)],
)
def test_a_figure_is_as_precise_as_it_is_printed(printed, qualifier, margin):
    assert precision_margin(printed, qualifier) == pytest.approx(margin)


@pytest.mark.parametrize(
    "value, margin, qualifier, kind, status",
    [
        (27.0, 0.5, "exact", "estimate", "met"),  # clears the target by more than its rounding
        (25.0, 0.5, "exact", "actual", "met"),  # a final figure printed at the target meets it
        (25.0, 1.0, "approx", "estimate", "reported_reached"),  # "khoảng 25" against 25%
        (25.0, 0.5, "exact", "preliminary", "reported_reached"),  # "22 (ước đạt)" against 22%
        (25.0, 1.0, "more_than", "actual", "reported_reached"),  # "hơn 25": a bound at the target
        (26.0, 1.0, "approx", "estimate", "met"),  # "khoảng 26": clearly above 25 even within its rounding
        (25.0, 1.0, "nearly", "actual", "not_met"),  # "gần 25": below it by the source's own words
        (24.99, 0.005, "exact", "actual", "not_met"),
        (14.65, 0.005, "exact", "estimate", "not_met"),
    ],
)
def test_a_passed_target_is_judged_within_the_figures_own_precision(value, margin, qualifier, kind, status):
    assert judge_outcome(value, 25.0, "at_least", margin, qualifier, kind) == status


def test_a_rank_is_met_at_or_above_its_place():
    assert judge_outcome(1, 5, "top_k", 0.5, "exact", "actual") == "met"
    assert judge_outcome(4, 3, "top_k", 0.5, "exact", "actual") == "not_met"
    assert judge_outcome(3, 3, "at_most", 0.5, "exact", "estimate") == "met"


def _row(**values) -> dict:
    base = {"outcome": None, "target_passed": False, "n_obs": 4, "p_meet_in_year": NAN}
    return {**base, "observed_pace_pp": NAN, "required_pace_pp": NAN, **values}


@pytest.mark.parametrize(
    "row, status",
    [
        (_row(outcome="reported_reached", target_passed=True), "reported_reached"),
        (_row(outcome="boundary_ended", target_passed=True), "boundary_ended"),
        (_row(target_passed=True), "awaiting_figure"),
        (_row(target_passed=True, n_obs=0), "not_measurable"),
        (_row(p_meet_in_year=0.66), "on_track"),
        (_row(p_meet_in_year=0.65), "uncertain"),
        (_row(p_meet_in_year=0.33), "uncertain"),
        (_row(p_meet_in_year=0.32), "off_track"),
        (_row(observed_pace_pp=3.0, required_pace_pp=2.0), "on_track"),  # two figures: by pace
        (_row(observed_pace_pp=1.0, required_pace_pp=2.0), "off_track"),
        (_row(n_obs=1), "not_measurable"),
    ],
)
def test_one_status_per_target(row, status):
    assert status_for(row) == status


@pytest.mark.parametrize("probability", [i / 200 for i in range(201)])
def test_a_status_never_contradicts_its_words(probability):
    status = status_for(_row(p_meet_in_year=probability))
    words = likelihood_label(probability)
    expected = {
        "on_track": {"likely", "very_likely", "virtually_certain"},
        "uncertain": {"about_as_likely_as_not"},
        "off_track": {"unlikely", "very_unlikely", "exceptionally_unlikely"},
    }
    assert words in expected[status]


def test_what_points_the_other_way_is_named():
    behind = {"status": "off_track", "p_meet_in_year": 0.06, "observed_pace_pp": 2.2, "required_pace_pp": 3.0}
    assert disagreeing_signals(behind) == ()
    ahead = {**behind, "observed_pace_pp": 0.20, "required_pace_pp": 0.13, "eurostat_category": "significant_progress"}
    assert disagreeing_signals(ahead) == ("pace", "compound")
    split_models = {**behind, "p_meet_model_min": 0.006, "p_meet_model_max": 0.65}
    assert disagreeing_signals(split_models) == ("models",)
    assert disagreeing_signals({**split_models, "status": "uncertain", "p_meet_in_year": 0.4}) == ()


# --- the rules applied by the assessment, on constructed tables -------------------------------------------


def _figure(boundary, estimator, year, value, printed, qualifier="exact", kind="estimate", **extra) -> dict:
    return {
        "indicator": SHARE,
        "geography": "hcmc",
        "boundary": boundary,
        "estimator": estimator,
        "year": year,
        "period": "Y",
        "kind": kind,
        "value_type": "point",
        "value": value,
        "qualifier": qualifier,
        "value_as_published": printed,
        "source_id": f"S{estimator}{year}",
        "unit": "percent_of_GRDP",
        **extra,
    }


def _target(boundary, year, value) -> dict:
    return {
        "target_id": f"{SHARE}@{boundary}@{year}",
        "indicator": SHARE,
        "boundary": boundary,
        "preferred": True,
        "target_year": year,
        "span_start": NAN,
        "span_end": NAN,
        "period": "Y",
        "value": value,
        "comparator": "at_least",
        "unit": "percent_of_GRDP",
    }


HISTORY = [
    _figure(PRE, "mic", 2021, 15.38, "15,38"),
    _figure(PRE, "mic", 2022, 18.66, "18,66"),
    _figure(PRE, "mic", 2023, 21.5, "21,5"),
    _figure(PRE, "gso", 2021, 13.84, "13,84", kind="actual"),
    _figure(PRE, "gso", 2022, 13.51, "13,51", kind="actual"),
    _figure(PRE, "gso", 2023, 14.65, "14,65", kind="actual"),
]


def _assess(figures: list[dict], boundary: str = PRE, year: int = 2025, value: float = 25.0) -> pd.DataFrame:
    indicators = pd.DataFrame(figures)
    targets = pd.DataFrame([_target(boundary, year, value)])
    plan = (PlanEntry(SHARE, boundary, (year,), (), "mic"),)
    _, assessments = assess(indicators, targets, plan, n_paths=200, registry=REGISTRY, reference_year=2026)
    return assessments.set_index("estimator")


def test_own_boundary_decides_and_a_final_independent_figure_confirms():
    rows = _assess(
        [
            *HISTORY,
            _figure(MERGED, "mic", 2025, 25.0, "khoảng 25", "approx"),
            _figure(PRE, "mic", 2025, 26.4, "26,4"),
            _figure(PRE, "gso", 2025, 25.2, "25,2", kind="actual"),
        ]
    )
    assert rows.loc["mic", "status"] == "met" and pd.isna(rows.loc["mic", "outcome_boundary"])
    assert rows.loc["mic", "outcome_value"] == 26.4  # its own boundary's figure, not the merged city's
    assert rows.loc["gso", "status"] == "met"
    assert not bool(rows.loc["mic", "outcome_self_reported"])  # the statistics office's 25.2 confirms it


def test_a_boundary_that_ended_is_shown_with_its_successor_never_met():
    rows = _assess([*HISTORY, _figure(MERGED, "mic", 2025, 25.0, "khoảng 25", "approx")])
    mic = rows.loc["mic"]
    assert mic.status == "boundary_ended" and mic.outcome == "boundary_ended"
    assert (mic.outcome_value, mic.outcome_boundary, mic.outcome_qualifier) == (25.0, MERGED, "approx")
    assert not math.isnan(mic.median_projection_value)  # the former borders' nowcast is kept beside it
    assert rows.loc["gso", "status"] == "boundary_ended" and pd.isna(rows.loc["gso", "outcome_value"])


def test_approximate_self_reported_at_the_target_is_not_plain_met_and_disagreeing_estimators_each_stand():
    merged = [
        _figure(MERGED, "mic", 2024, 22.0, "22"),
        _figure(MERGED, "mic", 2025, 25.0, "khoảng 25", "approx"),
        _figure(MERGED, "gso", 2025, 14.9, "14,9", kind="actual"),
    ]
    rows = _assess(merged, boundary=MERGED)
    assert rows.loc["mic", "status"] == "reported_reached"
    assert rows.loc["mic", "outcome_precision"] == 1.0 and bool(rows.loc["mic", "outcome_self_reported"])
    assert rows.loc["gso", "status"] == "not_met" and rows.loc["gso", "outcome_value"] == 14.9
    assert pd.isna(rows.loc["gso", "outcome_self_reported"])


def test_exact_self_reported_figure_is_flagged_until_an_independent_figure_confirms_it():
    own = _assess([*HISTORY[:3], _figure(PRE, "mic", 2024, 23.0, "23", kind="actual")], year=2024, value=22.0)
    assert own.loc["mic", "status"] == "met" and bool(own.loc["mic", "outcome_self_reported"])
    confirmed = _assess(
        [*HISTORY, _figure(PRE, "mic", 2024, 23.0, "23", kind="actual"), _figure(PRE, "gso", 2024, 22.6, "22,6")],
        year=2024,
        value=22.0,
    )
    assert confirmed.loc["mic", "status"] == "met" and not bool(confirmed.loc["mic", "outcome_self_reported"])


def test_a_plan_is_evidence_about_its_year_never_its_outcome():
    plan = _figure(PRE, "mic", 2024, 24.0, "24", kind="plan")
    rows = _assess([*HISTORY, plan], year=2024, value=22.0)
    assert rows.loc["mic", "status"] == "awaiting_figure" and pd.isna(rows.loc["mic", "outcome"])
    assert rows.loc["mic", "plan_value"] == 24.0


def test_the_status_list_covers_every_status_the_assessment_gives():
    assert set(FORECAST_STATUSES) <= set(STATUSES)
    assert {"met", "reported_reached", "not_met", "boundary_ended"} <= set(STATUSES)
