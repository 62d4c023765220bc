"""The built reports in a real browser: Debian's headless Chromium, driven by Playwright, at 390 and 1280 px.

Opens the reports the session already built (the ``built`` fixture of ``conftest.py``) from disk, with no
network, and checks in the rendered page: nothing overflows the viewport horizontally, no chart text renders
below 9 px, every link resolves to a file (or an anchor) that exists, and every CSV download parses with its
numbers as numbers.  Needs the ``chromium`` package (``make setup`` installs it) and the ``playwright`` Python
package (a test dependency; it downloads no browser: it drives the system's).  ``ANALYSIS_SCREENSHOTS=<folder>``
also saves a full-page screenshot of each page at each width.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

#: The pages opened, relative to the reports folder: the summary, a detail report, both indexes.
PAGES = [
    "vi/summary.html",
    "vi/hcmc-digital-economy.html",
    "vi/hcmc-dx-budget.html",
    "vi/data-appendix.html",
    "vi/method-appendix.html",
    "vi/scorecard.html",
    "en/summary.html",
    "index.html",
    "index.en.html",
]
#: A phone (iPhone 12-15) and a desktop.
WIDTHS = {390: 844, 1280: 900}
#: No chart text may render smaller than this many CSS pixels.
MIN_TEXT_PX = 9
#: Columns that hold numbers whenever a CSV has them.
NUMERIC = {"year", "value", "median", "lo50", "hi50", "lo80", "hi80", "lo95", "hi95", "target_year", "target_value"}
NUMERIC |= {"p_meet_in_year", "latest_value", "required_pace_pp", "observed_pace_pp"}
#: Cells a spreadsheet cannot add up: a percent sign, a decimal comma or comma thousands, dotted thousands
#: ('1.621.191'), the missing mark.
DISPLAY_NUMBER = re.compile(r"^[<>]?[-−]?\d[\d.,]*\s*%$|^[-−]?\d+(,\d+)+$|^[-−]?\d{1,3}(\.\d{3}){2,}$|^[–—]$")
#: A date printed for readers ('7 tháng 9, 2025', '7 September 2025'): a CSV has ISO dates.
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
PRINTED_DATE = re.compile(rf"^\d{{1,2}} tháng \d{{1,2}}(,| năm) \d{{4}}$|^\d{{1,2}} ({MONTHS}) \d{{4}}$")

#: Chart text measured in the page: each chart is an SVG image; its rendered width over its viewBox gives
#: the scale, each glyph run's own scale (matplotlib draws a text of size s as glyphs scaled s/100) the size.
CHART_TEXT_JS = """
() => Array.from(document.querySelectorAll('figure.chart img')).map(img => {
  const svgText = new TextDecoder().decode(Uint8Array.from(atob(img.src.split(',')[1]), c => c.charCodeAt(0)));
  const svg = new DOMParser().parseFromString(svgText, 'image/svg+xml').documentElement;
  const scale = img.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = Array.from(svg.querySelectorAll('g[id^="text_"] > g[transform]')).map(g => {
    const m = g.getAttribute('transform').match(/scale\\(([-\\d.e]+)/);
    return m ? 100 * Math.abs(parseFloat(m[1])) * scale : null;
  }).filter(v => v !== null);
  return {sizes: sizes.length, smallest: Math.min(...sizes), width: img.getBoundingClientRect().width};
})
"""
LAYOUT_JS = """
() => ({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,
        widest: Math.max(...Array.from(document.body.querySelectorAll('*')).map(e => e.getBoundingClientRect().right))})
"""
LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
DOWNLOADS_JS = """() => Array.from(document.querySelectorAll('a[download$=".csv"]'))
                     .map(a => [a.getAttribute('download'), a.getAttribute('href')])"""


def chromium() -> str:
    """The system's Chromium (Debian's ``chromium``; ``CHROMIUM`` overrides)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: `make setup` installs Debian's chromium package (apt-get install chromium)"
    return found


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency (make setup)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(),
            args=["--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def rendered(browser, built) -> dict:
    """Each page at each width, measured once: layout, chart text, links and CSV downloads."""
    reports = built / "reports"
    shots = os.environ.get("ANALYSIS_SCREENSHOTS")
    results = {}
    for width, height in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        page = context.new_page()
        for name in PAGES:
            page.goto((reports / name).as_uri(), wait_until="load")
            results[name, width] = {
                "layout": page.evaluate(LAYOUT_JS),
                "charts": page.evaluate(CHART_TEXT_JS),
                "links": page.evaluate(LINKS_JS),
                "downloads": page.evaluate(DOWNLOADS_JS),
            }
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / f"{name.replace('/', '-')}-{width}.png"), full_page=True)
        context.close()
    return results


