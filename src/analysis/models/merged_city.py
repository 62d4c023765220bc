"""The merged city before it existed: the former places' shares combined with their GRDP as weights.

Since 1 July 2025 Ho Chi Minh City includes Binh Duong and Ba Ria-Vung Tau.  Its share for an
earlier year is the GRDP-weighted mean of the three former places' shares (same estimator, same
year).  Where a former place's share is missing, the combined share is only known to lie in a
band: the missing share is taken anywhere between the lowest and the highest share the same
estimator published for any province.  :func:`bridge` says, per year, which figures it has, the
band, and exactly which figures would settle it.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.data.observations import observations
from analysis.data.registry import Registry
from analysis.models.what_it_takes import yearly

BRIDGE_COLUMNS = [
    "year",
    "estimator",
    "component",
    "share",
    "grdp",
    "weight",
    "combined",
    "combined_low",
    "combined_high",
    "missing_share",
    "missing_grdp",
]


def components(boundary: str, registry: Registry) -> list[str]:
    """Boundaries of the places a merged boundary is made of (the main place before its merger, then the others)."""
    place = registry.place_of_boundary(boundary)
    if place is None or not place.merger_date or boundary != place.merged_boundary:
        return []
    others = [registry.places[name].pre_boundary for name in place.merged_with if name in registry.places]
    return [place.pre_boundary, *others]


def published_range(
    indicators: pd.DataFrame, indicator: str, estimator: str, exclude: list[str]
) -> tuple[float, float]:
    """Lowest and highest yearly share the estimator published for any province (outside ``exclude``)."""
    rows = observations(indicators, indicator)
    rows = rows[
        (rows["estimator"] == estimator) & rows["level"].isin(["province", "city"]) & ~rows["boundary"].isin(exclude)
    ]
    return (float(rows["value"].min()), float(rows["value"].max())) if not rows.empty else (math.nan, math.nan)


def bridge(indicators: pd.DataFrame, indicator: str, boundary: str, estimator: str, registry: Registry) -> pd.DataFrame:
    """Per year and former place: the share, the GRDP weight, and the combined share (or its band).

    Years are those with a figure for the main former place.  ``combined`` is set only when every
    former place has both figures; otherwise ``combined_low``/``combined_high`` bound it (when every
    GRDP weight is known), and ``missing_share``/``missing_grdp`` name what is missing.

    Returns
    -------
    DataFrame
        Columns :data:`BRIDGE_COLUMNS`; shares in percent, GRDP in billion dong.
    """
    parts = components(boundary, registry)
    if not parts:
        return pd.DataFrame(columns=BRIDGE_COLUMNS)
    low_any, high_any = published_range(indicators, indicator, estimator, exclude=parts)
    main_years = yearly(indicators, indicator, parts[0], estimator).index
    rows = []
    for year in main_years:
        shares = {part: yearly(indicators, indicator, part, estimator).get(year) for part in parts}
        grdp = {part: yearly(indicators, "grdp_current_prices", part).get(year) for part in parts}
        known_weights = all(value is not None for value in grdp.values())
        total = sum(grdp.values()) if known_weights else math.nan
        missing_share = [part for part, share in shares.items() if share is None]
        missing_grdp = [part for part, value in grdp.items() if value is None]
        combined = low = high = math.nan
        if known_weights:
            known = sum(shares[p] * grdp[p] for p in parts if shares[p] is not None)
            missing_weight = sum(grdp[p] for p in missing_share)
            if not missing_share:
                combined = low = high = known / total
            elif not math.isnan(low_any):
                low, high = (known + low_any * missing_weight) / total, (known + high_any * missing_weight) / total
        for part in parts:
            rows.append(
                {
                    "year": int(year),
                    "estimator": estimator,
                    "component": part,
                    "share": shares[part],
                    "grdp": grdp[part],
                    "weight": grdp[part] / total if known_weights else math.nan,
                    "combined": combined,
                    "combined_low": low,
                    "combined_high": high,
                    "missing_share": ";".join(missing_share),
                    "missing_grdp": ";".join(missing_grdp),
                }
            )
    return pd.DataFrame(rows, columns=BRIDGE_COLUMNS)
