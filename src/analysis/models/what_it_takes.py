"""What it would take: the growth and the money a target needs, from the figures in the data.

A share target is a ratio: the digital economy's value over GRDP, digital-transformation
spending over budget spending.  With the denominator's growth g (nominal GRDP growth observed
in the data), reaching share S_T in year T from S_0 in year t_0 needs the numerator to grow

    (1 + g) * (S_T / S_0) ** (1 / (T - t_0)) - 1    a year,

that is ``(S_T / S_0) ** (1 / (T - t_0)) - 1`` faster than the denominator.  For a budget share the
amount the target represents is S_T times the spending of that year at the target's own boundary
(published where it is, projected with nominal GRDP growth beyond); another boundary's budget is never
used, so a target of the city before the merger is costed on that city's budget.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.data.observations import observations
from analysis.data.registry import Registry
from analysis.data.schemas import OBSERVED_KINDS
from analysis.models.assessment_plan import PlanEntry
from analysis.models.schemas import WHAT_IT_TAKES

#: A denominator series must span at least this many years to give a growth rate ...
MIN_SPAN = 2
#: ... and its growth is measured over the last five years (a recent rate, not 2015's).
RECENT_YEARS = 5


def required_growth(
    start_share: float, target_share: float, years: int, denominator_growth: float
) -> tuple[float, float]:
    """Growth a year the numerator needs, and how much faster than the denominator it must grow (fractions).

    Parameters
    ----------
    start_share, target_share : float
        The share now and the target (percent).
    years : int
        Years from now to the target year.
    denominator_growth : float
        Yearly growth of the denominator (fraction, 0.067 = 6.7%); NaN when unknown.

    Returns
    -------
    (float, float)
        Required yearly growth of the numerator (NaN when the denominator's growth is unknown), and
        the required excess over the denominator's growth, both as fractions a year.
    """
    if years <= 0 or start_share <= 0:
        return math.nan, math.nan
    excess = (target_share / start_share) ** (1.0 / years) - 1.0
    return (1.0 + denominator_growth) * (1.0 + excess) - 1.0, excess


def span(series: pd.Series) -> str:
    """'2020-2024': the years a series covers."""
    return f"{series.index.min()}-{series.index.max()}"


def cagr(series: pd.Series) -> float:
    """Compound yearly growth from the first to the last value of a series indexed by year (fraction)."""
    if len(series) < 2 or series.index[-1] - series.index[0] < 1 or series.iloc[0] <= 0:
        return math.nan
    return (series.iloc[-1] / series.iloc[0]) ** (1.0 / (series.index[-1] - series.index[0])) - 1.0


def yearly(
    indicators: pd.DataFrame,
    indicator: str,
    boundary: str,
    estimator: str | None = None,
    kinds: tuple[str, ...] = OBSERVED_KINDS,
) -> pd.Series:
    """Yearly point figures of one indicator at one boundary (one estimator), by year."""
    rows = observations(indicators, indicator, boundary, kinds=kinds, value_types=("point",))
    if estimator is not None:
        rows = rows[rows["estimator"] == estimator]
    rows = rows.sort_values("year").drop_duplicates("year", keep="last")
    return pd.Series(rows["value"].to_numpy(float), index=rows["year"].astype(int).to_numpy())


def denominator_growth(
    indicators: pd.DataFrame, denominator: str, boundary: str, registry: Registry
) -> tuple[float, str, pd.Series]:
    """Nominal growth of the denominator (fraction a year), the boundary it was measured on, and its figures.

    The boundary's own figures when they span :data:`MIN_SPAN` years or more; otherwise those of the
    place before its merger (the merged city's series is too short to give a rate).
    """
    candidates = [boundary]
    place = registry.place_of_boundary(boundary)
    if place and place.merger_date and boundary == place.merged_boundary:
        candidates.append(place.pre_boundary)
    for candidate in candidates:
        series = yearly(indicators, denominator, candidate)
        series = series[series.index >= series.index.max() - RECENT_YEARS] if len(series) else series
        if len(series) >= 2 and series.index[-1] - series.index[0] >= MIN_SPAN:
            return cagr(series), candidate, series
    return math.nan, boundary, yearly(indicators, denominator, boundary)


#: Which published figure of budget spending an amount starts from, best first: the outturn, the expected
#: outturn, the budget estimate (a plan).
AMOUNT_KINDS = {"actual": "published", "estimate": "published estimate", "plan": "budget estimate (plan)"}


def published_amounts(indicators: pd.DataFrame, denominator: str, boundary: str) -> dict[int, tuple[float, str]]:
    """Year -> (amount, basis) of the denominator at one boundary only: the outturn, else the expected outturn,
    else the budget estimate (see :data:`AMOUNT_KINDS`).  Another boundary's budget is never used."""
    figures = indicators[
        (indicators["indicator"] == denominator)
        & (indicators["boundary"] == boundary)
        & (indicators["period"] == "Y")
        & indicators["kind"].isin(list(AMOUNT_KINDS))
    ]
    amounts: dict[int, tuple[float, str]] = {}
    order = list(AMOUNT_KINDS)
    for _, row in figures.sort_values("kind", key=lambda k: k.map(order.index), ascending=False).iterrows():
        amounts[int(row["year"])] = (float(row["value"]), AMOUNT_KINDS[row["kind"]])
    return amounts


def amount_in(year: int, amounts: dict, growth: float) -> tuple[float, str, int | None]:
    """The denominator in ``year``: published, else projected from the latest earlier year with ``growth``.

    Returns
    -------
    (float, str, int or None)
        The amount (NaN when unknown), its basis, and the year of the published figure it comes from.
    """
    if year in amounts:
        return (*amounts[year], year)
    earlier = [y for y in amounts if y < year]
    if not earlier or math.isnan(growth):
        return math.nan, "unknown", None
    base_year = max(earlier)
    projected = amounts[base_year][0] * (1.0 + growth) ** (year - base_year)
    return projected, f"projected from {base_year} ({amounts[base_year][1]}) with nominal GRDP growth", base_year


def requirements(
    indicators: pd.DataFrame,
    targets: pd.DataFrame,
    assessments: pd.DataFrame,
    plan: tuple[PlanEntry, ...],
    registry: Registry,
) -> pd.DataFrame:
    """One row per planned share target still open (no outcome yet; primary estimator): growth needed and amounts.

    Returns
    -------
    DataFrame
        See ``WHAT_IT_TAKES`` in ``models/schemas.py``; growth rates in percent a year, amounts in the
        denominator's unit (billion dong).
    """
    rows = []
    high = dict(zip(targets["target_id"], targets["value_high"], strict=True))
    for entry in plan:
        definition = registry.indicator(entry.indicator)
        if definition is None or not definition.denominator:
            continue
        planned = assessments[
            (assessments["indicator"] == entry.indicator)
            & (assessments["boundary"] == entry.boundary)
            & assessments["outcome"].isna()
        ]
        if entry.primary_estimator:
            planned = planned[planned["estimator"] == entry.primary_estimator]
        growth, basis_boundary, denominator_figures = denominator_growth(
            indicators, "grdp_current_prices", entry.boundary, registry
        )
        for _, target in planned.sort_values("target_year").iterrows():
            latest_year, latest_value = target["latest_year"], target["latest_value"]
            row = {
                "indicator": entry.indicator,
                "geography": entry.geography,
                "boundary": entry.boundary,
                "estimator": target["estimator"],
                "status": target["status"],
                "target_year": int(target["target_year"]),
                "target_value": float(target["target_value"]),
                "target_high": high.get(target["target_id"]),
                "latest_year": latest_year,
                "latest_value": latest_value,
                "denominator": definition.denominator,
                "denominator_growth_pct": 100 * growth,
                "denominator_basis": f"nominal GRDP {basis_boundary} {span(denominator_figures)}"
                if not math.isnan(growth)
                else "no GRDP series in the data",
                "growth_boundary": basis_boundary if not math.isnan(growth) else None,
            }
            if pd.isna(latest_value):
                rows.append(row)
                continue
            years = int(target["target_year"]) - int(latest_year)
            required, excess = required_growth(float(latest_value), float(target["target_value"]), years, growth)
            row.update(required_growth_pct=100 * required, required_excess_growth_pct=100 * excess)
            if definition.denominator == "grdp_current_prices":
                share = yearly(indicators, entry.indicator, entry.boundary, target["estimator"])
                both = share.index.intersection(denominator_figures.index)
                numerator = (
                    share.loc[both] * denominator_figures.loc[both] / 100.0 if len(both) else pd.Series(dtype=float)
                )
                row.update(
                    observed_growth_pct=100 * cagr(numerator),
                    observed_years=f"{both.min()}-{both.max()}" if len(both) >= 2 else None,
                )
            else:
                amounts = published_amounts(indicators, definition.denominator, entry.boundary)
                spending, amount_basis, base_year = amount_in(int(target["target_year"]), amounts, growth)
                row.update(
                    denominator_value=spending,
                    required_amount=spending * float(target["target_value"]) / 100.0,
                    amount_at_latest_share=spending * float(latest_value) / 100.0,
                    amount_unit="VND_billion",
                    amount_basis=amount_basis,
                    amount_boundary=entry.boundary,
                    amount_base_year=base_year,
                )
            rows.append(row)
    return pd.DataFrame(rows, columns=list(WHAT_IT_TAKES.columns))
