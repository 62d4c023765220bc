"""``reports/index.html`` (Vietnamese) and ``reports/index.en.html``: every report with its status line.

A reader lands on the index in their language and sees, per report, the targets it assesses with
their status, when it was last built and from which data, and its PDF and HTML.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.i18n import LANGUAGES, fmt_date, t
from analysis.models.plan import PlanEntry
from analysis.reports import verdict
from analysis.reports.html import status_list
from analysis.reports.render import environment

#: The index file of each language, side by side so that report links are the same in both.
INDEX_FILES = {"vi": "index.html", "en": "index.en.html"}


def report_entries(report: dict, assessment_plan: tuple[PlanEntry, ...]) -> list[PlanEntry]:
    """The assessed series a report covers: all for a report planned with ``index_status: all``, those
    matching its ``indicator`` and ``boundary`` (or ``merged_boundary``) parameters otherwise."""
    if report.get("index_status") == "all":
        return list(assessment_plan)
    parameters = report.get("parameters") or {}
    boundaries = {parameters.get("boundary"), parameters.get("merged_boundary")} - {None, ""}
    return [e for e in assessment_plan if e.indicator == parameters.get("indicator") and e.boundary in boundaries]


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
    """'cập nhật 26 tháng 11, 2026', 'lỗi khi lập lại; đang giữ bản trước' or 'chưa lập'."""
    status = info.get("status", "")
    if status == "ok" and info.get("published_at"):
        return t("index.built", lang, date=fmt_date(str(info["published_at"])[:10], lang))
    if status.startswith("failed") and info.get("published_at"):
        return t("index.failed_kept", lang)
    if status.startswith("failed"):
        return t("index.failed", lang)
    return t("index.not_built", lang)


def render_index(
    output: Path,
    plan: dict,
    state: dict,
    vintage: str | None,
    assessments: pd.DataFrame,
    assessment_plan: tuple[PlanEntry, ...],
    lang: str,
    languages: list[str] | None = None,
    scorecard: pd.DataFrame | None = None,
) -> str:
    """The index page of one language, as HTML, linking to the pages of the other ``languages``.

    A report planned with ``index_status: programme`` shows the scorecard's count of targets per status.
    """
    rows = []
    for report in plan["reports"]:
        info = state.get("reports", {}).get(f"{lang}/{report['name']}", {})
        links = [
            (f"{lang}/{report['name']}{suffix}", suffix[1:].upper())
            for suffix in (".pdf", ".html")
            if (output / lang / f"{report['name']}{suffix}").exists()
        ]
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
        )
    )
