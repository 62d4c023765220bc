"""The programme scorecard: each rule on constructed cases, a figure of another base never judges, and every
target of the shipped programme in the scorecard with the December 2026 collection's figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.data.registry import load_registry
from analysis.errors import PlanError
from analysis.models.assessment_plan import load_programme, parse_programme
from analysis.models.judging import (
    compound_average_growth,
    judge_growth_average,
    judge_growth_each_year,
    judge_outcome,
    judge_rank,
)
from analysis.models.scorecard import COMBINED_ORDER, combined_status, scorecard

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = load_registry(ROOT / "data" / "registry")
PROGRAMME = load_programme(ROOT / "data" / "assessment_plan.yml")
PRE, MERGED = "hcmc-pre-2025-07", "hcmc-merged-2025-07"


# --- the rules -------------------------------------------------------------------------------


def test_a_rank_in_the_top_k_of_its_group_is_met_and_another_group_cannot_decide():
    assert judge_rank(1, 5, 63, 63) == "met"
    assert judge_rank(5, 5, None, 63) == "met"  # group not stated: the rank alone
    assert judge_rank(4, 3, 34, 34) == "not_met"
    assert judge_rank(1, 3, 63, 34) is None  # first of 63 says nothing of a rank among 34


def test_growth_every_year_fails_on_one_short_year_and_waits_for_missing_ones():
    years = (2021, 2022, 2023, 2024, 2025)
    assert judge_growth_each_year({2021: 7.5, 2022: 6.9}, 7, years) == "not_met"
    assert judge_growth_each_year({2021: 7.5, 2022: 8.0}, 7, years) is None
    assert judge_growth_each_year(dict.fromkeys(years, 7.0), 7, years) == "met"


def test_growth_on_average_compounds_the_years_or_reads_the_published_average():
    years = (2021, 2022)
    assert compound_average_growth({2021: 10.0, 2022: 4.0}, years) == pytest.approx(6.96, abs=0.01)
    assert judge_growth_average({2021: 10.0, 2022: 4.0}, 7, years) == "not_met"  # 6.96 < 7, the mean 7.0 is not
    assert judge_growth_average({2021: 10.0}, 7, years) is None
    assert judge_growth_average({2021: 10.0}, 7, years, published_average=7.2) == "met"


def test_a_floor_below_the_target_cannot_decide_but_a_point_below_it_fails():
    assert judge_outcome(90, 95, "at_least", 1, "more_than", "actual") == "awaiting_figure"
    assert judge_outcome(90, 95, "at_least", 0.5, "exact", "actual") == "not_met"
    assert judge_outcome(96, 95, "at_least", 1, "more_than", "actual") == "met"


def test_a_target_of_several_parts_has_the_status_of_the_first_part_not_met():
    assert combined_status(["met", "awaiting_figure", "off_track"]) == "off_track"
    assert combined_status(["met", "met"]) == "met"
    assert set(COMBINED_ORDER) >= {"met", "not_met", "awaiting_figure", "boundary_ended", "not_measurable"}


# --- the scorecard on constructed data ---------------------------------------------------------


def _figure(indicator, boundary, year, value, **extra) -> dict:
    row = {
        "indicator": indicator,
        "geography": "hcmc",
        "boundary": boundary,
        "level": "city",
        "year": year,
        "period": "Y",
        "span_start": None,
        "value": value,
        "qualifier": "exact",
        "value_type": "point",
        "rank_group_size": None,
        "kind": "actual",
        "estimator": "reported",
        "source_id": "S1",
        "value_as_published": str(value),
    }
    return row | extra


def _target(target_id, indicator, year, value, boundary=PRE, **extra) -> dict:
    row = {
        "target_id": target_id,
        "indicator": indicator,
        "boundary": boundary,
        "level": "city",
        "target_year": year,
        "span_start": None,
        "value": value,
    }
    return row | extra


def _programme(*targets: dict, universal: float = 95) -> object:
    basis = {"vi": "lý do", "en": "why"}
    entries = [
        {"group": "digital_society", "name": basis, "publish": basis, "number": n} | t for n, t in enumerate(targets, 1)
    ]
    return parse_programme({"programme": {"universal": {"at_least": universal, "basis": basis}, "targets": entries}})


def _card(programme, figures, targets, reference_year=2026) -> pd.DataFrame:
    return scorecard(
        programme,
        pd.DataFrame(figures),
        pd.DataFrame(targets),
        pd.DataFrame(columns=["target_id"]),
        registry=REGISTRY,
        reference_year=reference_year,
    ).set_index("number")


def test_a_figure_of_another_base_is_shown_but_never_judges():
    differs = {"vi": "người trưởng thành", "en": "adults"}
    programme = _programme(
        {
            "targets": ["pay@2024"],
            "rule": "share_at_least",
            "related": [{"indicator": "epayment_account_share_adults", "boundary": PRE, "differs": differs}],
        }
    )
    figures = [_figure("epayment_account_share_adults", PRE, 2024, 92.0)]
    targets = [_target("pay@2024", "epayment_account_share_residents_businesses", 2024, 60)]
    row = _card(programme, figures, targets).loc[1]
    assert row["status"] == "awaiting_figure" and row["basis"] == "no_figure"
    assert pd.isna(row["figure_value"]) and row["related_value"] == 92.0


def test_own_figure_judges_and_the_universal_threshold_is_the_plans():
    programme = _programme(
        {"targets": ["phones@2024"], "rule": "universal"},
        {"targets": ["phones2@2024"], "rule": "universal"},
        universal=95,
    )
    figures = [
        _figure("smartphone_penetration", PRE, 2024, 96.0),
        _figure("mobile_4g5g_population_coverage", PRE, 2024, 90.0, qualifier="more_than", value_type="bound"),
    ]
    targets = [
        _target("phones@2024", "smartphone_penetration", 2024, 100),
        _target("phones2@2024", "mobile_4g5g_population_coverage", 2024, 100),
    ]
    card = _card(programme, figures, targets)
    assert card.loc[1, "status"] == "met" and card.loc[1, "threshold"] == 95  # 96% of 100% "universal"
    assert card.loc[2, "status"] == "awaiting_figure" and card.loc[2, "basis"] == "floor_below"


def test_a_rank_target_reads_its_ranking_group_and_a_former_boundary_ends():
    programme = _programme(
        {"targets": ["dti@2024"], "rule": "top_k", "ranking_group": 34},
        {"targets": ["dti@2025"], "rule": "top_k", "ranking_group": 34},
    )
    figures = [_figure("dti_rank", PRE, 2024, 1.0, value_type="rank", rank_group_size=63)]
    targets = [_target("dti@2024", "dti_rank", 2024, 5), _target("dti@2025", "dti_rank", 2025, 3)]
    card = _card(programme, figures, targets)
    assert card.loc[1, "status"] == "awaiting_figure" and card.loc[1, "basis"] == "other_group"
    assert card.loc[2, "status"] == "boundary_ended"  # the former city was not ranked in 2025


def test_a_growth_target_per_year_or_on_average_on_the_citys_figures():
    programme = _programme(
        {"targets": ["g@2025"], "rule": "growth_each_year"}, {"targets": ["g@2025"], "rule": "growth_average"}
    )
    figures = [_figure("labour_productivity_growth", PRE, year, rate) for year, rate in ((2024, 6.0), (2025, 8.2))]
    targets = [_target("g@2025", "labour_productivity_growth", 2025, 7, span_start=2024)]
    card = _card(programme, figures, targets)
    assert card.loc[1, "status"] == "not_met"  # 2024 fell short
    assert card.loc[2, "status"] == "met"  # (1.06 x 1.082)^(1/2) - 1 = 7.09% a year


def test_targets_ahead_and_without_a_year_are_not_measurable():
    programme = _programme({"targets": ["a@2030"], "rule": "count"}, {"targets": ["b@open"], "rule": "count"})
    targets = [_target("a@2030", "it_parks_new", 2030, 1), _target("b@open", "it_parks_new", None, 1)]
    card = _card(programme, [_figure("it_parks_new", PRE, 2020, 0.0)], targets)
    assert list(card["basis"]) == ["ahead", "no_year"] and set(card["status"]) == {"not_measurable"}


def test_an_unknown_target_id_is_named():
    programme = _programme({"targets": ["missing@2024"], "rule": "count"})
    with pytest.raises(PlanError, match="programme target 1: unknown target id 'missing@2024'"):
        _card(programme, [], [_target("other", "it_parks_new", 2024, 1)])


def test_a_wrong_rule_or_group_is_an_error_with_the_nearest_name():
    basis = {"vi": "x", "en": "x"}
    document = {
        "programme": {
            "universal": {"at_least": 95, "basis": basis},
            "targets": [
                {
                    "number": 1,
                    "group": "digital_govt",
                    "name": basis,
                    "publish": basis,
                    "targets": ["x"],
                    "rule": "topk",
                }
            ],
        }
    }
    with pytest.raises(PlanError) as error:
        parse_programme(document, "assessment_plan.yml")
    assert "did you mean digital_government" in str(error.value) and "did you mean top_k" in str(error.value)


# --- the shipped programme -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_assessments(cleaned) -> pd.DataFrame:
    from analysis.models.assessment import assess
    from analysis.models.assessment_plan import load_assessment_plan

    plan = load_assessment_plan(ROOT / "data" / "assessment_plan.yml")
    _, assessments = assess(
        cleaned["indicators"], cleaned["targets"], plan, n_paths=300, registry=REGISTRY, reference_year=2026
    )
    return assessments


@pytest.fixture(scope="module")
def shipped(cleaned, shipped_assessments) -> pd.DataFrame:
    return scorecard(
        PROGRAMME,
        cleaned["indicators"],
        cleaned["targets"],
        shipped_assessments,
        registry=REGISTRY,
        reference_year=2026,
    ).set_index("number")


def test_every_target_of_the_programme_is_in_the_scorecard(shipped):
    assert list(shipped.index) == list(range(1, 28))
    assert shipped["status"].notna().all()


def test_the_december_collection_is_cleaned(cleaned):
    indicators = cleaned["indicators"]
    merged_dti = indicators[(indicators["indicator"] == "dti_score") & (indicators["boundary"] == MERGED)]
    assert merged_dti["value"].tolist() == [0.777]
    ranks = indicators[(indicators["indicator"] == "dti_rank") & (indicators["year"] == 2024)].set_index("boundary")
    assert (ranks.loc[PRE, "value"], ranks.loc[PRE, "rank_group_size"]) == (1, 63)
    assert (ranks.loc[MERGED, "value"], ranks.loc[MERGED, "rank_group_size"]) == (4, 34)
    excluded = cleaned["exclusions"]
    december = excluded[excluded["raw_file"] == "press_indicators_2026-12.csv"]
    assert {37, 38, 44} <= set(december["raw_row"])  # GDP growth as productivity, a conflicting republication, scope


def test_the_shipped_verdicts_follow_their_rules(shipped):
    assert shipped.loc[11, "status"] == "met"  # DTI 2024: first of 63
    assert shipped.loc[12, "status"] == "awaiting_figure"  # DTI 2025 not published; 4th of 34 is 2024
    assert shipped.loc[12, "related_value"] == 4 and shipped.loc[12, "related_rank_group"] == 34
    assert shipped.loc[16, "related_indicator"] == "epayment_account_share_adults"  # another base, shown only
    assert pd.isna(shipped.loc[16, "figure_value"])
    assert shipped.loc[7, "basis"] == "not_observable"  # the district tier is gone
    assert shipped.loc[25, "status"] == "met"  # 100% full-process in 2024
    assert shipped.loc[27, "basis"] == "no_year"


def test_each_programme_status_agrees_with_the_assessment_or_the_figure_it_rests_on(shipped, shipped_assessments):
    # checked against what the scorecard reads, not against the scorecard: an assessed target has the status of
    # its assessment in every year it names; "met" rests on an exact, published figure past the threshold
    assessed = shipped_assessments.set_index(["target_id", "estimator", "target_year"])["status"]
    rows = shipped[shipped["basis"] == "assessment"]
    assert len(rows) >= 4
    for number, row in rows.iterrows():
        parts = [part.rsplit("=", 1) for part in row["parts"].split(";")]
        for target_id, year_status in parts:
            year, status = year_status.split(":")
            assert assessed[(target_id, row["estimator"], int(year))] == status, (number, target_id, year)
        if len(parts) == 1:
            assert row["status"] == parts[0][1].split(":")[1], number
    met = shipped[shipped["status"] == "met"]
    assert len(met) >= 3 and (met["basis"] == "figure").all()
    for number, row in met.iterrows():
        assert row["figure_qualifier"] == "exact" and row["figure_kind"] in ("actual", "estimate"), number
        if row["rule"] == "share_at_least":
            assert row["figure_value"] >= row["threshold"], number
        elif row["rule"] == "top_k":
            assert row["figure_value"] <= row["threshold"], number
    # "reported as reached" rests on an assessment whose figure at the target is approximate or self-reported
    reported = shipped[shipped["status"] == "reported_reached"]
    assert len(reported) >= 1 and (reported["basis"] == "assessment").all()
    outcomes = shipped_assessments.set_index(["indicator", "boundary", "estimator", "target_year"])
    for number, row in reported.iterrows():
        outcome = outcomes.loc[(row["indicator"], row["boundary"], row["estimator"], int(row["target_year"]))]
        assert outcome["outcome_qualifier"] != "exact" or bool(outcome["outcome_self_reported"]), number
