import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.data.parsing import (
    boundary_for,
    detect_convention,
    estimator_family,
    normalize_unit,
    parse_geography,
    parse_number,
    parse_period,
    parse_published_date,
    parse_value,
    rank_group_from_text,
    without_unit,
)
from analysis.data.registry import load_registry
from analysis.errors import ParseError


@pytest.mark.parametrize(
    "text, convention, expected",
    [
        ("1.621.191", "vi", 1621191),
        ("18,66", "vi", 18.66),
        ("5.879,5", "vi", 5879.5),
        ("18.66", "en", 18.66),
        ("191.768", "vi", 191768),
        ("191,768", "en", 191768),
        ("2,513", "vi", 2.513),
        ("0.7163", "vi", 0.7163),
        ("0,688", "vi", 0.688),
        ("1,996", "en", 1996),
        ("-6,78", "vi", -6.78),
        ("1,621,191.5", "en", 1621191.5),
    ],
)
def test_parse_number_reads_both_conventions(text, convention, expected):
    assert parse_number(text, convention) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1.62.191", "abc", "12,", "1.234,5,6"])
def test_parse_number_rejects_malformed(text):
    with pytest.raises(ParseError):
        parse_number(text, "vi")


@pytest.mark.parametrize(
    "text, convention, value, qualifier, value_type",
    [
        ("khoảng 25", "vi", 25, "approx", "point"),
        ("hơn 1", "vi", 1, "more_than", "bound"),
        ("trên 60", "vi", 60, "more_than", "bound"),
        ("tối thiểu 7%", "vi", 7, "at_least", "bound"),
        ("ít nhất 2%", "vi", 2, "at_least", "bound"),
        ("gần 2,7 triệu", "vi", 2.7e6, "nearly", "point"),
        ("xấp xỉ 1,78 triệu", "vi", 1.78e6, "approx", "point"),
        ("about VNĐ1.78 quadrillion", "en", 1.78e15, "approx", "point"),
        ("more than 40", "en", 40, "more_than", "bound"),
        ("at least 2 percent", "en", 2, "at_least", "bound"),
        ("nearly 80%", "en", 80, "nearly", "point"),
        ("VND191,768 billion", "en", 191768e9, "exact", "point"),
        ("8,27", "vi", 8.27, "exact", "point"),
        ("giảm 5,06", "vi", -5.06, "exact", "point"),
        ("69 ,55%", "en", 69.55, "exact", "point"),
        ("520.2 trillion", "en", 520.2e12, "exact", "point"),
        ("vượt mốc 14%", "vi", 14, "more_than", "bound"),
        ("45 per cent", "en", 45, "exact", "point"),
        ("4.16 percent", "en", 4.16, "exact", "point"),
        ("$43.8 billion", "en", 43.8e9, "exact", "point"),
        ("2,71 triệu", "vi", 2.71e6, "exact", "point"),
    ],
)
def test_parse_value_qualifiers_and_scales(text, convention, value, qualifier, value_type):
    parsed = parse_value(text, convention)
    assert parsed.value == pytest.approx(value)
    assert parsed.qualifier == qualifier
    assert parsed.value_type == value_type


@pytest.mark.parametrize(
    "text, low, high, qualifier",
    [
        ("10% đến 11%", 10, 11, "exact"),
        ("8,5 - 9", 8.5, 9, "exact"),
        ("ít nhất 4-5", 4, 5, "at_least"),
        ("35–40", 35, 40, "exact"),
    ],
)
def test_ranges_in_every_spelling(text, low, high, qualifier):
    parsed = parse_value(text, "vi")
    assert (parsed.low, parsed.high, parsed.qualifier, parsed.value_type) == (low, high, qualifier, "range")


def test_range_gives_low_high_and_midpoint():
    parsed = parse_value("13,71-15,72", "vi")
    assert (parsed.low, parsed.high) == (13.71, 15.72)
    assert parsed.value == pytest.approx(14.715)
    assert parsed.value_type == "range"


