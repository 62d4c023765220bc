"""The scorecard report's sections: every target of the city's programme, its status and what would decide it.

The statuses come from ``scorecard.csv`` (:mod:`analysis.models.scorecard`); the targets' names, the texts
of what differs and what to publish from ``programme`` in the assessment plan; every other word from the
text catalogues.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from analysis.data.observations import observations
from analysis.i18n import fmt_number, fmt_probability, t
from analysis.models.assessment_plan import PROGRAMME_GROUPS, PROGRAMME_RULES, ProgrammeTarget
from analysis.models.judging import FORECAST_STATUSES, STATUSES
from analysis.reports import charts, labels
from analysis.reports.html import figure_html, heading, join, paragraph, status_block, table_html
from analysis.reports.loading import ReportData

#: The place the scorecard is about: its series are drawn in colour, the peers' in grey.
REPORTED_PLACE = "hcmc"


def _lowered(text: str) -> str:
    return text[:1].lower() + text[1:]


def _entries(report: ReportData) -> dict[int, ProgrammeTarget]:
    return {entry.number: entry for entry in (report.programme.targets if report.programme else ())}


def _numbers(rows: pd.DataFrame) -> str:
    return ", ".join(str(int(n)) for n in rows["number"])


def status_counts(card: pd.DataFrame) -> list[tuple[str, int]]:
    """(status, number of targets) for every status the scorecard holds, in the order of the statuses."""
    counts = card["status"].value_counts()
    return [(status, int(counts[status])) for status in STATUSES if status in counts]


def programme_line(report: ReportData) -> str:
    """One line for page one of the summary: how many of the programme's targets have each status."""
    card = report.scorecard
    if card.empty:
        return ""
    lang = report.lang
    counts = "; ".join(
        f"{count} {_lowered(labels.status(status, lang, symbol=False))}" for status, count in status_counts(card)
    )
    return paragraph(
        t("p1.programme", lang, total=len(card), counts=counts, title=t("report.scorecard", lang)), "programme"
    )


def scorecard_verdict(report: ReportData) -> str:
    """Page one of the scorecard: one line per status with the targets that have it, and the chart by group."""
    lang, card = report.lang, report.scorecard
    items = [
        {
            "text": t(
                "scorecard.count_line",
                lang,
                status=labels.status(status, lang),
                count=count,
                numbers=_numbers(card[card["status"] == status]),
            ),
            "status": status,
            "key": f"scorecard|{status}",
        }
        for status, count in status_counts(card)
    ]
    block = status_block(t("scorecard.block_title", lang, total=len(card)), items, t("scorecard.lead", lang))
    return join(heading("h.verdict", lang), block, _overview_chart(report))


