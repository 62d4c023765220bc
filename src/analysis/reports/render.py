"""Rendering: an executed notebook -> a self-contained HTML page -> an A4 PDF.

The page skeleton and the stylesheet are template files (``templates/report.html.j2``,
``templates/report.css``), as nbconvert keeps them; this module fills them.  The batch calls
:func:`notebook_to_html` and :func:`html_to_pdf`.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from pathlib import Path

import jinja2

from analysis import __version__
from analysis.i18n import LANGUAGES, fmt_date, local_time, t

TEMPLATES = Path(__file__).with_name("templates")
#: Cells with these tags are not part of the report (analyst notes, parameters).
REMOVED_TAGS = ("parameters", "injected-parameters", "analyst-note", "remove-cell")
#: The index file of each language (in the output folder, above the language folders).
INDEX_FILES = {"vi": "index.html", "en": "index.en.html"}


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (HTML autoescaped)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def stylesheet() -> str:
    """The report stylesheet (``templates/report.css``)."""
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def notebook_body(notebook) -> str:
    """The report content of an executed notebook: HTML outputs and rendered Markdown, no code.

    Cells tagged parameters, injected-parameters, analyst-note or remove-cell are left out;
    nbconvert's Markdown filter renders Markdown cells.

    Raises
    ------
    RuntimeError
        When a cell has an error output (a report is never built from a failed notebook).
    """
    parts = []
    for cell in notebook["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & set(REMOVED_TAGS):
            continue
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] == "markdown":
            # imported only for a Markdown cell that stays (every cell of the shipped reports is an analyst
            # note): nbconvert is not among a kernel's warm imports
            from nbconvert.filters import markdown2html

            parts.append(markdown2html(source))
            continue
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                parts.append("".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"])
            elif "image/png" in data:
                image = "".join(data["image/png"]).strip()
                parts.append(f'<figure class="chart"><img src="data:image/png;base64,{image}"/></figure>')
            elif output.get("output_type") == "error":
                raise RuntimeError(f"notebook has an error output: {output.get('ename')}: {output.get('evalue')}")
    return "\n".join(parts)


def check_verdict(body: str) -> None:
    """A report with a verdict section must show a target in it: an empty verdict is a failed report.

    Raises
    ------
    RuntimeError
        When the section under the verdict heading lists nothing (no assessed target for its parameters).
    """
    start = body.find('<h2 id="h-verdict">')
    if start < 0:
        return
    end = body.find("<h2 ", start + 1)
    if "<li" not in body[start : end if end > 0 else len(body)]:
        raise RuntimeError(
            "the verdict section shows no target: no assessed target matches the report's indicator and boundary "
            "(data/assessment_plan.yml), or their assessments are missing"
        )


def number_figures(body: str, lang: str) -> str:
    """Every chart's number in page order ('Hình 1.', 'Hình 2.'; 'Figure 1.' in English)."""
    from analysis.reports.html import FIGURE_NUMBER

    parts = body.split(FIGURE_NUMBER)
    numbered = [parts[0]]
    for number, part in enumerate(parts[1:], start=1):
        label = html.escape(t("chart.figure", lang, number=number))
        numbered.append(f'<span class="figure-number">{label}</span> {part}')
    return "".join(numbered)


def page_links(name: str | None, lang: str) -> list[tuple[str, str, str]]:
    """The page's links to the index of its language and to itself in each other language: (href, text, lang)."""
    if not name:
        return []
    links = [(f"../{INDEX_FILES[lang]}", t("nav.index", lang), lang)]
    links += [(f"../{other}/{name}.html", t("index.language", other), other) for other in LANGUAGES if other != lang]
    return links


def page_html(
    body: str,
    lang: str,
    title: str,
    vintage: str | None,
    as_of: int | None = None,
    produced: dt.date | None = None,
    name: str | None = None,
) -> str:
    """A self-contained HTML page: links (index, other language), title block, contents (every ``<h2>``), the body.

    The first section (the verdict) stays on page one under the title block; the contents
    list follows it.  ``name``: the report's file name, for the links to the index and to the
    same report in the other language (screen only: the PDF has no links bar).  The date of making
    is Ho Chi Minh City's.

    Raises
    ------
    RuntimeError
        When the verdict section shows no target (:func:`check_verdict`).
    """
    check_verdict(body)
    body = number_figures(body, lang)
    headings = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', body)
    starts = [m.start() for m in re.finditer(r"<h2 ", body)]
    first_section, rest = (body[: starts[1]], body[starts[1] :]) if len(starts) > 1 else (body, "")
    labels = {key: t(f"cover.{key}", lang) for key in ("subtitle", "date", "vintage", "as_of", "version")}
    labels.update(toc=t("toc", lang), page=t("page", lang))
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            lang=lang,
            title=title,
            produced=fmt_date(produced or local_time().date(), lang),
            vintage=fmt_date(vintage, lang) if vintage else "–",
            as_of=as_of,
            version=__version__,
            labels=labels,
            stylesheet=stylesheet(),
            first_section=first_section,
            toc=headings,
            rest=rest,
            links=page_links(name, lang),
        )
    )


def notebook_to_html(
    notebook_path: Path,
    lang: str,
    title: str,
    vintage: str | None,
    as_of: int | None = None,
    produced: dt.date | None = None,
    name: str | None = None,
) -> str:
    """A self-contained HTML page from an executed notebook (see :func:`page_html`).

    The notebook is read as the JSON it is (nbformat 4, written by the batch); nbformat itself is not
    needed to render it.
    """
    import json

    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    return page_html(notebook_body(notebook), lang, title, vintage, as_of, produced, name)


def render_files(
    executed: Path, html_path: Path, pdf_path: Path, lang: str, title: str, vintage: str | None, as_of: int | None
) -> None:
    """An executed notebook -> its HTML page and PDF (what the batch runs for each report)."""
    page = notebook_to_html(Path(executed), lang, title, vintage, as_of, name=Path(html_path).stem)
    Path(html_path).write_text(page, encoding="utf-8")
    html_to_pdf(page, Path(pdf_path))


def html_to_pdf(page: str, pdf_path: Path, base_url: str | None = None) -> None:
    """Render HTML to a tagged A4 PDF with WeasyPrint (fonts embedded and subset by WeasyPrint).

    The PDF is written as PDF/UA-1: a structure tree (headings, lists, tables with header cells,
    figures with the alt text of their image), the document language and title, and running
    headers and footers marked as artifacts, so that a screen reader can follow it.
    """
    import logging

    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # A report is self-contained: a notebook output that links a stylesheet on the web or attaches
    # file:///etc/passwd must not make the renderer fetch it, or embed it in the PDF.
    fetcher = URLFetcher(allowed_protocols={"data"})
    HTML(string=page, base_url=base_url, url_fetcher=fetcher).write_pdf(str(pdf_path), pdf_variant="pdf/ua-1")
