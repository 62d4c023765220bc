"""Report text in Vietnamese (first) and English, and locale formatting through Babel.

Every string a reader sees comes from :data:`CATALOGUE`; a test checks that every key has
both languages.  Numbers and dates are formatted with Babel (``18,66%`` in vi, ``18.66%`` in en).
"""

from __future__ import annotations

import datetime as dt
import math

from babel.dates import format_date
from babel.numbers import format_decimal

LANGUAGES = ("vi", "en")
LOCALES = {"vi": "vi_VN", "en": "en_GB"}

CATALOGUE: dict[str, dict[str, str]] = {
    # titles
    "report.summary": {"vi": "Chuyển đổi số TP.HCM: các mục tiêu có trong tầm tay?", "en": "Ho Chi Minh City's digital transformation: are the targets within reach?"},
    "report.digital_economy.hcmc": {"vi": "Kinh tế số trong GRDP của TP.HCM", "en": "The digital economy's share of Ho Chi Minh City's GRDP"},
    "report.digital_economy.vietnam": {"vi": "Kinh tế số trong GDP cả nước", "en": "The digital economy's share of Vietnam's GDP"},
    "report.budget": {"vi": "Ngân sách cho chuyển đổi số của TP.HCM", "en": "Ho Chi Minh City's budget for digital transformation"},
    "report.data_appendix": {"vi": "Phụ lục dữ liệu: nguồn, phương pháp ước tính, xung đột", "en": "Data appendix: sources, estimators, conflicts"},
    "report.method_appendix": {"vi": "Phụ lục phương pháp: mô hình, quy tắc, kiểm định", "en": "Method appendix: models, rules, back-test"},
    "cover.subtitle": {"vi": "Báo cáo phân tích", "en": "Analytical report"},
    "cover.date": {"vi": "Ngày lập", "en": "Produced on"},
    "cover.vintage": {"vi": "Dữ liệu công bố đến", "en": "Data published up to"},
    "cover.as_of": {"vi": "Đánh giá chỉ dùng dữ liệu công bố đến năm", "en": "Assessment uses only data published up to"},
    "cover.version": {"vi": "Phiên bản phần mềm", "en": "Software version"},
    "toc": {"vi": "Mục lục", "en": "Contents"},
    "page": {"vi": "Trang", "en": "Page"},
    # headings
    "h.verdict": {"vi": "Kết luận", "en": "Verdict"},
    "h.targets_table": {"vi": "Các mục tiêu và khả năng đạt được", "en": "Targets and how likely they are to be met"},
    "h.charts": {"vi": "Diễn biến và dự báo", "en": "Trend and forecast"},
    "h.observations": {"vi": "Số liệu quan sát theo phương pháp ước tính", "en": "Observations by estimator"},
    "h.rules": {"vi": "Quy tắc đánh giá tiến độ chính thức", "en": "Official-style progress rules"},
    "h.caveats": {"vi": "Lưu ý", "en": "Caveats"},
    "h.sources": {"vi": "Nguồn", "en": "Sources"},
    "h.estimators": {"vi": "Các phương pháp ước tính và vì sao chúng khác nhau", "en": "Estimator families and why they differ"},
    "h.conflicts": {"vi": "Số liệu mâu thuẫn và cách xử lý", "en": "Conflicting figures and how they were resolved"},
    "h.exclusions": {"vi": "Số liệu bị loại và lý do", "en": "Excluded figures and why"},
    "h.boundary": {"vi": "Thay đổi địa giới ngày 1/7/2025", "en": "The boundary change of 1 July 2025"},
    "h.models": {"vi": "Mô hình dự báo", "en": "Forecast models"},
    "h.benchmark": {"vi": "Kiểm định trên chuỗi M3", "en": "Back-test on the M3 series"},
    "h.calibration": {"vi": "Độ tin cậy của xác suất", "en": "Calibration of the probabilities"},
    "h.base_value": {"vi": "Kết luận thay đổi theo số liệu năm gốc", "en": "The verdict depends on the base-year figure"},
    "txt.base_value": {"vi": "Quy tắc Eurostat chỉ dùng hai điểm: năm gốc và năm mới nhất. Bảng dưới giữ nguyên giá trị mới nhất và thay số liệu năm gốc bằng từng con số đã công bố cho năm đó (kể cả của phương pháp khác, và hai đầu của khoảng ước tính). Tỷ số trong ngoặc là tốc độ thực tế chia tốc độ cần.",
                       "en": "Eurostat's rule uses two points only: the base year and the latest year. The table keeps the latest value and swaps in every figure published for the base year (including other estimators' and both ends of a published range). The ratio in brackets is actual over required growth."},
    "h.pace": {"vi": "Tốc độ cần thiết", "en": "Required pace"},
    # table columns
    "col.target": {"vi": "Mục tiêu", "en": "Target"},
    "col.latest": {"vi": "Giá trị mới nhất", "en": "Latest value"},
    "col.estimator": {"vi": "Phương pháp", "en": "Estimator"},
    "col.observed_pace": {"vi": "Tốc độ quan sát (điểm %/năm)", "en": "Observed pace (pp/yr)"},
    "col.required_pace": {"vi": "Tốc độ cần (điểm %/năm)", "en": "Required pace (pp/yr)"},
    "col.probability": {"vi": "Xác suất đạt", "en": "Probability of meeting it"},
    "col.range": {"vi": "Khoảng theo phương pháp", "en": "Range across estimators"},
    "col.verdict": {"vi": "Đánh giá kiểu Eurostat", "en": "Eurostat-style verdict"},
    "col.sentence": {"vi": "Tóm tắt", "en": "In one sentence"},
    "col.year": {"vi": "Năm", "en": "Year"},
    "col.value": {"vi": "Giá trị", "en": "Value"},
    "col.sources": {"vi": "Số nguồn", "en": "Sources"},
    "col.rule": {"vi": "Quy tắc", "en": "Rule"},
    "col.reason": {"vi": "Lý do", "en": "Reason"},
    "col.chosen": {"vi": "Được chọn", "en": "Chosen"},
    "col.publisher": {"vi": "Nguồn đăng", "en": "Publisher"},
    "col.indicator": {"vi": "Chỉ tiêu", "en": "Indicator"},
    "col.method": {"vi": "Phương pháp", "en": "Method"},
    "col.row": {"vi": "Dòng", "en": "Row"},
    "col.median_year": {"vi": "Năm đạt (trung vị)", "en": "Median year met"},
    "col.p_by": {"vi": "Xác suất đã đạt trước đó", "en": "Probability met by then"},
    "col.model_range": {"vi": "Khoảng theo mô hình", "en": "Range across models"},
    "col.base_year": {"vi": "Năm gốc", "en": "Base year"},
    "col.unsd_r": {"vi": "Tỷ số UNSD r", "en": "UNSD ratio r"},
    "col.cagr_value": {"vi": "Ngoại suy tăng trưởng kép", "en": "Compound-growth extrapolation"},
    "col.median_value": {"vi": "Dự báo trung vị", "en": "Median forecast"},
    "col.low": {"vi": "cận dưới", "en": "low end"},
    "col.high": {"vi": "cận trên", "en": "high end"},
    "col.smape": {"vi": "sMAPE", "en": "sMAPE"},
    "col.mase": {"vi": "MASE", "en": "MASE"},
    "col.cov80": {"vi": "Phủ khoảng 80%", "en": "80% coverage"},
    "col.cov95": {"vi": "Phủ khoảng 95%", "en": "95% coverage"},
    "col.brier": {"vi": "Điểm Brier", "en": "Brier score"},
    "col.training": {"vi": "Dữ liệu huấn luyện", "en": "Training data"},
    # values
    "estimator.gso": {"vi": "Cục Thống kê (GSO)", "en": "Statistics office (GSO)"},
    "estimator.mic": {"vi": "Khung của Bộ TT&TT (MIC)", "en": "Ministry framework (MIC)"},
    "estimator.hids": {"vi": "Viện Nghiên cứu phát triển (HIDS)", "en": "Development institute (HIDS)"},
    "estimator.ptit": {"vi": "Học viện Bưu chính Viễn thông (PTIT)", "en": "PTIT econometric estimate"},
    "estimator.city": {"vi": "Sở TT&TT / UBND TP", "en": "City statement"},
    "estimator.unknown": {"vi": "Không rõ phương pháp", "en": "Estimator not stated"},
    "estimator.reported": {"vi": "công bố chính thức", "en": "officially reported"},
    "estimator.none": {"vi": "Chưa có số liệu", "en": "No observations"},
    "eurostat.target_achieved": {"vi": "Đã đạt mục tiêu", "en": "Target achieved"},
    "eurostat.significant_progress": {"vi": "Tiến bộ rõ rệt", "en": "Significant progress"},
    "eurostat.moderate_progress": {"vi": "Tiến bộ vừa phải", "en": "Moderate progress"},
    "eurostat.insufficient_progress": {"vi": "Tiến bộ chưa đủ", "en": "Insufficient progress"},
    "eurostat.moving_away": {"vi": "Đi xa mục tiêu", "en": "Moving away from the target"},
    "eurostat.none": {"vi": "Không đủ số liệu", "en": "Not enough data"},
    "likelihood.virtually_certain": {"vi": "gần như chắc chắn", "en": "virtually certain"},
    "likelihood.very_likely": {"vi": "rất có khả năng", "en": "very likely"},
    "likelihood.likely": {"vi": "có khả năng", "en": "likely"},
    "likelihood.about_as_likely_as_not": {"vi": "khả năng ngang nhau", "en": "about as likely as not"},
    "likelihood.unlikely": {"vi": "ít có khả năng", "en": "unlikely"},
    "likelihood.very_unlikely": {"vi": "rất ít có khả năng", "en": "very unlikely"},
    "likelihood.exceptionally_unlikely": {"vi": "hầu như không thể", "en": "exceptionally unlikely"},
    "unit.pp": {"vi": "điểm %", "en": "pp"},
    "yes": {"vi": "có", "en": "yes"},
    "no": {"vi": "không", "en": "no"},
    "never_by_horizon": {"vi": "sau {year}", "en": "after {year}"},
    "target.de_2025": {"vi": "Kinh tế số {value} GRDP năm {year}", "en": "Digital economy {value} of GRDP by {year}"},
    "target.share": {"vi": "{indicator} ≥ {value} năm {year}", "en": "{indicator} ≥ {value} in {year}"},
    "indicator.digital_economy_share_GRDP": {"vi": "Kinh tế số / GRDP", "en": "Digital economy / GRDP"},
    "indicator.digital_economy_share_GDP": {"vi": "Kinh tế số / GDP cả nước", "en": "Digital economy / national GDP"},
    "indicator.dt_budget_share": {"vi": "Chi chuyển đổi số / tổng chi ngân sách", "en": "Digital-transformation spending / budget"},
    "boundary.hcmc-pre-2025-07": {"vi": "TP.HCM (trước sáp nhập)", "en": "HCMC (before the merger)"},
    "boundary.hcmc-merged-2025-07": {"vi": "TP.HCM (sau sáp nhập 1/7/2025)", "en": "HCMC (merged, from 1 July 2025)"},
    "boundary.vietnam": {"vi": "Cả nước", "en": "Vietnam"},
    # sentences
    "s.ok": {"vi": "Theo số liệu {estimator}, {indicator} đạt {latest} năm {latest_year}; cần tăng {required} điểm %/năm (đã tăng {observed}/năm). Xác suất đạt {target} năm {year}: {probability} ({likelihood}).",
             "en": "On {estimator} figures, {indicator} stood at {latest} in {latest_year}; it must rise {required} pp a year (it rose {observed} a year). Probability of {target} in {year}: {probability} ({likelihood})."},
    "s.unmeasured": {"vi": "Năm {year} đã qua nhưng chưa có số liệu công bố (mới nhất: {latest_year}); xác suất là dự báo, chưa phải kết quả đo.",
                     "en": "{year} has passed but no figure for it has been published (latest: {latest_year}); the probability is a forecast, not a measurement."},
    "s.too_few": {"vi": "Theo số liệu {estimator}, chỉ có {n} điểm số liệu: chưa đủ để dự báo; chỉ báo cáo tốc độ.", "en": "On {estimator} figures there are only {n} data points: too few to forecast; only the pace is reported."},
    "s.no_data": {"vi": "Chưa có số liệu nào cho địa giới này: dữ liệu chưa thể trả lời.", "en": "There are no figures yet for this boundary: the data cannot answer."},
    "s.verdict_head": {"vi": "{target}: xác suất đạt {probability} theo {estimator} ({likelihood}); khoảng giữa các phương pháp ước tính {low}–{high}.",
                       "en": "{target}: probability {probability} on {estimator} figures ({likelihood}); range across estimators {low}–{high}."},
    "s.verdict_single": {"vi": "{target}: xác suất đạt {probability} theo {estimator} ({likelihood}).", "en": "{target}: probability {probability} on {estimator} figures ({likelihood})."},
    "s.spread": {"vi": "Với cùng một năm, các phương pháp ước tính khác nhau tới {gap} điểm %: kết luận phụ thuộc vào phương pháp được chọn.",
                 "en": "For the same year the estimators differ by up to {gap} pp: the verdict depends on which one is used."},
    "s.budget_cross": {"vi": "Đường trung vị đạt 2% vào năm {year}; xác suất đạt 2% ngay năm 2025 là {p2025}.", "en": "The median path reaches 2% in {year}; the probability of 2% as early as 2025 is {p2025}."},
    "s.official_tied": {"vi": "Mục tiêu 25% của thành phố được đo theo khung của Bộ TT&TT.", "en": "The city's 25% target is measured with the ministry's framework."},
    "s.cagr_pitfall": {"vi": "Ngoại suy tăng trưởng kép (quy tắc Eurostat/UNSD) cho {value} năm {year}: một tỷ trọng không thể tăng mãi như vậy; mô hình có chặn cho trung vị {median}.",
                       "en": "Compound-growth extrapolation (the Eurostat/UNSD rule) gives {value} in {year}: a share cannot grow like that for ever; the bounded model's median is {median}."},
    "s.base_sensitivity": {"vi": "Kết luận kiểu Eurostat theo năm gốc: {items}.", "en": "Eurostat-style verdict by base year: {items}."},
    "s.merged_note": {"vi": "TP.HCM sau sáp nhập (gồm Bình Dương và Bà Rịa – Vũng Tàu) là một chuỗi khác; mục tiêu năm 2030 được báo cáo riêng.",
                      "en": "The merged city (with Binh Duong and Ba Ria–Vung Tau) is a different series; its 2030 target is reported separately."},
    "s.conflict_count": {"vi": "{n} nhóm số liệu mâu thuẫn; {m} dòng bị loại.", "en": "{n} groups of conflicting figures; {m} rows excluded."},
    "s.benchmark": {"vi": "Trên {n} chuỗi năm của M3, phương pháp mặc định có sMAPE {smape} (phương pháp drift: {drift}, naive: {naive}); khoảng 80% phủ {cov80} số điểm kiểm tra.",
                    "en": "On {n} M3 yearly series the default method's sMAPE is {smape} (drift: {drift}, naive: {naive}); its 80% interval covers {cov80} of test points."},
    "s.no_benchmark": {"vi": "Chưa chạy kiểm định M3 (make bench).", "en": "The M3 back-test has not been run (make bench)."},
    "txt.estimators": {"vi": "Cục Thống kê tính giá trị gia tăng của kinh tế số lõi và phần số hoá của các ngành; khung của Bộ TT&TT tính rộng hơn (gồm cả kinh tế số ngành), nên cho số cao hơn khoảng 7 điểm % năm 2023. HIDS dùng nội suy từ báo cáo doanh nghiệp; PTIT dùng mô hình kinh tế lượng. Không bao giờ nối các phương pháp thành một đường.",
                       "en": "The statistics office measures value added of the core digital sectors and the digitalised part of other sectors; the ministry framework is broader (it includes sector digital economy) and gave about 7 points more for 2023. HIDS interpolated from enterprise reports; PTIT used an econometric model. The estimators are never joined into one line."},
    "txt.boundary": {"vi": "Ngày 1/7/2025 TP.HCM sáp nhập với Bình Dương và Bà Rịa – Vũng Tàu. Số liệu của thành phố mới là một chuỗi khác, không nối với chuỗi cũ.",
                     "en": "On 1 July 2025 Ho Chi Minh City merged with Binh Duong and Ba Ria–Vung Tau. Figures for the new city are a different series, never joined to the old one."},
    "txt.models": {"vi": "Mỗi chuỗi được dự báo trên thang logit (tỷ trọng trong 0–100) bằng bước ngẫu nhiên không trôi và xu hướng tắt dần (φ = 0,9), có tính bất định của tham số; các đường mô phỏng được gộp lại. Bước ngẫu nhiên có trôi và xu hướng tuyến tính được báo cáo bên cạnh.",
                   "en": "Each series is forecast on the logit scale (shares in 0–100) by a random walk without drift and a damped trend (φ = 0.9), with parameter uncertainty; the simulated paths are pooled. Random walk with drift and a linear trend are reported beside them."},
    "txt.rules": {"vi": "Quy tắc Eurostat so sánh tốc độ tăng trưởng kép thực tế với tốc độ cần thiết (≥95%: tiến bộ rõ rệt; 60–95%: vừa phải; 0–60%: chưa đủ; <0: đi xa). Tỷ số UNSD r so sánh giá trị ngoại suy với mục tiêu. Các quy tắc này chỉ dùng hai điểm đầu cuối và ngoại suy không có chặn.",
                  "en": "Eurostat's rule compares the actual compound growth rate with the rate required (≥95%: significant progress; 60–95%: moderate; 0–60%: insufficient; <0: moving away). The UNSD ratio r compares the extrapolated value with the target. These rules use only the two end points and extrapolate without bounds."},
    "txt.calibration": {"vi": "Biểu đồ so sánh xác suất dự báo với tỷ lệ thực tế đạt mục tiêu giả định trên các chuỗi M3.", "en": "The chart compares forecast probabilities with how often pseudo-targets were actually met on the M3 series."},
    # conflict and exclusion rules
    "rule.undisputed_attribution": {"vi": "nguồn khác ghi số này cho phương pháp khác: số không bị tranh chấp được chọn", "en": "another source credits this figure to a different estimator: the undisputed figure wins"},
    "rule.later_vintage": {"vi": "số công bố sau (lần sửa mới hơn) được chọn", "en": "the later vintage (revision) wins"},
    "rule.original_over_mirror": {"vi": "báo gốc được ưu tiên hơn trang sao chép", "en": "the original outlet wins over a mirror site"},
    "rule.exact_over_qualified": {"vi": "số chính xác được ưu tiên hơn số 'khoảng' / 'hơn'", "en": "an exact figure wins over 'about' / 'more than'"},
    "rule.more_citations": {"vi": "số được nhiều nguồn dẫn hơn được chọn", "en": "the figure cited by more outlets wins"},
    "rule.first_in_file": {"vi": "hoà: giữ số xuất hiện trước trong tệp gốc", "en": "tie: the figure listed first in the raw file is kept"},
    "rule.targets_disagree": {"vi": "các mục tiêu khác nhau đều được giữ; mục tiêu được dẫn nhiều nhất được dùng", "en": "all target values kept; the most cited one is used"},
    "rule.curated": {"vi": "loại thủ công", "en": "excluded by hand"},
    "rule.truncated_text": {"vi": "văn bản bị cắt: không rõ mẫu số", "en": "text cut off: denominator unknown"},
    "rule.equals_total_grdp": {"vi": "con số bằng tổng GRDP, bị ghi nhầm là giá trị kinh tế số", "en": "the figure equals total GRDP, misattributed as the digital economy"},
    # chart labels
    "chart.observed": {"vi": "Quan sát", "en": "Observed"},
    "chart.median": {"vi": "Dự báo trung vị", "en": "Median forecast"},
    "chart.band": {"vi": "Khoảng {level}%", "en": "{level}% band"},
    "chart.target": {"vi": "Mục tiêu {value} ({year})", "en": "Target {value} ({year})"},
    "chart.required": {"vi": "Lộ trình cần thiết", "en": "Required path"},
    "chart.percent": {"vi": "Phần trăm", "en": "Percent"},
    "chart.forecast_prob": {"vi": "Xác suất dự báo", "en": "Forecast probability"},
    "chart.observed_freq": {"vi": "Tần suất thực tế", "en": "Observed frequency"},
    "chart.perfect": {"vi": "Hiệu chuẩn hoàn hảo", "en": "Perfect calibration"},
}


