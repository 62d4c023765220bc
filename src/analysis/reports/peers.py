"""Peers: Ho Chi Minh City beside other places, one estimator family at a time.

Figures of different estimator families differ by several points for the same place and year, so
a comparison never mixes them: one table and one chart panel per family.
"""

from __future__ import annotations

import pandas as pd

from analysis.data.observations import observations
from analysis.i18n import fmt_share, t
from analysis.models.assessment_plan import Peer
from analysis.reports import labels


def latest_figures(indicators: pd.DataFrame, peers: tuple[Peer, ...]) -> pd.DataFrame:
    """The latest figure per peer place, boundary and estimator (a figure whose year is unstated kept apart).

    Returns
    -------
    DataFrame
        place, indicator, boundary, estimator, year (empty when unstated), span_start, span_end, value.
    """
    rows = []
    for peer in peers:
        found = observations(indicators, peer.indicator, periods=("Y", "unstated"))
        found = found[found["geography"] == peer.place]
        for (boundary, estimator), group in found.groupby(["boundary", "estimator"], sort=True):
            yearly = group[group["period"] == "Y"]
            # a point estimate outranks a range for the same year
            yearly = yearly.assign(_point=yearly["value_type"] == "point").sort_values(["year", "_point"])
            latest = yearly.iloc[-1] if not yearly.empty else group.iloc[0]
            rows.append(
                {
                    "place": peer.place,
                    "indicator": peer.indicator,
                    "boundary": boundary,
                    "estimator": estimator,
                    "year": latest["year"],
                    "span_start": latest["span_start"],
                    "span_end": latest["span_end"],
                    "value": float(latest["value"]),
                    "period": latest["period"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=["place", "indicator", "boundary", "estimator", "year", "span_start", "span_end", "value", "period"],
    )


def peer_targets(targets: pd.DataFrame, figures: pd.DataFrame) -> dict[str, list[tuple[int, float]]]:
    """Boundary -> its preferred targets (year, value) for the compared indicator, by year."""
    out: dict[str, list[tuple[int, float]]] = {}
    for boundary, indicator in set(zip(figures["boundary"], figures["indicator"], strict=True)):
        rows = targets[
            (targets["indicator"] == indicator)
            & (targets["boundary"] == boundary)
            & targets["preferred"]
            & targets["target_year"].notna()
        ]
        out[boundary] = sorted((int(y), float(v)) for y, v in zip(rows["target_year"], rows["value"], strict=True))
    return out


def figure_year(row: pd.Series, lang: str) -> str:
    """'2024', or 'năm không được nêu (2021–2025)' for a figure whose year the source did not state."""
    if row["period"] == "Y" and not labels.missing(row["year"]):
        return str(int(row["year"]))
    span = "–".join(str(int(v)) for v in (row["span_start"], row["span_end"]) if not labels.missing(v))
    return t("s.year_unstated", lang, span=span)


def peers_table(figures: pd.DataFrame, targets: dict, estimator: str, lang: str) -> pd.DataFrame:
    """One estimator family's latest figures per place, with each place's targets."""
    rows = []
    for _, row in figures[figures["estimator"] == estimator].sort_values("value", ascending=False).iterrows():
        goals = ", ".join(
            f"{labels.target_value(v, lang)} ({y})" for y, v in targets.get(row["boundary"], []) if y >= 2025
        )
        rows.append(
            {
                t("col.place", lang): labels.place(row["boundary"], lang),
                t("col.value", lang): fmt_share(row["value"], lang),
                t("col.year", lang): figure_year(row, lang),
                t("col.targets", lang): goals or "–",
            }
        )
    return pd.DataFrame(rows)
