"""HTML fragments for the reports: headings, paragraphs, tables and embedded charts.

Sections (:mod:`analysis.reports.sections`) assemble these; :func:`show` displays them in a
notebook, and so in the rendered report.  Every fragment is self-contained (charts are
embedded PNG data), and every text is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from io import BytesIO

import pandas as pd

from analysis.i18n import t


def figure_html(fig, alt: str = "") -> str:
    """A matplotlib figure as an embedded PNG ``<figure>`` (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<figure class="chart"><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/></figure>'


def table_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A DataFrame as a styled HTML table (no index), with an optional caption; '' when empty."""
    if frame.empty:
        return ""
    body = frame.to_html(index=False, escape=True, border=0, classes="data")
    if caption:
        body = body.replace(
            '<table border="0" class="dataframe data">',
            f'<table class="dataframe data"><caption>{html.escape(caption)}</caption>',
            1,
        )
    return body


def heading(key: str, lang: str, level: int = 2) -> str:
    """A heading from the catalogue, with an anchor the contents list links to."""
    text = t(key, lang)
    anchor = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    return f'<h{level} id="{anchor}">{html.escape(text)}</h{level}>'


def paragraph(text: str, css_class: str = "") -> str:
    """A paragraph of escaped text."""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<p{cls}>{html.escape(text)}</p>"


def verdict_box(lines: list[str]) -> str:
    """The boxed list of verdict lines."""
    return '<div class="verdict"><ul>' + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul></div>"


def join(*fragments: str) -> str:
    """Fragments joined in order, empty ones left out."""
    return "\n".join(f for f in fragments if f)


def show(*fragments: str) -> None:
    """Display HTML fragments in the notebook (and so in the rendered report)."""
    from IPython.display import HTML, display

    display(HTML(join(*fragments)))