def t(key: str, lang: str, **values) -> str:
    """The text of ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    entry = CATALOGUE[key]
    return entry[lang].format(**values) if values else entry[lang]


def fmt_number(value: float, lang: str, digits: int = 1) -> str:
    """A number in the locale (1.234,5 in vi, 1,234.5 in en); '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALES[lang])


def fmt_percent(value: float, lang: str, digits: int = 1) -> str:
    """A value already in percent (18.66 -> '18,7%' in vi, '18.7%' in en)."""
    text = fmt_number(value, lang, digits)
    return text if text in ("–", "∞") else f"{text}%"


def fmt_probability(probability: float, lang: str) -> str:
    """A probability (0-1) as a whole percent; below 1% and above 99% are shown as '<1%' / '>99%'."""
    if probability is None or (isinstance(probability, float) and math.isnan(probability)):
        return "–"
    if probability < 0.01:
        return "<" + fmt_percent(1, lang, 0)
    if probability > 0.99:
        return ">" + fmt_percent(99, lang, 0)
    return fmt_percent(100 * probability, lang, 0)


def fmt_date(date: dt.date | str, lang: str) -> str:
    """A date in the locale's long form (25 tháng 11, 2026 / 25 November 2026)."""
    if isinstance(date, str):
        parts = [int(p) for p in date.split("-")]
        if len(parts) < 3:
            return date
        date = dt.date(*parts)
    return format_date(date, format="long", locale=LOCALES[lang])