def test_nothing_overflows_the_viewport(rendered):
    for (name, width), result in rendered.items():
        layout = result["layout"]
        assert layout["scroll"] <= layout["viewport"], (name, width, layout)
        assert layout["widest"] <= layout["viewport"] + 0.5, (name, width, layout)


def test_no_chart_text_renders_below_9_px(rendered):
    for name in ("vi/summary.html", "vi/hcmc-digital-economy.html"):
        for width in WIDTHS:
            charts = rendered[name, width]["charts"]
            assert charts, (name, "no chart")
            for chart in charts:
                assert chart["sizes"] > 5 and chart["smallest"] >= MIN_TEXT_PX, (name, width, chart)


def _target(page: Path, href: str) -> tuple[Path, str]:
    parsed = urllib.parse.urlparse(href)
    path = page if not parsed.path else (page.parent / urllib.parse.unquote(parsed.path)).resolve()
    return path, parsed.fragment


def test_every_link_resolves_to_a_file_that_exists(rendered, built):
    reports = built / "reports"
    checked = 0
    for (name, _width), result in rendered.items():
        page = reports / name
        for href in result["links"]:
            assert not re.match(r"^[a-z]+://", href), (name, href)  # no link leaves the reports (no network)
            if href.startswith("data:"):
                continue
            path, fragment = _target(page, href)
            assert path.is_file(), (name, href)
            if fragment:
                assert f'id="{fragment}"' in path.read_text(encoding="utf-8"), (name, href)
            checked += 1
    assert checked >= 40
    summary = rendered["vi/summary.html", 390]["links"]
    assert "../index.html" in summary and "../en/summary.html" in summary  # the index, the other language
    index = rendered["index.html", 390]["links"]
    for suffix in ("pdf", "html"):
        assert f"vi/summary.{suffix}" in index
    assert any(href.startswith("data/") and href.endswith(".csv") for href in index)
    assert {"data/indicators.csv", "data/assessments.csv", "data/targets.csv"} <= set(index)
    assert {"data/indicators.meta.yml", "data/assessments.meta.yml", "data/targets.meta.yml"} <= set(index)


def _check_csv(text: str, where: str) -> pd.DataFrame:
    """A CSV as a spreadsheet reads it: no cell printed for readers, numeric columns numbers."""
    cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for column in cells.columns:
        if column.endswith("_as_published"):
            continue  # a figure exactly as its source printed it ('1.479.227'): text by definition
        shown = [cell for cell in cells[column] if DISPLAY_NUMBER.match(cell.strip())]
        assert not shown, (where, column, shown[:3])
        dates = [cell for cell in cells[column] if PRINTED_DATE.match(cell.strip())]
        assert not dates, (where, column, dates[:3])
    frame = pd.read_csv(io.StringIO(text))
    for column in NUMERIC & set(frame.columns):
        assert pd.api.types.is_numeric_dtype(frame[column]), (where, column, frame[column].head(3).tolist())
    return frame


def _check_table(path: Path) -> None:
    """A processed table offered on the index: every column its data dictionary types as a number reads as one."""
    from analysis.storage import parse_yaml

    dictionary = parse_yaml(path.with_suffix(".meta.yml").read_text(encoding="utf-8"))
    frame = pd.read_csv(path)
    for column, about in dictionary["columns"].items():
        if re.match(r"(float|int|Int)", str(about.get("type", ""))) and frame[column].notna().any():
            assert pd.api.types.is_numeric_dtype(frame[column]), (path.name, column, frame[column].head(3).tolist())


def test_every_csv_download_parses_with_numbers_as_numbers(rendered, built):
    checked = 0
    seen = set()
    for (name, _width), result in rendered.items():
        for file_name, href in result["downloads"]:
            if (name, file_name) in seen:
                continue
            seen.add((name, file_name))
            text = base64.b64decode(href.split(",", 1)[1]).decode("utf-8-sig")
            frame = _check_csv(text, f"{name}: {file_name}")
            for column in {"boundary", "estimator"} & set(frame.columns):
                named = {"boundary": "place_name", "estimator": "estimator_name"}[column]
                assert named in frame.columns, (name, file_name, column)  # names beside the ids
            checked += 1
    for href in rendered["index.html", 1280]["links"]:
        path = built / "reports" / href
        if href.endswith(".csv") and path.with_suffix(".meta.yml").exists():
            _check_table(path)
            checked += 1
        elif href.endswith(".csv"):
            _check_csv(path.read_text(encoding="utf-8-sig"), href)
            checked += 1
    assert checked >= 20
