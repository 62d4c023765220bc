"""Report content helpers: every number comes from the computed tables, in the report's language."""

import pandas as pd

from analysis.models.assessment import observed_series
from analysis.reports import content as reporting


def test_base_value_table_shows_that_another_estimators_base_flips_the_verdict(cleaned):
    indicators = cleaned["indicators"]
    gso = observed_series(indicators, "digital_economy_share_GRDP", "hcmc-pre-2025-07")["gso"]
    table = reporting.base_value_sensitivity(
        indicators, "digital_economy_share_GRDP", "hcmc-pre-2025-07", gso, [{"year": 2025, "value": 25.0}], "en"
    )
    verdicts = dict(zip(table["Base year"], table["25% (2025)"], strict=True))
    assert verdicts["2021: Statistics office (GSO)"].startswith("Insufficient progress")
    assert verdicts["2021: Ministry framework (MIC)"].startswith("Moving away")
    assert any(label.endswith("(high end)") for label in verdicts)


def test_sentences_carry_the_row_numbers_in_each_locale():
    row = pd.Series(
        {
            "status": "ok",
            "estimator": "mic",
            "indicator": "digital_economy_share_GRDP",
            "latest_value": 21.5,
            "latest_year": 2023,
            "required_pace_pp": 1.75,
            "observed_pace_pp": 3.06,
            "target_value": 25.0,
            "target_year": 2025,
            "p_meet_in_year": 0.474,
            "n_obs": 3,
        }
    )
    import datetime as dt

    vi = reporting.sentence(row, "vi", today=dt.date(2024, 6, 1))
    en = reporting.sentence(row, "en", today=dt.date(2024, 6, 1))
    assert "21,50%" in vi and "1,75" in vi and "47%" in vi
    assert "21.50%" in en and "1.75" in en and "47%" in en
    later = reporting.sentence(row, "en", today=dt.date(2026, 11, 25))
    assert "has passed" in later


def test_exclusion_reasons_are_in_the_report_language(cleaned):
    exclusions = cleaned["exclusions"]
    for _, row in exclusions.iterrows():
        vi = reporting.exclusion_reason(row, "vi")
        assert vi and vi != row["reason"]
        assert reporting.exclusion_reason(row, "en") == row["reason"]


def test_no_observations_says_the_data_cannot_answer():
    row = pd.Series({"status": "no_observations", "estimator": "none"})
    assert "cannot answer" in reporting.sentence(row, "en")
