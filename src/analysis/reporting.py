"""Report content (tables and sentences from computed results) and rendering to HTML and PDF.

Notebooks call the content helpers; the batch calls :func:`notebook_to_html` and
:func:`html_to_pdf`.  No number is typed by hand: every figure in a sentence or a table
comes from ``assessments.csv``, ``forecasts.csv`` or the cleaned tables, formatted by Babel.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import re
from io import BytesIO
from pathlib import Path

import nbformat
import pandas as pd

from analysis import __version__
from analysis.assessment import likelihood_label
from analysis.i18n import fmt_number, fmt_percent, fmt_probability, t

REMOVED_TAGS = ("parameters", "injected-parameters", "analyst-note", "remove-cell")


# --- content ---------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def target_label(row: pd.Series, lang: str) -> str:
    """'Digital economy / GRDP ≥ 25% in 2025', in the report's language."""
    return t("target.share", lang, indicator=t(f"indicator.{row['indicator']}", lang),
             value=fmt_percent(row["target_value"], lang, 0), year=int(row["target_year"]))


def sentence(row: pd.Series, lang: str, today: dt.date | None = None) -> str:
    """One plain sentence for one assessment row, every number from the row."""
    estimator = t(f"estimator.{row['estimator']}", lang)
    if row["status"] == "no_observations":
        return t("s.no_data", lang)
    if row["status"] != "ok":
        return t("s.too_few", lang, estimator=estimator, n=int(row["n_obs"]))
    text = t("s.ok", lang, estimator=estimator, indicator=t(f"indicator.{row['indicator']}", lang),
             latest=fmt_percent(row["latest_value"], lang, 2), latest_year=int(row["latest_year"]),
             required=fmt_number(row["required_pace_pp"], lang, 2), observed=fmt_number(row["observed_pace_pp"], lang, 2),
             target=fmt_percent(row["target_value"], lang, 0), year=int(row["target_year"]),
             probability=fmt_probability(row["p_meet_in_year"], lang),
             likelihood=t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang))
    if int(row["target_year"]) < (today or dt.date.today()).year:
        text += " " + t("s.unmeasured", lang, year=int(row["target_year"]), latest_year=int(row["latest_year"]))
    return text


def headline_rows(assessments: pd.DataFrame, primary: dict[str, str]) -> pd.DataFrame:
    """One row per target: the primary estimator's assessment, plus the range across estimators.

    Parameters
    ----------
    primary : dict
        Indicator -> estimator the target is tied to (e.g. the city's 25% target to MIC).
    """
    rows = []
    for (indicator, boundary, target_year), group in assessments.groupby(["indicator", "boundary", "target_year"], sort=False):
        ok = group[group["status"] == "ok"]
        wanted = primary.get(indicator)
        chosen = ok[ok["estimator"] == wanted] if wanted else ok
        base = chosen.iloc[0] if not chosen.empty else (ok.iloc[0] if not ok.empty else group.iloc[0])
        row = base.to_dict()
        row["p_low"] = ok["p_meet_in_year"].min() if not ok.empty else math.nan
        row["p_high"] = ok["p_meet_in_year"].max() if not ok.empty else math.nan
        row["n_estimators"] = len(ok)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(headlines: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The executive-summary table, formatted in the report's language."""
    records = []
    for _, row in headlines.iterrows():
        verdict = row.get("eurostat_category")
        records.append({
            t("col.target", lang): f"{target_label(row, lang)} — {t('boundary.' + row['boundary'], lang)}",
            t("col.latest", lang): "–" if _missing(row.get("latest_value")) else
                f"{fmt_percent(row['latest_value'], lang, 2)} ({int(row['latest_year'])}, {t('estimator.' + row['estimator'], lang)})",
            t("col.observed_pace", lang): fmt_number(row.get("observed_pace_pp"), lang, 2),
            t("col.required_pace", lang): fmt_number(row.get("required_pace_pp"), lang, 2),
            t("col.probability", lang): fmt_probability(row.get("p_meet_in_year"), lang),
            t("col.range", lang): "–" if row.get("n_estimators", 0) < 2 else
                f"{fmt_probability(row['p_low'], lang)}–{fmt_probability(row['p_high'], lang)}",
            t("col.verdict", lang): t(f"eurostat.{verdict}", lang) if isinstance(verdict, str) else t("eurostat.none", lang),
            t("col.sentence", lang): sentence(pd.Series(row), lang),
        })
    return pd.DataFrame(records)


def verdict_lines(headlines: pd.DataFrame, lang: str) -> list[str]:
    """The first-page verdict: one line per target with the probability and its range."""
    lines = []
    for _, row in headlines.iterrows():
        if row["status"] != "ok":
            lines.append(f"{target_label(row, lang)} — {t('boundary.' + row['boundary'], lang)}: {sentence(pd.Series(row), lang)}")
            continue
        values = dict(target=f"{target_label(row, lang)} ({t('boundary.' + row['boundary'], lang)})",
                      probability=fmt_probability(row["p_meet_in_year"], lang),
                      estimator=t(f"estimator.{row['estimator']}", lang),
                      likelihood=t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang),
                      low=fmt_probability(row["p_low"], lang), high=fmt_probability(row["p_high"], lang))
        key = "s.verdict_head" if row["n_estimators"] >= 2 else "s.verdict_single"
        lines.append(t(key, lang, **values))
    return lines


