"""Page one: one block per assessed series, one status line per target, the other estimators one line below.

A line reads: symbol, status word, the target, then what decides it: the published figure (a
passed year), the probability in calibrated words with its number and the pace it needs (a
future year), the nowcast (a passed year without its figure), or why it cannot be judged.
"""

from __future__ import annotations

import pandas as pd

from analysis.i18n import fmt_number, fmt_probability, fmt_share, t
from analysis.models.assessment import likelihood_label
from analysis.models.plan import PlanEntry
from analysis.reports import labels

#: Status symbols and words come from labels; these are the statuses that carry a probability.
FORECAST_STATUSES = ("on_track", "off_track")


def page_one_targets(rows: pd.DataFrame, entry: PlanEntry, reference_year: int) -> pd.DataFrame:
    """The targets of one series shown on page one: those of the last passed year and later.

    For an annual target ("2% a year") only the first and the last of those years are shown.
    """
    recent = rows[rows["target_year"] >= reference_year - 1]
    if recent.empty:
        recent = rows
    if entry.annual_target_years:
        years = sorted(recent["target_year"].unique())
        recent = recent[recent["target_year"].isin([years[0], years[-1]])]
    return recent


def target_line(row: pd.Series, lang: str) -> str:
    """'✔ Đã đạt — 25% năm 2025: khoảng 25,00% năm 2025 (số ước tính).' for one target of the primary estimator."""
    head = f"{labels.status(row['status'], lang)} — " + t(
        "p1.line", lang, target=labels.target_value(row["target_value"], lang), year=int(row["target_year"])
    )
    return f"{head}: {reason(row, lang)}"


def reason(row: pd.Series, lang: str) -> str:
    """What decides a target's status, in one plain sentence."""
    status, data_status = row["status"], row["data_status"]
    latest = (
        {}
        if labels.missing(row.get("latest_value"))
        else {"latest": fmt_share(row["latest_value"], lang), "latest_year": int(row["latest_year"])}
    )
    if status in ("met", "not_met"):
        value = labels.value(row["outcome_value"], "percent", lang, row.get("outcome_qualifier"))
        key = (
            "p1.outcome_successor"
            if isinstance(row.get("outcome_boundary"), str) and row["outcome_boundary"]
            else "p1.outcome"
        )
        return t(key, lang, value=value, year=int(row["target_year"]), kind=t(f"outcome.{row['outcome_kind']}", lang))
    if data_status == "no_observations":
        return t("p1.no_figure", lang)
    if status == "awaiting_figure":
        if labels.missing(row.get("median_projection_value")):
            return t("p1.awaiting_plain", lang, year=int(row["target_year"]), **latest)
        return t(
            "p1.awaiting",
            lang,
            year=int(row["target_year"]),
            **labels.nowcast(row, lang),
        )
    paces = {
        "required": fmt_number(row["required_pace_pp"], lang, 2),
        "observed": fmt_number(row["observed_pace_pp"], lang, 2),
    }
    if data_status == "one_observation":
        return t("p1.one_figure", lang, required=paces["required"], **latest)
    if status in FORECAST_STATUSES and not labels.missing(row.get("p_meet_in_year")):
        likelihood = t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang)
        sentence = t(
            "p1.forecast",
            lang,
            likelihood=labels.capitalised(likelihood),
            probability=fmt_probability(row["p_meet_in_year"], lang),
            **paces,
            **latest,
        )
        return sentence + pace_and_model(row, lang)
    return t("p1.by_pace", lang, **paces, **latest)


def pace_and_model(row: pd.Series, lang: str) -> str:
    """One sentence when the past pace and the forecast point different ways ('' when they agree).

    The status follows the forecast; a reader who sees "rose 0,20 a year, 0,13 needed" beside "off
    track" is owed the reason.
    """
    observed, required = row.get("observed_pace_pp"), row.get("required_pace_pp")
    if labels.missing(observed) or labels.missing(required) or labels.missing(row.get("median_projection_value")):
        return ""
    values = {"year": int(row["target_year"]), "median": fmt_share(round(row["median_projection_value"], 1), lang)}
    if row["status"] == "off_track" and observed >= required:
        return t("p1.pace_ahead_model_behind", lang, **values)
    if row["status"] == "on_track" and observed < required:
        return t("p1.pace_behind_model_ahead", lang, **values)
    return ""


