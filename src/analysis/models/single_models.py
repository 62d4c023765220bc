"""The single models behind the reports' model range: textbook models as statsmodels fits them.

Each model is fitted on the series' bounded scale (logit for shares, log for levels) and gives, per
step ahead, a predictive location, scale and degrees of freedom (infinite for a normal):

``naive``
    A random walk, ``ARIMA(0,1,0)`` (statsmodels ``tsa.arima.model.ARIMA``), noise by maximum likelihood.
``drift``
    A random walk with drift, ``ARIMA(0,1,0)`` with a trend term (``trend="t"``).
``trend``
    A straight line on the year by ordinary least squares (statsmodels ``OLS``), with the Student-t
    prediction interval of a new observation.

A year missing between figures is a missing value to statsmodels (a two-year step).  The ARIMA
forecasts take the fitted parameters as known, as statsmodels does; the reports show the range of the
three probabilities beside the pooled one, which carries the parameters' uncertainty.

:func:`closed_forms` computes the same predictives for many series at once (the benchmark scores
them); a test checks them against statsmodels.
"""

from __future__ import annotations

import warnings

import numpy as np

# scipy.special, not scipy.stats: the same functions (stats.norm and stats.t call them), without the
# second of import that scipy.stats costs every kernel and command
from scipy import special

#: The single models, in the order of the reports.
SINGLE_MODELS = ("naive", "drift", "trend")


def statsmodels_forecast(years, z, horizon: int) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Each single model's predictive for steps 1..horizon after the last year: (location, scale, dof).

    Parameters
    ----------
    years : array-like of int
        The years of the figures (gaps allowed), ascending.
    z : array-like
        The figures on the model's scale.
    """
    import statsmodels.api as sm
    from statsmodels.tsa.arima.model import ARIMA

    years = np.asarray(years, int)
    z = np.asarray(z, float)
    full = np.full(years[-1] - years[0] + 1, np.nan)
    full[years - years[0]] = z
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns about tiny samples and date-free indexes
        for name, trend in (("naive", "n"), ("drift", "t")):
            result = ARIMA(full, order=(0, 1, 0), trend=trend).fit()
            prediction = result.get_forecast(horizon)
            out[name] = (np.asarray(prediction.predicted_mean), np.sqrt(np.asarray(prediction.var_pred_mean)), np.inf)
        if len(z) >= 3:
            design = sm.add_constant(years.astype(float))
            fitted = sm.OLS(z, design).fit()
            future = sm.add_constant(years[-1] + np.arange(1, horizon + 1, dtype=float), has_constant="add")
            frame = fitted.get_prediction(future).summary_frame(alpha=0.2)
            level = special.stdtrit(fitted.df_resid, 0.9)
            scale = (frame["obs_ci_upper"].to_numpy() - frame["mean"].to_numpy()) / level
            out["trend"] = (frame["mean"].to_numpy(), scale, float(fitted.df_resid))
    return out


def closed_forms(z_list, horizon: int, years_list=None) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The same predictives as :func:`statsmodels_forecast`, in closed form for many series at once.

    Returns
    -------
    dict of str to (location (S, H), scale (S, H), dof (S,))
        ``naive`` and ``drift``: maximum-likelihood noise, normal predictive; ``trend``: OLS with the
        t prediction interval (dof n - 2; NaN rows for series of fewer than three figures).
    """
    steps = np.arange(1, horizon + 1, dtype=float)
    count = len(z_list)
    out = {
        name: (np.full((count, horizon), np.nan), np.full((count, horizon), np.nan), np.full(count, np.inf))
        for name in SINGLE_MODELS
    }
    for row, z in enumerate(z_list):
        z = np.asarray(z, float)
        years = np.asarray(years_list[row] if years_list is not None else np.arange(len(z)), float)
        differences, gaps = np.diff(z), np.diff(years)
        n = len(differences)
        naive_var = np.sum(differences**2 / gaps) / n
        out["naive"][0][row], out["naive"][1][row] = z[-1], np.sqrt(naive_var * steps)
        drift = differences.sum() / gaps.sum()
        drift_var = np.sum((differences - drift * gaps) ** 2 / gaps) / n
        out["drift"][0][row], out["drift"][1][row] = z[-1] + drift * steps, np.sqrt(drift_var * steps)
        if len(z) >= 3:
            design = np.column_stack([np.ones(len(z)), years])
            inverse = np.linalg.inv(design.T @ design)
            coefficients = inverse @ design.T @ z
            residual = z - design @ coefficients
            variance = float(residual @ residual) / (len(z) - 2)
            future = np.column_stack([np.ones(horizon), years[-1] + steps])
            out["trend"][0][row] = future @ coefficients
            out["trend"][1][row] = np.sqrt(variance * (1 + np.einsum("hi,ij,hj->h", future, inverse, future)))
            out["trend"][2][row] = len(z) - 2
    return out


def _factor(dof, shape, function, argument) -> np.ndarray:
    dof = np.broadcast_to(np.asarray(dof, float), shape)
    normal = {"cdf": special.ndtr, "ppf": special.ndtri}[function]
    student = {"cdf": special.stdtr, "ppf": special.stdtrit}[function]
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(dof), normal(argument), student(np.where(np.isinf(dof), 1, dof), argument))


def probability_at_least(location, scale, dof, z_target) -> np.ndarray:
    """P(z >= z_target) under a Student-t (normal for infinite dof) predictive; a series that never moved
    (zero scale) meets the target exactly when its location does."""
    location, scale = np.asarray(location, float), np.asarray(scale, float)
    z_target = np.asarray(z_target, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        standard = (z_target - location) / scale
    below = _factor(dof, standard.shape, "cdf", np.where(scale > 0, standard, 0.0))
    return np.where(scale > 0, 1.0 - below, (location >= z_target).astype(float))


def quantile(location, scale, dof, level: float) -> np.ndarray:
    """The ``level`` quantile of a Student-t (normal for infinite dof) predictive."""
    location, scale = np.asarray(location, float), np.asarray(scale, float)
    return location + scale * _factor(dof, location.shape, "ppf", np.full(location.shape, level))
