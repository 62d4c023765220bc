"""Report content: formatted tables and plain sentences from the computed tables.

Every function here is pure: computed rows in, text or a formatted DataFrame out, in the
report's language.  No number is typed by hand: every figure comes from ``assessments.csv``,
``forecasts.csv`` or the cleaned tables, formatted by Babel.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from analysis.i18n import fmt_number, fmt_percent, fmt_probability, t
from analysis.models.assessment import likelihood_label
from analysis.models.progress import eurostat_assessment


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def target_label(row: pd.Series, lang: str) -> str:
    """'Digital economy / GRDP ≥ 25% in 2025', in the report's language."""
    return t(
        "target.share",
        lang,
        indicator=t(f"indicator.{row['indicator']}", lang),
        value=fmt_percent(row["target_value"], lang, 0),
        year=int(row["target_year"]),
    )


def sentence(row: pd.Series, lang: str, today: dt.date | None = None) -> str:
    """One plain sentence for one assessment row, every number from the row."""
    estimator = t(f"estimator.{row['estimator']}", lang)
    if row["status"] == "no_observations":
        return t("s.no_data", lang)
    if row["status"] != "ok":
        return t("s.too_few", lang, estimator=estimator, n=int(row["n_obs"]))
    text = t(
        "s.ok",
        lang,
        estimator=estimator,
        indicator=t(f"indicator.{row['indicator']}", lang),
        latest=fmt_percent(row["latest_value"], lang, 2),
        latest_year=int(row["latest_year"]),
        required=fmt_number(row["required_pace_pp"], lang, 2),
        observed=fmt_number(row["observed_pace_pp"], lang, 2),
        target=fmt_percent(row["target_value"], lang, 0),
        year=int(row["target_year"]),
        probability=fmt_probability(row["p_meet_in_year"], lang),
        likelihood=t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang),
    )
    if int(row["target_year"]) < (today or dt.date.today()).year:
        text += " " + t("s.unmeasured", lang, year=int(row["target_year"]), latest_year=int(row["latest_year"]))
    return text


def headline_rows(assessments: pd.DataFrame, primary: dict[str, str]) -> pd.DataFrame:
    """One row per target: the primary estimator's assessment, plus the range across estimators.

    Parameters
    ----------
    primary : dict
        Indicator -> estimator the target is tied to (e.g. the city's 25% target to MIC).
    """
    rows = []
    for (indicator, _boundary, _target_year), group in assessments.groupby(
        ["indicator", "boundary", "target_year"], sort=False
    ):
        ok = group[group["status"] == "ok"]
        wanted = primary.get(indicator)
        chosen = ok[ok["estimator"] == wanted] if wanted else ok
        base = chosen.iloc[0] if not chosen.empty else (ok.iloc[0] if not ok.empty else group.iloc[0])
        row = base.to_dict()
        row["p_low"] = ok["p_meet_in_year"].min() if not ok.empty else math.nan
        row["p_high"] = ok["p_meet_in_year"].max() if not ok.empty else math.nan
        row["n_estimators"] = len(ok)
        rows.append(row)
    return pd.DataFrame(rows)


def latest_value_label(row: pd.Series, lang: str) -> str:
    """'21,50% (2023, Khung của Bộ TT&TT (MIC))': the latest figure, its year and estimator; '–' when none."""
    if _missing(row.get("latest_value")):
        return "–"
    estimator = t("estimator." + row["estimator"], lang)
    return f"{fmt_percent(row['latest_value'], lang, 2)} ({int(row['latest_year'])}, {estimator})"


def probability_range(low: float, high: float, lang: str) -> str:
    """'12%–47%': a range of probabilities; '–' when missing."""
    if _missing(low):
        return "–"
    return f"{fmt_probability(low, lang)}–{fmt_probability(high, lang)}"


