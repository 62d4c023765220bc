"""Official-style rules against the worked examples of progress-methods.md section 6."""

import math

import pandas as pd
import pytest

from analysis.models import progress


def test_cagr_worked_example_hids_base():
    # 14.41 (2021) -> 21.5 (2023): 22.15 %/yr; required to 25 % in 2025: 14.77 %/yr; ratio 1.50
    assert progress.cagr(14.41, 21.5, 2021, 2023) == pytest.approx(0.2215, abs=5e-4)
    assert progress.cagr(14.41, 25, 2021, 2025) == pytest.approx(0.1477, abs=5e-4)
    result = progress.eurostat_assessment(pd.Series({2021: 14.41, 2023: 21.5}), 25, 2025)
    assert result["ratio"] == pytest.approx(1.50, abs=0.01)
    assert result["category"] == "significant_progress"


@pytest.mark.parametrize(
    "base, required_2030, ratio_2030", [(14.41, 0.1201, 1.84), (13.71, 0.1263, 2.00), (15.72, 0.1093, 1.55)]
)
def test_eurostat_2030_ratios(base, required_2030, ratio_2030):
    result = progress.eurostat_assessment(pd.Series({2021: base, 2023: 21.5}), 40, 2030)
    assert result["cagr_required"] == pytest.approx(required_2030, abs=5e-4)
    assert result["ratio"] == pytest.approx(ratio_2030, abs=0.01)


@pytest.mark.parametrize(
    "ratio, category",
    [
        (0.95, "significant_progress"),
        (0.949, "moderate_progress"),
        (0.60, "moderate_progress"),
        (0.5, "insufficient_progress"),
        (0.0, "insufficient_progress"),
        (-0.1, "moving_away"),
    ],
)
def test_eurostat_thresholds(ratio, category):
    assert progress.eurostat_category(ratio) == category


def test_target_already_achieved():
    assert progress.eurostat_assessment(pd.Series({2020: 20.0, 2023: 26.0}), 25, 2025)["category"] == "target_achieved"


def test_pace_in_percentage_points():
    # 2021-23 at 3.5 pp/yr; required 1.75 pp/yr to 2025 and 2.64 pp/yr to 2030 from 21.5 in 2023
    assert progress.pace_pp(14.5, 21.5, 2021, 2023) == pytest.approx(3.5)
    assert progress.required_pace_pp(21.5, 25, 2023, 2025) == pytest.approx(1.75)
    assert progress.required_pace_pp(21.5, 40, 2023, 2030) == pytest.approx(2.643, abs=1e-3)
    assert progress.years_to_target(1.2, 2.0, 0.2) == pytest.approx(4.0)
    assert progress.years_to_target(1.2, 2.0, -0.1) == math.inf


def test_compound_growth_extrapolates_a_share_past_80_percent():
    # The pitfall the report must show: 21.5 % growing at 22.15 %/yr is about 87 % in 2030.
    result = progress.unsd_assessment(pd.Series({2021: 14.41, 2023: 21.5}), 40, 2030)
    assert result["expected_value"] > 80


def test_unsd_ratio_and_category():
    result = progress.unsd_assessment(pd.Series({2022: 18.7, 2023: 21.5}), 25, 2025)
    expected = 21.5 * (21.5 / 18.7) ** 2
    assert result["expected_value"] == pytest.approx(expected)
    assert result["r"] == pytest.approx((expected - 18.7) / (25 - 18.7))
    assert result["category"] == "target_met_or_on_track"
    flat = progress.unsd_assessment(pd.Series({2020: 12.66, 2023: 12.70}), 20, 2025)
    assert flat["category"] == "stagnation_or_regression"


def test_escap_weights_recent_points_more():
    series = pd.Series({2019: 10.0, 2020: 10.0, 2021: 10.0, 2022: 12.0, 2023: 14.0})
    result = progress.escap_anticipated(series, 20, 2025)
    unweighted = progress.cagr(10, 14, 2019, 2023)
    assert result["cagr_weighted"] > unweighted
    assert result["category"] in ("maintain", "accelerate")
