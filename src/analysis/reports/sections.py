"""Named report sections: what a notebook shows, one call per section.

Each function takes the :class:`~analysis.reports.loading.ReportData` of the report (tables,
language, ``as_of``) and returns an HTML fragment; a notebook displays it with
:func:`analysis.reports.html.show`.  Sections pick their indicators, places and targets from
the assessment plan and the tables, never from numbers typed in a notebook.
"""

from __future__ import annotations

import pandas as pd
from babel.lists import format_list

from analysis.i18n import LOCALES, fmt_number, fmt_percent, fmt_probability, t
from analysis.reports import charts, content, labels
from analysis.reports.html import figure_html, heading, join, paragraph, table_html, verdict_box
from analysis.reports.loading import ReportData


def fan_chart_html(
    report: ReportData, indicator: str, boundary: str, estimator: str, goals: list[dict], title: str
) -> str:
    """The fan chart of one series (its forecast for ``estimator``, every estimator's observations) as a figure."""
    figure = charts.fan_chart(
        report.forecast(indicator, boundary, estimator),
        report.observed(indicator, boundary),
        goals,
        report.lang,
        estimator,
        title,
    )
    return figure_html(figure, title)


# --- summary ---------------------------------------------------------------------------


def summary_headlines(report: ReportData) -> pd.DataFrame:
    """One headline row per assessed target, in plan order (see :func:`content.headline_rows`).

    For an annual target only its first and last assessed years are headlines.
    """
    frames = []
    for entry in report.plan:
        rows = report.assessed(entry.indicator, entry.boundary)
        if entry.annual_target_years:
            rows = rows[rows["target_year"].isin([min(entry.annual_target_years), max(entry.annual_target_years)])]
        if rows.empty:
            continue
        frames.append(content.headline_rows(rows, {entry.indicator: entry.primary_estimator}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _tied_targets(report: ReportData) -> str | None:
    """'22%, 25% và 40%': the targets of the first plan entry tied to an estimator (the city's targets)."""
    for entry in report.plan:
        rows = report.assessed(entry.indicator, entry.boundary)
        if entry.primary_estimator and not rows.empty:
            values = [
                labels.target_value(v, report.lang) for v in rows.sort_values("target_year").target_value.unique()
            ]
            return format_list(values, locale=LOCALES[report.lang])
    return None


def summary_verdict(report: ReportData, headlines: pd.DataFrame) -> str:
    """The first page: one verdict line per target, which estimator the target is tied to, how far estimators differ."""
    lang = report.lang
    first = report.plan[0]
    tied = _tied_targets(report)
    gap = content.estimator_gap(report.indicators, first.indicator, first.boundary)
    return join(
        heading("h.verdict", lang),
        verdict_box(content.verdict_lines(headlines, lang)),
        paragraph(t("s.official_tied", lang, targets=tied)) if tied is not None else "",
        paragraph(t("s.spread", lang, gap=fmt_number(gap, lang, 1))),
        paragraph(t("s.merged_note", lang), "note"),
    )


def summary_targets_table(report: ReportData, headlines: pd.DataFrame) -> str:
    """Every target in one table: latest value, paces, probability, range across estimators, verdict."""
    return join(heading("h.targets_table", report.lang), table_html(content.summary_table(headlines, report.lang)))


def summary_charts(report: ReportData, headlines: pd.DataFrame) -> str:
    """One fan chart per assessed series (its headline estimator), with its targets."""
    lang = report.lang
    parts = [heading("h.charts", lang)]
    for (indicator, boundary), group in headlines.groupby(["indicator", "boundary"], sort=False):
        row = group.iloc[0]
        if row["data_status"] != "ok":
            continue
        estimator = row["estimator"]
        place, source = labels.place(boundary, lang), labels.estimator(estimator, lang)
        title = f"{labels.indicator(indicator, lang)} — {place} ({source})"
        parts.append(fan_chart_html(report, indicator, boundary, estimator, _goals(group), title))
    return join(*parts)


# --- one series (digital economy) ----------------------------------------------------------


def _primary(report: ReportData, indicator: str, boundary: str, primary_estimator: str) -> str:
    entry = report.entry(indicator, boundary)
    return primary_estimator or (entry.primary_estimator if entry else "")


def _goals(headlines: pd.DataFrame) -> list[dict]:
    """Targets of headline rows as ``{"year", "value"}`` for the charts."""
    years, values = headlines.target_year, headlines.target_value
    return [{"year": int(y), "value": float(v)} for y, v in zip(years, values, strict=True)]


def series_verdict(report: ReportData, indicator: str, boundary: str, primary_estimator: str = "") -> str:
    """Verdict lines for one series' targets and how far its estimators differ."""
    lang = report.lang
    rows = report.assessed(indicator, boundary)
    headlines = content.headline_rows(rows, {indicator: _primary(report, indicator, boundary, primary_estimator)})
    return join(
        heading("h.verdict", lang),
        verdict_box(content.verdict_lines(headlines, lang)),
        paragraph(
            t("s.spread", lang, gap=fmt_number(content.estimator_gap(report.indicators, indicator, boundary), lang, 1))
        ),
    )


def series_targets_table(report: ReportData, indicator: str, boundary: str) -> str:
    """Every estimator against every target of one series."""
    rows = report.assessed(indicator, boundary)
    table = content.summary_table(rows.assign(p_low=float("nan"), p_high=float("nan"), n_estimators=1), report.lang)
    return join(heading("h.targets_table", report.lang), table_html(table))


def series_charts(report: ReportData, indicator: str, boundary: str, primary_estimator: str = "") -> str:
    """One fan chart per estimator with a forecast, each showing every estimator's observations."""
    lang = report.lang
    rows = report.assessed(indicator, boundary)
    headlines = content.headline_rows(rows, {indicator: _primary(report, indicator, boundary, primary_estimator)})
    parts = [heading("h.charts", lang)]
    for estimator in rows[rows.p_meet_in_year.notna() | rows.median_projection_value.notna()].estimator.unique():
        title = f"{labels.indicator(indicator, lang)} — {labels.estimator(estimator, lang)}"
        parts.append(fan_chart_html(report, indicator, boundary, estimator, _goals(headlines), title))
    return join(*parts)


def observations_section(report: ReportData, indicator: str, boundary: str) -> str:
    """Year x estimator table of the published figures."""
    return join(
        heading("h.observations", report.lang),
        table_html(content.observations_table(report.indicators, indicator, boundary, report.lang)),
    )


def rules_section(report: ReportData, indicator: str, boundary: str) -> str:
    """Official-style rules per estimator and target, their base-year sensitivity and the compound-growth pitfall."""
    lang = report.lang
    rows = report.assessed(indicator, boundary)
    ok = rows[rows.p_meet_in_year.notna() | rows.median_projection_value.notna()]
    parts = [heading("h.rules", lang), paragraph(t("txt.rules", lang)), table_html(content.rules_table(rows, lang))]
    for _, row in ok.iterrows():
        parts.append(
            paragraph(
                f"{t('estimator.' + row.estimator, lang)}, {int(row.target_year)}: "
                + content.base_sensitivity(row, lang)
            )
        )
    for _, row in ok.sort_values("cagr_projection_value").tail(1).iterrows():
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
    headlines = content.headline_rows(rows, {indicator: _primary(report, indicator, boundary, primary_estimator)})
    observed = report.observed(indicator, boundary)
    tables = []
    for estimator in rows[rows.p_meet_in_year.notna() | rows.median_projection_value.notna()].estimator.unique():
        table = content.base_value_sensitivity(
            report.indicators, indicator, boundary, observed[estimator], _goals(headlines), lang
        )
        if not table.empty:
            tables.append(table_html(table, caption=labels.estimator(estimator, lang)))
    if not tables:
        return ""
    return join(heading("h.base_value", lang), paragraph(t("txt.base_value", lang)), *tables)


def merged_boundary_section(report: ReportData, indicator: str, merged_boundary: str) -> str:
    """The merged city: its assessments and every target stated for it."""
    if not merged_boundary:
        return ""
    lang = report.lang
    merged = report.assessed(indicator, merged_boundary)
    targets = report.targets
    alternatives = targets[(targets.indicator == indicator) & (targets.boundary == merged_boundary)][
        ["target_year", "value", "comparator", "legal_basis"]
    ]
    alternatives = alternatives.rename(
        columns={
            "target_year": t("col.year", lang),
            "value": t("col.value", lang),
            "legal_basis": t("col.method", lang),
        }
    )
    return join(
        heading("h.boundary", lang),
        paragraph(t("txt.boundary", lang)),
        *[paragraph(content.sentence(row, lang)) for _, row in merged.iterrows()],
        table_html(alternatives),
    )


# --- budget ------------------------------------------------------------------------------


def budget_verdict(report: ReportData, indicator: str, boundary: str) -> str:
    """The first year's sentence and the year the median path first meets the annual target."""
    lang = report.lang
    rows = report.assessed(indicator, boundary).sort_values("target_year")
    first = rows.iloc[0]
    year = first.median_year_met
    crossing = (
        str(int(year))
        if year == year and year != float("inf")
        else t("never_by_horizon", lang, year=int(rows.target_year.max()))
    )
    return join(
        heading("h.verdict", lang),
        verdict_box([content.sentence(row, lang) for _, row in rows.head(1).iterrows()]),
        paragraph(
            t(
                "s.budget_cross",
                lang,
                target=labels.target_value(first.target_value, lang),
                year=crossing,
                first_year=int(first.target_year),
                probability=fmt_probability(first.p_meet_in_year, lang),
            )
        ),
    )


def budget_pace_table(report: ReportData, indicator: str, boundary: str) -> str:
    """Per target year: probability in the year, probability met by then, required pace, range across models."""
    lang = report.lang
    rows = report.assessed(indicator, boundary).sort_values("target_year")
    table = pd.DataFrame(
        {
            t("col.year", lang): rows.target_year.astype(int).astype(str),
            t("col.probability", lang): [fmt_probability(p, lang) for p in rows.p_meet_in_year],
            t("col.p_by", lang): [fmt_probability(p, lang) for p in rows.p_met_by_year],
            t("col.required_pace", lang): [fmt_number(v, lang, 2) for v in rows.required_pace_pp],
            t("col.model_range", lang): [
                content.probability_range(low, high, lang)
                for low, high in zip(rows.p_meet_model_min, rows.p_meet_model_max, strict=True)
            ],
        }
    )
    return join(heading("h.pace", lang), table_html(table))


def budget_chart(report: ReportData, indicator: str, boundary: str) -> str:
    """Fan chart of the budget share with the first year of its annual target."""
    lang = report.lang
    rows = report.assessed(indicator, boundary).sort_values("target_year")
    goals = (
        [{"year": int(rows.iloc[0].target_year), "value": float(rows.iloc[0].target_value)}] if not rows.empty else []
    )
    title = labels.indicator(indicator, lang)
    estimator = rows.iloc[0].estimator if not rows.empty else "reported"
    return join(heading("h.charts", lang), fan_chart_html(report, indicator, boundary, estimator, goals, title))


# --- data appendix ----------------------------------------------------------------------------


def estimators_section(report: ReportData) -> str:
    """Why the estimators differ, how many conflicts and exclusions, and the first series by estimator."""
    lang = report.lang
    first = report.plan[0]
    count = t("s.conflict_count", lang, n=report.conflicts.conflict_id.nunique(), m=len(report.exclusions))
    return join(
        heading("h.estimators", lang),
        paragraph(t("txt.estimators", lang)),
        paragraph(count),
        table_html(content.observations_table(report.indicators, first.indicator, first.boundary, lang)),
    )


def boundary_section(report: ReportData) -> str:
    """The 1 July 2025 merger."""
    return join(heading("h.boundary", report.lang), paragraph(t("txt.boundary", report.lang)))


def conflicts_section(report: ReportData) -> str:
    """Every conflicting figure, whether it was chosen and by which rule."""
    lang = report.lang
    view = report.conflicts
    table = pd.DataFrame(
        {
            t("col.indicator", lang): view.indicator,
            t("col.year", lang): view.year.astype("Int64").astype(str),
            t("col.estimator", lang): [labels.estimator(e, lang) for e in view.estimator],
            t("col.value", lang): [fmt_number(v, lang, 2) for v in view.value],
            t("col.publisher", lang): view.publisher.fillna("–"),
            t("col.chosen", lang): [t("yes" if c else "no", lang) for c in view.chosen],
            t("col.rule", lang): [t("rule." + rule, lang) for rule in view.rule],
        }
    )
    return join(heading("h.conflicts", lang), table_html(table))


def exclusions_section(report: ReportData) -> str:
    """Every excluded raw row and why."""
    lang = report.lang
    excluded = report.exclusions
    table = pd.DataFrame(
        {
            t("col.row", lang): excluded.raw_file + ":" + excluded.raw_row.astype(str),
            t("col.indicator", lang): excluded.indicator,
            t("col.value", lang): excluded.value_as_published,
            t("col.rule", lang): [t("rule." + rule, lang) for rule in excluded.rule],
            t("col.reason", lang): [content.exclusion_reason(row, lang) for _, row in excluded.iterrows()],
        }
    )
    return join(heading("h.exclusions", lang), table_html(table))


def sources_section(report: ReportData) -> str:
    """The sources of every figure of the assessed indicators."""
    indicators = report.indicators
    assessed = {entry.indicator for entry in report.plan}
    used = set(";".join(indicators[indicators.indicator.isin(assessed)].citations).split(";"))
    sources = report.sources
    table = sources[sources.source_id.isin(used)][["source_id", "publisher", "title", "published_date"]].fillna("–")
    return join(heading("h.sources", report.lang), table_html(table))


# --- method appendix ------------------------------------------------------------------------


def models_section(report: ReportData) -> str:
    """The forecast models and the official-style rules, in words."""
    lang = report.lang
    return join(
        heading("h.models", lang),
        paragraph(t("txt.models", lang)),
        heading("h.rules", lang),
        paragraph(t("txt.rules", lang)),
    )


def benchmark_section(report: ReportData) -> str:
    """The M3 back-test: one sentence per training setting and the full table."""
    lang = report.lang
    bench = report.benchmarks
    if not bench:
        return join(heading("h.benchmark", lang), paragraph(t("s.no_benchmark", lang)))
    sentences = [
        paragraph(
            t(
                "s.benchmark",
                lang,
                n=b["series"],
                smape=fmt_number(b["methods"]["default"]["smape"], lang, 2),
                drift=fmt_number(b["methods"]["drift"]["smape"], lang, 2),
                naive=fmt_number(b["methods"]["naive"]["smape"], lang, 2),
                cov80=fmt_percent(100 * b["methods"]["default"]["coverage80"], lang, 1),
            )
        )
        for b in bench.values()
    ]
    return join(heading("h.benchmark", lang), *sentences, table_html(content.benchmark_table(bench, lang)))


def calibration_section(report: ReportData) -> str:
    """Reliability diagram of the benchmark's target probabilities."""
    bench = report.benchmarks
    if not bench:
        return ""
    lang = report.lang
    first = next(iter(bench.values()))
    return join(
        heading("h.calibration", lang),
        paragraph(t("txt.calibration", lang)),
        figure_html(charts.calibration_chart(pd.DataFrame(first["calibration"]), lang)),
    )


# --- editions and track record ------------------------------------------------------------------


def changes_section(report: ReportData) -> str:
    """What changed since the previous edition, in plain words (most important first)."""
    lang = report.lang
    lines = content.change_lines(report.changes, report.assessments, lang)
    if not lines:
        return ""
    previous = (
        paragraph(t("change.previous", lang, edition=report.previous_edition), "note")
        if report.previous_edition
        else ""
    )
    return join(heading("h.changes", lang), verdict_box(lines), previous)


def track_record_section(report: ReportData) -> str:
    """Earlier statements for the planned targets (primary estimators), scored where the outcome is out."""
    from analysis.models.track_record import scores

    lang = report.lang
    record = report.track_record
    primary = {(e.indicator, e.boundary): e.primary_estimator for e in report.plan}
    shown = record[
        [
            primary.get((i, b)) in ("", None, e)
            for i, b, e in zip(record.indicator, record.boundary, record.estimator, strict=True)
        ]
    ]
    summary = scores(record)
    sentence = (
        t(
            "s.track_record",
            lang,
            scored=summary["scored"],
            statements=summary["statements"],
            brier=fmt_number(summary["mean_brier"], lang, 3),
            inside80=fmt_percent(100 * summary["inside80"], lang, 0),
            inside95=fmt_percent(100 * summary["inside95"], lang, 0),
        )
        if summary["scored"]
        else t("s.track_record_none", lang)
    )
    table = content.track_record_table(shown, lang)
    chart = figure_html(charts.track_record_chart(shown, lang), t("h.track_record", lang)) if not shown.empty else ""
    return join(
        heading("h.track_record", lang),
        paragraph(t("txt.track_record", lang)),
        paragraph(sentence),
        chart,
        table_html(table),
    )
