"""The merged city in words: what its share was before it existed, or the band and the missing figures."""

from __future__ import annotations

import pandas as pd
from babel.lists import format_list

from analysis.i18n import LOCALES, fmt_percent, fmt_share, t
from analysis.reports import labels


def _names(boundaries: str, lang: str) -> str:
    parts = [labels.place(b, lang) for b in boundaries.split(";") if b]
    return format_list(parts, locale=LOCALES[lang]) if parts else ""


def sentences(bridge: pd.DataFrame, lang: str, low_any: float, high_any: float) -> list[str]:
    """For the latest year: the GRDP weights, the combined share or its band; then the figures that would settle it."""
    if bridge.empty:
        return []
    out = []
    weighted = bridge[bridge["weight"].notna()]
    if not weighted.empty:
        year = int(weighted["year"].max())
        latest = weighted[weighted["year"] == year]
        first = latest.iloc[0]
        estimator = labels.estimator(first["estimator"], lang)
        weights = format_list(
            [f"{labels.place(r.component, lang)} {fmt_percent(100 * r.weight, lang, 1)}" for r in latest.itertuples()],
            locale=LOCALES[lang],
        )
        out.append(t("s.merged_weights", lang, year=year, weights=weights))
        if not labels.missing(first["combined"]):
            out.append(
                t(
                    "s.merged_combined",
                    lang,
                    year=year,
                    estimator=estimator,
                    value=fmt_percent(first["combined"], lang, 1),
                )
            )
        elif not labels.missing(first["combined_low"]):
            out.append(
                t(
                    "s.merged_band",
                    lang,
                    year=year,
                    missing=_names(first["missing_share"], lang),
                    estimator=estimator,
                    low_any=fmt_percent(low_any, lang, 1),
                    high_any=fmt_percent(high_any, lang, 1),
                    low=fmt_percent(first["combined_low"], lang, 1),
                    high=fmt_percent(first["combined_high"], lang, 1),
                )
            )
    missing = bridge[bridge["missing_share"].fillna("") != ""]
    if not missing.empty:
        years = sorted(missing["year"].unique())
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        out.append(
            t(
                "s.merged_needed",
                lang,
                years=span,
                missing=_names(missing.iloc[-1]["missing_share"], lang),
                estimator=labels.estimator(missing.iloc[0]["estimator"], lang),
            )
        )
    return out


def bridge_table(bridge: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Year x former place: share and GRDP weight, with the merged city's band."""
    rows = []
    for year, group in bridge.groupby("year", sort=True):
        record = {t("col.year", lang): str(int(year))}
        for row in group.itertuples():
            share = "–" if labels.missing(row.share) else fmt_share(row.share, lang)
            weight = "" if labels.missing(row.weight) else f" ({fmt_percent(100 * row.weight, lang, 0)})"
            record[labels.place(row.component, lang)] = share + weight
        first = group.iloc[0]
        if not labels.missing(first["combined"]):
            record[t("col.band", lang)] = fmt_percent(first["combined"], lang, 1)
        elif not labels.missing(first["combined_low"]):
            record[t("col.band", lang)] = (
                f"{fmt_percent(first['combined_low'], lang, 1)}–{fmt_percent(first['combined_high'], lang, 1)}"
            )
        else:
            record[t("col.band", lang)] = "–"
        rows.append(record)
    return pd.DataFrame(rows)
