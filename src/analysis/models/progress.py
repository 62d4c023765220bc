"""Official-style progress rules: Eurostat, UNSD, UN ESCAP, and pace in percentage points.

All functions are pure and deterministic.  Series are ``pandas.Series`` indexed by integer
year with values in the indicator's unit (percent for shares).  Formulas follow
``../shared/reference/progress-methods.md`` (sections 1-3); the worked examples in
``tests/test_progress.py`` reproduce section 6 of that note.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

UNSD_CATEGORIES = ("target_met_or_on_track", "fair_progress_acceleration_needed", "stagnation_or_regression")


def cagr(start_value: float, end_value: float, start_year: int, end_year: int) -> float:
    """Compound annual growth rate between two observations, as a fraction per year (0.05 = 5%/yr)."""
    if end_year <= start_year:
        raise ValueError("end_year must be after start_year")
    if start_value <= 0 or end_value <= 0:
        raise ValueError("compound growth needs positive values")
    return (end_value / start_value) ** (1.0 / (end_year - start_year)) - 1.0


def pace_pp(start_value: float, end_value: float, start_year: int, end_year: int) -> float:
    """Average change in percentage points (indicator units) per year."""
    if end_year <= start_year:
        raise ValueError("end_year must be after start_year")
    return (end_value - start_value) / (end_year - start_year)


def required_pace_pp(current_value: float, target_value: float, current_year: int, target_year: int) -> float:
    """Percentage points per year needed from ``current_year`` to reach the target in ``target_year``.

    Returns ``nan`` when the target year is not after the current year.
    """
    if target_year <= current_year:
        return math.nan
    return (target_value - current_value) / (target_year - current_year)


def years_to_target(current_value: float, target_value: float, observed_pace: float) -> float:
    """Years until the target at the observed pace (0 if already met; inf if the pace does not lead there)."""
    gap = target_value - current_value
    if gap <= 0:
        return 0.0
    if observed_pace <= 0:
        return math.inf
    return gap / observed_pace


def eurostat_category(ratio: float) -> str:
    """Eurostat's bins for indicators with a quantified target (ratio of actual to required growth)."""
    if ratio >= 0.95:
        return "significant_progress"
    if ratio >= 0.60:
        return "moderate_progress"
    if ratio >= 0:
        return "insufficient_progress"
    return "moving_away"


def eurostat_assessment(series: pd.Series, target_value: float, target_year: int, base_year: int | None = None) -> dict:
    """Eurostat rule: actual CAGR since the base year against the CAGR required to hit the target.

    Parameters
    ----------
    series : pandas.Series
        Observations indexed by year (at least two).
    target_value, target_year : float, int
        The quantified target (higher is better).
    base_year : int, optional
        Start of the assessed period; default the first year of the series.

    Returns
    -------
    dict
        base_year, latest_year, cagr_actual, cagr_required (fractions per year), ratio, category
        (significant_progress, moderate_progress, insufficient_progress, moving_away, target_achieved).

    References
    ----------
    Eurostat, *Sustainable development in the European Union: monitoring report*, methodological
    annex (as reproduced by Statistics Canada / Open SDG, ``progress-methodology.md``);
    ``../shared/reference/progress-methods.md`` section 1.
    """
    clean = series.dropna().sort_index()
    base = int(base_year if base_year is not None else clean.index[0])
    latest = int(clean.index[-1])
    base_value, latest_value = float(clean.loc[base]), float(clean.loc[latest])
    result = {
        "base_year": base,
        "latest_year": latest,
        "cagr_actual": math.nan,
        "cagr_required": math.nan,
        "ratio": math.nan,
        "category": None,
    }
    if latest_value >= target_value:
        result["category"] = "target_achieved"
        return result
    if latest <= base:
        return result
    actual = cagr(base_value, latest_value, base, latest)
    required = cagr(base_value, target_value, base, target_year)
    result.update(cagr_actual=actual, cagr_required=required, ratio=actual / required if required > 0 else math.nan)
    result["category"] = eurostat_category(result["ratio"]) if required > 0 else "target_achieved"
    return result


def unsd_assessment(series: pd.Series, target_value: float, target_year: int, base_year: int | None = None) -> dict:
    """UNSD progress-chart ratio r = (expected - base) / (target - base), expected at the current CAGR.

    Returns
    -------
    dict
        cagr, expected_value (in the target year, indicator units), r, category
        (r >= 0.95 on track; 0.10 <= r < 0.95 fair progress; r < 0.10 stagnation or regression).

    References
    ----------
    UN Statistics Division, *Technical Note for Progress Assessment* (SDG Progress Chart, 2023/2024),
    as implemented by EUSTAT; ``../shared/reference/progress-methods.md`` section 3.1.
    """
    clean = series.dropna().sort_index()
    base = int(base_year if base_year is not None else clean.index[0])
    latest = int(clean.index[-1])
    base_value, latest_value = float(clean.loc[base]), float(clean.loc[latest])
    if latest <= base or target_value == base_value:
        return {"cagr": math.nan, "expected_value": math.nan, "r": math.nan, "category": None}
    growth = cagr(base_value, latest_value, base, latest)
    expected = latest_value * (1 + growth) ** (target_year - latest)
    r = (expected - base_value) / (target_value - base_value)
    category = (
        UNSD_CATEGORIES[0]
        if r >= 0.95 or latest_value >= target_value
        else UNSD_CATEGORIES[1]
        if r >= 0.10
        else UNSD_CATEGORIES[2]
    )
    return {"cagr": growth, "expected_value": expected, "r": r, "category": category}


def escap_anticipated(series: pd.Series, target_value: float, target_year: int, base_year: int | None = None) -> dict:
    """UN ESCAP anticipated progress: weighted log-linear trend (later years weigh more), AP ratio.

    Weights grow linearly with time (1, 2, ..., n), the simplest of ESCAP's time weights.

    Returns
    -------
    dict
        cagr_weighted, expected_value, ap = (expected - base)/(target - base), gap = 1 - ap,
        category maintain / accelerate / reverse.

    References
    ----------
    UN ESCAP, *Asia and the Pacific SDG Progress Report*, progress assessment methodology; Bidarbakht
    Nia (2017), *A weighted extrapolation method for measuring the SDGs progress*, ESCAP SD WP 04;
    ``../shared/reference/progress-methods.md`` section 2.
    """
    clean = series.dropna().sort_index()
    if len(clean) < 2 or (clean <= 0).any():
        return {
            "cagr_weighted": math.nan,
            "expected_value": math.nan,
            "ap": math.nan,
            "gap": math.nan,
            "category": None,
        }
    base = int(base_year if base_year is not None else clean.index[0])
    years = clean.index.to_numpy(dtype=float)
    weights = np.arange(1, len(clean) + 1, dtype=float)
    slope, _intercept = np.polyfit(years, np.log(clean.to_numpy(dtype=float)), 1, w=np.sqrt(weights))
    growth = math.exp(slope) - 1
    latest_year, latest_value = int(clean.index[-1]), float(clean.iloc[-1])
    expected = latest_value * (1 + growth) ** (target_year - latest_year)
    base_value = float(clean.loc[base])
    ap = (expected - base_value) / (target_value - base_value) if target_value != base_value else math.nan
    category = "maintain" if ap >= 1 else "accelerate" if ap > 0 else "reverse"
    return {"cagr_weighted": growth, "expected_value": expected, "ap": ap, "gap": 1 - ap, "category": category}