def estimator_gap(indicators: pd.DataFrame, indicator: str, boundary: str) -> float:
    """Largest difference between estimators for the same year (indicator units)."""
    frame = indicators[(indicators["indicator"] == indicator) & (indicators["boundary"] == boundary)
                       & indicators["kind"].isin(["actual", "estimate"]) & (indicators["period"] == "Y")]
    spread = frame.groupby("year")["value"].agg(lambda v: v.max() - v.min())
    return float(spread.max()) if len(spread) else math.nan


def observations_table(indicators: pd.DataFrame, indicator: str, boundary: str, lang: str) -> pd.DataFrame:
    """Year x estimator table of observed values (estimates and actuals), formatted."""
    frame = indicators[(indicators["indicator"] == indicator) & (indicators["boundary"] == boundary)
                       & indicators["kind"].isin(["actual", "estimate"]) & (indicators["period"] == "Y")]
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(label=[fmt_percent(v, lang, 2) + (f" ({fmt_number(lo, lang, 2)}–{fmt_number(hi, lang, 2)})" if not _missing(lo) else "")
                                for v, lo, hi in zip(frame["value"], frame["value_low"], frame["value_high"])])
    frame = frame.assign(est=[t(f"estimator.{e}", lang) for e in frame["estimator"]])
    table = frame.pivot_table(index="year", columns="est", values="label", aggfunc=lambda v: " / ".join(v))
    table.index = [str(int(y)) for y in table.index]
    table.index.name = t("col.year", lang)
    table.columns.name = None
    return table.reset_index().fillna("–")


