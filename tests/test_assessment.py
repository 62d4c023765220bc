"""Targets x estimators: probabilities for future years, outcomes for passed ones, as the data stood at each as_of."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.data.registry import load_registry
from analysis.models.assessment import assess, assess_series, observed_series
from analysis.models.assessment_plan import load_assessment_plan
from analysis.models.judging import status_for

ROOT = Path(__file__).resolve().parents[1]
PLAN = load_assessment_plan(ROOT / "data" / "assessment_plan.yml")
REGISTRY = load_registry(ROOT / "data" / "registry")
TARGET = {"target_id": "t", "target_year": 2025, "value": 25.0, "comparator": "at_least"}


def test_a_future_target_gets_rules_and_a_probability():
    series = pd.Series({2021: 15.38, 2022: 18.66, 2023: 21.5})
    row, found = assess_series(series, TARGET, "percent_of_GRDP", n_paths=2000, reference_year=2024)
    assert row["data_status"] == "ok" and row["target_passed"] is False
    assert row["observed_pace_pp"] == pytest.approx(3.06)
    assert row["required_pace_pp"] == pytest.approx(1.75)
    assert 0 < row["p_meet_in_year"] <= row["p_met_by_year"] <= 1
    assert row["p_meet_model_min"] <= row["p_meet_in_year"] <= row["p_meet_model_max"]
    assert list(found.years) == [2024, 2025]


def test_a_passed_target_year_never_gets_a_probability_only_a_nowcast():
    series = pd.Series({2021: 15.38, 2022: 18.66, 2023: 21.5})
    row, _ = assess_series(series, TARGET, "percent_of_GRDP", n_paths=2000, reference_year=2026)
    assert row["target_passed"] is True
    assert pd.isna(row["p_meet_in_year"]) and pd.isna(row["p_met_by_year"])
    assert row["projection_lo80"] < row["median_projection_value"] < row["projection_hi80"]
    assert status_for(row) == "awaiting_figure"


@pytest.mark.parametrize("as_of, passed", [(2024, False), (2025, False), (2026, True)])
def test_passed_is_counted_from_as_of_not_from_today(cleaned, as_of, passed):
    _, assessments = assess(
        cleaned["indicators"], cleaned["targets"], PLAN, as_of=as_of, n_paths=300, registry=REGISTRY
    )
    rows = assessments[
        (assessments.indicator == "digital_economy_share_GRDP")
        & (assessments.boundary == "hcmc-pre-2025-07")
        & (assessments.target_year == 2025)
    ]
    assert set(rows.target_passed) == {passed} and set(rows.reference_year) == {as_of}
    if not passed:
        assert rows.status.isin(["on_track", "off_track", "not_measurable"]).all()
        assert rows.outcome.isna().all()


@pytest.fixture(scope="module")
def today(cleaned):
    """The assessment as in November 2026 (reference year fixed, not the clock)."""
    return assess(cleaned["indicators"], cleaned["targets"], PLAN, n_paths=500, registry=REGISTRY, reference_year=2026)


def _row(assessments, indicator, boundary, estimator, year):
    rows = assessments[
        (assessments.indicator == indicator)
        & (assessments.boundary == boundary)
        & (assessments.estimator == estimator)
        & (assessments.target_year == year)
    ]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_a_passed_target_is_judged_on_the_published_figure(today):
    _, assessments = today
    # The city before the merger has no 2025 figure of its own: its target is not judged on the merged city's
    # "khoảng 25", which is shown beside it; the former borders' nowcast is kept.
    former = _row(assessments, "digital_economy_share_GRDP", "hcmc-pre-2025-07", "mic", 2025)
    assert (former.status, former.outcome_value, former.outcome_qualifier) == ("boundary_ended", 25.0, "approx")
    assert former.outcome_boundary == "hcmc-merged-2025-07" and not pd.isna(former.median_projection_value)
    # The merged city's own 2025 target, on that approximate self-reported estimate, is reported as reached only.
    merged = _row(assessments, "digital_economy_share_GRDP", "hcmc-merged-2025-07", "mic", 2025)
    assert (merged.status, merged.outcome_value, merged.outcome_kind) == ("reported_reached", 25.0, "estimate")
    assert bool(merged.outcome_self_reported) and pd.isna(merged.outcome_boundary)
    # The statistics office's national figure for 2025 (14.02) stands far below 20%.
    national = _row(assessments, "digital_economy_share_GDP", "vietnam", "gso", 2025)
    assert (national.status, national.outcome_value) == ("not_met", 14.02)
    # The ministry's national 2025 figure (December 2026 collection: "approximately 18.72") is more than its own
    # precision below 20%: not met, never a probability.
    ministry = _row(assessments, "digital_economy_share_GDP", "vietnam", "mic", 2025)
    assert (ministry.status, ministry.outcome_value, ministry.outcome_qualifier) == ("not_met", 18.72, "approx")
    assert pd.isna(ministry.p_meet_in_year)
    # "22 (ước đạt)" against 22%: an estimate at the target, within its rounding.
    hcmc_2024 = _row(assessments, "digital_economy_share_GRDP", "hcmc-pre-2025-07", "mic", 2024)
    assert (hcmc_2024.status, hcmc_2024.outcome_value) == ("reported_reached", 22.0)
    # No met or not met row is decided by another boundary's figure or by an approximate figure at the target.
    decided = assessments[assessments.status.isin(["met", "not_met"])]
    assert decided.outcome_boundary.isna().all()
    assert not (
        (decided.outcome_qualifier != "exact") & ((decided.outcome_value - decided.target_value).abs() <= 1)
    ).any()


def test_series_include_the_new_figures_and_never_mix_estimators(today, cleaned):
    forecasts, assessments = today
    mic = _row(assessments, "digital_economy_share_GRDP", "hcmc-pre-2025-07", "mic", 2030)
    gso = _row(assessments, "digital_economy_share_GRDP", "hcmc-pre-2025-07", "gso", 2030)
    assert (mic.latest_year, mic.latest_value, gso.latest_value) == (2024, 22.0, 14.65)
    assert mic.p_meet_in_year > gso.p_meet_in_year
    national = observed_series(cleaned["indicators"], "digital_economy_share_GDP", "vietnam")
    assert national["gso"].loc[2024] == 13.17 and national["gso"].loc[2025] == 14.02
    for _, group in forecasts.groupby(["indicator", "boundary", "estimator"]):
        assert not group.year.duplicated().any()


def test_new_targets_from_the_collection_are_assessed(today):
    _, assessments = today
    merged = assessments[assessments.boundary == "hcmc-merged-2025-07"]
    assert {(2025, 25.0), (2026, 30.0), (2030, 40.0)} <= set(zip(merged.target_year, merged.target_value, strict=True))
    scope = assessments[assessments.indicator == "dt_rd_budget_share_NQ57"]
    assert set(scope.target_year) == {2026, 2027, 2028, 2029, 2030}
    assert scope.target_value.eq(4.0).all()  # "at least 4-5%": reached at its low end, never the 4,16% plan
    plan_2026 = scope[scope.target_year == 2026].iloc[0]
    assert plan_2026.plan_value == 4.16 and plan_2026.status == "not_measurable"
    budget = assessments[assessments.indicator == "dt_budget_share"]
    assert list(budget.target_year) == sorted(budget.target_year) and budget.target_value.eq(2.0).all()
    assert budget[budget.target_year > 2025].p_met_by_year.is_monotonic_increasing


def test_as_of_rebuilds_what_was_published_then_vintage_by_vintage():
    # As of 2024 the statistics office's national series was public in its 2024 vintage
    # (12.66, 12.88, 12.63, 12.33 for 2020-2023), though the January 2025 vintage wins today.
    from analysis.data import stage

    with_root = pytest.MonkeyPatch()
    with_root.setenv("ANALYSIS_ROOT", str(ROOT))
    try:
        as_of_2024 = stage.clean_in_memory(2024).indicators
    finally:
        with_root.undo()
    gso = observed_series(as_of_2024, "digital_economy_share_GDP", "vietnam", as_of=2024)["gso"]
    assert gso.to_dict() == {2020: 12.66, 2021: 12.88, 2022: 12.63, 2023: 12.33}
    mic = observed_series(as_of_2024, "digital_economy_share_GRDP", "hcmc-pre-2025-07", as_of=2024)["mic"]
    assert 2024 not in mic.index and mic.loc[2023] == 21.5


def test_a_published_plan_gives_its_year_a_forecast_and_is_never_its_outcome(cleaned):
    from analysis.models.assessment_plan import load_plan_execution

    execution = load_plan_execution(ROOT / "data" / "assessment_plan.yml")
    kwargs = {"n_paths": 300, "registry": REGISTRY, "reference_year": 2026}
    _, with_plan = assess(cleaned["indicators"], cleaned["targets"], PLAN, plan_execution=execution, **kwargs)
    _, without = assess(cleaned["indicators"], cleaned["targets"], PLAN, **kwargs)
    plan_year = _row(with_plan, "dt_rd_budget_share_NQ57", "hcmc-merged-2025-07", "reported", 2026)
    # one figure (1,84% in 2025) and the 2026 allocation of 4,16%: the plan alone gives 2026's distribution
    assert plan_year.data_status == "plan_only" and plan_year.plan_value == 4.16
    assert 0.2 < plan_year.p_meet_in_year < 0.6 and plan_year.status in ("uncertain", "off_track")
    assert plan_year.projection_lo80 < 4.16 * execution.median_ratio < plan_year.projection_hi80
    assert pd.isna(plan_year.outcome)
    unplanned = _row(without, "dt_rd_budget_share_NQ57", "hcmc-merged-2025-07", "reported", 2026)
    assert unplanned.status == "not_measurable" and pd.isna(unplanned.p_meet_in_year)
    # a year without a plan is untouched by it
    later = _row(with_plan, "dt_rd_budget_share_NQ57", "hcmc-merged-2025-07", "reported", 2030)
    assert later.status == "not_measurable"
