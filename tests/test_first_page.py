"""A first page a leader can act on: one status per target, what it would take, the merged city, peers."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.data.registry import load_registry
from analysis.models.assessment import status_for
from analysis.models.merged_city import bridge
from analysis.models.what_it_takes import amount_in, required_growth
from analysis.reports import charts, content

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = load_registry(ROOT / "data" / "registry")
NAN = float("nan")


def _row(**values) -> dict:
    base = {
        "outcome": None,
        "target_passed": False,
        "n_obs": 4,
        "p_meet_in_year": NAN,
        "observed_pace_pp": NAN,
        "required_pace_pp": NAN,
    }
    return {**base, **values}


@pytest.mark.parametrize(
    "row, status",
    [
        (_row(outcome="met", target_passed=True), "met"),
        (_row(outcome="not_met", target_passed=True), "not_met"),
        (_row(target_passed=True), "awaiting_figure"),
        (_row(target_passed=True, n_obs=0), "not_measurable"),
        (_row(p_meet_in_year=0.5), "on_track"),
        (_row(p_meet_in_year=0.49), "off_track"),
        (_row(observed_pace_pp=3.0, required_pace_pp=2.0), "on_track"),  # two figures: by pace
        (_row(observed_pace_pp=1.0, required_pace_pp=2.0), "off_track"),
        (_row(n_obs=1), "not_measurable"),
    ],
)
def test_one_status_per_target(row, status):
    assert status_for(row) == status


def test_when_the_official_rule_disagrees_the_report_says_why_in_one_sentence():
    off_but_eurostat_significant = pd.Series({"status": "off_track", "eurostat_category": "significant_progress"})
    on_but_eurostat_insufficient = pd.Series({"status": "on_track", "eurostat_category": "insufficient_progress"})
    agree = pd.Series({"status": "off_track", "eurostat_category": "moving_away"})
    assert "base year" in content.disagreement(off_but_eurostat_significant, "en")
    assert "more pessimistic" in content.disagreement(on_but_eurostat_insufficient, "en")
    assert content.disagreement(agree, "en") == "–"
    assert "Eurostat" in content.disagreement(off_but_eurostat_significant, "vi")


def test_required_growth_matches_a_hand_computation():
    # 22% in 2024 to 40% in 2030 while GRDP grows 6.72% a year:
    # the share must rise (40/22)^(1/6) - 1 = 10.477% a year faster,
    # so the value must grow 1.0672 * 1.10477 - 1 = 17.90% a year.
    required, excess = required_growth(22.0, 40.0, 6, 0.0672)
    assert excess == pytest.approx((40 / 22) ** (1 / 6) - 1) == pytest.approx(0.10477, abs=1e-5)
    assert required == pytest.approx(1.0672 * (40 / 22) ** (1 / 6) - 1) == pytest.approx(0.17901, abs=1e-5)
    # Without a GRDP series the growth needed is unknown, the excess over GRDP still known.
    unknown, excess = required_growth(22.0, 40.0, 6, NAN)
    assert math.isnan(unknown) and excess == pytest.approx(0.10477, abs=1e-5)


def test_the_amount_a_budget_target_means_is_published_spending_then_projected():
    amounts = {2025: (258000.0, "published"), 2026: (305606.645, "published budget estimate")}
    assert amount_in(2026, amounts, 0.067) == (305606.645, "published budget estimate")
    projected, basis = amount_in(2028, amounts, 0.067)
    assert projected == pytest.approx(305606.645 * 1.067**2) and basis.startswith("projected from 2026")
    assert math.isnan(amount_in(2024, amounts, 0.067)[0])


def test_what_it_takes_has_the_share_and_budget_targets(cleaned):
    from analysis.models.assessment import assess
    from analysis.models.plan import load_assessment_plan
    from analysis.models.what_it_takes import requirements

    plan = load_assessment_plan(ROOT / "data" / "assessment_plan.yml")
    _, assessments = assess(
        cleaned["indicators"], cleaned["targets"], plan, n_paths=300, registry=REGISTRY, reference_year=2026
    )
    needs = requirements(cleaned["indicators"], cleaned["targets"], assessments, plan, REGISTRY)
    share = needs[(needs.indicator == "digital_economy_share_GRDP") & (needs.boundary == "hcmc-pre-2025-07")].iloc[0]
    assert (share.target_year, share.target_value, share.latest_value) == (2030, 40.0, 22.0)
    assert share.denominator_growth_pct == pytest.approx(
        100 * ((1780000 / 1372272) ** (1 / 4) - 1)
    )  # nominal GRDP 2020-2024
    assert share.required_growth_pct == pytest.approx(
        100 * ((1 + share.denominator_growth_pct / 100) * (40 / 22) ** (1 / 6) - 1)
    )
    budget = needs[(needs.indicator == "dt_budget_share") & (needs.target_year == 2026)].iloc[0]
    assert budget.denominator_value == pytest.approx(305606.645) and budget.required_amount == pytest.approx(6112.1329)
    assert budget.amount_at_latest_share == pytest.approx(305606.645 * 0.012)
    scope = needs[(needs.indicator == "dt_rd_budget_share_NQ57") & (needs.target_year == 2026)].iloc[0]
    assert (scope.target_value, scope.target_high, scope.latest_value) == (4.0, 5.0, 1.84)


def test_the_merged_city_bridge_states_weights_band_and_missing_figures(cleaned):
    table = bridge(cleaned["indicators"], "digital_economy_share_GRDP", "hcmc-merged-2025-07", "mic", REGISTRY)
    year_2024 = table[table.year == 2024].set_index("component")
    weights = year_2024.weight
    assert weights.sum() == pytest.approx(1.0)
    assert weights["hcmc-pre-2025-07"] == pytest.approx(1780000 / (1780000 + 520200 + 417306))
    assert set(year_2024.missing_share.iloc[0].split(";")) == {"binh_duong", "ba_ria_vung_tau"}
    low, high = year_2024.combined_low.iloc[0], year_2024.combined_high.iloc[0]
    assert low < 22.0 < high and math.isnan(year_2024.combined.iloc[0])


def test_vietnamese_charts_write_decimal_commas():
    figure = charts.fan_chart(
        pd.DataFrame(columns=["year", "median", "lo95", "hi95", "lo80", "hi80", "lo50", "hi50"]),
        {"reported": pd.Series({2020: 0.4, 2021: 0.78, 2022: 0.97, 2024: 1.2})},
        [{"year": 2030, "value": 2.0}],
        "vi",
        "reported",
        "Chi chuyển đổi số",
    )
    figure.canvas.draw()
    ticks = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert any("," in tick for tick in ticks) and not any("." in tick for tick in ticks)
    labels_en = []
    figure_en = charts.fan_chart(
        pd.DataFrame(columns=["year", "median", "lo95", "hi95", "lo80", "hi80", "lo50", "hi50"]),
        {"reported": pd.Series({2020: 0.4, 2024: 1.2})},
        [],
        "en",
        "reported",
        "Budget",
    )
    figure_en.canvas.draw()
    labels_en = [label.get_text() for label in figure_en.axes[0].get_yticklabels()]
    assert any("." in tick for tick in labels_en)
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert not any(text.startswith("Khoảng 95%") for text in legend)


def test_the_targets_table_says_why_a_pace_ahead_of_the_need_is_still_off_track():
    row = pd.Series(
        {
            "status": "off_track",
            "eurostat_category": "significant_progress",
            "observed_pace_pp": 0.20,
            "required_pace_pp": 0.13,
            "median_projection_value": 1.64,
            "target_year": 2030,
        }
    )
    why = content.disagreement(row, "vi")
    assert "chậm lại" in why and "2030" in why and "1,6%" in why


def test_page_one_gives_no_rival_verdict_from_two_figures_beside_a_forecast():
    from analysis.reports.verdict import others_line

    common = {"target_year": 2030, "latest_value": 18.66, "latest_year": 2022}
    rows = pd.DataFrame(
        [
            _row(estimator="city", status="on_track", n_obs=2, data_status="too_few_points_for_forecast", **common),
            _row(estimator="gso", status="off_track", p_meet_in_year=0.002, data_status="ok", **common),
        ]
    )
    line = others_line(rows, "mic", [2030], "vi")
    assert "mới có 2 số liệu, chưa đủ để dự báo (2030)" in line
    assert "đúng lộ trình" not in line and "<1% (2030)" in line