def test_words_meaning_all_are_100():
    assert parse_value("tất cả", "vi").value == 100
    assert parse_value("toàn bộ", "vi").is_all_word


@pytest.mark.parametrize(
    "text, rank_context, value, value_type, group",
    [
        ("thứ 53", False, 53, "rank", None),
        ("nhóm 5 địa phương đứng đầu", False, 5, "top_k", None),
        ("second out of 63", False, 2, "rank", 63),
        ("3/63", True, 3, "rank", 63),
        ("fourth", False, 4, "rank", None),
        ("một trong 3 tỉnh, thành", False, 3, "top_k", None),
        ("05 (0,688)", True, 5, "rank", None),
        # the December 2026 collection's wordings
        ("dẫn đầu nhóm 63 tỉnh, thành", False, 1, "rank", 63),
        ("thứ tư", False, 4, "rank", None),
        ("thứ nhì", False, 2, "rank", None),
        ("vị trí thứ 2 (tăng 1 bậc so với năm 2023)", False, 2, "rank", None),
        ("71st among 193 countries (EGDI 0.7709)", False, 71, "rank", 193),
        ("1st of 63", False, 1, "rank", 63),
    ],
)
def test_ranks(text, rank_context, value, value_type, group):
    parsed = parse_value(text, "vi", rank_context)
    assert (parsed.value, parsed.value_type, parsed.rank_group_size) == (value, value_type, group)


@pytest.mark.parametrize(
    "text, value, qualifier",
    [
        ("95 per cent of the population", 95, "exact"),
        ("only 5.24%/year", 5.24, "exact"),
        ("a minimum of 3%", 3, "at_least"),
    ],
)
def test_what_a_percent_is_of_belongs_to_the_unit(text, value, qualifier):
    parsed = parse_value(text, "en")
    assert (parsed.value, parsed.qualifier) == (value, qualifier)


def test_rank_group_is_read_from_the_unit_or_the_geography():
    assert rank_group_from_text("rank among 34 merged provinces", "HCMC") == 34
    assert rank_group_from_text("xếp hạng", "HCMC (merged, group of 34)") == 34
    assert rank_group_from_text("xếp hạng", "HCMC") is None


def test_parenthetical_note_is_kept():
    parsed = parse_value("1,84 (text truncated after 'tổng')", "vi")
    assert parsed.value == 1.84 and "truncated" in parsed.note


@pytest.mark.parametrize("text", ["50 / 40 / 35", "each household ... a line", "", "20/34"])
def test_unreadable_values_raise(text):
    with pytest.raises(ParseError):
        parse_value(text, "vi")


@pytest.mark.parametrize(
    "unit, indicator, value, expected",
    [
        ("% GRDP", "digital_economy_share_GRDP", "18,66", ("percent_of_GRDP", 1.0)),
        ("per cent of regional GDP", "digital_economy_share_GRDP", "25", ("percent_of_GRDP", 1.0)),
        ("% GDP", "digital_economy_share_GDP", "12,66", ("percent_of_GDP", 1.0)),
        ("% tổng chi ngân sách hằng năm", "dt_budget_share", "1,2%", ("percent_of_budget", 1.0)),
        ("budgetary spending on digital transformation", "dt_budget_share", "0.4 per cent", ("percent_of_budget", 1.0)),
        ("tỷ đồng", "grdp_current_prices", "1.621.191", ("VND_billion", 1.0)),
        ("VND", "grdp_current_prices", "about VNĐ1.78 quadrillion", ("VND_billion", 1e-9)),
        ("tỷ USD (29% of national)", "ecommerce_spending_residents", "6,2", ("USD_billion", 1.0)),
        ("rank /63", "dti_rank", "2", ("rank", 1.0)),
        ("PDTI (0-1)", "dti_score", "0.7163", ("index_0_1", 1.0)),
        ("%/năm", "labour_productivity_growth", "7", ("percent_change", 1.0)),
        ("tỉ đồng", "grdp_current_prices", "2,71 triệu", ("VND_billion", 1.0)),
        ("USD", "digital_economy_value", "$43.8 billion", ("USD_billion", 1e-9)),
        ("đồng (nghìn tỷ đồng)", "dt_rd_budget_amount", "khoảng 95 nghìn tỷ", ("VND_billion", 1e-9)),
        (
            "unit not shown in the excerpt (Vietnamese budget disclosure tables are normally in triệu đồng)",
            "local_budget_expenditure",
            "305.606.645",
            ("VND_billion", 1e-3),
        ),
    ],
)
def test_units(unit, indicator, value, expected):
    assert normalize_unit(unit, indicator, value) == expected