def summary_table(headlines: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The executive-summary table, formatted in the report's language."""
    records = []
    for _, row in headlines.iterrows():
        verdict = row.get("eurostat_category")
        records.append(
            {
                t("col.target", lang): f"{target_label(row, lang)} — {t('boundary.' + row['boundary'], lang)}",
                t("col.latest", lang): latest_value_label(row, lang),
                t("col.observed_pace", lang): fmt_number(row.get("observed_pace_pp"), lang, 2),
                t("col.required_pace", lang): fmt_number(row.get("required_pace_pp"), lang, 2),
                t("col.probability", lang): fmt_probability(row.get("p_meet_in_year"), lang),
                t("col.range", lang): "–"
                if row.get("n_estimators", 0) < 2
                else probability_range(row["p_low"], row["p_high"], lang),
                t("col.verdict", lang): t(f"eurostat.{verdict}", lang)
                if isinstance(verdict, str)
                else t("eurostat.none", lang),
                t("col.sentence", lang): sentence(pd.Series(row), lang),
            }
        )
    return pd.DataFrame(records)


def verdict_lines(headlines: pd.DataFrame, lang: str) -> list[str]:
    """The first-page verdict: one line per target with the probability and its range."""
    lines = []
    for _, row in headlines.iterrows():
        if row["status"] != "ok":
            place = t("boundary." + row["boundary"], lang)
            lines.append(f"{target_label(row, lang)} — {place}: {sentence(pd.Series(row), lang)}")
            continue
        values = dict(
            target=f"{target_label(row, lang)} ({t('boundary.' + row['boundary'], lang)})",
            probability=fmt_probability(row["p_meet_in_year"], lang),
            estimator=t(f"estimator.{row['estimator']}", lang),
            likelihood=t(f"likelihood.{likelihood_label(row['p_meet_in_year'])}", lang),
            low=fmt_probability(row["p_low"], lang),
            high=fmt_probability(row["p_high"], lang),
        )
        key = "s.verdict_head" if row["n_estimators"] >= 2 else "s.verdict_single"
        lines.append(t(key, lang, **values))
    return lines


def estimator_gap(indicators: pd.DataFrame, indicator: str, boundary: str) -> float:
    """Largest difference between estimators for the same year (indicator units)."""
    frame = indicators[
        (indicators["indicator"] == indicator)
        & (indicators["boundary"] == boundary)
        & indicators["kind"].isin(["actual", "estimate"])
        & (indicators["period"] == "Y")
    ]
    spread = frame.groupby("year")["value"].agg(lambda v: v.max() - v.min())
    return float(spread.max()) if len(spread) else math.nan


def observations_table(indicators: pd.DataFrame, indicator: str, boundary: str, lang: str) -> pd.DataFrame:
    """Year x estimator table of observed values (estimates and actuals), formatted."""
    frame = indicators[
        (indicators["indicator"] == indicator)
        & (indicators["boundary"] == boundary)
        & indicators["kind"].isin(["actual", "estimate"])
        & (indicators["period"] == "Y")
    ]
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(
        label=[
            fmt_percent(v, lang, 2)
            + (f" ({fmt_number(lo, lang, 2)}–{fmt_number(hi, lang, 2)})" if not _missing(lo) else "")
            for v, lo, hi in zip(frame["value"], frame["value_low"], frame["value_high"], strict=True)
        ]
    )
    frame = frame.assign(est=[t(f"estimator.{e}", lang) for e in frame["estimator"]])
    table = frame.pivot_table(index="year", columns="est", values="label", aggfunc=lambda v: " / ".join(v))
    table.index = [str(int(y)) for y in table.index]
    table.index.name = t("col.year", lang)
    table.columns.name = None
    return table.reset_index().fillna("–")


def rules_table(assessments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Deterministic rules per estimator and target, beside the bounded model's median."""
    rows = []
    for _, row in assessments[assessments["status"].isin(["ok", "too_few_points_for_forecast"])].iterrows():
        verdict = row["eurostat_category"]
        rows.append(
            {
                t("col.target", lang): target_label(row, lang),
                t("col.estimator", lang): t(f"estimator.{row['estimator']}", lang),
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
    if len(primary) < 2 or len(goals) == 0:
        return pd.DataFrame()
    latest_year = int(primary.index[-1])
    rows = indicators[
        (indicators["indicator"] == indicator)
        & (indicators["boundary"] == boundary)
        & indicators["year"].isin([int(y) for y in primary.index[:-1]])
        & indicators["kind"].isin(["actual", "estimate"])
        & (indicators["period"] == "Y")
    ]
    candidates = []
    for _, row in rows.iterrows():
        label = t(f"estimator.{row['estimator']}", lang)
        year = int(row["year"])
        candidates.append((year, label, float(row["value"])))
        if not _missing(row["value_low"]):
            candidates += [
                (year, f"{label} ({t('col.low', lang)})", float(row["value_low"])),
                (year, f"{label} ({t('col.high', lang)})", float(row["value_high"])),
            ]
    records = []
    for base_year, label, value in sorted(set(candidates), key=lambda c: (c[0], c[2], c[1])):
        series = pd.Series({base_year: value, latest_year: float(primary.iloc[-1])})
        record = {t("col.base_year", lang): f"{base_year}: {label}", t("col.value", lang): fmt_percent(value, lang, 2)}
        for goal in goals:
            result = eurostat_assessment(series, goal["value"], goal["year"])
            record[f"{fmt_percent(goal['value'], lang, 0)} ({goal['year']})"] = (
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
    """Benchmark figures per training setting and method, formatted."""
    rows = []
    for result in results.values():
        setting = f"{result['window']}" if result["window"] else "∞"
        for method, s in result["methods"].items():
            rows.append(
                {
                    t("col.training", lang): setting,
                    t("col.method", lang): method,
                    t("col.smape", lang): fmt_number(s["smape"], lang, 2),
                    t("col.mase", lang): fmt_number(s["mase"], lang, 2),
                    t("col.cov80", lang): fmt_percent(100 * s["coverage80"], lang, 1),
                    t("col.cov95", lang): fmt_percent(100 * s["coverage95"], lang, 1),
                    t("col.brier", lang): fmt_number(s["brier"], lang, 3),
                }
            )
        rows.append(
            {
                t("col.training", lang): setting,
                t("col.method", lang): "Eurostat yes/no",
                t("col.brier", lang): fmt_number(result["eurostat_yes_no_brier"], lang, 3),
            }
        )
        rows.append(
            {
                t("col.training", lang): setting,
                t("col.method", lang): "base rate",
                t("col.brier", lang): fmt_number(result["base_rate_brier"], lang, 3),
            }
        )
    return pd.DataFrame(rows).fillna("")
