"""Report content helpers: every number comes from the computed tables, in the report's language."""

from pathlib import Path

import pandas as pd

from analysis.models.assessment import observed_series
from analysis.reports import content as reporting
from analysis.reports import labels, verdict


def test_base_value_table_shows_that_another_estimators_base_flips_the_verdict(cleaned):
    indicators = cleaned["indicators"]
    gso = observed_series(indicators, "digital_economy_share_GRDP", "hcmc-pre-2025-07")["gso"]
    table = reporting.base_value_sensitivity(
        indicators, "digital_economy_share_GRDP", "hcmc-pre-2025-07", gso, [{"year": 2030, "value": 40.0}], "en"
    )
    verdicts = dict(zip(table["Base year"], table["40% (2030)"], strict=True))
    assert verdicts[f"2021: {labels.estimator('gso', 'en')}"].startswith("Insufficient progress")
    assert verdicts[f"2021: {labels.estimator('mic', 'en')}"].startswith("Moving away")
    assert any(label.endswith("(high end)") for label in verdicts)


FUTURE = {
    "status": "off_track",
    "data_status": "ok",
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


def test_sentences_carry_the_row_numbers_in_each_locale():
    row = pd.Series(FUTURE)
    vi, en = verdict.reason(row, "vi"), verdict.reason(row, "en")
    # a published share prints with the decimals it has (21,5%, not 21,50%)
    assert "21,5%" in vi and "1,75" in vi and "47%" in vi
    assert "21.5%" in en and "1.75" in en and "47%" in en


def test_a_passed_year_reads_as_an_outcome_or_as_awaiting_never_as_a_probability():
    ended = pd.Series(
        {
            **FUTURE,
            "boundary": "hcmc-pre-2025-07",
            "status": "boundary_ended",
            "outcome": "boundary_ended",
            "outcome_value": 25.0,
            "outcome_kind": "estimate",
            "outcome_qualifier": "approx",
            "outcome_boundary": "hcmc-merged-2025-07",
            "p_meet_in_year": float("nan"),
            "median_projection_value": 22.8,
            "projection_lo80": 19.2,
            "projection_hi80": 26.2,
        }
    )
    text = verdict.reason(ended, "en")
    assert "about 25%" in text and "merged" in text and "neither met nor not met" in text
    assert "22.8%" in text and "probability" not in text.lower()
    assert "khoảng 25%" in verdict.reason(ended, "vi")
    awaiting = pd.Series(
        {
            **FUTURE,
            "status": "awaiting_figure",
            "p_meet_in_year": float("nan"),
            "median_projection_value": 24.2,
            "projection_lo80": 20.4,
            "projection_hi80": 29.8,
        }
    )
    text = verdict.reason(awaiting, "en")
    assert "no figure for 2025" in text and "24.2%" in text and "20.4%–29.8%" in text
    assert "probability" not in text.lower()


def test_exclusion_reasons_are_in_the_report_language(cleaned):
    exclusions = cleaned["exclusions"]
    for _, row in exclusions.iterrows():
        vi = reporting.exclusion_reason(row, "vi")
        assert vi and vi != row["reason"]
        assert reporting.exclusion_reason(row, "en") == row["reason"]


def test_no_observations_says_the_data_cannot_answer():
    row = pd.Series({"status": "not_measurable", "data_status": "no_observations", "estimator": "none"})
    assert "no figure yet" in verdict.reason(row, "en")


def test_places_are_named_from_the_registry_in_each_language():
    assert labels.place("hcmc-pre-2025-07", "vi") == "TP.HCM (trước sáp nhập)"
    assert labels.place("hcmc-merged-2025-07", "vi") == "TP.HCM (sau sáp nhập 1/7/2025)"
    assert labels.place("hcmc-merged-2025-07", "en") == "HCMC (merged, from 1 July 2025)"
    assert labels.place("vietnam", "vi") == "Cả nước"
    assert labels.target_value(17.5, "vi") == "17,5%" and labels.target_value(25.0, "en") == "25%"


def test_a_long_table_prints_its_first_rows_and_hands_over_the_rest():
    from analysis.reports.html import MAX_TABLE_ROWS, table_html

    page = table_html(pd.DataFrame({"row": range(MAX_TABLE_ROWS + 50)}), name="long", lang="en")
    assert page.count("<td ") == MAX_TABLE_ROWS
    assert f"shows {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 50} rows" in page
    assert page.count("data:text/csv") == 1  # the download holds every row


def test_a_first_column_of_long_names_is_kept_readable_and_a_column_of_years_is_not_widened():
    from analysis.reports.html import table_html

    target = "Kinh tế số / GRDP ≥ 22% năm 2024 — TP.HCM (trước sáp nhập)"
    named = table_html(pd.DataFrame({"Mục tiêu": [target], "Trạng thái": ["Chờ số liệu"], "Vì sao": ["–"]}))
    years = table_html(pd.DataFrame({"Năm": [2024], "Giá trị": ["22%"], "Nguồn": [target]}))
    assert '<table class="data named">' in named and '<table class="data">' in years
    css = (Path(__file__).resolve().parents[1] / "src/analysis/reports/templates/report.css").read_text("utf-8")
    assert "table.data.named td:first-child { min-width:" in css


def test_a_grouped_table_names_each_target_once_above_its_rows_and_downloads_it_in_every_row():
    import base64
    import re

    from analysis.reports.html import table_html

    frame = pd.DataFrame(
        {
            "Mục tiêu": ["A ≥ 22% năm 2024", "A ≥ 22% năm 2024", "A ≥ 25% năm 2025"],
            "Phương pháp": ["Cục Thống kê", "Viện", "Cục Thống kê"],
            "Trạng thái": ["Chờ số liệu", "Đạt", "Chờ số liệu"],
        }
    )
    marks = [{"status": s, "key": f"k{i}"} for i, s in enumerate(["awaiting_figure", "met", "awaiting_figure"])]
    page = table_html(frame, name="grouped", row_status=marks, group_by="Mục tiêu")
    assert re.findall(r'<tr class="group"><th colspan="2"[^>]*>([^<]+)</th>', page) == [
        "A ≥ 22% năm 2024",
        "A ≥ 25% năm 2025",
    ]
    assert 'data-label="Mục tiêu"' not in page and page.count("<td ") == 6
    assert page.count('data-key="k') == 3  # every data row keeps its status mark
    csv = base64.b64decode(re.search(r"data:text/csv;charset=utf-8;base64,([^\"]+)", page).group(1)).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Mục tiêu,") and csv.count("A ≥ 22% năm 2024") == 2


def test_a_chart_is_drawn_once_for_the_same_inputs_in_a_batch_run(tmp_path, monkeypatch):
    from analysis.reports import charts

    bins = pd.DataFrame({"mean_probability": [0.2, 0.7], "observed_frequency": [0.25, 0.6], "count": [4, 3]})
    assert not isinstance(charts.calibration_chart(bins, "vi"), charts.CachedChart)  # outside a batch: drawn
    monkeypatch.setenv("ANALYSIS_CHART_CACHE", str(tmp_path))
    first = charts.calibration_chart(bins, "vi")
    svg = charts.svg_of(first)
    assert not isinstance(first, charts.CachedChart) and len(list(tmp_path.glob("*.svg"))) == 1
    again = charts.calibration_chart(bins, "vi")
    assert isinstance(again, charts.CachedChart) and charts.svg_of(again) == svg
    for changed in (bins.assign(observed_frequency=[0.25, 0.65]), bins.assign(count=[4, 4])):
        assert not isinstance(charts.calibration_chart(changed, "vi"), charts.CachedChart)  # a value: drawn anew
    assert not isinstance(charts.calibration_chart(bins, "en"), charts.CachedChart)  # another language too


def test_a_table_printed_for_readers_downloads_with_numbers_as_numbers():
    from analysis.reports.downloads import as_number, csv_bytes, labelled, tidy

    assert as_number("1.621.191,5", "vi") == 1621191.5 and as_number("2,21", "vi") == 2.21
    assert as_number("6%", "en") == 6 and as_number("1,234.5", "en") == 1234.5
    assert as_number("khoảng 25% (2025)", "vi") is None and as_number("2,21", "en") is None
    printed = pd.DataFrame(
        {"Năm": ["2024", "2025"], "Tốc độ": ["2,21", "–"], "Xác suất": ["6%", "47%"], "Ghi chú": ["x", "–"]}
    )
    csv = csv_bytes(tidy(printed, "vi")).decode("utf-8-sig")
    assert csv.splitlines() == ["Năm,Tốc độ,Xác suất (%),Ghi chú", "2024,2.21,6,x", "2025,,47,"]
    raw = labelled(pd.DataFrame({"boundary": ["hcmc-pre-2025-07"], "estimator": ["gso"], "value": [14.65]}), "vi")
    assert list(raw.columns) == ["boundary", "place_name", "estimator", "estimator_name", "value"]
    assert raw.place_name[0].startswith("TP.HCM") and "Thống kê" in raw.estimator_name[0]


def test_times_are_printed_in_ho_chi_minh_city():
    from analysis.i18n import fmt_edition, fmt_time

    assert fmt_edition("20261126T154420Z", "vi") == "26 tháng 11 năm 2026, 22:44 (giờ Việt Nam)"
    assert fmt_time("2026-11-26T20:10:00+00:00", "en") == "27 November 2026, 03:10 (Vietnam time)"


def test_the_method_appendix_names_each_back_test_it_cannot_show():
    from types import SimpleNamespace

    from analysis.i18n import t
    from analysis.reports.sections import benchmark_section

    for lang in ("vi", "en"):
        none = benchmark_section(SimpleNamespace(lang=lang, benchmarks={}))
        assert t("s.no_benchmark_share_series", lang) in none and t("s.no_benchmark_m3_yearly", lang) in none