def test_a_value_repeating_its_unit_is_not_scaled_twice():
    assert without_unit("trên 70 tỷ USD", "tỷ USD") == "trên 70"
    assert without_unit("26%", "%") == "26%"  # no scale word: left as written


def test_unknown_unit_raises():
    with pytest.raises(ParseError, match="unknown unit"):
        normalize_unit("furlongs", "some_indicator", "3")


@pytest.mark.parametrize(
    "text, year, period, span",
    [
        ("2023", 2023, "Y", (None, None)),
        ("2024-9M", 2024, "9M", (None, None)),
        ("2025-H1", 2025, "H1", (None, None)),
        ("2024-Q1", 2024, "Q1", (None, None)),
        ("2025-09", 2025, "M09", (None, None)),
        ("2016-2020 avg", 2020, "avg", (2016, 2020)),
        ("annual (from 2025)", 2025, "annual", (2025, None)),
        ("2021-2025 (annual)", 2025, "annual", (2021, 2025)),
        ("c. 2023", 2023, "Y", (None, None)),
        ("2023 (Oct)", 2023, "M10", (None, None)),
        ("2030 (annual)", 2030, "annual", (2030, 2030)),
        ("2021-2025 (average)", 2025, "avg", (2021, 2025)),
        ("2026-2030 (annual)", 2030, "annual", (2026, 2030)),
        ("2026 (budget estimate)", 2026, "Y", (None, None)),
        ("2025 (expected outturn, Dec 2025)", 2025, "Y", (None, None)),
        ("2026 onward (about 13 campaigns)", None, "span", (2026, None)),
        # a year the source did not state never enters a year's series
        ("2025 (reported for 2021-2025 period; exact year/average not stated)", None, "unstated", (2021, 2025)),
        ("2024 (implied; year not stated)", None, "unstated", (None, 2024)),
        (
            "as published Dec 2023 (GSO release then covered 2020-2022; data year not stated)",
            None,
            "unstated",
            (2020, 2022),
        ),
    ],
)
def test_periods(text, year, period, span):
    parsed = parse_period(text)
    assert (parsed.year, parsed.period, (parsed.span_start, parsed.span_end)) == (year, period, span)


@pytest.mark.parametrize("text", ["2023-13", "latest", "2020 / 2021", "1850"])
def test_bad_periods_raise(text):
    with pytest.raises(ParseError):
        parse_period(text)


@pytest.mark.parametrize("text", ["2023-02-30", "23-05-2023", "2023/05/01", "2023-13"])
def test_malformed_dates_raise(text):
    with pytest.raises(ParseError):
        parse_published_date(text)


REGISTRY = load_registry(Path(__file__).resolve().parents[1] / "data" / "registry")


def test_merger_boundary():
    hcmc = REGISTRY.places["hcmc"]
    merged = parse_geography("HCMC (merged, incl. Binh Duong & BR-VT)", REGISTRY)
    assert merged.geography == "hcmc" and merged.stated_side == "merged"
    assert boundary_for(hcmc, None, 2023, None, "Y", "2025-02-19")[0] == "hcmc-pre-2025-07"
    assert boundary_for(hcmc, None, 2030, None, "Y", "2025-12-11")[0] == "hcmc-merged-2025-07"
    assert boundary_for(hcmc, None, 2030, None, "Y", "2020-07-23")[0] == "hcmc-pre-2025-07"
    assert boundary_for(hcmc, None, 2025, None, "H1", "2025-08-27")[0] == "hcmc-pre-2025-07"
    assert parse_geography("HCMC (ward level)", REGISTRY).level == "ward"
    with pytest.raises(ParseError):
        parse_geography("Hai Phong / Da Nang", REGISTRY)


