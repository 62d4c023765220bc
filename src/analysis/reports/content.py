"""Report content: formatted tables and plain sentences from the computed tables.

Every function here is pure: computed rows in, text or a formatted DataFrame out, in the
report's language.  No number is typed by hand: every figure comes from ``assessments.csv``,
``forecasts.csv`` or the cleaned tables, formatted by Babel.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from analysis.data.observations import observations
from analysis.data.registry import load_registry
from analysis.i18n import fmt_number, fmt_percent, fmt_probability, fmt_share, t
from analysis.models.assessment_plan import load_programme
from analysis.models.judging import (
    FORECAST_STATUSES,
    OFF_TRACK_PROBABILITY,
    ON_TRACK_PROBABILITY,
    OUTCOMES,
    RULE_CASES,
    disagreeing_signals,
)
from analysis.models.progress import eurostat_assessment
from analysis.reports import labels
from analysis.reports.verdict import informative, signal_parts

target_label = labels.target


def _most_informative_first(group: pd.DataFrame) -> pd.DataFrame:
    """Rows that say something: an outcome, a probability, or at least a pace (best first)."""
    rank = group["status"].map(
        lambda s: 0 if s in OUTCOMES else 1 if s in FORECAST_STATUSES else 2 if s == "awaiting_figure" else 3
    )
    order = rank + group["data_status"].map({"ok": 0, "too_few_points_for_forecast": 0.5}).fillna(0.9)
    return group.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")


def headline_rows(assessments: pd.DataFrame, primary: dict[str, str]) -> pd.DataFrame:
    """One row per target: the primary estimator's assessment, plus the range of probabilities across estimators.

    Parameters
    ----------
    primary : dict
        Indicator -> estimator the target is tied to (e.g. the city's 25% target to MIC); without
        one, the most informative row (an outcome, then a forecast) heads the target.
    """
    rows = []
    for _key, group in assessments.groupby(["indicator", "boundary", "target_year"], sort=False):
        ranked = _most_informative_first(group)
        wanted = primary.get(group["indicator"].iloc[0])
        chosen = ranked[ranked["estimator"] == wanted] if wanted else ranked
        base = chosen.iloc[0] if not chosen.empty else ranked.iloc[0]
        row = base.to_dict()
        forecast = group[group["p_meet_in_year"].notna()]
        row["p_low"] = forecast["p_meet_in_year"].min() if not forecast.empty else math.nan
        row["p_high"] = forecast["p_meet_in_year"].max() if not forecast.empty else math.nan
        row["n_estimators"] = len(forecast)
        rows.append(row)
    return pd.DataFrame(rows)


def compared_figure(row: pd.Series, lang: str) -> str:
    """The figure a target is judged on: its year's published figure once the year has an outcome
    ('khoảng 25% (2025)'; the successor's, with its place, for a boundary that ended), the latest figure otherwise."""
    if row.get("status") in OUTCOMES and not labels.missing(row.get("outcome_value")):
        value = labels.value(row["outcome_value"], "percent", lang, row.get("outcome_qualifier"))
        successor = row.get("outcome_boundary")
        place = f", {labels.place(successor, lang)}" if isinstance(successor, str) and successor else ""
        return f"{value} ({int(row['target_year'])}{place})"
    return latest_value_label(row, lang)


def latest_value_label(row: pd.Series, lang: str, with_estimator: bool = False) -> str:
    """'21,5% (2023)': the latest figure and its year (and estimator); '–' when none."""
    if labels.missing(row.get("latest_value")):
        return "–"
    estimator = f", {labels.estimator(row['estimator'], lang)}" if with_estimator else ""
    return f"{fmt_share(row['latest_value'], lang)} ({int(row['latest_year'])}{estimator})"


def probability_range(low: float, high: float, lang: str) -> str:
    """'12%–47%': a range of probabilities; '–' when missing."""
    if labels.missing(low):
        return "–"
    return f"{fmt_probability(low, lang)}–{fmt_probability(high, lang)}"


def disagreement(row: pd.Series, lang: str) -> str:
    """What points away from the status, in one sentence ('–' when everything agrees); the same signals as
    page one (:func:`judging.disagreeing_signals`)."""
    signals = disagreeing_signals(row)
    if not signals:
        return "–"
    return labels.capitalised("; ".join(signal_parts(row, signals, lang))) + "."


def summary_table(headlines: pd.DataFrame, lang: str, by_estimator: bool = False) -> pd.DataFrame:
    """Every target: status, latest value, paces, probability, the Eurostat-style verdict and why they differ.

    With ``by_estimator`` (one row per estimator and target), the estimator has its own column.
    """
    records = []
    for _, row in headlines.iterrows():
        category = row.get("eurostat_category")
        estimator = {t("col.estimator", lang): labels.estimator(row["estimator"], lang)} if by_estimator else {}
        passed = bool(row.get("target_passed"))  # the year is over: its figure decides, not paces or rules
        records.append(
            {
                t("col.target", lang): f"{target_label(row, lang)} — {labels.place(row['boundary'], lang)}",
                **estimator,
                t("col.status", lang): labels.status(row["status"], lang),
                t("col.compared", lang): compared_figure(row, lang),
                t("col.observed_pace", lang): "–" if passed else fmt_number(row.get("observed_pace_pp"), lang, 2),
                t("col.required_pace", lang): "–" if passed else fmt_number(row.get("required_pace_pp"), lang, 2),
                t("col.probability", lang): fmt_probability(row.get("p_meet_in_year"), lang),
                t("col.verdict", lang): t(f"eurostat.{category}", lang)
                if isinstance(category, str) and not passed
                else "–",
                t("col.why", lang): disagreement(row, lang),
            }
        )
    return pd.DataFrame(records)


def outlet(publisher, is_mirror: bool, lang: str) -> str:
    """An outlet's name (without the collector's notes in brackets), marked when it is a scraped copy."""
    name = publisher.split(" (")[0].strip() if isinstance(publisher, str) and publisher else "–"
    return f"{name} [{t('mirror', lang)}]" if bool(is_mirror) else name


def source_label(source: pd.Series, lang: str) -> str:
    """'Người Lao Động, 12 tháng 8, 2025': an outlet and its publication date."""
    date = date_label(source.get("published_date"), lang)
    name = outlet(source.get("publisher"), source.get("is_mirror", False), lang)
    return name if date == "–" else f"{name}, {date}"


def date_label(date, lang: str) -> str:
    """A publication date as printed ('2025', '3/2025' or a full date in the locale); '–' when none."""
    from analysis.i18n import fmt_date

    if not isinstance(date, str) or not date:
        return "–"
    parts = date.split("-")
    if len(parts) == 3:
        return fmt_date(date, lang)
    return f"{int(parts[1])}/{parts[0]}" if len(parts) == 2 else parts[0]


def raw_row_label(file: str, row: int, lang: str) -> str:
    """Where a raw row sits: 'tệp press_indicators.csv, dòng 33'."""
    return t("raw_row", lang, file=file, row=int(row))


def change_lines(changes: pd.DataFrame, assessments: pd.DataFrame, lang: str, limit: int = 8) -> list[dict]:
    """What changed since the previous edition, most important first, in plain words.

    Outcomes and status changes come first, then new targets, new and revised figures, then moved
    probabilities; beyond ``limit`` the rest is counted.  Items ``{"text", "status", "key"}``: a status or
    outcome change carries the status it now has.
    """
    if changes.empty:
        return []
    for single in ("first_edition", "unchanged"):
        if (changes["change"] == single).any():
            return [{"text": t(f"change.{single}", lang), "status": "", "key": ""}]
    order = {
        "outcome": 0,
        "status": 1,
        "programme_status": 2,
        "new_target": 3,
        "new_figure": 4,
        "revised_figure": 5,
        "probability": 6,
    }
    ranked = changes.assign(_order=changes["change"].map(order)).sort_values(
        ["_order", "indicator", "boundary"], kind="stable"
    )
    # A target whose status changed says its probability on the same line, not on a second one.
    same = ["indicator", "boundary", "estimator", "target_year"]
    moved = ranked[ranked["change"] == "probability"].set_index(same)
    status_keys = {tuple(row) for row in ranked.loc[ranked["change"] == "status", same].itertuples(index=False)}
    with_status = pd.Series(
        [tuple(r) in status_keys for r in ranked[same].itertuples(index=False)], index=ranked.index, dtype=bool
    )
    ranked = ranked[~((ranked["change"] == "probability") & with_status)]
    # a status that moved for a series with nothing to say about the year (one figure, no outcome) is in the CSV only
    said = {tuple(row[c] for c in same) for _, row in assessments.iterrows() if informative(row)}
    about_assessment = ranked["change"].isin(["outcome", "status", "probability"])
    keys = [tuple(r) for r in ranked[same].itertuples(index=False)]
    ranked = ranked[~about_assessment | pd.Series([k in said for k in keys], index=ranked.index, dtype=bool)]
    targets = assessments.drop_duplicates(["indicator", "boundary", "target_year"]).set_index(
        ["indicator", "boundary", "target_year"]
    )
    registry = load_registry()
    programme = load_programme()
    names = {target.number: target.name[lang] for target in programme.targets} if programme else {}
    lines = []
    for _, change in ranked.head(limit).iterrows():
        if change["change"] == "programme_status":
            number = int(change["programme_target"])
            text = t(
                "change.programme_status",
                lang,
                number=number,
                name=names.get(number, ""),
                before=labels.status(str(change["before"]), lang, symbol=False),
                after=labels.status(str(change["after"]), lang, symbol=False),
                cause=t(f"cause.{change.get('cause') or 'data'}", lang),
            )
            lines.append({"text": text, "status": "", "key": ""})
            continue
        values = {
            "indicator": labels.indicator(change["indicator"], lang),
            "place": labels.place(change["boundary"], lang),
            "estimator": labels.estimator(change["estimator"], lang) if registry.estimator(change["estimator"]) else "",
            "before": _change_value(change, "before", lang),
            "after": _change_value(change, "after", lang),
            "cause": t(f"cause.{change.get('cause') or 'data'}", lang),
        }
        if not labels.missing(change.get("year")):
            values["year"] = int(change["year"])
        if not labels.missing(change.get("target_year")):
            values["year"] = int(change["target_year"])
            key = (change["indicator"], change["boundary"], int(change["target_year"]))
            values["target"] = (
                target_label(
                    targets.loc[key].to_dict() | dict(zip(("indicator", "boundary", "target_year"), key, strict=True)),
                    lang,
                )
                if key in targets.index
                else ""
            )
        key = tuple(change[c] for c in same)
        text_key = f"change.{change['change']}"
        if change["change"] == "status" and key in moved.index:
            probability = moved.loc[[key]].iloc[0]
            values["p_before"] = fmt_probability(float(probability["before"]), lang)
            values["p_after"] = fmt_probability(float(probability["after"]), lang)
            text_key = "change.status_probability"
        item = {"text": t(text_key, lang, **values), "status": "", "key": ""}
        if change["change"] in ("status", "outcome"):  # the status it now has, as page one shows it
            status = str(change["after"]).split(" ")[0]
            item.update(status=status, key="|".join([*map(str, key[:3]), str(int(key[3]))]))
        lines.append(item)
    if len(ranked) > limit:
        lines.append({"text": t("change.more", lang, n=len(ranked) - limit), "status": "", "key": ""})
    return lines


def _change_value(change: pd.Series, column: str, lang: str) -> str:
    text = change.get(column)
    if labels.missing(text):
        return "–"
    text = str(text)
    if change["change"] == "status":
        return labels.status(text, lang, symbol=False)
    if change["change"] == "probability":
        return fmt_probability(float(text), lang)
    if change["change"] == "outcome":
        return labels.status(text.split(" ")[0], lang, symbol=False)
    try:
        return labels.value(float(text), labels.unit_of(change["indicator"]), lang)
    except ValueError:
        return text


def estimator_gap(indicators: pd.DataFrame, indicator: str, boundary: str) -> float:
    """Largest difference between estimators for the same year (indicator units)."""
    frame = observations(indicators, indicator, boundary)
    spread = frame.groupby("year")["value"].agg(lambda v: v.max() - v.min())
    return float(spread.max()) if len(spread) else math.nan


def observations_table(indicators: pd.DataFrame, indicator: str, boundary: str, lang: str) -> pd.DataFrame:
    """Year x estimator table of observed values (estimates and actuals), formatted."""
    frame = observations(indicators, indicator, boundary)
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(
        label=[
            fmt_share(v, lang)
            + (f" ({fmt_number(lo, lang, 2)}–{fmt_number(hi, lang, 2)})" if not labels.missing(lo) else "")
            for v, lo, hi in zip(frame["value"], frame["value_low"], frame["value_high"], strict=True)
        ]
    )
    frame = frame.assign(est=[labels.capitalised(labels.estimator(e, lang)) for e in frame["estimator"]])
    table = frame.pivot_table(index="year", columns="est", values="label", aggfunc=lambda v: " / ".join(v))
    table.index = [str(int(y)) for y in table.index]
    table.index.name = t("col.year", lang)
    table.columns.name = None
    return table.reset_index().fillna("–")


def rules_rows(assessments: pd.DataFrame) -> pd.DataFrame:
    """The assessments the rules table shows: those with figures enough for a rule to apply."""
    shown = (
        assessments["data_status"].isin(["ok", "too_few_points_for_forecast"])
        & assessments["eurostat_category"].notna()
    )
    return assessments[shown]


def rules_table(assessments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Deterministic rules per estimator and target, beside the bounded model's median."""
    rows = []
    for _, row in rules_rows(assessments).iterrows():
        verdict = row["eurostat_category"]
        rows.append(
            {
                t("col.target", lang): target_label(row, lang),
                t("col.estimator", lang): labels.estimator(row["estimator"], lang),
                t("col.verdict", lang): t(f"eurostat.{verdict}", lang) if isinstance(verdict, str) else "–",
                t("col.unsd_r", lang): fmt_number(row["unsd_r"], lang, 2),
                t("col.cagr_value", lang): fmt_percent(row["cagr_projection_value"], lang, 1),
                t("col.median_value", lang): fmt_percent(row["median_projection_value"], lang, 1),
                t("col.model_range", lang): probability_range(row["p_meet_model_min"], row["p_meet_model_max"], lang),
            }
        )
    return pd.DataFrame(rows)


def base_value_sensitivity(
    indicators: pd.DataFrame, indicator: str, boundary: str, primary: pd.Series, goals: list[dict], lang: str
) -> pd.DataFrame:
    """Eurostat verdicts for a series' latest value against every figure published for its earlier years.

    The rule uses only two end points, so a base figure from another estimator (or either end
    of a published range) can change the verdict; this table shows by how much.  It mixes
    estimators on purpose, to show the pitfall; no forecast is ever fitted this way.
    """
    latest_year = int(primary.index[-1]) if len(primary) else 0
    goals = [goal for goal in goals if goal["year"] > latest_year]  # a target year already observed has its outcome
    if len(primary) < 2 or len(goals) == 0:
        return pd.DataFrame()
    rows = observations(indicators, indicator, boundary)
    rows = rows[rows["year"].isin([int(y) for y in primary.index[:-1]])]
    candidates = []
    for _, row in rows.iterrows():
        label = labels.estimator(row["estimator"], lang)
        year = int(row["year"])
        candidates.append((year, label, float(row["value"])))
        if not labels.missing(row["value_low"]):
            candidates += [
                (year, f"{label} ({t('col.low', lang)})", float(row["value_low"])),
                (year, f"{label} ({t('col.high', lang)})", float(row["value_high"])),
            ]
    records = []
    for base_year, label, value in sorted(set(candidates), key=lambda c: (c[0], c[2], c[1])):
        series = pd.Series({base_year: value, latest_year: float(primary.iloc[-1])})
        record = {t("col.base_year", lang): f"{base_year}: {label}", t("col.value", lang): fmt_share(value, lang)}
        for goal in goals:
            result = eurostat_assessment(series, goal["value"], goal["year"])
            record[f"{labels.target_value(goal['value'], lang)} ({goal['year']})"] = (
                f"{t('eurostat.' + result['category'], lang)} ({fmt_number(result['ratio'], lang, 2)})"
            )
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


def benchmark_table(results: dict[str, dict], lang: str) -> pd.DataFrame:
    """One row per window: the default beside no change and drift (sMAPE, MASE), its coverage, its Brier score
    beside the base rate's, and how often a bound was crossed (out of sample)."""
    rows = []
    for key, result in results.items():
        methods = result["methods"]
        default = methods["default"]
        compared = (default, methods["textbook:naive"], methods["textbook:drift"])

        def trio(metric: str, digits: int, compared=compared) -> str:
            return " / ".join(fmt_number(m[metric], lang, digits) for m in compared)

        rows.append(
            {
                t("col.training", lang): t("bench.full", lang) if key == "full" else key,
                t("col.smape_trio", lang): trio("smape", 2),
                t("col.mase_trio", lang): trio("mase", 2),
                t("col.cov80", lang): fmt_percent(100 * default["coverage80"], lang, 1),
                t("col.cov95", lang): fmt_percent(100 * default["coverage95"], lang, 1),
                t("col.brier_pair", lang): " / ".join(
                    fmt_number(v, lang, 3) for v in (default["brier"], result["base_rate_brier"])
                ),
                t("col.outside", lang): fmt_percent(100 * methods["shipped"]["out_of_bounds"], lang, 1),
            }
        )
    return pd.DataFrame(rows)


def benchmark_data(results: dict[str, dict]) -> pd.DataFrame:
    """Every method at every window, numbers as numbers (the CSV beside the table)."""
    rows = []
    for key, result in results.items():
        for method, figures in result["methods"].items():
            rows.append(
                {
                    "window": key,
                    "method": method,
                    **{
                        name: figures[name]
                        for name in ("smape", "mase", "coverage80", "coverage95", "brier", "stability")
                    },
                    "out_of_bounds": figures.get("out_of_bounds"),
                    "base_rate_brier": result["base_rate_brier"],
                }
            )
    return pd.DataFrame(rows)


def checks_table(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per series: how many earlier forecasts were checked, coverage of their intervals, bias of the median."""
    return pd.DataFrame(
        {
            t("col.series", lang): [
                f"{labels.indicator(r.indicator, lang)} — {labels.place(r.boundary, lang)}"
                for r in summary.itertuples()
            ],
            t("col.estimator", lang): [labels.estimator(e, lang) for e in summary["estimator"]],
            t("col.checked", lang): [str(int(n)) for n in summary["checked"]],
            t("col.inside80", lang): [fmt_percent(100 * v, lang, 0) for v in summary["inside80"]],
            t("col.inside95", lang): [fmt_percent(100 * v, lang, 0) for v in summary["inside95"]],
            t("col.bias", lang): [fmt_number(v, lang, 2) for v in summary["bias"]],
            t("col.mean_abs_error", lang): [fmt_number(v, lang, 2) for v in summary["mean_abs_error"]],
        }
    )


def interval_text(low: float, high: float, lang: str, digits: int = 1) -> str:
    """'20,4–29,8': an interval in the unit's numbers."""
    return f"{fmt_number(low, lang, digits)}–{fmt_number(high, lang, digits)}"


def track_record_table(record: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Earlier statements: target, estimator, year, probability and interval then, outcome, Brier score."""
    rows = []
    for _, row in record.sort_values(["indicator", "boundary", "target_year", "estimator", "as_of"]).iterrows():
        interval = (
            "–"
            if labels.missing(row["lo80"])
            else f"{fmt_percent(row['median'], lang, 1)} ({interval_text(row['lo80'], row['hi80'], lang)})"
        )
        rows.append(
            {
                t("col.target", lang): f"{target_label(row, lang)} — {labels.place(row['boundary'], lang)}",
                t("col.estimator", lang): labels.estimator(row["estimator"], lang),
                t("col.as_of", lang): str(int(row["as_of"])),
                t("col.probability", lang): fmt_probability(row["p_meet_in_year"], lang),
                t("col.forecast_then", lang): interval,
                t("col.outcome", lang): "–"
                if labels.missing(row.get("outcome"))
                else labels.status(row["outcome"], lang, symbol=False) + f" ({fmt_share(row['outcome_value'], lang)})",
                t("col.brier", lang): fmt_number(row["brier"], lang, 3),
                t("col.inside80", lang): "–"
                if labels.missing(row.get("inside80"))
                else t("yes" if row["inside80"] else "no", lang),
            }
        )
    return pd.DataFrame(rows)


def published_figures(text: str) -> str:
    """The figures of a raw value as published, without the words around them ('–' when it has none).

    The raw files quote the source, sometimes in the collector's English ('1,84 (text truncated'); the
    report shows the numbers and lets the reason column say what is wrong with them.
    """
    found = re.match(r"\s*([<>≥≤~]?\s*\d[\d.,/%\s–-]*(?:\(\d[\d.,%]*\))?)", str(text))
    return found.group(1).strip() if found else "–"


#: Rule cases whose text names the probability cut-offs.
PROBABILITY_CASES = ("likely", "as_likely_as_not", "unlikely")


def rule_cases_table(lang: str) -> pd.DataFrame:
    """The judging rules as a table of cases, each with its status (as Eurostat writes its rules)."""
    cut_offs = {
        "on": fmt_percent(100 * ON_TRACK_PROBABILITY, lang, 0),
        "off": fmt_percent(100 * OFF_TRACK_PROBABILITY, lang, 0),
    }
    return pd.DataFrame(
        {
            t("col.case", lang): [
                t(f"judging.case.{case}", lang, **(cut_offs if case in PROBABILITY_CASES else {}))
                for case, _ in RULE_CASES
            ],
            t("col.status", lang): [labels.status(status, lang) for _, status in RULE_CASES],
        }
    )
