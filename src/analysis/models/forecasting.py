"""Probabilistic trend forecasts for short, bounded yearly series.

Four deliberately simple models, each fitted on a scale that respects the bounds (logit
for shares in 0-100, log for positive levels), each simulated with *parameter* uncertainty
as well as noise, and combined by pooling their paths:

``naive``
    Random walk without drift (no further change expected; noise from the yearly changes).
``drift``
    Random walk with drift: the mean yearly change and its noise are estimated by OLS on
    the differences (statsmodels); each path draws sigma^2 from its scaled inverse
    chi-square posterior and the drift from N(mean, sigma^2 / m).
``trend``
    Linear trend: OLS of the transformed value on the year (statsmodels); each path draws
    sigma^2 and the coefficients from their normal-inverse-chi-square posterior.
``damped``
    Damped drift, Holt's damped trend with level smoothing 1 (a random walk whose drift
    decays by phi = 0.9 a year).  With 4-8 points statsmodels' ETS estimates would be
    meaningless (``progress-methods.md`` 4.3), so phi is fixed and only the drift is estimated.

With n points the drift posterior has n - 2 degrees of freedom (plus two from a weak prior
on the noise, :data:`PRIOR_DOF`): the bands are as wide as so few points honestly imply.

The default combination pools the naive and damped paths (:data:`DEFAULT_MODELS`); drift
and linear trend stay available and are reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

MODELS = ("naive", "drift", "trend", "damped")
#: The combination used by default: chosen on the M3 yearly benchmark (README), where it beat
#: every single model and every other combination of these four on sMAPE and Brier score,
#: on full histories and on 6-point windows.
DEFAULT_MODELS = ("naive", "damped")
DAMPING = 0.9
QUANTILES = {"lo95": 0.025, "lo80": 0.10, "lo50": 0.25, "median": 0.50, "hi50": 0.75, "hi80": 0.90, "hi95": 0.975}


@dataclass(frozen=True)
class Scale:
    """A monotone transform to an unbounded scale and back."""

    kind: str  # "logit", "log" or "identity"
    lower: float = 0.0
    upper: float = 100.0

    def forward(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.kind == "logit":
            clipped = np.clip(values, self.lower + 1e-6, self.upper - 1e-6)
            return np.log((clipped - self.lower) / (self.upper - clipped))
        if self.kind == "log":
            return np.log(np.maximum(values, 1e-12))
        return values

    def inverse(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.kind == "logit":
            return self.lower + (self.upper - self.lower) / (1.0 + np.exp(-np.clip(values, -700, 700)))
        if self.kind == "log":
            return np.exp(np.clip(values, -700, 700))
        return values


def scale_for(values: np.ndarray, unit: str | None = None) -> Scale:
    """Logit (0-100) for percent shares, log for positive levels, identity otherwise."""
    values = np.asarray(values, dtype=float)
    if unit is not None and unit.startswith("percent") and unit != "percent_change":
        return Scale("logit", 0.0, 100.0)
    if (values > 0).all():
        return Scale("log")
    return Scale("identity")


#: Weak prior on the yearly noise (transformed scale): PRIOR_DOF pseudo-observations of size
#: PRIOR_SIGMA (0.05 on the log or logit scale is about a 5% relative change a year).  Without
#: it, three points give sigma^2 ~ RSS / chi2(1), whose tail sends paths to 0% or 100%.
PRIOR_DOF = 2
PRIOR_SIGMA = 0.05


def _sigma_draws(residual_ss: float, dof: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of sigma from its posterior under the weak prior: sigma^2 = (RSS + v0 s0^2) / chi2(dof + v0)."""
    posterior_dof = max(dof, 0) + PRIOR_DOF
    posterior_ss = residual_ss + PRIOR_DOF * PRIOR_SIGMA**2
    return np.sqrt(posterior_ss / rng.chisquare(posterior_dof, size=n_paths))


def simulate_drift(
    z: np.ndarray, horizon: int, n_paths: int, rng: np.random.Generator, damping: float = 1.0, with_drift: bool = True
) -> np.ndarray:
    """Paths (n_paths x horizon) of a random walk with (optionally damped) drift on the transformed scale."""
    diffs = np.diff(z)
    m = len(diffs)
    if m == 0:
        raise ValueError("need at least two observations")
    fit = sm.OLS(diffs, np.ones((m, 1))).fit()
    drift_hat = float(fit.params[0])
    rss = float(np.sum(fit.resid**2))
    sigma = _sigma_draws(rss, m - 1, n_paths, rng)
    drift = drift_hat + sigma / math.sqrt(m) * rng.standard_normal(n_paths)
    if not with_drift:
        drift = np.zeros(n_paths)
    steps = np.arange(1, horizon + 1)
    drift_path = np.outer(drift, steps) if damping == 1.0 else np.outer(drift, np.cumsum(damping**steps))
    noise = np.cumsum(sigma[:, None] * rng.standard_normal((n_paths, horizon)), axis=1)
    return z[-1] + drift_path + noise


