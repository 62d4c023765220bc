"""``reports/index.html`` (Vietnamese) and ``reports/index.en.html``: every report with its status line.

A reader lands on the index in their language and sees, per report, the targets it assesses with
their status, when it was last built (Ho Chi Minh City time) and from which data, and its PDF, HTML and
data (the assessments of its targets as CSV, with a note); below, every processed table that has a data
dictionary (``<table>.meta.yml``), published beside the index under ``data/`` with its dictionary.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.i18n import LANGUAGES, fmt_date, fmt_time, has_text, t
from analysis.models.assessment_plan import PlanEntry
from analysis.reports import downloads, verdict
from analysis.reports.html import status_list
from analysis.reports.render import INDEX_FILES, environment


def report_entries(report: dict, assessment_plan: tuple[PlanEntry, ...]) -> list[PlanEntry]:
    """The assessed series a report covers: all for a report planned with ``index_status: all``, those
    matching its ``indicator`` and ``boundary`` (or ``merged_boundary``) parameters otherwise."""
    if report.get("index_status") == "all":
        return list(assessment_plan)
    parameters = report.get("parameters") or {}
    boundaries = {parameters.get("boundary"), parameters.get("merged_boundary")} - {None, ""}
    return [e for e in assessment_plan if e.indicator == parameters.get("indicator") and e.boundary in boundaries]


#: The folder, beside the index, of the tables a reader downloads (the processed tables, each report's data).
DATA_FOLDER = "data"


def programme_items(scorecard: pd.DataFrame | None, lang: str) -> list[dict]:
    """The index's status line of the scorecard: how many of the programme's targets have each status."""
    from analysis.reports.labels import status
    from analysis.reports.scorecard import status_counts

    if scorecard is None or scorecard.empty:
        return []
    return [
        {
            "text": t("index.programme_count", lang, status=status(code, lang), count=count),
            "status": code,
            "key": f"scorecard|{code}",
        }
        for code, count in status_counts(scorecard)
    ]


def build_word(info: dict, lang: str) -> str:
    """'cập nhật 26 tháng 11 năm 2026, 22:44 (giờ Việt Nam)', 'lỗi khi lập lại; đang giữ bản trước' or 'chưa lập'."""
    status = info.get("status", "")
    if status == "ok" and info.get("published_at"):
        return t("index.built", lang, date=fmt_time(str(info["published_at"]), lang))
    if status.startswith("failed") and info.get("published_at"):
        return t("index.failed_kept", lang)
    if status.startswith("failed"):
        return t("index.failed", lang)
    return t("index.not_built", lang)


#: The processed tables listed first (when they exist); every other one with a data dictionary follows by name.
FIRST_TABLES = ("indicators", "assessments", "targets", "scorecard")


def processed_tables(processed: Path) -> list[Path]:
    """The processed tables a reader is offered: every ``<table>.csv`` with its data dictionary ``<table>.meta.yml``
    (the figures, the assessments, the targets and the scorecard first)."""
    tables = [path for path in sorted(processed.glob("*.csv")) if path.with_suffix(".meta.yml").exists()]
    rank = {name: index for index, name in enumerate(FIRST_TABLES)}
    return sorted(tables, key=lambda path: (rank.get(path.stem, len(rank)), path.name))


def table_title(path: Path, lang: str) -> str:
    """A processed table's name for readers ('Số liệu đã làm sạch'); its file name when the catalogue has none."""
    key = f"data.table.{path.stem}"
    return t(key, lang) if has_text(key, lang) else path.name


def report_data(
    report: dict, assessments: pd.DataFrame, assessment_plan: tuple[PlanEntry, ...], lang: str
) -> pd.DataFrame:
    """The assessments of the targets a report covers, with their names in ``lang`` (empty when it assesses none)."""
    entries = report_entries(report, assessment_plan)
    if assessments.empty or not entries:
        return pd.DataFrame()
    keys = {(entry.indicator, entry.boundary) for entry in entries}
    chosen = [
        (indicator, boundary) in keys
        for indicator, boundary in zip(assessments["indicator"], assessments["boundary"], strict=True)
    ]
    return downloads.labelled(assessments[chosen], lang)


