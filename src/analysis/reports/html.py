"""HTML fragments for the reports: headings, paragraphs, tables and embedded charts.

Sections (:mod:`analysis.reports.sections`) assemble these; :func:`show` displays them in a
notebook, and so in the rendered report.  Every fragment is self-contained (charts are
embedded PNG data), and every text is escaped.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from analysis.i18n import t


def download_link(data: pd.DataFrame, name: str, lang: str) -> str:
    """A link that hands over a table or a chart's data as CSV, embedded in the page (no server needed)."""
    encoded = base64.b64encode(data.to_csv(index=False).encode("utf-8-sig")).decode()
    file_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "data"
    return (
        f'<p class="download"><a download="{file_name}.csv" href="data:text/csv;charset=utf-8;base64,{encoded}">'
        f"{html.escape(t('download.csv', lang))}</a></p>"
    )


def figure_html(fig, alt: str = "", data: pd.DataFrame | None = None, name: str = "chart", lang: str = "vi") -> str:
    """A matplotlib figure as an embedded PNG ``<figure>`` with its alt text and, given ``data``, a CSV download.

    The figure is closed (it may be a chart drawn before: :func:`analysis.reports.charts.png_of`).
    ``alt`` says what the chart shows (latest value, target, band), not only its title.
    """
    from analysis.reports.charts import png_of

    image = base64.b64encode(png_of(fig)).decode()
    link = download_link(data, name, lang) if data is not None and not data.empty else ""
    return f'<figure class="chart"><img alt="{html.escape(alt)}" src="data:image/png;base64,{image}"/>{link}</figure>'


#: A printed table longer than this shows its first rows and says how many more the CSV holds.
MAX_TABLE_ROWS = 200


def table_html(
    frame: pd.DataFrame,
    caption: str | None = None,
    name: str | None = None,
    lang: str = "vi",
    row_status: list[dict] | None = None,
) -> str:
    """A DataFrame as a styled HTML table (no index), with an optional caption and CSV download; '' when empty.

    Beyond :data:`MAX_TABLE_ROWS` rows the page shows the first ones and a note; the download holds all.
    ``row_status`` (one ``{"status", "key"}`` per row) marks each row with the status it shows, as the
    page-one lines are marked.
    """
    if frame.empty:
        return ""
    shown = frame.head(MAX_TABLE_ROWS)
    body = shown.to_html(index=False, escape=True, border=0, classes="data")
    if row_status:
        marks = iter(row_status)
        head, _, rows = body.partition("<tbody>")

        def mark(_match) -> str:
            item = next(marks, {"status": "", "key": ""})
            return f'<tr data-status="{html.escape(item["status"])}" data-key="{html.escape(item["key"])}">'

        body = f"{head}<tbody>{re.sub('<tr>', mark, rows)}"
    if len(frame) > len(shown):
        more = t("table.more_rows", lang, shown=len(shown), total=len(frame))
        body += f'<p class="note">{html.escape(more)}</p>'
    opening = '<table class="data">' + (f"<caption>{html.escape(caption)}</caption>" if caption else "")
    body = re.sub(r"<table[^>]*>", lambda _match: opening, body, count=1)
    return body + (download_link(frame, name, lang) if name else "")


def heading(key: str, lang: str, level: int = 2) -> str:
    """A heading from the catalogue, with an anchor the contents list links to."""
    text = t(key, lang)
    anchor = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    return f'<h{level} id="{anchor}">{html.escape(text)}</h{level}>'


def paragraph(text: str, css_class: str = "") -> str:
    """A paragraph of escaped text."""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<p{cls}>{html.escape(text)}</p>"


def verdict_box(items: list[dict]) -> str:
    """The boxed list of lines (``{"text", "status", "key"}`` items, see :func:`status_block`)."""
    return '<div class="verdict"><ul>' + "".join(_item(item) for item in items) + "</ul></div>"


def _item(item: dict) -> str:
    """One status line: its text, with the status and the id it is shown for as data attributes."""
    attributes = ""
    if item.get("status"):
        attributes += f' data-status="{html.escape(item["status"])}"'
    if item.get("key"):
        attributes += f' data-key="{html.escape(item["key"])}"'
    details = "".join(_item(detail) for detail in item.get("details", []))
    inner = f'<ul class="evidence">{details}</ul>' if details else ""
    return f"<li{attributes}>{html.escape(item['text'])}{inner}</li>"


def status_block(title: str, items: list[dict], note: str = "") -> str:
    """One series on page one: its title, one item per target (``text``, ``status``, ``key`` and ``details``:
    the evidence lines under it), and a note in small print below."""
    lines = "".join(_item(item) for item in items)
    note_html = f'<p class="others">{html.escape(note)}</p>' if note else ""
    return f'<div class="status-block"><p class="block-title">{html.escape(title)}</p><ul>{lines}</ul>{note_html}</div>'


def status_list(items: list[dict]) -> str:
    """Status items in one line (the index): each with its data attributes; '–' when there are none."""
    if not items:
        return "–"
    spans = []
    for item in items:
        attributes = f'data-status="{html.escape(item["status"])}" data-key="{html.escape(item["key"])}"'
        spans.append(f"<span {attributes}>{html.escape(item['text'])}</span>")
    return " · ".join(spans)


def keep_together(*fragments: str) -> str:
    """Fragments printed on one page (a heading, its lead paragraph and its chart are not split)."""
    return f'<div class="keep">{join(*fragments)}</div>'


def join(*fragments: str) -> str:
    """Fragments joined in order, empty ones left out."""
    return "\n".join(f for f in fragments if f)


def show(*fragments: str) -> None:
    """Display HTML fragments in the notebook (and so in the rendered report)."""
    from IPython.display import HTML, display

    display(HTML(join(*fragments)))