def short_status(row: pd.Series, lang: str) -> str:
    """'<1% (2030)' for a forecast, 'chờ số liệu (2025)' otherwise: one target of another estimator, briefly."""
    year = int(row["target_year"])
    if row["status"] in FORECAST_STATUSES and not labels.missing(row.get("p_meet_in_year")):
        return f"{fmt_probability(row['p_meet_in_year'], lang)} ({year})"
    if row["status"] in FORECAST_STATUSES:
        # a status from two figures' pace: beside the headline's forecast it would read as a rival verdict
        return f"{t('status_short.pace_only', lang, n=int(row['n_obs']))} ({year})"
    return f"{t('status_short.' + row['status'], lang)} ({year})"


def others_line(rows: pd.DataFrame, primary: str, years: list[int], lang: str) -> str:
    """The other estimators' latest figure and status for the page-one target years, in one line ('' when none)."""
    items = []
    others = rows[(rows["estimator"] != primary) & rows["data_status"].isin(["ok", "too_few_points_for_forecast"])]
    for estimator, group in others.groupby("estimator", sort=True):
        group = group[group["target_year"].isin(years)].sort_values("target_year")
        if group.empty:
            continue
        first = group.iloc[0]
        statuses = "; ".join(short_status(row, lang) for _, row in group.iterrows())
        items.append(
            t(
                "p1.other_item",
                lang,
                estimator=labels.estimator(estimator, lang),
                latest=fmt_share(first["latest_value"], lang),
                latest_year=int(first["latest_year"]),
                statuses=statuses,
            )
        )
    return t("p1.others", lang, items="; ".join(items)) if items else ""


def block_title(entry: PlanEntry, lang: str) -> str:
    """'Kinh tế số / GRDP — TP.HCM (trước sáp nhập), theo khung của Bộ KH&CN'."""
    values = {"indicator": labels.indicator(entry.indicator, lang), "place": labels.place(entry.boundary, lang)}
    if entry.primary_estimator:
        return t("p1.block", lang, estimator=labels.estimator(entry.primary_estimator, lang), **values)
    return t("p1.block_reported", lang, **values)


def primary_rows(rows: pd.DataFrame, entry: PlanEntry) -> pd.DataFrame:
    """The rows of the estimator the series is tied to (or the only / most informative one)."""
    if entry.primary_estimator and (rows["estimator"] == entry.primary_estimator).any():
        return rows[rows["estimator"] == entry.primary_estimator]
    informative = rows["data_status"].map({"ok": 0, "too_few_points_for_forecast": 1, "one_observation": 2}).fillna(3)
    best = rows.assign(_rank=informative).sort_values("_rank").iloc[0]["estimator"]
    return rows[rows["estimator"] == best]


def shown_rows(rows: pd.DataFrame, entry: PlanEntry) -> pd.DataFrame:
    """The page-one rows of one series: its primary estimator's targets of the last passed year and later."""
    primary = primary_rows(rows, entry)
    return page_one_targets(primary, entry, int(primary["reference_year"].iloc[0])).sort_values("target_year")


def status_line(assessments: pd.DataFrame, entries: list[PlanEntry], lang: str) -> str:
    """One line a reader scans in a list of reports: each page-one target's status, or counts when many.

    '✔ Đã đạt 25% (2025); ▼ Chậm so với lộ trình 40% (2030)' for one series, each series named by its
    place when there are two; '✔ 2 đã đạt · ▼ 2 chậm · ...' beyond six targets; '' when nothing is assessed.
    """
    shown = []
    for entry in entries:
        rows = assessments[(assessments["indicator"] == entry.indicator) & (assessments["boundary"] == entry.boundary)]
        if not rows.empty:
            shown.append((entry, shown_rows(rows, entry)))
    if not shown:
        return ""
    targets = pd.concat([rows for _, rows in shown], ignore_index=True)
    if len(targets) > 6:
        counts = targets["status"].value_counts()
        order = [s for s in labels.STATUS_SYMBOLS if s in counts.index]
        return " · ".join(f"{labels.STATUS_SYMBOLS[s]} {counts[s]} {t('status_short.' + s, lang)}" for s in order)
    series = []
    for entry, rows in shown:
        items = []
        for _, row in rows.iterrows():
            target = f"{labels.target_value(row['target_value'], lang)} ({int(row['target_year'])})"
            items.append(f"{labels.status(row['status'], lang)} {target}")
        text = "; ".join(items)
        series.append(f"{labels.place(entry.boundary, lang)}: {text}" if len(shown) > 1 else text)
    return " — ".join(series)
