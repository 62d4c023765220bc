"""What counts as an observation: the one filter every model and report section applies to ``indicators``.

An observation is a figure that measures what happened (an actual, an estimate or a preliminary figure;
never a projection or a plan) for a calendar year, of the quantity itself: a point or a range, never a
rank, a bound ("more than 20") or a top-k.  A caller may widen one part (a budget plan's own year, a
figure whose year is not stated) by naming it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.data.schemas import OBSERVED_KINDS

#: Value types that are a figure of the quantity itself (a rank, a bound or a top-k is not).
OBSERVED_VALUE_TYPES = ("point", "range")
#: Periods that are a calendar year.
YEARLY = ("Y",)


def observations(
    indicators: pd.DataFrame,
    indicator: str | None = None,
    boundary: str | None = None,
    *,
    kinds: Iterable[str] = OBSERVED_KINDS,
    periods: Iterable[str] = YEARLY,
    value_types: Iterable[str] = OBSERVED_VALUE_TYPES,
) -> pd.DataFrame:
    """The rows of ``indicators`` that are observations, of one indicator and boundary when given.

    Parameters
    ----------
    indicators : pandas.DataFrame
        The ``indicators`` table (or rows of it).
    indicator, boundary : str, optional
        Keep only this indicator, this boundary.
    kinds, periods, value_types : iterable of str
        What counts (default: :data:`OBSERVED_KINDS`, calendar years, :data:`OBSERVED_VALUE_TYPES`).

    Returns
    -------
    pandas.DataFrame
        The rows kept, in their order.
    """
    keep = (
        indicators["kind"].isin(list(kinds))
        & indicators["period"].isin(list(periods))
        & indicators["value_type"].isin(list(value_types))
    )
    if indicator is not None:
        keep &= indicators["indicator"] == indicator
    if boundary is not None:
        keep &= indicators["boundary"] == boundary
    return indicators[keep]


#: Which published figure speaks for a year: a final figure, then an estimate, then a preliminary one ...
FIGURE_KIND_ORDER = {"actual": 0, "estimate": 1, "preliminary": 2}
#: ... and a point value (or a rank) before a range, a range before a bound ("more than 14"), a bound before a top-k.
FIGURE_TYPE_ORDER = {"point": 0, "rank": 0, "range": 1, "bound": 2, "top_k": 3}


def preferred_figure(rows: pd.DataFrame) -> pd.Series | None:
    """The figure that speaks among ``rows`` (None when there is none): a calendar year's figure before a
    part of a year or a span, then :data:`FIGURE_KIND_ORDER`, then :data:`FIGURE_TYPE_ORDER`."""
    if rows.empty:
        return None
    ranked = rows.assign(
        _calendar=(rows["period"] != "Y").astype(int),
        _kind=rows["kind"].map(FIGURE_KIND_ORDER).fillna(len(FIGURE_KIND_ORDER)),
        _type=rows["value_type"].map(FIGURE_TYPE_ORDER).fillna(len(FIGURE_TYPE_ORDER)),
    )
    return ranked.sort_values(["_calendar", "_kind", "_type"], kind="stable").iloc[0]