def simulate_trend(
    years: np.ndarray, z: np.ndarray, future_years: np.ndarray, n_paths: int, rng: np.random.Generator
) -> np.ndarray:
    """Paths of a linear trend with normal noise; coefficients and sigma drawn from their posterior."""
    n = len(z)
    if n < 2:
        raise ValueError("need at least two observations")
    centre = years.mean()
    design = sm.add_constant(years - centre)
    fit = sm.OLS(z, design).fit()
    dof = n - 2
    rss = float(np.sum(fit.resid**2))
    sigma = _sigma_draws(rss, dof, n_paths, rng)
    xtx_inv = np.linalg.inv(design.T @ design)
    chol = np.linalg.cholesky(xtx_inv)
    coefs = fit.params[None, :] + sigma[:, None] * (rng.standard_normal((n_paths, 2)) @ chol.T)
    future = sm.add_constant(future_years - centre, has_constant="add")
    mean = coefs @ future.T
    return mean + sigma[:, None] * rng.standard_normal((n_paths, len(future_years)))


def simulate_paths(
    years,
    values,
    horizon: int,
    unit: str | None = None,
    n_paths: int = 2000,
    models: tuple[str, ...] = DEFAULT_MODELS,
    seed: int = 0,
) -> np.ndarray:
    """Pooled forecast paths on the original scale.

    Parameters
    ----------
    years, values : array-like
        Consecutive-or-not yearly observations (years as integers), at least two.
    horizon : int
        Years after the last observation to simulate.
    unit : str, optional
        Canonical unit; percent shares are simulated on the logit scale.
    n_paths : int
        Paths per model; the result has ``n_paths * len(models)`` rows.

    Returns
    -------
    numpy.ndarray
        Shape (n_paths * len(models), horizon), values in the indicator's unit for years
        last_year + 1 ... last_year + horizon.
    """
    years = np.asarray(years, dtype=float)
    values = np.asarray(values, dtype=float)
    order = np.argsort(years)
    years, values = years[order], values[order]
    scale = scale_for(values, unit)
    z = scale.forward(values)
    future_years = years[-1] + np.arange(1, horizon + 1)
    # Gaps between years (e.g. 2020, 2022) are treated as consecutive steps for the drift models.
    pieces = []
    for model in models:
        rng = np.random.default_rng([seed, MODELS.index(model) if model in MODELS else 99])
        if model == "drift":
            pieces.append(simulate_drift(z, horizon, n_paths, rng))
        elif model == "damped":
            pieces.append(simulate_drift(z, horizon, n_paths, rng, damping=DAMPING))
        elif model == "naive":
            pieces.append(simulate_drift(z, horizon, n_paths, rng, with_drift=False))
        elif model == "trend":
            pieces.append(simulate_trend(years, z, future_years, n_paths, rng))
        else:
            raise ValueError(f"unknown model {model!r}")
    return scale.inverse(np.vstack(pieces))


def path_quantiles(paths: np.ndarray) -> dict[str, np.ndarray]:
    """Quantiles of the paths per horizon: median and the 50/80/95% central intervals."""
    return {name: np.quantile(paths, q, axis=0) for name, q in QUANTILES.items()}


def probability_meets(paths: np.ndarray, target: float, comparator: str = "at_least") -> np.ndarray:
    """Share of paths meeting the target in each simulated year (array over horizons)."""
    met = paths >= target if comparator in ("at_least", "between") else paths <= target
    return met.mean(axis=0)


def probability_met_by(paths: np.ndarray, target: float, comparator: str = "at_least") -> np.ndarray:
    """Share of paths that have met the target in any year up to each horizon."""
    met = paths >= target if comparator in ("at_least", "between") else paths <= target
    return np.maximum.accumulate(met, axis=1).mean(axis=0)


def median_first_year(paths: np.ndarray, first_year: int, target: float, comparator: str = "at_least") -> float:
    """Median over paths of the first year the target is met; inf when half the paths never meet it."""
    met = paths >= target if comparator in ("at_least", "between") else paths <= target
    ever = met.any(axis=1)
    first = np.where(ever, met.argmax(axis=1) + first_year, np.inf)
    return float(np.median(first))