def rules_table(assessments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Deterministic rules per estimator and target, beside the bounded model's median."""
    rows = []
    for _, row in assessments[assessments["status"].isin(["ok", "too_few_points_for_forecast"])].iterrows():
        verdict = row["eurostat_category"]
        rows.append({
            t("col.target", lang): target_label(row, lang),
            t("col.estimator", lang): t(f"estimator.{row['estimator']}", lang),
            t("col.verdict", lang): t(f"eurostat.{verdict}", lang) if isinstance(verdict, str) else "–",
            t("col.unsd_r", lang): fmt_number(row["unsd_r"], lang, 2),
            t("col.cagr_value", lang): fmt_percent(row["cagr_projection_value"], lang, 1),
            t("col.median_value", lang): fmt_percent(row["median_projection_value"], lang, 1),
            t("col.model_range", lang): "–" if _missing(row["p_meet_model_min"]) else
                f"{fmt_probability(row['p_meet_model_min'], lang)}–{fmt_probability(row['p_meet_model_max'], lang)}",
        })
    return pd.DataFrame(rows)


def base_value_sensitivity(indicators: pd.DataFrame, indicator: str, boundary: str, primary: pd.Series,
                           goals: list[dict], lang: str) -> pd.DataFrame:
    """Eurostat verdicts for a series' latest value against every figure published for its earlier years.

    The rule uses only two end points, so a base figure from another estimator (or either end
    of a published range) can change the verdict; this table shows by how much.  It mixes
    estimators on purpose, to show the pitfall; no forecast is ever fitted this way.
    """
    from analysis.progress import eurostat_assessment

    if len(primary) < 2 or len(goals) == 0:
        return pd.DataFrame()
    latest_year = int(primary.index[-1])
    rows = indicators[(indicators["indicator"] == indicator) & (indicators["boundary"] == boundary)
                      & indicators["year"].isin([int(y) for y in primary.index[:-1]])
                      & indicators["kind"].isin(["actual", "estimate"]) & (indicators["period"] == "Y")]
    candidates = []
    for _, row in rows.iterrows():
        label = t(f"estimator.{row['estimator']}", lang)
        year = int(row["year"])
        candidates.append((year, label, float(row["value"])))
        if not _missing(row["value_low"]):
            candidates += [(year, f"{label} ({t('col.low', lang)})", float(row["value_low"])),
                           (year, f"{label} ({t('col.high', lang)})", float(row["value_high"]))]
    records = []
    for base_year, label, value in sorted(set(candidates), key=lambda c: (c[0], c[2])):
        series = pd.Series({base_year: value, latest_year: float(primary.iloc[-1])})
        record = {t("col.base_year", lang): f"{base_year}: {label}", t("col.value", lang): fmt_percent(value, lang, 2)}
        for goal in goals:
            result = eurostat_assessment(series, goal["value"], goal["year"])
            record[f"{fmt_percent(goal['value'], lang, 0)} ({goal['year']})"] = (
                f"{t('eurostat.' + result['category'], lang)} ({fmt_number(result['ratio'], lang, 2)})")
        records.append(record)
    return pd.DataFrame(records)


def exclusion_reason(row: pd.Series, lang: str) -> str:
    """Why a row was excluded, in the report's language (curated reasons carry a Vietnamese text)."""
    if lang == "vi":
        text = row.get("reason_vi")
        return text if isinstance(text, str) and text else t(f"rule.{row['rule']}", lang)
    return str(row["reason"])


def base_sensitivity(row: pd.Series, lang: str) -> str:
    """Eurostat verdicts with each possible base year, as a sentence."""
    items = []
    for item in str(row.get("eurostat_by_base") or "").split(";"):
        if ":" in item:
            base, category = item.split(":", 1)
            items.append(f"{base}: {t('eurostat.' + category, lang) if category != 'None' else '–'}")
    return t("s.base_sensitivity", lang, items="; ".join(items)) if items else ""


def observed_by_estimator(indicators: pd.DataFrame, indicator: str, boundary: str, as_of: int | None = None) -> dict[str, pd.Series]:
    """Observed yearly series per estimator, exactly as the models saw them."""
    from analysis.assessment import observed_series

    return observed_series(indicators, indicator, boundary, as_of)


def load_benchmarks(directory: Path | None = None) -> dict[str, dict]:
    """Benchmark results written by the batch (``benchmark-full.json``, ``benchmark-window6.json``)."""
    from analysis import config

    folder = directory or config.processed_dir()
    out = {}
    for name in ("full", "window6"):
        path = folder / f"benchmark-{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def benchmark_table(results: dict[str, dict], lang: str) -> pd.DataFrame:
    """Benchmark figures per training setting and method, formatted."""
    rows = []
    for result in results.values():
        setting = f"{result['window']}" if result["window"] else "∞"
        for method, s in result["methods"].items():
            rows.append({t("col.training", lang): setting, t("col.method", lang): method,
                         t("col.smape", lang): fmt_number(s["smape"], lang, 2), t("col.mase", lang): fmt_number(s["mase"], lang, 2),
                         t("col.cov80", lang): fmt_percent(100 * s["coverage80"], lang, 1), t("col.cov95", lang): fmt_percent(100 * s["coverage95"], lang, 1),
                         t("col.brier", lang): fmt_number(s["brier"], lang, 3)})
        rows.append({t("col.training", lang): setting, t("col.method", lang): "Eurostat yes/no", t("col.brier", lang): fmt_number(result["eurostat_yes_no_brier"], lang, 3)})
        rows.append({t("col.training", lang): setting, t("col.method", lang): "base rate", t("col.brier", lang): fmt_number(result["base_rate_brier"], lang, 3)})
    return pd.DataFrame(rows).fillna("")


def figure_html(fig, alt: str = "") -> str:
    """A matplotlib figure as an embedded PNG <figure> (self-contained HTML)."""
    import matplotlib.pyplot as plt

    buffer = BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<figure class="chart"><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/></figure>'


def table_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A DataFrame as a styled HTML table (no index)."""
    if frame.empty:
        return ""
    body = frame.to_html(index=False, escape=True, border=0, classes="data")
    if caption:
        body = body.replace('<table border="0" class="dataframe data">', f'<table class="dataframe data"><caption>{html.escape(caption)}</caption>', 1)
    return body


def show(*fragments: str):
    """Display HTML fragments in the notebook (and so in the rendered report)."""
    from IPython.display import HTML, display

    display(HTML("\n".join(f for f in fragments if f)))


def heading(key: str, lang: str, level: int = 2) -> str:
    text = t(key, lang)
    anchor = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    return f'<h{level} id="{anchor}">{html.escape(text)}</h{level}>'


def paragraph(text: str, css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return f"<p{cls}>{html.escape(text)}</p>"


# --- rendering -------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 22mm 18mm 20mm 18mm;
  @top-left { content: string(report-title); font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; }
  @top-right { content: string(section); font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; }
  @bottom-left { content: string(vintage); font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; }
  @bottom-right { content: "%(page)s " counter(page) " / " counter(pages); font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; } }
html { font-family: "Noto Serif", "DejaVu Serif", serif; font-size: 10.5pt; line-height: 1.45; color: #1a1a1a; }
body { max-width: 60em; margin: 0 auto; padding: 1em; }
h1, h2, h3 { font-family: "Noto Sans", "DejaVu Sans", sans-serif; color: #123a66; line-height: 1.2; }
h1 { font-size: 21pt; string-set: report-title content(); }
h2 { font-size: 14pt; margin-top: 1.4em; border-bottom: 1px solid #c8d3e0; padding-bottom: 0.15em; string-set: section content(); break-after: avoid; }
h3 { font-size: 11.5pt; break-after: avoid; }
.cover { border-bottom: 3px solid #123a66; padding-bottom: 0.6em; margin-bottom: 0.4em; }
.cover dl { display: flex; flex-wrap: wrap; gap: 0 2.2em; }
.cover .subtitle { font-family: "Noto Sans", "DejaVu Sans", sans-serif; color: #555; font-size: 12pt; }
.cover dl { margin-top: 0.6em; font-family: "Noto Sans", "DejaVu Sans", sans-serif; font-size: 9pt; }
.cover dt { color: #555; } .cover dd { margin: 0 0 0.6em 0; font-weight: bold; }
.vintage { string-set: vintage content(); display: none; }
nav.toc { break-before: page; break-after: page; } nav.toc ol { list-style: none; padding-left: 0; }
nav.toc li { margin: 0.3em 0; font-family: "Noto Sans", "DejaVu Sans", sans-serif; }
nav.toc a { color: #123a66; text-decoration: none; }
nav.toc a::after { content: leader('.') target-counter(attr(href), page); }
.verdict { border-left: 4px solid #123a66; background: #f1f5fa; padding: 0.6em 0.9em; margin: 0.8em 0; }
.verdict li { margin: 0.35em 0; }
table.data { border-collapse: collapse; width: 100%; margin: 0.8em 0 1.2em 0; font-family: "Noto Sans", "DejaVu Sans", sans-serif; font-size: 8.4pt; }
table.data caption { text-align: left; font-weight: bold; margin-bottom: 0.3em; }
table.data th { background: #123a66; color: white; text-align: left; padding: 4px 6px; vertical-align: bottom; }
table.data td { border-bottom: 1px solid #dde3ea; padding: 4px 6px; vertical-align: top; }
table.data tr:nth-child(even) td { background: #f7f9fb; }
thead { display: table-header-group; } tr { break-inside: avoid; }
figure.chart { margin: 0.8em 0; break-inside: avoid; text-align: center; }
figure.chart img { max-width: 100%; }
p.note { font-size: 9pt; color: #444; }
"""


def notebook_body(notebook: nbformat.NotebookNode) -> str:
    """The report content of an executed notebook: HTML outputs and rendered Markdown, no code.

    Cells tagged parameters, injected-parameters, analyst-note or remove-cell are left out;
    nbconvert's Markdown filter renders Markdown cells.
    """
    from nbconvert.filters import markdown2html

    parts = []
    for cell in notebook.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & set(REMOVED_TAGS):
            continue
        if cell.cell_type == "markdown":
            parts.append(markdown2html(cell.source))
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                parts.append("".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"])
            elif "image/png" in data:
                parts.append(f'<figure class="chart"><img src="data:image/png;base64,{data["image/png"].strip()}"/></figure>')
            elif output.get("output_type") == "error":
                raise RuntimeError(f"notebook has an error output: {output.get('ename')}: {output.get('evalue')}")
    return "\n".join(parts)


def notebook_to_html(notebook_path: Path, lang: str, title: str, vintage: str | None, as_of: int | None = None,
                     produced: dt.date | None = None) -> str:
    """A self-contained HTML page (cover, contents, content) from an executed notebook."""
    from analysis.i18n import fmt_date

    notebook = nbformat.read(str(notebook_path), as_version=4)
    body = notebook_body(notebook)
    produced = produced or dt.date.today()
    headings = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', body)
    # The first section (the verdict) goes on page one, under the title block; contents follow.
    starts = [m.start() for m in re.finditer(r"<h2 ", body)]
    first_section, rest = (body[: starts[1]], body[starts[1]:]) if len(starts) > 1 else (body, "")
    toc = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in headings)
    vintage_text = f"{t('cover.vintage', lang)}: {fmt_date(vintage, lang) if vintage else '–'}"
    as_of_line = f"<dt>{t('cover.as_of', lang)}</dt><dd>{as_of}</dd>" if as_of else ""
    cover = (f'<section class="cover"><h1>{html.escape(title)}</h1><p class="subtitle">{t("cover.subtitle", lang)}</p>'
             f"<dl><dt>{t('cover.date', lang)}</dt><dd>{fmt_date(produced, lang)}</dd>"
             f"<dt>{t('cover.vintage', lang)}</dt><dd>{fmt_date(vintage, lang) if vintage else '–'}</dd>{as_of_line}"
             f"<dt>{t('cover.version', lang)}</dt><dd>analysis {__version__}</dd></dl></section>")
    nav = f'<nav class="toc"><h2 id="toc-heading" style="string-set: none">{t("toc", lang)}</h2><ol>{toc}</ol></nav>' if toc else ""
    css = CSS.replace("%(page)s", t("page", lang))
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{css}</style></head><body>{cover}<p class=\"vintage\">{html.escape(vintage_text)}</p>"
            f"<main>{first_section}{nav}{rest}</main></body></html>")


def html_to_pdf(page: str, pdf_path: Path, base_url: str | None = None) -> None:
    """Render HTML to an A4 PDF with WeasyPrint (fonts embedded by WeasyPrint)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=page, base_url=base_url).write_pdf(str(pdf_path))
