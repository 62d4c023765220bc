"""A first page a leader can act on: one status per target, what it would take, the merged city, peers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.data.registry import load_registry
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


def test_when_the_official_rule_disagrees_the_report_says_why_in_one_sentence():
    base = {"p_meet_in_year": 0.06, "observed_pace_pp": 2.2, "required_pace_pp": 3.0, "target_year": 2030}
    off_but_eurostat_significant = pd.Series(
        {**base, "status": "off_track", "eurostat_category": "significant_progress", "median_projection_value": 26.0}
    )
    agree = pd.Series({**base, "status": "off_track", "eurostat_category": "moving_away"})
    assert "compound growth" in content.disagreement(off_but_eurostat_significant, "en")
    assert "26%" in content.disagreement(off_but_eurostat_significant, "en")  # what the model expects instead
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
    amounts = {2024: (149977.0, "budget estimate (plan)")}
    assert amount_in(2024, amounts, 0.067) == (149977.0, "budget estimate (plan)", 2024)
    projected, basis, base_year = amount_in(2026, amounts, 0.067)
    assert projected == pytest.approx(149977.0 * 1.067**2) and basis.startswith("projected from 2024")
    assert base_year == 2024
    assert math.isnan(amount_in(2023, amounts, 0.067)[0])


def test_a_budget_target_is_costed_on_its_own_boundarys_budget(cleaned):
    from analysis.models.what_it_takes import published_amounts

    former = published_amounts(cleaned["indicators"], "local_budget_expenditure", "hcmc-pre-2025-07")
    merged = published_amounts(cleaned["indicators"], "local_budget_expenditure", "hcmc-merged-2025-07")
    assert former[2024] == (149977.0, "budget estimate (plan)") and 2026 not in former
    assert merged[2026] == (305606.645, "budget estimate (plan)")
    assert merged[2025] == (258000.0, "published estimate")  # the expected outturn outranks the budget estimate


def test_what_it_takes_has_the_share_and_budget_targets(cleaned):
    from analysis.models.assessment import assess
    from analysis.models.assessment_plan import load_assessment_plan
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
    # The 2% target of the city before the merger is costed on that city's own budget (the 2024 budget
    # estimate, projected), never on the merged city's 305.607 billion.
    budget = needs[(needs.indicator == "dt_budget_share") & (needs.target_year == 2026)].iloc[0]
    growth = share.denominator_growth_pct / 100
    assert budget.amount_boundary == "hcmc-pre-2025-07" and budget.amount_base_year == 2024
    assert budget.denominator_value == pytest.approx(149977 * (1 + growth) ** 2)
    assert budget.required_amount == pytest.approx(0.02 * budget.denominator_value)
    assert budget.amount_at_latest_share == pytest.approx(0.012 * budget.denominator_value)
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
    )
    figure_en.canvas.draw()
    labels_en = [label.get_text() for label in figure_en.axes[0].get_yticklabels()]
    assert any("." in tick for tick in labels_en)
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert not any(text.startswith("Khoảng 95%") for text in legend)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_target_labels_on_a_fan_chart_touch_no_other_label_or_line_and_stay_inside(lang):
    years = np.arange(2024, 2031)
    forecasts = pd.DataFrame({"year": years, "median": np.linspace(15, 16, 7)})
    for column, width in (("lo95", -6), ("hi95", 10), ("lo80", -4), ("hi80", 6), ("lo50", -2), ("hi50", 3)):
        forecasts[column] = forecasts["median"] + np.linspace(0.5, 1, 7) * width
    # the city's three digital-economy targets: 22% and 25% are a line's height apart at this scale
    targets = [{"year": 2024, "value": 22.0}, {"year": 2025, "value": 25.0}, {"year": 2030, "value": 40.0}]
    observed = {"gso": pd.Series({2020: 12.6, 2021: 13.8, 2022: 13.5, 2023: 14.6})}
    figure = charts.fan_chart(forecasts, observed, targets, lang, "gso")
    figure.canvas.draw()
    renderer, axes = figure.canvas.get_renderer(), figure.axes[0]
    boxes = [label.get_window_extent(renderer) for label in axes.texts]
    lines = [axes.transData.transform((0, target["value"]))[1] for target in targets]
    assert len(boxes) == 3
    ticks = max(tick.get_window_extent(renderer).x1 for tick in axes.get_yticklabels() if tick.get_text())
    stars = charts.marker_boxes(axes, figure.dpi / 72)[-3:]  # the targets' stars, drawn last
    for index, box in enumerate(boxes):
        assert box.x0 >= ticks, axes.texts[index].get_text()  # clear of the tick labels
        assert sum(box.y0 < y < box.y1 for y in lines) == 0, axes.texts[index].get_text()
        assert not any(box.overlaps(star) for star in stars), axes.texts[index].get_text()
        for other in boxes[index + 1 :]:
            assert not box.overlaps(other), (axes.texts[index].get_text(), boxes)


def test_the_label_of_a_run_of_yearly_targets_is_drawn_and_clear_of_its_stars():
    # the budget's 2% in each year 2025-2030: one long label, no line above it, stars up to the right edge
    forecasts = pd.DataFrame({"year": range(2025, 2031), "median": np.linspace(1.2, 1.3, 6)})
    for column, width in (("lo95", -1), ("hi95", 6), ("lo80", -0.7), ("hi80", 3), ("lo50", -0.3), ("hi50", 1.2)):
        forecasts[column] = forecasts["median"] + np.linspace(0.3, 1, 6) * width
    observed = {"reported": pd.Series({2020: 0.4, 2021: 0.78, 2022: 0.97, 2024: 1.2})}
    targets = [{"year": year, "value": 2.0} for year in range(2025, 2031)]
    figure = charts.fan_chart(forecasts, observed, targets, "vi", "reported")
    figure.canvas.draw()
    renderer, axes = figure.canvas.get_renderer(), figure.axes[0]
    (label,) = axes.texts
    box = label.get_window_extent(renderer)
    assert np.isfinite([box.x0, box.y0, box.x1, box.y1]).all() and box.height > 0
    assert axes.get_window_extent(renderer).overlaps(box)  # on the plot, not off it
    assert not any(box.overlaps(marker) for marker in charts.marker_boxes(axes, figure.dpi / 72))


def test_the_targets_table_says_why_a_pace_ahead_of_the_need_is_still_off_track():
    row = pd.Series(
        {
            "status": "off_track",
            "p_meet_in_year": 0.21,
            "eurostat_category": "significant_progress",
            "observed_pace_pp": 0.20,
            "required_pace_pp": 0.13,
            "median_projection_value": 1.64,
            "target_year": 2030,
        }
    )
    why = content.disagreement(row, "vi")
    assert "chậm lại" in why and "2030" in why and "1,6%" in why


def _assessed(**values) -> dict:
    common = {
        "indicator": "digital_economy_share_GRDP",
        "boundary": "hcmc-pre-2025-07",
        "target_year": 2030,
        "target_value": 40.0,
        "latest_value": 18.66,
        "latest_year": 2022,
        "n_obs": 4,
        "p_meet_in_year": NAN,
        "median_projection_value": NAN,
        "outcome_value": NAN,
    }
    return {**common, **values}


def test_page_one_puts_each_estimators_evidence_on_its_own_line_with_the_year_that_decides_it():
    from analysis.reports.verdict import evidence, evidence_rows

    rows = pd.DataFrame(
        [
            _assessed(estimator="mic", status="off_track", p_meet_in_year=0.06, data_status="ok", latest_value=22.0),
            _assessed(estimator="city", status="on_track", n_obs=2, data_status="too_few_points_for_forecast"),
            _assessed(
                estimator="gso",
                status="off_track",
                p_meet_in_year=0.002,
                data_status="ok",
                latest_value=14.65,
                latest_year=2023,
            ),
            _assessed(estimator="hids", status="not_measurable", n_obs=1, data_status="one_observation"),
        ]
    )
    found = evidence_rows(rows, rows.iloc[0])
    assert [row.estimator for row, _ in found] == ["gso", "city"]  # the independent estimator first; hids says nothing
    lines = [evidence(row, "vi") for row, _ in found]
    assert lines[0].startswith("Cục Thống kê") and "<1%" in lines[0] and "14,65% năm 2023" in lines[0]
    assert "chỉ so tốc độ, từ 2 số liệu" in lines[1] and "đúng lộ trình" in lines[1]  # the same status as the CSV
    # A passed year: the figure of that year decides, never a stale latest year beside the newer status.
    passed = _assessed(
        estimator="gso", status="not_met", target_year=2025, data_status="one_observation", outcome_value=14.9
    )
    passed.update(outcome_kind="final", outcome_qualifier="exact", outcome_boundary=None, latest_year=2023)
    line = evidence(pd.Series(passed), "vi")
    assert "14,9% năm 2025" in line and "2023" not in line