def data_files(
    processed: Path, plan: dict, assessments: pd.DataFrame, assessment_plan: tuple[PlanEntry, ...], lang: str
) -> dict[str, bytes]:
    """The files the index of ``lang`` links to under :data:`DATA_FOLDER`: each processed table with its data
    dictionary (the same in every language), and each assessing report's data as CSV with its note."""
    files = {}
    for path in processed_tables(processed):
        for source in (path, path.with_suffix(".meta.yml")):
            files[source.name] = source.read_bytes()
    for report in plan["reports"]:
        data = report_data(report, assessments, assessment_plan, lang)
        if data.empty:
            continue
        name = f"{report['name']}.{lang}"
        title = t(report.get("title_key", report["name"]), lang)
        files[f"{name}.csv"] = downloads.csv_bytes(data)
        note = downloads.note(data, f"{name}.csv", lang, title, t("data.source_assessments", lang))
        files[f"{name}.txt"] = note.encode("utf-8")
    return files


def render_index(
    output: Path,
    plan: dict,
    state: dict,
    vintage: str | None,
    assessments: pd.DataFrame,
    assessment_plan: tuple[PlanEntry, ...],
    lang: str,
    languages: list[str] | None = None,
    processed: Path | None = None,
    scorecard: pd.DataFrame | None = None,
) -> str:
    """The index page of one language, as HTML, linking to the pages of the other ``languages``, to each report's
    PDF, HTML and data, and to the processed tables (those of ``processed`` with a data dictionary) with their
    dictionaries.  The files of :func:`data_files` are expected under ``output``/:data:`DATA_FOLDER`.  A report
    planned with ``index_status: programme`` shows the scorecard's count of targets per status."""
    rows = []
    for report in plan["reports"]:
        info = state.get("reports", {}).get(f"{lang}/{report['name']}", {})
        links = [
            (f"{lang}/{report['name']}{suffix}", suffix[1:].upper())
            for suffix in (".pdf", ".html")
            if (output / lang / f"{report['name']}{suffix}").exists()
        ]
        data = f"{DATA_FOLDER}/{report['name']}.{lang}"
        if (output / f"{data}.csv").exists():
            links += [(f"{data}.csv", t("index.data", lang)), (f"{data}.txt", t("index.data_note", lang))]
        rows.append(
            {
                "title": t(report.get("title_key", report["name"]), lang),
                "status": status_list(
                    programme_items(scorecard, lang)
                    if report.get("index_status") == "programme"
                    else verdict.status_line(assessments, report_entries(report, assessment_plan), lang)
                ),
                "built": build_word(info, lang),
                "links": links,
            }
        )
    languages = languages or list(LANGUAGES)
    others = [
        ("index.html" if other == languages[0] else INDEX_FILES[other], t("index.language", other))
        for other in languages
        if other != lang
    ]
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            lang=lang,
            title=t("index.title", lang),
            vintage=t("index.vintage", lang, date=fmt_date(vintage, lang) if vintage else "–"),
            headers=[t(f"index.col.{column}", lang) for column in ("report", "status", "built", "files")],
            rows=rows,
            others=others,
            tables=[
                {
                    "title": table_title(path, lang),
                    "csv": f"{DATA_FOLDER}/{path.name}",
                    "dictionary": f"{DATA_FOLDER}/{path.with_suffix('.meta.yml').name}",
                }
                for path in (processed_tables(processed) if processed else [])
                if (output / DATA_FOLDER / path.name).exists()
            ],
            labels={key: t(f"index.{key}", lang) for key in ("tables", "tables_note", "dictionary", "table_col")},
        )
    )
