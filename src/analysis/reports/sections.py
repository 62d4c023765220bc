"""Named report sections: what a notebook shows, one call per section.

Each function takes the :class:`~analysis.reports.loading.ReportData` of the report (tables,
language, ``as_of``) and returns an HTML fragment; a notebook displays it with
:func:`analysis.reports.html.show`.  Sections pick their indicators, places and targets from
the assessment plan and the tables, never from numbers typed in a notebook.  Every table and
chart carries its data as a CSV download in the HTML page.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.i18n import fmt_edition, fmt_number, fmt_percent, fmt_probability, fmt_share, t
from analysis.models import forecasting
from analysis.reports import charts, content, downloads, labels, merged, peers, requirements, verdict
from analysis.reports.html import (
    download_link,
    figure_html,
    heading,
    join,
    keep_together,
    paragraph,
    status_block,
    table_html,
    verdict_box,
)
from analysis.reports.loading import ReportData

# --- shared ------------------------------------------------------------------------------


def _chart_data(report: ReportData, indicator: str, boundary: str, estimator: str) -> pd.DataFrame:
    """A fan chart's data: every estimator's observations, then the forecast of ``estimator`` with its intervals
    (``series`` says which, in the report's language)."""
    lang = report.lang
    observed = [
        pd.DataFrame({"year": series.index, "estimator": name, "value": series.values})
        for name, series in report.observed(indicator, boundary).items()
    ]
    forecast = report.forecast(indicator, boundary, estimator)
    forecast = forecast[forecast["lo95"].notna()][["year", "median", "lo50", "hi50", "lo80", "hi80", "lo95", "hi95"]]
    rows = pd.concat(
        [
            *(frame.assign(series=t("chart.observed", lang)) for frame in observed),
            forecast.assign(estimator=estimator, series=t("chart.median", lang)),
        ],
        ignore_index=True,
    )
    rows.insert(0, "boundary", boundary)
    rows.insert(0, "indicator", indicator)
    columns = ["indicator", "boundary", "estimator", "series", "year", "value"]
    return rows[[c for c in columns if c in rows] + [c for c in rows.columns if c not in columns]]


def chart_alt(report: ReportData, indicator: str, boundary: str, estimator: str, goals: list[dict], title: str) -> str:
    """What a fan chart shows, in words: the latest figure, each target, the forecast and its 80% interval there."""
    lang = report.lang
    parts = [title]
    series = report.observed(indicator, boundary).get(estimator)
    if series is not None and len(series):
        parts.append(f"{fmt_share(series.iloc[-1], lang)} ({int(series.index[-1])})")
    forecast = report.forecast(indicator, boundary, estimator).set_index("year")
    for goal in goals:
        text = t("chart.target", lang, value=labels.target_value(goal["value"], lang), year=goal["year"])
        if goal["year"] in forecast.index and not labels.missing(forecast.loc[goal["year"], "lo80"]):
            row = forecast.loc[goal["year"]]
            text += (
                f": {t('chart.median', lang)} {fmt_percent(row['median'], lang, 1)}, "
                f"{t('chart.band', lang, level=80)} {content.interval_text(row['lo80'], row['hi80'], lang)}"
            )
        parts.append(text)
    return "; ".join(parts)


def fan_chart_html(
    report: ReportData, indicator: str, boundary: str, estimator: str, goals: list[dict], title: str
) -> str:
    """The fan chart of one series (forecast of ``estimator``, every estimator's observations), alt text and data."""
    figure = charts.fan_chart(
        report.forecast(indicator, boundary, estimator),
        report.observed(indicator, boundary),
        goals,
        report.lang,
        estimator,
    )
    alt = chart_alt(report, indicator, boundary, estimator, goals, title)
    name = f"{indicator}-{boundary}-{estimator}"
    data = _chart_data(report, indicator, boundary, estimator)
    return figure_html(figure, alt, data, name, report.lang, title, t("chart.source_fan", report.lang))


def chart_title(indicator: str, boundary: str, estimator: str, lang: str) -> str:
    """'Kinh tế số / GRDP — TP.HCM (trước sáp nhập) — Khung của Bộ KH&CN': what, where, by whose measure."""
    return " — ".join(
        (labels.indicator(indicator, lang), labels.place(boundary, lang), labels.estimator(estimator, lang))
    )


def _goals(rows: pd.DataFrame) -> list[dict]:
    """Targets of assessment rows as ``{"year", "value"}`` for the charts (one per year)."""
    pairs = sorted(set(zip(rows.target_year.astype(int), rows.target_value.astype(float), strict=True)))
    return [{"year": year, "value": value} for year, value in pairs]


# --- summary -------------------------------------------------------------------------------


def summary_headlines(report: ReportData) -> pd.DataFrame:
    """One headline row per planned target (the primary estimator's), in plan order.

    For an annual target only its first and last assessed years are headlines.
    """
    frames = []
    for entry in report.plan:
        rows = report.assessed(entry.indicator, entry.boundary)
        if entry.annual_target_years:
            rows = rows[rows["target_year"].isin([min(entry.annual_target_years), max(entry.annual_target_years)])]
        if not rows.empty:
            frames.append(content.headline_rows(rows, {entry.indicator: entry.primary_estimator}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _status_blocks(report: ReportData, entries) -> list[str]:
    blocks = []
    for entry in entries:
        rows = report.assessed(entry.indicator, entry.boundary)
        if rows.empty:
            continue
        shown = verdict.shown_rows(rows, entry)
        items = verdict.block_items(report.assessments, shown, report.lang)
        blocks.append(
            status_block(verdict.block_title(entry, report.lang), items, verdict.block_note(shown, entry, report.lang))
        )
    return blocks


def summary_verdict(report: ReportData) -> str:
    """Page one: per series, a status line per target (word and symbol), the other estimators one line below."""
    lang = report.lang
    from analysis.reports.scorecard import programme_line

    return join(
        heading("h.verdict", lang),
        programme_line(report),
        *_status_blocks(report, report.plan),
        paragraph(t("p1.model_note", lang), "note"),
    )


def summary_targets_table(report: ReportData) -> str:
    """Every target: status, latest value, paces, probability, the official-style verdict and why they differ."""
    lang = report.lang
    return join(
        heading("h.targets_table", lang),
        _targets_table(summary_headlines(report), lang, "targets"),
    )


def summary_charts(report: ReportData) -> str:
    """One fan chart per assessed series with a forecast (its primary estimator), with its targets."""
    lang = report.lang
    parts = [heading("h.charts", lang)]
    for entry in report.plan:
        rows = report.assessed(entry.indicator, entry.boundary)
        if rows.empty:
            continue
        primary = verdict.primary_rows(rows, entry)
        if primary["data_status"].iloc[0] != "ok":
            continue
        estimator = primary["estimator"].iloc[0]
        title = chart_title(entry.indicator, entry.boundary, estimator, lang)
        parts.append(fan_chart_html(report, entry.indicator, entry.boundary, estimator, _goals(primary), title))
    return join(*parts)


def what_it_takes_section(report: ReportData, indicators: tuple[str, ...] = ()) -> str:
    """What the open targets would take: the growth the digital economy needs, the money the budget targets mean."""
    lang = report.lang
    needs = report.what_it_takes
    if indicators:
        needs = needs[needs["indicator"].isin(indicators)]
    if needs.empty:
        return ""
    parts = [heading("h.what_it_takes", lang)]
    parts += [paragraph(text) for text in requirements.share_sentences(needs, lang)]
    share = requirements.share_table(needs, lang)
    parts.append(table_html(share, name="what-it-takes-growth", lang=lang))
    budgets = [
        i for i in dict.fromkeys(needs["indicator"]) if needs[needs["indicator"] == i]["required_amount"].notna().any()
    ]
    for indicator in budgets:
        parts.append(paragraph(requirements.budget_sentence(needs, indicator, lang)))
        parts.append(
            table_html(
                requirements.budget_table(needs, indicator, lang),
                caption=requirements.budget_caption(needs, indicator, lang),
                name=f"what-it-takes-{indicator}",
                lang=lang,
            )
        )
    if budgets:
        parts.append(paragraph(requirements.denominator_note(needs, lang), "note"))
    return join(*parts)


def peers_section(report: ReportData) -> str:
    """The city beside its peers: latest share and targets, one table and chart panel per estimator family.

    Only families that published figures for two places or more are compared.
    """
    lang = report.lang
    figures = peers.latest_figures(report.indicators, report.peers)
    compared = figures.groupby("estimator")["place"].transform("nunique") >= 2 if not figures.empty else []
    figures = figures[compared] if len(figures) else figures
    if figures.empty:
        return ""
    goals = peers.peer_targets(report.targets, figures)
    place_names = {b: labels.place(b, lang) for b in figures["boundary"].unique()}
    family_names = {e: labels.estimator(e, lang) for e in figures["estimator"].unique()}
    dated = figures[figures["period"] == "Y"]
    chart = charts.peers_chart(dated, goals, place_names, family_names, lang)
    alt = "; ".join(
        f"{family_names[r.estimator]}: {place_names[r.boundary]} {fmt_percent(r.value, lang, 1)} ({int(r.year)})"
        for r in dated.itertuples()
    )
    data = figures[["place", "boundary", "estimator", "year", "value"]]
    parts = [
        keep_together(
            heading("h.peers", lang),
            paragraph(t("txt.peers", lang)),
            figure_html(chart, alt, data, "peers", lang, t("chart.title_peers", lang), t("chart.source_peers", lang)),
        )
    ]
    for family in dict.fromkeys(figures["estimator"]):
        table = peers.peers_table(figures, goals, family, lang)
        parts.append(table_html(table, caption=family_names[family], name=f"peers-{family}", lang=lang))
    return join(*parts)


def merged_city_section(report: ReportData, indicator: str = "", merged_boundary: str = "") -> str:
    """The merged city: its targets, its share before it existed (or the band and the missing figures)."""
    lang = report.lang
    from analysis.data.registry import load_registry

    registry = load_registry()
    # a merged boundary is one the registry says continues a pre-merger one
    entries = [
        e for e in report.plan if (not indicator or e.indicator == indicator) and registry.predecessor(e.boundary)
    ]
    if merged_boundary:
        entries = [e for e in entries if e.boundary == merged_boundary]
    entries = [e for e in entries if e.primary_estimator]
    if not entries:
        return ""
    entry = entries[0]
    bridge = report.merged_city[
        (report.merged_city["boundary"] == entry.boundary) & (report.merged_city["indicator"] == entry.indicator)
    ]
    from analysis.models.merged_city import components, published_range

    parts_of = components(entry.boundary, load_registry())
    low_any, high_any = published_range(report.indicators, entry.indicator, entry.primary_estimator, parts_of)
    parts = [heading("h.merged", lang), paragraph(t("txt.boundary", lang)), *_status_blocks(report, [entry])]
    parts += [paragraph(text) for text in merged.sentences(bridge, lang, low_any, high_any)]
    parts.append(
        table_html(
            merged.bridge_table(bridge, lang),
            caption=t("s.merged_caption", lang, estimator=labels.estimator(entry.primary_estimator, lang)),
            name="merged-city",
            lang=lang,
            data=bridge,
        )
    )
    unstated = report.indicators[
        (report.indicators["indicator"] == entry.indicator)
        & (report.indicators["boundary"] == entry.boundary)
        & (report.indicators["period"] == "unstated")
    ]
    for row in unstated.itertuples():
        span = "–".join(str(int(v)) for v in (row.span_start, row.span_end) if not labels.missing(v))
        parts.append(
            paragraph(
                t(
                    "s.merged_unstated",
                    lang,
                    estimator=labels.estimator(row.estimator, lang),
                    value=fmt_share(row.value, lang),
                    span=span,
                ),
                "note",
            )
        )
    return join(*parts)


# --- one series (digital economy) ----------------------------------------------------------


def series_verdict(report: ReportData, indicator: str, boundary: str, primary_estimator: str = "") -> str:
    """Page one of a series report: the status of every target on the primary estimator, the others below."""
    lang = report.lang
    entry = report.entry(indicator, boundary)
    if entry is None:
        return ""
    if primary_estimator and primary_estimator != entry.primary_estimator:
        from dataclasses import replace

        entry = replace(entry, primary_estimator=primary_estimator)
    gap = content.estimator_gap(report.indicators, indicator, boundary)
    spread = paragraph(t("s.spread", lang, gap=fmt_number(gap, lang, 1))) if not labels.missing(gap) else ""
    return join(
        heading("h.verdict", lang),
        *_status_blocks(report, [entry]),
        spread,
        paragraph(t("p1.model_note", lang), "note"),
    )


def series_targets_table(report: ReportData, indicator: str, boundary: str) -> str:
    """Every estimator against every target of one series."""
    rows = report.assessed(indicator, boundary)
    rows = rows[rows.data_status != "no_observations"].sort_values(["target_year", "estimator"])
    return join(
        heading("h.targets_table", report.lang),
        _targets_table(rows, report.lang, f"targets-{indicator}-{boundary}", by_estimator=True),
    )


def _targets_table(rows: pd.DataFrame, lang: str, name: str, by_estimator: bool = False) -> str:
    """The targets table, each row marked with the status it shows."""
    marks = [{"status": row["status"], "key": verdict.key_of(row)} for _, row in rows.iterrows()]
    table = content.summary_table(rows, lang, by_estimator=by_estimator)
    group = t("col.target", lang) if by_estimator else None  # each target once, over its estimators' rows
    return table_html(
        table, name=name, lang=lang, row_status=marks, data=downloads.assessment_rows(rows), group_by=group
    )


def series_charts(report: ReportData, indicator: str, boundary: str, primary_estimator: str = "") -> str:
    """One fan chart per estimator with a forecast, each showing every estimator's observations."""
    lang = report.lang
    rows = report.assessed(indicator, boundary)
    parts = [heading("h.charts", lang)]
    for estimator in rows[rows.data_status == "ok"].estimator.unique():
        title = chart_title(indicator, boundary, estimator, lang)
        parts.append(
            fan_chart_html(report, indicator, boundary, estimator, _goals(rows[rows.estimator == estimator]), title)
        )
    return join(*parts)


def observations_section(report: ReportData, indicator: str, boundary: str) -> str:
    """Year x estimator table of the published figures."""
    table = content.observations_table(report.indicators, indicator, boundary, report.lang)
    return join(
        heading("h.observations", report.lang),
        table_html(table, name=f"observations-{indicator}-{boundary}", lang=report.lang),
    )


def rules_section(report: ReportData, indicator: str, boundary: str) -> str:
    """Official-style rules per estimator and target, their base-year sensitivity and the compound-growth pitfall."""
    lang = report.lang
    rows = report.assessed(indicator, boundary)
    forecast = rows[rows.p_meet_in_year.notna()]
    parts = [
        heading("h.rules", lang),
        paragraph(t("txt.rules", lang)),
        table_html(
            content.rules_table(rows, lang),
            name=f"rules-{indicator}-{boundary}",
            lang=lang,
            data=downloads.assessment_rows(
                content.rules_rows(rows), ("unsd_r", "cagr_projection_value", "median_projection_value")
            ),
        ),
        paragraph(t("s.model_range_once", lang), "note"),
    ]
    for _, row in forecast.iterrows():
        parts.append(
            paragraph(
                f"{labels.estimator(row.estimator, lang)}, {int(row.target_year)}: "
                + content.base_sensitivity(row, lang)
            )
        )
    for _, row in forecast.sort_values("cagr_projection_value").tail(1).iterrows():
        parts.append(
            paragraph(
                t(
                    "s.cagr_pitfall",
                    lang,
                    value=fmt_percent(row.cagr_projection_value, lang, 0),
                    year=int(row.target_year),
                    median=fmt_percent(row.median_projection_value, lang, 0),
                )
            )
        )
    return join(*parts)


def base_value_section(report: ReportData, indicator: str, boundary: str, primary_estimator: str = "") -> str:
    """Eurostat verdicts against every figure published for the base year, one table per estimator."""
    lang = report.lang
    rows = report.assessed(indicator, boundary)
    observed = report.observed(indicator, boundary)
    tables = []
    for estimator in rows[rows.data_status == "ok"].estimator.unique():
        goals = _goals(rows[rows.estimator == estimator])
        table = content.base_value_sensitivity(report.indicators, indicator, boundary, observed[estimator], goals, lang)
        if not table.empty:
            tables.append(
                table_html(table, caption=labels.estimator(estimator, lang), name=f"base-{estimator}", lang=lang)
            )
    if not tables:
        return ""
    return join(heading("h.base_value", lang), paragraph(t("txt.base_value", lang)), *tables)


def merged_boundary_section(report: ReportData, indicator: str, merged_boundary: str) -> str:
    """The place after its merger (its targets, its share before it existed), and every target stated for it."""
    if not merged_boundary:
        return ""
    return join(
        merged_city_section(report, indicator, merged_boundary),
        merged_targets_table(report, indicator, merged_boundary),
    )


def merged_targets_table(report: ReportData, indicator: str, boundary: str) -> str:
    """Every target stated for a place: year, value, who stated it (outlet, date) and how many sources."""
    lang = report.lang
    targets = report.targets[(report.targets.indicator == indicator) & (report.targets.boundary == boundary)]
    sources = report.sources.set_index("source_id")
    rows = []
    for _, row in targets.sort_values(["target_year", "value"]).iterrows():
        value = labels.target_value(row["value"], lang)
        if not labels.missing(row.get("value_high")):
            value += f"–{labels.target_value(row['value_high'], lang)}"
        if row.get("qualifier") not in (None, "exact") and isinstance(row.get("qualifier"), str):
            value = f"{t('qualifier.' + row['qualifier'], lang)} {value}"
        source = sources.loc[row["source_id"]] if row["source_id"] in sources.index else None
        rows.append(
            {
                t("col.year", lang): str(int(row["target_year"])) if not labels.missing(row["target_year"]) else "–",
                t("col.target", lang): value,
                t("col.publisher", lang): content.source_label(source, lang) if source is not None else "–",
                t("col.sources", lang): str(int(row["n_citations"])),
            }
        )
    data = targets.sort_values(["target_year", "value"]).merge(
        report.sources[["source_id", "publisher", "published_date"]], on="source_id", how="left"
    )
    columns = ["indicator", "boundary", "target_year", "value", "value_high", "qualifier", "source_id", "publisher"]
    data = data[[c for c in [*columns, "published_date", "n_citations"] if c in data.columns]]
    place, what = labels.place(boundary, lang), labels.indicator(indicator, lang)
    caption = t("table.stated_targets", lang, indicator=what, place=place)
    return table_html(pd.DataFrame(rows), caption=caption, name=f"targets-{boundary}", lang=lang, data=data)


# --- budget ------------------------------------------------------------------------------


def budget_verdict(report: ReportData, indicator: str, boundary: str) -> str:
    """Page one of the budget report: the target's status per year, when half the paths reach it, and its cost."""
    lang = report.lang
    entry = report.entry(indicator, boundary)
    rows = report.assessed(indicator, boundary).sort_values("target_year")
    items = verdict.block_items(report.assessments, rows, lang)
    title = verdict.block_title(entry, lang) if entry else labels.indicator(indicator, lang)
    note = verdict.block_note(rows, entry, lang) if entry else ""
    parts = [heading("h.verdict", lang), status_block(title, items, note)]
    future = rows[rows.p_meet_in_year.notna()]
    if not future.empty:
        first, last = future.iloc[0], future.iloc[-1]
        year = first.median_year_met
        reached = year == year and year != float("inf")
        values = {
            "target": labels.target_value(first.target_value, lang),
            "first_year": int(first.target_year),
            "probability": fmt_probability(first.p_meet_in_year, lang),
            "last_year": int(last.target_year),
            "last_probability": fmt_probability(last.p_meet_in_year, lang),
        }
        key = "s.budget_cross" if reached else "s.budget_cross_never"
        parts.append(paragraph(t(key, lang, **({"year": int(year)} if reached else {}), **values)))
    parts.append(paragraph(requirements.budget_sentence(report.what_it_takes, indicator, lang)))
    return join(*parts)


def budget_pace_table(report: ReportData, indicator: str, boundary: str) -> str:
    """Per target year: status, probability in the year, probability met by then, required pace, range across models."""
    lang = report.lang
    rows = report.assessed(indicator, boundary).sort_values("target_year")
    table = pd.DataFrame(
        {
            t("col.year", lang): rows.target_year.astype(int).astype(str),
            t("col.status", lang): [labels.status(s, lang) for s in rows.status],
            t("col.probability", lang): [fmt_probability(p, lang) for p in rows.p_meet_in_year],
            t("col.p_by", lang): [fmt_probability(p, lang) for p in rows.p_met_by_year],
            t("col.required_pace", lang): [fmt_number(v, lang, 2) for v in rows.required_pace_pp],
            t("col.model_range", lang): [
                content.probability_range(low, high, lang)
                for low, high in zip(rows.p_meet_model_min, rows.p_meet_model_max, strict=True)
            ],
        }
    )
    needs = report.what_it_takes
    amounts = table_html(
        requirements.budget_table(needs, indicator, lang),
        caption=requirements.budget_caption(needs, indicator, lang),
        name=f"amounts-{indicator}",
        lang=lang,
    )
    marks = [{"status": row["status"], "key": verdict.key_of(row)} for _, row in rows.iterrows()]
    return join(
        heading("h.pace", lang),
        table_html(table, name=f"pace-{indicator}", lang=lang, row_status=marks, data=downloads.assessment_rows(rows)),
        paragraph(t("s.model_range_once", lang), "note"),
        amounts,
        paragraph(requirements.denominator_note(needs[needs.indicator == indicator], lang), "note"),
    )


def budget_chart(report: ReportData, indicator: str, boundary: str) -> str:
    """Fan chart of the budget share with its target."""
    lang = report.lang
    rows = report.assessed(indicator, boundary).sort_values("target_year")
    estimator = rows.iloc[0].estimator if not rows.empty else "reported"
    title = chart_title(indicator, boundary, estimator, lang)
    return join(heading("h.charts", lang), fan_chart_html(report, indicator, boundary, estimator, _goals(rows), title))


# --- data appendix ----------------------------------------------------------------------------


def estimators_section(report: ReportData) -> str:
    """Why the estimators differ, how many conflicts and exclusions, and the first series by estimator."""
    lang = report.lang
    first = report.plan[0]
    count = t("s.conflict_count", lang, n=report.conflicts.conflict_id.nunique(), m=len(report.exclusions))
    table = content.observations_table(report.indicators, first.indicator, first.boundary, lang)
    return join(
        heading("h.estimators", lang),
        paragraph(t("txt.estimators", lang)),
        paragraph(count),
        table_html(
            table,
            caption=f"{labels.indicator(first.indicator, lang)} — {labels.place(first.boundary, lang)}",
            name="estimators",
            lang=lang,
        ),
    )


def boundary_section(report: ReportData) -> str:
    """The 1 July 2025 merger."""
    return join(heading("h.boundary", report.lang), paragraph(t("txt.boundary", report.lang)))


def conflicts_section(report: ReportData) -> str:
    """Every conflicting figure of the assessed indicators, whether it was chosen and by which rule."""
    lang = report.lang
    assessed = {entry.indicator for entry in report.plan}
    view = report.conflicts[report.conflicts.indicator.isin(assessed)]
    table = pd.DataFrame(
        {
            t("col.indicator", lang): [labels.indicator(i, lang) for i in view.indicator],
            t("col.place", lang): [labels.place(b, lang) for b in view.boundary],
            t("col.year", lang): [str(int(y)) if not labels.missing(y) else "–" for y in view.year],
            t("col.estimator", lang): [labels.estimator(e, lang) for e in view.estimator],
            t("col.value", lang): [fmt_number(v, lang, 2) for v in view.value],
            t("col.publisher", lang): [
                content.outlet(p, m, lang) for p, m in zip(view.publisher, view.is_mirror, strict=True)
            ],
            t("col.chosen", lang): [t("yes" if c else "no", lang) for c in view.chosen],
            t("col.rule", lang): [t("rule." + rule, lang) for rule in view.rule],
        }
    )
    others = report.conflicts.conflict_id.nunique() - view.conflict_id.nunique()
    note = paragraph(t("s.conflicts_elsewhere", lang, n=others), "note") if others else ""
    return join(heading("h.conflicts", lang), table_html(table, name="conflicts", lang=lang, data=view), note)


def exclusions_section(report: ReportData) -> str:
    """Every excluded raw row and why."""
    lang = report.lang
    excluded = report.exclusions
    table = pd.DataFrame(
        {
            t("col.row", lang): [
                content.raw_row_label(f, r, lang) for f, r in zip(excluded.raw_file, excluded.raw_row, strict=True)
            ],
            t("col.indicator", lang): [labels.indicator(i, lang) for i in excluded.indicator],
            t("col.value", lang): [content.published_figures(v) for v in excluded.value_as_published],
            t("col.reason", lang): [content.exclusion_reason(row, lang) for _, row in excluded.iterrows()],
        }
    )
    # the figure stays the text it was published as; the reason is the report's language's
    reason = "reason_vi" if lang == "vi" and "reason_vi" in excluded.columns else "reason"
    columns = ["raw_file", "raw_row", "indicator", "geography", "period", "value_as_published", "rule"]
    data = excluded[[c for c in columns if c in excluded.columns]].assign(reason=excluded[reason])
    return join(heading("h.exclusions", lang), table_html(table, name="exclusions", lang=lang, data=data))


def sources_section(report: ReportData) -> str:
    """The sources of every figure of the assessed indicators: outlet (mirrors marked), address, date."""
    lang = report.lang
    indicators = report.indicators
    assessed = {entry.indicator for entry in report.plan}
    used = set(";".join(indicators[indicators.indicator.isin(assessed)].citations).split(";"))
    sources = report.sources[report.sources.source_id.isin(used)].sort_values(["is_mirror", "publisher"])
    table = pd.DataFrame(
        {
            t("col.publisher", lang): [
                content.outlet(p, m, lang) for p, m in zip(sources.publisher, sources.is_mirror, strict=True)
            ],
            t("col.address", lang): [u if isinstance(u, str) and u else "–" for u in sources.url],
            t("col.published", lang): [content.date_label(d, lang) for d in sources.published_date],
        }
    )
    return join(
        heading("h.sources", lang),
        paragraph(t("txt.sources", lang), "note"),
        table_html(table, name="sources", lang=lang, data=sources),
    )


# --- method appendix ------------------------------------------------------------------------


def models_section(report: ReportData) -> str:
    """The forecast models, how plans enter, the status rule and the official-style rules, in words; every
    number from the shipped defaults, the assessment plan and the benchmark."""
    from analysis.models.assessment_plan import load_plan_execution

    lang = report.lang
    document = forecasting.defaults_document()["share"]
    hyper = forecasting.load_defaults("share")
    parts = [
        heading("h.models", lang),
        paragraph(
            t(
                "txt.models",
                lang,
                n=document["provenance"]["series"],
                damping=fmt_number(hyper.damping, lang, 2),
                trend=fmt_number(hyper.trend_sd, lang, 2),
                weight=fmt_percent(100 * hyper.naive_weight, lang, 1),
            )
        ),
    ]
    execution = load_plan_execution()
    if execution is not None:
        parts.append(
            paragraph(
                t(
                    "txt.plans",
                    lang,
                    ratio=fmt_percent(100 * execution.median_ratio, lang, 0),
                    spread=fmt_number(execution.log_sd, lang, 2),
                    basis=execution.basis[lang],
                )
            )
        )
    parts += [
        paragraph(models_limits(report, hyper)),
        heading("h.status_rule", lang),
        paragraph(t("txt.status_rule", lang)),
        table_html(content.rule_cases_table(lang), name="judging-rules", lang=lang),
        paragraph(t("txt.self_reported", lang), "note"),
        heading("h.rules", lang),
        paragraph(t("txt.rules", lang)),
    ]
    return join(*parts)


def models_limits(report: ReportData, hyper) -> str:
    """The method's limits, from what the figures show: the pull toward typical share growth and what the
    city's own track record says of it, and the ceiling the no-change component sets."""
    from analysis.models.track_record import check_summary

    lang = report.lang
    checks = report.forecast_checks
    summary = check_summary(checks)
    values = {
        "typical": fmt_percent(100 * (math.exp(hyper.drift_mean) - 1), lang, 1),
        # the no-change part keeps half its mass below today's level
        "ceiling": fmt_percent(100 * (1 - hyper.naive_weight / 2), lang, 0),
    }
    if len(checks) < TRACK_RECORD_MIN_SCORED:
        return t("txt.models_limits_untested", lang, checked=len(checks), **values)
    low = summary[summary["bias"] < 0]
    return t(
        "txt.models_limits",
        lang,
        checked=len(checks),
        series=len(summary),
        low=len(low),
        bias=fmt_number(float(checks["error"].mean()), lang, 2),
        inside80=fmt_percent(100 * float(checks["inside80"].mean()), lang, 0),
        **values,
    )


#: The window the city's series live in: the benchmark sentence and the calibration chart use it.
REGIME_WINDOW = "3"
#: The benchmarks in the order the appendix shows them: the kind the reports forecast first.
BENCHMARK_ORDER = ("share_series", "m3_yearly")


def benchmark_section(report: ReportData) -> str:
    """The back-tests: per file one sentence for the city's regime (three points) and the table for every window."""
    lang = report.lang
    datasets = report.benchmarks
    # each back-test the appendix should show and cannot is named, not only the first
    parts = [heading("h.benchmark", lang)]
    parts += [paragraph(t(f"s.no_benchmark_{name}", lang)) for name in BENCHMARK_ORDER if name not in datasets]
    for name in sorted(datasets, key=lambda n: BENCHMARK_ORDER.index(n) if n in BENCHMARK_ORDER else 99):
        entry = datasets[name]
        windows = entry["windows"]
        key = REGIME_WINDOW if REGIME_WINDOW in windows else next(iter(windows))
        regime, full = windows[key], windows.get("full", windows[key])
        methods = regime["methods"]
        parts.append(
            paragraph(
                t(
                    f"s.benchmark_{entry['kind']}",
                    lang,
                    n=regime["series"],
                    horizon=regime["horizon"],
                    k=key if key != "full" else t("bench.full", lang),
                    smape=fmt_number(methods["default"]["smape"], lang, 2),
                    naive=fmt_number(methods["textbook:naive"]["smape"], lang, 2),
                    drift=fmt_number(methods["textbook:drift"]["smape"], lang, 2),
                    cov80=fmt_percent(100 * methods["default"]["coverage80"], lang, 1),
                    cov95=fmt_percent(100 * methods["default"]["coverage95"], lang, 1),
                    brier=fmt_number(methods["default"]["brier"], lang, 3),
                    base=fmt_number(regime["base_rate_brier"], lang, 3),
                    outside=fmt_percent(100 * methods["shipped"]["out_of_bounds"], lang, 1),
                    full_smape=fmt_number(full["methods"]["default"]["smape"], lang, 2),
                    full_cov80=fmt_percent(100 * full["methods"]["default"]["coverage80"], lang, 1),
                )
            )
        )
        parts.append(
            table_html(
                content.benchmark_table(windows, lang),
                caption=t(f"bench.caption_{entry['kind']}", lang, n=regime["series"]),
                lang=lang,
            )
        )
        parts.append(download_link(content.benchmark_data(windows), f"benchmark-{name}", lang))
    return join(*parts)


def calibration_section(report: ReportData) -> str:
    """Reliability diagram of the share benchmark's target probabilities, in the city's regime."""
    datasets = report.benchmarks
    entry = datasets.get("share_series") or next(iter(datasets.values()), None)
    if not entry:
        return ""
    lang = report.lang
    windows = entry["windows"]
    key = REGIME_WINDOW if REGIME_WINDOW in windows else next(iter(windows))
    bins = pd.DataFrame(windows[key]["methods"]["default"]["calibration"])
    alt = "; ".join(
        f"{fmt_percent(100 * r.mean_probability, lang, 0)} → {fmt_percent(100 * r.observed_frequency, lang, 0)}"
        for r in bins.itertuples()
    )
    note = calibration_note(bins, lang)
    return join(
        heading("h.calibration", lang),
        paragraph(
            t("txt.calibration", lang, k=key if key != "full" else t("bench.full", lang), n=windows[key]["series"])
        ),
        figure_html(
            charts.calibration_chart(bins, lang),
            alt,
            bins,
            "calibration",
            lang,
            t("chart.title_calibration", lang),
            t("chart.source_calibration", lang),
        ),
        paragraph(note) if note else "",
    )


#: A calibration bin says something when it holds at least this many pseudo-targets ...
CALIBRATION_MIN_COUNT = 30
#: ... and its observed frequency strays from its probability by more than this.
CALIBRATION_TOLERANCE = 0.1


def calibration_note(bins: pd.DataFrame, lang: str) -> str:
    """One sentence on the highest well-filled bin when the probabilities there are too low or too high ('' else)."""
    filled = bins[bins["count"] >= CALIBRATION_MIN_COUNT]
    if filled.empty:
        return ""
    top = filled.sort_values("mean_probability").iloc[-1]
    gap = top["observed_frequency"] - top["mean_probability"]
    if abs(gap) <= CALIBRATION_TOLERANCE:
        return ""
    values = {
        "probability": fmt_percent(100 * top["mean_probability"], lang, 0),
        "observed": fmt_percent(100 * top["observed_frequency"], lang, 0),
    }
    return t("txt.calibration_low" if gap > 0 else "txt.calibration_high", lang, **values)


# --- editions and track record ------------------------------------------------------------------


def changes_section(report: ReportData) -> str:
    """What changed since the previous edition, in plain words (most important first)."""
    lang = report.lang
    lines = content.change_lines(report.changes, report.assessments, lang)
    if not lines:
        return ""
    previous = (
        paragraph(t("change.previous", lang, edition=fmt_edition(report.previous_edition, lang)), "note")
        if report.previous_edition
        else ""
    )
    every_change = download_link(report.changes, "changes", lang) if not report.changes.empty else ""
    return join(heading("h.changes", lang), verdict_box(lines), previous, every_change)


#: Below this many scored statements a mean Brier score or a coverage says nothing; the table speaks instead.
TRACK_RECORD_MIN_SCORED = 10


def track_record_section(report: ReportData) -> str:
    """Earlier statements for the planned targets (primary estimators), scored where the outcome is out."""
    from analysis.models.track_record import scores

    lang = report.lang
    record = report.track_record
    primary = {(e.indicator, e.boundary): e.primary_estimator for e in report.plan}
    keep = [
        primary.get((i, b)) in ("", None, e)
        for i, b, e in zip(record.indicator, record.boundary, record.estimator, strict=True)
    ]
    shown = record[keep]
    summary = scores(shown)
    if 0 < summary["scored"] < TRACK_RECORD_MIN_SCORED:
        sentence = t("s.track_record_few", lang, scored=summary["scored"], statements=summary["statements"])
    elif summary["scored"]:
        sentence = t(
            "s.track_record",
            lang,
            scored=summary["scored"],
            statements=summary["statements"],
            brier=fmt_number(summary["mean_brier"], lang, 3),
            inside80=fmt_percent(100 * summary["inside80"], lang, 0),
            inside95=fmt_percent(100 * summary["inside95"], lang, 0),
        )
    else:
        sentence = t("s.track_record_none", lang)
    chart = ""
    if not shown.empty:
        alt = t("chart.track_probability", lang)
        chart = figure_html(
            charts.track_record_chart(shown, lang),
            alt,
            shown,
            "track-record",
            lang,
            t("chart.title_track_record", lang),
            t("chart.source_track_record", lang),
        )
    return join(
        heading("h.track_record", lang),
        paragraph(t("txt.track_record", lang)),
        paragraph(sentence),
        chart,
        table_html(content.track_record_table(shown, lang), name="track-record-table", lang=lang, data=shown),
        forecast_checks_part(report),
    )


def forecast_checks_part(report: ReportData) -> str:
    """How the forecasts made at the end of each earlier year fared against the figures published since, per
    estimator: coverage of the intervals and the bias of the median, with a sentence where it is off."""
    from analysis.models.track_record import check_summary

    lang = report.lang
    checks = report.forecast_checks
    if checks.empty:
        return paragraph(t("s.checks_none", lang))
    summary = check_summary(checks)
    table = table_html(
        content.checks_table(summary, lang), caption=t("s.checks_caption", lang), name="forecast-checks", lang=lang
    )
    if len(checks) < TRACK_RECORD_MIN_SCORED:
        return join(paragraph(t("s.checks_few", lang, checked=len(checks))), table)
    overall = {
        "checked": len(checks),
        "inside80": fmt_percent(100 * float(checks["inside80"].mean()), lang, 0),
        "inside95": fmt_percent(100 * float(checks["inside95"].mean()), lang, 0),
        "bias": fmt_number(float(checks["error"].mean()), lang, 2),
    }
    # a median that missed on the same side three times in four, or 80% intervals that held under 65%, is off
    low_side = float((checks["error"] < 0).mean())
    off = low_side >= 0.75 or low_side <= 0.25 or float(checks["inside80"].mean()) < 0.65
    key = "s.checks_off" if off else "s.checks"
    side = t(
        "s.checks_low" if low_side >= 0.5 else "s.checks_high",
        lang,
        share=fmt_percent(100 * max(low_side, 1 - low_side), lang, 0),
    )
    return join(paragraph(t(key, lang, side=side, **overall)), table)
