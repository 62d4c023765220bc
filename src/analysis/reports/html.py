"""HTML fragments for the reports: headings, paragraphs, tables and embedded charts.

Sections (:mod:`analysis.reports.sections`) assemble these; :func:`show` displays them in a
notebook, and so in the rendered report.  Every fragment is self-contained (charts are
embedded SVG, downloads are data URLs), and every text is escaped.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from analysis.i18n import t


def _data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};charset=utf-8;base64,{base64.b64encode(data).decode()}"


def download_link(
    data: pd.DataFrame, name: str, lang: str, title: str = "", source: str = "", formatted: bool = False
) -> str:
    """Links that hand over a table or a chart's data as CSV, with its note, embedded in the page (no server).

    The CSV is made for a spreadsheet (:mod:`analysis.reports.downloads`): ``formatted`` data (a table printed
    for readers) has its numbers turned back into numbers; raw data gets the names of its ids beside them.
    """
    from analysis.reports import downloads

    table = downloads.tidy(data, lang) if formatted else downloads.labelled(data, lang)
    file_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "data"
    note = downloads.note(table, f"{file_name}.csv", lang, title, source)
    csv_url = _data_url(downloads.csv_bytes(table), "text/csv")
    note_url = _data_url(note.encode("utf-8"), "text/plain")
    return (
        f'<p class="download"><a download="{file_name}.csv" href="{csv_url}">{html.escape(t("download.csv", lang))}</a>'
        f' · <a download="{file_name}.txt" href="{note_url}">{html.escape(t("download.note", lang))}</a></p>'
    )


#: Where :func:`analysis.reports.render.page_html` writes the number of each chart ('Hình 3.').
FIGURE_NUMBER = '<span class="figure-number"></span>'


def figure_html(
    fig,
    alt: str = "",
    data: pd.DataFrame | None = None,
    name: str = "chart",
    lang: str = "vi",
    title: str = "",
    source: str = "",
) -> str:
    """A matplotlib figure as an embedded SVG ``<figure>``: its number and title, the chart, its source line and,
    given ``data``, a CSV download with its note.

    The figure is closed (it may be a chart drawn before: :func:`analysis.reports.charts.svg_of`).
    ``alt`` says what the chart shows (latest value, target, band), not only its title; the page numbers the
    charts in order (:data:`FIGURE_NUMBER`).
    """
    from analysis.reports.charts import svg_of

    image = base64.b64encode(svg_of(fig)).decode()
    link = download_link(data, name, lang, title, source) if data is not None and not data.empty else ""
    source_line = f'<span class="source">{html.escape(t("chart.source", lang, source=source))}</span>' if source else ""
    caption = f'<figcaption>{FIGURE_NUMBER}<span class="title">{html.escape(title)}</span>{source_line}</figcaption>'
    return (
        f'<figure class="chart"><img alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{image}"/>'
        f"{caption}{link}</figure>"
    )


#: A table whose first column holds a cell longer than this (characters) keeps that column readably wide.
NAMED_COLUMN_CHARS = 30
#: A printed table longer than this shows its first rows and says how many more the CSV holds.
MAX_TABLE_ROWS = 200


def _cell(value, header: str) -> str:
    """One table cell, labelled with its column (a phone shows each row as a card of labelled lines)."""
    missing = value is None or (isinstance(value, float) and value != value)
    text = "–" if missing else str(value)
    empty = ' class="empty"' if text.strip() in ("", "–") else ""
    return f'<td data-label="{html.escape(header)}"{empty}>{html.escape(text)}</td>'


def _row(values, headers: list[str], status: dict | None) -> str:
    attributes = (
        f' data-status="{html.escape(status["status"])}" data-key="{html.escape(status["key"])}"' if status else ""
    )
    return f"<tr{attributes}>" + "".join(_cell(v, h) for v, h in zip(values, headers, strict=True)) + "</tr>"


def _group_row(title: str, width: int) -> str:
    """A heading row across the table: the value the rows below it share (see ``group_by``)."""
    return f'<tr class="group"><th colspan="{width}" scope="rowgroup">{html.escape(title)}</th></tr>'


def table_html(
    frame: pd.DataFrame,
    caption: str | None = None,
    name: str | None = None,
    lang: str = "vi",
    row_status: list[dict] | None = None,
    data: pd.DataFrame | None = None,
    group_by: str | None = None,
) -> str:
    """A DataFrame as a styled HTML table (no index), with an optional caption and CSV download; '' when empty.

    Beyond :data:`MAX_TABLE_ROWS` rows the page shows the first ones and a note; the download holds all.
    ``row_status`` (one ``{"status", "key"}`` per row) marks each row with the status it shows, as the
    page-one lines are marked.  ``data``: the raw rows the table shows, downloaded instead of the printed
    table (probabilities unrounded, ids with their names).  Every cell carries its column's name, so that on
    a narrow screen each row reads as a card.  ``group_by``: a column whose runs of equal values are printed
    once, as a heading row above their rows, instead of in every row (the download keeps the column).
    """
    if frame.empty:
        return ""
    shown = frame.head(MAX_TABLE_ROWS)
    groups = shown[group_by].astype(str).tolist() if group_by in shown.columns else None
    if groups is not None:
        shown = shown.drop(columns=[group_by])
    headers = [str(column) for column in shown.columns]
    statuses = list(row_status or [])
    starts = {i for i in range(len(shown)) if i == 0 or groups[i] != groups[i - 1]} if groups else set()
    rows = "".join(
        (_group_row(groups[index], len(headers)) if index in starts else "")
        + _row(values, headers, statuses[index] if index < len(statuses) else None)
        for index, values in enumerate(shown.itertuples(index=False, name=None))
    )
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    caption_html = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    # a first column of long names (a target and its place) keeps a readable width beside long notes
    longest = max((len(str(value)) for value in shown.iloc[:, 0]), default=0)
    classes = "data named" if longest > NAMED_COLUMN_CHARS and len(headers) > 2 else "data"
    body = f'<table class="{classes}">{caption_html}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    if len(frame) > len(shown):
        more = t("table.more_rows", lang, shown=len(shown), total=len(frame))
        body += f'<p class="note">{html.escape(more)}</p>'
    if not name:
        return body
    if data is not None:
        return body + download_link(data, name, lang, caption or "")
    return body + download_link(frame, name, lang, caption or "", formatted=True)


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
