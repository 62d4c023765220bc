"""Every notebook runs under papermill on the shipped data; the reports carry the computed numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import i18n
from analysis.batch.run_plan import notebook_parameters
from analysis.i18n import catalogue, fmt_percent, fmt_probability, fmt_share
from conftest import BUILT_REPORTS, copy_project, project_root

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs_and_have_a_parameters_cell(path):
    notebook = nbformat.read(str(path), as_version=4)
    assert all(
        not cell.get("outputs") and not cell.get("execution_count")
        for cell in notebook.cells
        if cell.cell_type == "code"
    )
    tagged = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    if path.name != "01-clean-indicators.ipynb":
        assert {"lang", "as_of"} <= set(notebook_parameters(path))


def test_cleaning_notebook_runs_under_papermill(tmp_path):
    import papermill

    root = copy_project(tmp_path / "project", notebooks=True)
    with project_root(root):
        papermill.execute_notebook(
            str(root / "notebooks" / "01-clean-indicators.ipynb"),
            str(tmp_path / "out.ipynb"),
            parameters={"publish": True},
            kernel_name="python3",
            progress_bar=False,
        )
    assert (root / "data" / "processed" / "indicators.csv").exists()
    executed = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert "21.5" in "".join(str(o) for cell in executed.cells for o in cell.get("outputs", []))


def test_catalogue_is_complete_in_both_languages():
    vi, en = catalogue("vi"), catalogue("en")
    assert set(vi) == set(en)
    for key in vi:
        assert vi[key].strip() and en[key].strip(), key
        assert set(re.findall(r"{(\w+)}", vi[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_catalogue_texts_type_no_target_value(cleaned):
    # Targets come from targets.csv; a text may not type one (the 2% budget goal, the 25% and 40% targets).
    from analysis.models.assessment_plan import load_assessment_plan

    targets = cleaned["targets"]
    assessed = {entry.indicator for entry in load_assessment_plan(ROOT / "data" / "assessment_plan.yml")}
    values = {f"{v:g}" for v in targets[targets.indicator.isin(assessed)].value}
    assert {"2", "25", "40"} <= values
    for lang in i18n.LANGUAGES:
        for key, text in catalogue(lang).items():
            typed = [v for v in values if re.search(rf"(?<![\d,.–-]){re.escape(v)}\s*%", text)]
            assert not typed, (lang, key, typed)


def test_locale_formatting():
    assert fmt_percent(18.66, "vi", 2) == "18,66%"
    assert fmt_percent(18.66, "en", 2) == "18.66%"
    assert i18n.fmt_number(1621191.5, "vi", 1) == "1.621.191,5"
    assert fmt_probability(0.004, "en") == "<1%"


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_every_report_has_html_and_pdf_in_both_languages(built):
    for lang in ("vi", "en"):
        for name in BUILT_REPORTS:
            assert (built / "reports" / lang / f"{name}.html").stat().st_size > 3_000
            assert (built / "reports" / lang / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    index = (built / "reports" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in index and "vi/summary.pdf" in index and "cập nhật" in index
    # each assessing report carries its targets' status line: the 40% target of 2030 with its word
    assert re.search(r"(Đúng lộ trình|Chậm so với lộ trình|Chưa đủ số liệu[^<]*) 40% \(2030\)", index)
    english = (built / "reports" / "index.en.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "en/summary.pdf" in english and 'href="index.html"' in english


def test_assessment_numbers_appear_in_html_and_pdf(built):
    assessments = pd.read_csv(built / "data" / "processed" / "assessments.csv")
    mic = assessments[(assessments.indicator == "digital_economy_share_GRDP") & (assessments.estimator == "mic")]
    for lang in ("vi", "en"):
        page = (built / "reports" / lang / "summary.html").read_text(encoding="utf-8")
        text = re.sub(r"\s+", " ", _pdf_text(built / "reports" / lang / "summary.pdf"))
        for _, row in mic.iterrows():
            probability = fmt_probability(row.p_meet_in_year, lang)
            assert probability in page and probability in text
            assert fmt_share(row.latest_value, lang) in page
        assert "<pre" not in page and "In [" not in page  # no code cells


def test_vietnamese_pdf_has_diacritics_embedded_fonts_and_page_structure(built):
    pdf = built / "reports" / "vi" / "summary.pdf"
    text = _pdf_text(pdf)
    assert "Kết luận" in text and "Mục lục" in text and "Trang 1 /" in text
    first_page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "Kết luận" in first_page and "xác suất" in first_page  # the verdict is on page one
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    english = _pdf_text(built / "reports" / "en" / "summary.pdf")
    assert "Verdict" in english and "Kết luận" not in english


@pytest.mark.parametrize(
    "name", ["summary", "hcmc-digital-economy", "hcmc-dx-budget", "data-appendix", "method-appendix", "scorecard"]
)
def test_vietnamese_report_has_no_english_catalogue_text_or_rule_ids(built, name):
    page = (built / "reports" / "vi" / f"{name}.html").read_text(encoding="utf-8")
    vi, en = catalogue("vi"), catalogue("en")
    english_only = [en[key] for key in en if en[key] != vi[key] and "{" not in en[key] and len(en[key]) > 12]
    leaked = [text for text in english_only if text in page]
    rule_ids = [key.split(".", 1)[1] for key in en if key.startswith("rule.")]
    assert leaked == [] and [rule for rule in rule_ids if f">{rule}<" in page] == []


CODE_WORDS = re.compile(
    r"\b[a-z]+(?:_[a-z0-9]+)+\b(?!\.csv)|\b[a-z_]+-(?:pre|merged)-\d{4}-\d{2}\b|\b(?:None|NaN|nan|at_least|comparator)\b"
)
ENGLISH = re.compile(
    r"\b(?:the|and|with|from|target|estimate|Ministry|Department|Committee|framework|growth|billion|which|"
    r"percent|default|naive|drift|base rate|baseline|window|model)\b"
)


@pytest.mark.parametrize(
    "name", ["summary", "hcmc-digital-economy", "hcmc-dx-budget", "data-appendix", "method-appendix", "scorecard"]
)
def test_vietnamese_pdfs_show_no_code_words(built, name):
    text = _pdf_text(built / "reports" / "vi" / f"{name}.pdf")
    found = {match for match in CODE_WORDS.findall(text) if not match.startswith("press_indicators")}
    assert found == set(), found


@pytest.mark.parametrize("name", ["summary", "hcmc-digital-economy", "hcmc-dx-budget", "method-appendix", "scorecard"])
def test_vietnamese_pdfs_read_in_vietnamese(built, name):
    text = _pdf_text(built / "reports" / "vi" / f"{name}.pdf")
    assert ENGLISH.findall(text) == []
    if name == "method-appendix":
        return
    first_page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(built / "reports" / "vi" / f"{name}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert any(
        word in first_page for word in ("Đã đạt", "Không đạt", "Đúng lộ trình", "Chậm so với lộ trình", "Chờ số liệu")
    )


def test_the_english_summary_gives_a_status_word_on_page_one(built):
    pdf = built / "reports" / "en" / "summary.pdf"
    first_page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Reported as reached" in first_page and ("Off track" in first_page or "On track" in first_page)


def test_html_pages_work_on_a_phone_and_hand_over_the_numbers(built):
    page = (built / "reports" / "vi" / "summary.html").read_text(encoding="utf-8")
    assert '<meta name="viewport"' in page
    assert page.count('download="') >= 5 and "data:text/csv;charset=utf-8;base64," in page
    alts = re.findall(r'<img alt="([^"]*)"', page)
    assert alts and all(re.search(r"\d", alt) for alt in alts)  # the alt text carries the figures, not only a title


def test_pdfs_are_tagged_for_screen_readers(built):
    info = subprocess.run(
        ["pdfinfo", str(built / "reports" / "vi" / "summary.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^Tagged:\s+yes", info, re.MULTILINE)
    assert re.search(r"^Title:\s+Chuyển đổi số", info, re.MULTILINE)


def test_every_page_shows_the_one_status_of_each_target(built):
    # Page one, the detail reports, their tables, the "what changed" box and the index all mark each status
    # they show with the target it belongs to; every mark must be the status in assessments.csv.
    assessments = pd.read_csv(built / "data" / "processed" / "assessments.csv")
    status = {
        f"{r.indicator}|{r.boundary}|{r.estimator}|{int(r.target_year)}": r.status for r in assessments.itertuples()
    }
    # the scorecard marks each programme target (programme|number) and each count by status (scorecard|status)
    card = pd.read_csv(built / "data" / "processed" / "scorecard.csv")
    status.update({f"programme|{r.number}": r.status for r in card.itertuples()})
    status.update({f"scorecard|{s}": s for s in card["status"]})
    pages = [*sorted((built / "reports").glob("*/*.html")), *sorted((built / "reports").glob("index*.html"))]
    seen = {}
    for page in pages:
        for shown, key in re.findall(r'data-status="([^"]*)" data-key="([^"]+)"', page.read_text(encoding="utf-8")):
            assert status[key] == shown, (page.name, key, shown, status[key])
            seen.setdefault(key, set()).add(page.parent.name + "/" + page.name)
    # the targets of page one appear on page one, in the detail report and on the index alike
    former_2030 = "digital_economy_share_GRDP|hcmc-pre-2025-07|mic|2030"
    assert {"vi/summary.html", "vi/hcmc-digital-economy.html", "reports/index.html"} <= seen[former_2030]
    assert len(seen) >= 15
    assert {f"programme|{n}" for n in card["number"]} <= set(seen)  # every programme target is shown
