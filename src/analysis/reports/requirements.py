"""What it would take, in words and small tables (from ``what_it_takes.csv``)."""

from __future__ import annotations

import re

import pandas as pd

from analysis.i18n import fmt_number, fmt_percent, fmt_share, t
from analysis.reports import labels


def _pct(value: float, lang: str) -> str:
    return fmt_percent(value, lang, 1)


def _basis_key(kind: str) -> str:
    """The catalogue key of a budget figure's kind ('budget estimate (plan)' -> 'basis.budget_estimate_plan')."""
    return "basis." + re.sub(r"[^a-z]+", "_", kind).strip("_")


def _basis(row: pd.Series, lang: str) -> str:
    """Where a year's budget spending comes from: 'dự toán năm 2024', 'ước từ dự toán năm 2024 theo GRDP'."""
    text = row.get("amount_basis")
    if not isinstance(text, str) or labels.missing(row.get("amount_base_year")):
        return t("basis.unknown", lang)
    base_year = int(row["amount_base_year"])
    projected = re.fullmatch(r"projected from \d{4} \((.+)\) with nominal GRDP growth", text)
    if projected:
        return t("basis.projected", lang, basis=t(_basis_key(projected.group(1)), lang, year=base_year))
    return t(_basis_key(text), lang, year=base_year)


def share_sentences(needs: pd.DataFrame, lang: str) -> list[str]:
    """One sentence per open share-of-GRDP target: the growth needed against GRDP's, and the growth so far."""
    out = []
    for _, row in needs[needs["denominator"] == "grdp_current_prices"].iterrows():
        if labels.missing(row["required_growth_pct"]):
            continue
        years = row["denominator_basis"].split()[-1] if isinstance(row["denominator_basis"], str) else ""
        text = t(
            "s.takes_share",
            lang,
            target=labels.target_value(row["target_value"], lang),
            year=int(row["target_year"]),
            place=labels.place(row["boundary"], lang),
            latest=fmt_share(row["latest_value"], lang),
            latest_year=int(row["latest_year"]),
            required=_pct(row["required_growth_pct"], lang),
            denominator=_pct(row["denominator_growth_pct"], lang),
            years=years,
            growth_place=labels.place(row["growth_boundary"], lang),
        )
        if not labels.missing(row.get("observed_growth_pct")):
            text += " " + t(
                "s.takes_observed", lang, years=row["observed_years"], observed=_pct(row["observed_growth_pct"], lang)
            )
            if row["observed_growth_pct"] >= row["required_growth_pct"] and row.get("status") in (
                "off_track",
                "uncertain",
            ):
                # the growth so far would do, yet the status is not on track: say why, in the status's own word
                text += " " + t("s.takes_ahead", lang, status=labels.status(row["status"], lang, symbol=False))
        out.append(text)
    return out


def share_table(needs: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Open share-of-GRDP targets: from where, growth needed, GRDP growth, growth so far."""
    rows = []
    for _, row in needs[needs["denominator"] == "grdp_current_prices"].iterrows():
        rows.append(
            {
                t("col.target", lang): f"{labels.target(row, lang)} — {labels.place(row['boundary'], lang)}",
                t("col.from", lang): f"{fmt_share(row['latest_value'], lang)} ({int(row['latest_year'])})",
                t("col.growth_needed", lang): fmt_number(row["required_growth_pct"], lang, 1),
                t("col.growth_grdp", lang): fmt_number(row["denominator_growth_pct"], lang, 1),
                t("col.growth_observed", lang): fmt_number(row["observed_growth_pct"], lang, 1),
            }
        )
    return pd.DataFrame(rows)


def budget_table(needs: pd.DataFrame, indicator: str, lang: str) -> pd.DataFrame:
    """Per year: budget spending, the amount the target represents, the amount at the latest share."""
    rows = []
    for _, row in needs[needs["indicator"] == indicator].sort_values("target_year").iterrows():
        target = labels.target_value(row["target_value"], lang)
        if not labels.missing(row.get("target_high")):
            target += f"–{labels.target_value(row['target_high'], lang)}"
        amount = fmt_number(row["required_amount"], lang, 0)
        if not labels.missing(row.get("target_high")):
            amount += f"–{fmt_number(row['required_amount'] * row['target_high'] / row['target_value'], lang, 0)}"
        rows.append(
            {
                t("col.year", lang): str(int(row["target_year"])),
                t("col.spending", lang): fmt_number(row["denominator_value"], lang, 0),
                t("col.basis", lang): _basis(row, lang),
                f"{t('col.amount_target', lang)}: {target}": amount,
                f"{t('col.amount_now', lang)}: {fmt_share(row['latest_value'], lang)}": fmt_number(
                    row["amount_at_latest_share"], lang, 0
                ),
            }
        )
    return pd.DataFrame(rows)


def budget_caption(needs: pd.DataFrame, indicator: str, lang: str) -> str:
    """'Chi chuyển đổi số / tổng chi ngân sách — ngân sách của TP.HCM (trước sáp nhập)': whose budget it is."""
    rows = needs[(needs["indicator"] == indicator) & needs["amount_boundary"].notna()]
    if rows.empty:
        return labels.indicator(indicator, lang)
    place = labels.place(rows["amount_boundary"].iloc[0], lang)
    return t("s.budget_caption", lang, indicator=labels.indicator(indicator, lang), place=place)


def budget_sentence(needs: pd.DataFrame, indicator: str, lang: str) -> str:
    """The first open year of a budget target in one sentence: the amount at the target and at the latest share."""
    rows = needs[(needs["indicator"] == indicator) & needs["required_amount"].notna()].sort_values("target_year")
    if rows.empty:
        return ""
    row = rows.iloc[0]
    return t(
        "s.takes_budget",
        lang,
        year=int(row["target_year"]),
        target=labels.target_value(row["target_value"], lang),
        amount=fmt_number(row["required_amount"], lang, 0),
        latest=fmt_share(row["latest_value"], lang),
        latest_year=int(row["latest_year"]),
        current=fmt_number(row["amount_at_latest_share"], lang, 0),
    )


def denominator_note(needs: pd.DataFrame, lang: str) -> str:
    """Whose budget the amounts use (the target's own boundary) and how later years are projected."""
    rows = needs[needs["required_amount"].notna()]
    if rows.empty:
        return ""
    from analysis.data.registry import load_registry

    registry = load_registry()
    notes = []
    for boundary, group in rows.groupby("amount_boundary", sort=False):
        row = group.iloc[0]
        text = t(
            "s.takes_denominator",
            lang,
            place=labels.place(boundary, lang),
            growth=_pct(row["denominator_growth_pct"], lang),
        )
        successor = registry.successor(boundary)
        if successor:
            text += " " + t("s.takes_former_budget", lang, place=labels.place(successor, lang))
        notes.append(text)
    return " ".join(notes)