def test_every_merged_place_has_two_series_and_others_one():
    da_nang = parse_geography("Da Nang (merged, incl. Quang Nam)", REGISTRY)
    place = REGISTRY.places[da_nang.geography]
    assert boundary_for(place, da_nang.stated_side, 2030, None, "Y", None)[0] == "da_nang-merged-2025-07"
    assert boundary_for(place, None, 2022, None, "Y", "2023-06-01")[0] == "da_nang-pre-2025-07"
    hanoi = REGISTRY.places["hanoi"]
    assert boundary_for(hanoi, None, 2030, None, "Y", "2026-03-11") == ("hanoi", "no boundary change recorded")
    with pytest.raises(ParseError, match="unknown place"):
        parse_geography("Atlantis", REGISTRY)


@pytest.mark.parametrize(
    "text, family",
    [
        ("GSO (Tổng cục Thống kê) provincial compilation", "gso"),
        ("MIC (Bộ TT&TT) assessment", "mic"),
        ("PTIT (Học viện Bưu chính Viễn thông, under MIC) econometric", "ptit"),
        ("HIDS point estimate (reference only)", "hids"),
        ("HCMC DIC (Sở TT&TT) presented at HIDS workshop", "city"),
        ("Source attributes to MIC (Bộ TT&TT) assessment; NB other sources attribute 15,38% to HIDS", "mic"),
        ("same series as 15.38% (scientific research estimate)", "unknown"),
        # whole words: "economic" does not contain the ministry's acronym
        ("socio-economic report of the city government", "unknown"),
        ("Academic estimate from an economic institute", "unknown"),
        # the ministry kept its family after it merged into the ministry of science and technology
        ("MST national DTI 2024", "mic"),
        ("Bộ KH&CN report", "mic"),
        # an explicit series name decides over the speaker named first
        ("Stated by Director of HCMC Dept of Science & Technology (MIC/MST-framework series; not GSO)", "mic"),
        # a negated or contrasted name does not count
        ("Stated by Đà Nẵng Party Deputy Secretary (city's own estimate; differs from MIC 19,76 for 2022)", "city"),
        ("'policy estimate' (MIC/MST-style), contrasted with GSO statistical standard", "mic"),
        ("Cục Thống kê / GSO statistical standard, as relayed in an English translation", "gso"),
    ],
)
def test_estimator_families(text, family):
    assert estimator_family(text, REGISTRY) == family


def test_convention_detection():
    assert detect_convention("191.768", "tỷ đồng") == "vi"
    assert detect_convention("14.41", "percent") == "en"


# --- property-based: the number parser inverts the two ways of writing numbers ----------


def _format(value: float, decimals: int, convention: str, group: bool) -> str:
    text = f"{value:,.{decimals}f}" if group else f"{value:.{decimals}f}"
    if convention == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


@given(
    value=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    decimals=st.sampled_from([1, 2, 4]),
    convention=st.sampled_from(["vi", "en"]),
    group=st.booleans(),
)
def test_parse_number_round_trips_formatted_numbers(value, decimals, convention, group):
    text = _format(value, decimals, convention, group)
    assert parse_number(text, convention) == pytest.approx(float(f"{value:.{decimals}f}"), rel=1e-12, abs=1e-9)


@given(st.integers(min_value=1000, max_value=10**12), st.sampled_from(["vi", "en"]))
def test_grouped_integers_parse_in_their_convention(value, convention):
    text = _format(value, 0, convention, True)
    assert parse_number(text, convention) == value


@given(st.text(max_size=30))
def test_parse_value_either_parses_or_raises_parse_error(text):
    try:
        parsed = parse_value(text, "vi")
    except ParseError:
        return
    assert math.isfinite(parsed.value)