def _overview_chart(report: ReportData) -> str:
    lang, card = report.lang, report.scorecard
    statuses = [status for status, _ in status_counts(card)]
    counts = (
        card.groupby(["group", "status"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=list(PROGRAMME_GROUPS), columns=statuses)
    ).fillna(0)
    counts = counts[counts.sum(axis=1) > 0]
    group_names = {group: t(f"scorecard.group.{group}", lang) for group in PROGRAMME_GROUPS}
    status_names = {status: labels.status(status, lang) for status in statuses}
    figure = charts.scorecard_chart(counts, group_names, status_names, lang)
    alt = t(
        "scorecard.alt.overview",
        lang,
        groups="; ".join(
            f"{group_names[group]}: "
            + ", ".join(f"{int(n)} {_lowered(labels.status(s, lang, symbol=False))}" for s, n in row.items() if n)
            for group, row in counts.iterrows()
        ),
    )
    data = counts.reset_index().rename(columns={"group": "group_id"})
    data.insert(1, "group", [group_names[g] for g in data["group_id"]])
    return join(
        heading("h.scorecard_overview", lang, level=3),
        figure_html(
            figure,
            alt,
            data,
            "scorecard-by-group",
            lang,
            t("chart.title_scorecard", lang),
            t("chart.source_scorecard", lang),
        ),
    )


def _span(row: pd.Series) -> str | int:
    start, end = int(row["related_span_start"]), int(row["related_year"])
    return end if start == end else f"{start}–{end}"


def figure_text(value: float, year, indicator: str, lang: str, qualifier=None, rank_group=None) -> str:
    """A scorecard figure as printed: 'thứ 1/63 (2024)', 'hơn 90% (2025)', '5,24% (2025)'; '–' when none."""
    if labels.missing(value):
        return "–"
    unit = labels.unit_of(indicator)
    if unit == "rank":
        text = (
            t("scorecard.rank_of", lang, rank=int(value), group=int(rank_group))
            if not labels.missing(rank_group)
            else t("scorecard.rank", lang, rank=int(value))
        )
    else:
        text = labels.value(float(value), unit, lang, None if labels.missing(qualifier) else qualifier)
    if labels.missing(year):
        return text
    return f"{text} ({year if isinstance(year, str) else int(year)})"


def publisher(source_id, sources: pd.DataFrame, lang: str) -> str | None:
    """The outlet of a source as a reader names it ('Pháp Luật TP.HCM'); a mirror is named by its original."""
    if labels.missing(source_id):
        return None
    found = sources.loc[sources["source_id"] == source_id, "publisher"]
    if found.empty or labels.missing(found.iloc[0]):
        return None
    name = str(found.iloc[0])
    mirror = re.search(r"mirror of ([^)]+?)(?: article)?\)", name)
    if mirror:
        return t("scorecard.via_mirror", lang, publisher=mirror.group(1).strip())
    return re.sub(r"\s*\(.*\)\s*$", "", name).strip() or None  # the collector's notes in parentheses dropped


def _figure_cell(row: pd.Series, report: ReportData) -> str:
    lang = report.lang
    if _successor_figure(row):
        # the merged city's figure of a former boundary's target: shown under the grounds, never judged on
        return t("scorecard.no_own_figure", lang)
    text = figure_text(
        row["figure_value"],
        row["figure_year"],
        row["indicator"],
        lang,
        row["figure_qualifier"],
        row["figure_rank_group"],
    )
    if text == "–" and not labels.missing(row["latest_value"]):
        latest = figure_text(row["latest_value"], row["latest_year"], row["indicator"], lang)
        text = t("scorecard.latest", lang, figure=latest)
    if text == "–":
        return t("scorecard.no_own_figure" if not labels.missing(row["related_index"]) else "scorecard.no_figure", lang)
    outlet = publisher(row["figure_source"], report.sources, lang)
    return f"{text}; {t('scorecard.source', lang, publisher=outlet)}" if outlet else text


def _successor_figure(row: pd.Series) -> bool:
    boundary = row["figure_boundary"]
    return not labels.missing(boundary) and boundary != row["boundary"]


def why_text(row: pd.Series, entry: ProgrammeTarget, report: ReportData) -> str:
    """Why the target has its status: the basis, the boundary judged on, the nearest figure of another base."""
    lang = report.lang
    basis = row["basis"]
    if basis == "not_observable":
        parts = [entry.not_observable[lang]]
    elif basis == "floor_below" or (basis == "figure" and entry.rule == "universal"):
        parts = [t(f"scorecard.basis.{basis}", lang, threshold=labels.target_value(row["threshold"], lang))]
    else:
        parts = [t(f"scorecard.basis.{basis}", lang)]
    if basis == "assessment" and not labels.missing(row["p_meet_in_year"]):
        parts.append(
            t(
                "scorecard.probability",
                lang,
                year=int(row["target_year"]),
                probability=fmt_probability(row["p_meet_in_year"], lang),
            )
        )
    if basis == "assessment" and not labels.missing(row["required_pace_pp"]) and row["status"] in FORECAST_STATUSES:
        pace = fmt_number(row["required_pace_pp"], lang, 2)
        parts.append(t("scorecard.pace", lang, pace=pace, observed=fmt_number(row["observed_pace_pp"], lang, 2)))
    if _successor_figure(row):
        figure = figure_text(row["figure_value"], row["figure_year"], row["indicator"], lang, row["figure_qualifier"])
        parts.append(t("scorecard.successor", lang, figure=figure, place=labels.place(row["figure_boundary"], lang)))
    if entry.rule == "universal":
        universal = report.programme.universal_at_least
        parts.append(t("scorecard.universal", lang, threshold=labels.target_value(universal, lang)))
    if entry.judged_on and entry.judged_on_why:
        parts.append(
            t("scorecard.judged_on", lang, place=labels.place(entry.judged_on, lang), why=entry.judged_on_why[lang])
        )
    if not labels.missing(row["related_index"]):
        related = entry.related[int(row["related_index"])]
        figure = figure_text(
            row["related_value"],
            row["related_year"] if labels.missing(row["related_span_start"]) else _span(row),
            row["related_indicator"],
            lang,
            row["related_qualifier"],
            row["related_rank_group"],
        )
        parts.append(
            t(
                "scorecard.related",
                lang,
                indicator=labels.indicator(row["related_indicator"], lang),
                figure=figure,
                place=labels.place(row["related_boundary"], lang),
                differs=related.differs[lang],
            )
        )
        outlet = publisher(row["related_source"], report.sources, lang)
        if outlet:
            parts[-1] += f" ({t('scorecard.source', lang, publisher=outlet)})"
    return labels.capitalised("; ".join(parts)) + "."


def group_table(report: ReportData, group: str) -> pd.DataFrame:
    """The scorecard rows of one group as the report prints them (columns in the report's language)."""
    lang = report.lang
    entries = _entries(report)
    rows = report.scorecard[report.scorecard["group"] == group]
    return pd.DataFrame(
        {
            t("scorecard.col.target", lang): [
                f"{int(r['number'])}. {entries[int(r['number'])].name[lang]}" for _, r in rows.iterrows()
            ],
            t("scorecard.col.status", lang): [labels.status(r["status"], lang) for _, r in rows.iterrows()],
            t("scorecard.col.figure", lang): [_figure_cell(r, report) for _, r in rows.iterrows()],
            t("scorecard.col.why", lang): [why_text(r, entries[int(r["number"])], report) for _, r in rows.iterrows()],
        }
    )


def scorecard_tables(report: ReportData) -> str:
    """One table per group: each target's status, the figure that decided it and why."""
    lang = report.lang
    parts = [heading("h.scorecard_targets", lang), paragraph(t("scorecard.tables_lead", lang))]
    for group in PROGRAMME_GROUPS:
        rows = report.scorecard[report.scorecard["group"] == group]
        if rows.empty:
            continue
        name = t(f"scorecard.group.{group}", lang)
        marks = [{"status": r["status"], "key": f"programme|{int(r['number'])}"} for _, r in rows.iterrows()]
        parts.append(
            table_html(
                group_table(report, group),
                t("scorecard.caption", lang, group=name, count=len(rows)),
                f"scorecard-{group}",
                lang,
                row_status=marks,
                data=rows,
            )
        )
    return join(*parts)


def rank_section(report: ReportData, indicator: str = "dti_rank") -> str:
    """The city's rank on an index over the years, one line per ranking group, with the rank targets."""
    lang = report.lang
    rows = observations(report.indicators, indicator, value_types=("rank",))
    if rows.empty:
        return ""
    ranks = pd.DataFrame(
        {"series": rows["boundary"], "year": rows["year"].astype(int), "rank": rows["value"].astype(float)}
    ).sort_values(["series", "year"], ascending=[False, True])
    card = report.scorecard
    goals = [
        {"year": int(r["target_year"]), "rank": float(r["target_value"])}
        for _, r in card[(card["indicator"] == indicator) & card["target_year"].notna()].iterrows()
    ]
    groups = rows.groupby("boundary")["rank_group_size"].max()
    highlight = [key for key in ranks["series"].unique() if key.startswith(REPORTED_PLACE)]
    names = {
        boundary: t(
            "scorecard.rank_series",
            lang,
            place=labels.place(boundary, lang),
            group=_ranking_group(groups.get(boundary)),
        )
        for boundary in ranks["series"].unique()
    }
    figure = charts.rank_chart(ranks, goals, names, lang, highlight)
    alt = t(
        "scorecard.alt.ranks",
        lang,
        series="; ".join(
            f"{names[key]}: " + ", ".join(f"{int(y)}: {int(r)}" for y, r in zip(g["year"], g["rank"], strict=True))
            for key, g in ranks.groupby("series", sort=False)
        ),
    )
    data = ranks.assign(place=[labels.place(b, lang) for b in ranks["series"]]).rename(columns={"series": "boundary"})
    return join(
        heading("h.scorecard_ranks", lang),
        paragraph(t("scorecard.ranks_lead", lang, indicator=labels.indicator(indicator, lang))),
        figure_html(
            figure,
            alt,
            data,
            f"{indicator}-by-ranking-group",
            lang,
            t("chart.title_ranks", lang, indicator=labels.indicator(indicator, lang)),
            t("chart.source_ranks", lang),
        ),
    )


def _ranking_group(size) -> str:
    """How many places a series was ranked among: the largest group its rows state ('–' when none does)."""
    return "–" if labels.missing(size) else str(int(size))


def publish_section(report: ReportData) -> str:
    """What the city should publish: for every target not yet decided, the figure that would decide it."""
    lang = report.lang
    entries = _entries(report)
    open_rows = report.scorecard[~report.scorecard["status"].isin(["met", "not_met"])]
    if open_rows.empty:
        return ""
    items = "".join(
        f'<li data-status="{html.escape(r["status"])}">'
        + html.escape(
            t(
                "scorecard.publish_line",
                lang,
                number=int(r["number"]),
                name=entries[int(r["number"])].name[lang],
                publish=entries[int(r["number"])].publish[lang],
            )
        )
        + "</li>"
        for _, r in open_rows.iterrows()
    )
    return join(heading("h.scorecard_publish", lang), paragraph(t("scorecard.publish_lead", lang)), f"<ul>{items}</ul>")


def rules_table(report: ReportData) -> str:
    """The method appendix's table of the scorecard's rules: each kind of target and how it is judged."""
    lang = report.lang
    threshold = labels.target_value(report.programme.universal_at_least, lang) if report.programme else "–"
    frame = pd.DataFrame(
        {
            t("scorecard.col.rule", lang): [t(f"scorecard.rule.{rule}", lang) for rule in PROGRAMME_RULES],
            t("scorecard.col.how", lang): [
                t(f"scorecard.rule_how.{rule}", lang, threshold=threshold) for rule in PROGRAMME_RULES
            ],
        }
    )
    basis = report.programme.universal_basis[lang] if report.programme else ""
    return join(
        heading("h.method_programme", lang),
        paragraph(t("method.programme_lead", lang)),
        table_html(frame, t("scorecard.rules_caption", lang)),
        paragraph(t("method.universal", lang, threshold=threshold, basis=basis)),
    )
