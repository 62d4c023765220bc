"""Probabilistic forecasts for short, bounded yearly series, in closed form.

Every series is modelled on a scale that respects its bounds (logit for shares in 0-100, log for
positive levels).  On that scale the yearly changes ``d`` of one series are ``N(mu, sigma^2)``.

The default method (fitted out of sample on the M3 yearly series, :mod:`forecast_fit`)
    A random walk whose drift ``mu`` is shrunk toward the typical drift of many series and whose
    noise ``sigma`` is shrunk toward their typical noise, by priors learned from data (empirical
    Bayes)::

        mu      ~ N(drift_mean, drift_sd^2)
        sigma^2 ~ scaled-Inv-chi2(noise_dof, noise_scale^2)

    ``sigma^2`` is integrated on a grid of :data:`GRID_POINTS` values; given ``sigma^2`` the drift
    posterior is normal.  The forecast damps the drift by ``damping`` a year and pools this drift
    model with a no-change (naive) model of the same noise, with weight ``naive_weight``.  The
    predictive distribution of each future year is a mixture of normal and Student-t
    distributions, so quantiles and the probability of meeting a target are exact (no
    simulation, no Monte-Carlo noise).  Paths, for "met by year" and the first year a target is
    met, are drawn from the same posterior.

The previous default (``baseline``) and four single models (``naive``, ``drift``, ``trend``, ``damped``)
    Kept for the benchmark and as a sensitivity range in the reports.  They use a fixed weak noise
    prior (:data:`BASELINE_PRIOR_DOF` pseudo-observations of :data:`BASELINE_PRIOR_SIGMA`) and a
    fixed damping of :data:`BASELINE_DAMPING`; the baseline pools naive and damped half and half.

The fitted values live in ``forecast_defaults.yml`` beside this module, with their provenance;
``python -m analysis fit-defaults`` refits them.  They are on the log / logit scale, so they do
not depend on a series' unit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import special

from analysis.storage import parse_yaml

#: Quantile name -> level of the predictive distribution.
QUANTILES = {"lo95": 0.025, "lo80": 0.10, "lo50": 0.25, "median": 0.50, "hi50": 0.75, "hi80": 0.90, "hi95": 0.975}
#: Single models reported beside the default (sensitivity to the choice of model).
MODELS = ("naive", "drift", "trend", "damped")
BASELINE_DAMPING = 0.9
BASELINE_PRIOR_DOF = 2.0
BASELINE_PRIOR_SIGMA = 0.05
GRID_POINTS = 64
DEFAULTS_FILE = Path(__file__).with_name("forecast_defaults.yml")


# --- scales -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """A monotone transform to an unbounded scale and back."""

    kind: str  # "logit", "log" or "identity"
    lower: float = 0.0
    upper: float = 100.0

    def forward(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.kind == "logit":
            margin = 1e-6 * (self.upper - self.lower)
            clipped = np.clip(values, self.lower + margin, self.upper - margin)
            return np.log((clipped - self.lower) / (self.upper - clipped))
        if self.kind == "log":
            return np.log(np.maximum(values, 1e-300))
        return values

    def inverse(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.kind == "logit":
            return self.lower + (self.upper - self.lower) * special.expit(values)
        if self.kind == "log":
            return np.exp(np.clip(values, -700, 700))
        return values


def scale_for(values, unit: str | None = None) -> Scale:
    """Logit (0-100) for percent shares, log for positive levels, identity otherwise."""
    values = np.asarray(values, dtype=float)
    if unit is not None and unit.startswith("percent") and unit != "percent_change":
        return Scale("logit", 0.0, 100.0)
    if (values > 0).all():
        return Scale("log")
    return Scale("identity")


# --- hyperparameters ----------------------------------------------------------------------


@dataclass(frozen=True)
class Hyperparameters:
    """The default method's hyperparameters, all on the transformed (log / logit) scale.

    Attributes
    ----------
    drift_mean, drift_sd : float
        Prior of a series' yearly drift: mean and standard deviation across series.
    noise_dof, noise_scale : float
        Prior of the yearly noise: ``sigma^2 ~ scaled-Inv-chi2(noise_dof, noise_scale^2)``.
    damping : float
        The forecast drift is multiplied by ``damping`` each further year (1 = undamped).
    naive_weight : float
        Weight of the no-change component in the pool (0-1).
    """

    drift_mean: float
    drift_sd: float
    noise_dof: float
    noise_scale: float
    damping: float
    naive_weight: float

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


@functools.cache
def defaults_document(path: Path = DEFAULTS_FILE) -> dict:
    """``forecast_defaults.yml``: the shipped hyperparameters, their provenance and the figures of the fit."""
    return parse_yaml(path.read_text(encoding="utf-8"))


def load_defaults(path: Path = DEFAULTS_FILE) -> Hyperparameters:
    """The shipped hyperparameters (written by ``python -m analysis fit-defaults``)."""
    return Hyperparameters(**{k: float(v) for k, v in defaults_document(path)["hyperparameters"].items()})


# --- predictive mixtures ------------------------------------------------------------------


@dataclass
class Mixture:
    """Predictive distributions of ``z_{T+h}`` (transformed scale) for S series and H horizons.

    A mixture of Student-t components (``t_*``: weight (S, C), degrees of freedom (S, C), location
    and scale (S, C, H)) and normal components (``n_*``: weight (S, G), location and scale (S, G, H)).
    """

    t_weight: np.ndarray
    t_df: np.ndarray
    t_loc: np.ndarray
    t_scale: np.ndarray
    n_weight: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    n_loc: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    n_scale: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    @property
    def has_normal(self) -> bool:
        return self.n_weight.size > 0

    def cdf(self, x) -> np.ndarray:
        """P(z <= x) for x of shape (S, H)."""
        x = np.asarray(x, float)
        standard = (x[:, None, :] - self.t_loc) / self.t_scale
        out = np.einsum("sc,sch->sh", self.t_weight, special.stdtr(self.t_df[:, :, None], standard))
        if self.has_normal:
            standard = (x[:, None, :] - self.n_loc) / self.n_scale
            out = out + np.einsum("sg,sgh->sh", self.n_weight, special.ndtr(standard))
        return out

    def logpdf(self, x) -> np.ndarray:
        """Log density at x (S, H)."""
        x = np.asarray(x, float)
        df = self.t_df[:, :, None]
        standard = (x[:, None, :] - self.t_loc) / self.t_scale
        log_t = (
            special.gammaln((df + 1) / 2)
            - special.gammaln(df / 2)
            - 0.5 * np.log(df * np.pi)
            - np.log(self.t_scale)
            - (df + 1) / 2 * np.log1p(standard**2 / df)
        )
        with np.errstate(divide="ignore"):
            terms = [np.log(self.t_weight)[:, :, None] + log_t]
            if self.has_normal:
                standard = (x[:, None, :] - self.n_loc) / self.n_scale
                terms.append(
                    np.log(self.n_weight)[:, :, None]
                    - 0.5 * np.log(2 * np.pi)
                    - np.log(self.n_scale)
                    - 0.5 * standard**2
                )
        return special.logsumexp(np.concatenate(terms, axis=1), axis=1)

    def quantiles(self, levels, iterations: int = 50) -> np.ndarray:
        """Quantiles, shape (S, H, len(levels)), by bisection between the components' own quantiles."""
        levels = np.asarray(levels, float)
        n_series, _, n_horizons = self.t_loc.shape
        out = np.empty((n_series, n_horizons, len(levels)))
        for j, level in enumerate(levels):
            bounds = [
                np.where(
                    (self.t_weight > 1e-12)[:, :, None],
                    self.t_loc + self.t_scale * special.stdtrit(self.t_df[:, :, None], level),
                    np.nan,
                )
            ]
            if self.has_normal:
                bounds.append(
                    np.where(
                        (self.n_weight > 1e-12)[:, :, None], self.n_loc + self.n_scale * special.ndtri(level), np.nan
                    )
                )
            stacked = np.concatenate(bounds, axis=1)
            low, high = np.nanmin(stacked, axis=1), np.nanmax(stacked, axis=1)
            for _ in range(iterations):
                middle = 0.5 * (low + high)
                below = self.cdf(middle) < level
                low, high = np.where(below, middle, low), np.where(below, high, middle)
            out[:, :, j] = 0.5 * (low + high)
        return out


def pad_differences(z_list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The yearly differences of several transformed series, right-aligned.

    Returns
    -------
    differences, mask : ndarray (S, M)
        Column M-1 holds each series' latest difference; ``mask`` is 1 where a difference exists.
    last : ndarray (S,)
        Each series' latest transformed value.
    """
    longest = max(len(z) for z in z_list) - 1
    differences = np.zeros((len(z_list), longest))
    mask = np.zeros((len(z_list), longest))
    for row, z in enumerate(z_list):
        steps = np.diff(np.asarray(z, float))
        if len(steps):
            differences[row, longest - len(steps) :] = steps
            mask[row, longest - len(steps) :] = 1.0
    return differences, mask, np.array([z[-1] for z in z_list], float)


def difference_stats(differences: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per series: count ``m``, mean ``mean``, sum of squares about the mean ``ss`` and about zero ``q``."""
    count = mask.sum(axis=1)
    mean = (mask * differences).sum(axis=1) / np.where(count > 0, count, 1.0)
    return {
        "m": count,
        "mean": mean,
        "ss": (mask * (differences - mean[:, None]) ** 2).sum(axis=1),
        "q": (mask * differences**2).sum(axis=1),
    }


def noise_grid(stats: dict[str, np.ndarray], hyper: Hyperparameters) -> tuple[np.ndarray, np.ndarray]:
    """The posterior of log sigma^2 of the drift model on a per-series grid.

    Returns
    -------
    log_variance : ndarray (S, G)
        Grid of log sigma^2 around each series' own estimate.
    log_weight : ndarray (S, G)
        Unnormalised log posterior times the grid spacing: ``logsumexp`` over G is the log marginal
        likelihood of the series' differences.
    """
    m, mean, ss = stats["m"], stats["mean"], stats["ss"]
    prior_ss = hyper.noise_dof * hyper.noise_scale**2
    posterior_dof = hyper.noise_dof + m
    centre = np.log((prior_ss + ss + 1e-300) / np.maximum(hyper.noise_dof + m - 1, 0.5))
    spread = np.sqrt(2.0 / posterior_dof)
    low = -np.minimum(5.0, 7 * spread)
    high = np.minimum(30.0, 56.0 / posterior_dof + 6 * spread)
    unit_grid = np.linspace(0.0, 1.0, GRID_POINTS)
    log_variance = centre[:, None] + low[:, None] + (high - low)[:, None] * unit_grid[None, :]
    spacing = (high - low) / (GRID_POINTS - 1)
    variance = np.exp(log_variance)
    log_prior = (
        hyper.noise_dof / 2 * np.log(prior_ss / 2)
        - special.gammaln(hyper.noise_dof / 2)
        - hyper.noise_dof / 2 * log_variance
        - prior_ss / (2 * variance)
    )
    safe_m = np.maximum(m, 1e-12)[:, None]
    mean_variance = variance / safe_m + hyper.drift_sd**2
    log_likelihood = (
        -(m[:, None] - 1) / 2 * np.log(2 * np.pi * variance)
        - 0.5 * np.log(safe_m)
        - ss[:, None] / (2 * variance)
        - 0.5 * np.log(2 * np.pi * mean_variance)
        - (mean[:, None] - hyper.drift_mean) ** 2 / (2 * mean_variance)
    )
    trapezoid = np.where((unit_grid == 0) | (unit_grid == 1), 0.5, 1.0)[None, :]
    return log_variance, log_prior + log_likelihood + np.log(spacing[:, None] * trapezoid)


def damped_steps(steps, damping: float) -> np.ndarray:
    """``damping + damping^2 + ... + damping^h`` for each step h (h itself when undamped)."""
    steps = np.asarray(steps, float)
    return steps if damping == 1.0 else damping * (1 - damping**steps) / (1 - damping)


def _drift_posterior(stats, hyper: Hyperparameters) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid of sigma^2, its posterior weights, and the drift's posterior mean and precision given sigma^2."""
    log_variance, log_weight = noise_grid(stats, hyper)
    variance = np.exp(log_variance)
    m = stats["m"][:, None]
    precision = m / variance + 1 / hyper.drift_sd**2
    mean = (m * stats["mean"][:, None] / variance + hyper.drift_mean / hyper.drift_sd**2) / precision
    weight = np.exp(log_weight - special.logsumexp(log_weight, axis=1)[:, None])
    return variance, weight, mean, precision


def _naive_posterior(stats, hyper: Hyperparameters) -> tuple[np.ndarray, np.ndarray]:
    """Degrees of freedom and scale^2 of the no-change model's noise posterior (conjugate)."""
    dof = hyper.noise_dof + stats["m"]
    return dof, (hyper.noise_dof * hyper.noise_scale**2 + stats["q"]) / dof


def default_mixture(z_list, steps, hyper: Hyperparameters) -> Mixture:
    """The default method's predictive for each series (transformed values) at each step ahead."""
    differences, mask, last = pad_differences(z_list)
    stats = difference_stats(differences, mask)
    steps = np.asarray(steps, float)
    damp = damped_steps(steps, hyper.damping)
    variance, weight, mean, precision = _drift_posterior(stats, hyper)
    naive_dof, naive_variance = _naive_posterior(stats, hyper)
    count = len(last)
    return Mixture(
        t_weight=np.full((count, 1), hyper.naive_weight),
        t_df=naive_dof[:, None],
        t_loc=np.repeat(last[:, None], len(steps), axis=1)[:, None, :],
        t_scale=np.sqrt(naive_variance[:, None] * steps[None, :])[:, None, :],
        n_weight=(1 - hyper.naive_weight) * weight,
        n_loc=last[:, None, None] + mean[:, :, None] * damp[None, None, :],
        n_scale=np.sqrt(variance[:, :, None] * steps[None, None, :] + damp[None, None, :] ** 2 / precision[:, :, None]),
    )


def baseline_mixture(z_list, steps, model: str = "baseline", years_list=None) -> Mixture:
    """The previous default (``baseline``: naive and damped pooled half and half) or one single model.

    With a fixed weak prior on the noise, integrating the parameters out gives Student-t predictives:
    the exact limit of the simulations the package used before.  ``trend`` regresses on
    ``years_list`` (default: consecutive positions).
    """
    steps = np.asarray(steps, float)
    if model == "trend":
        return _trend_mixture(z_list, steps, years_list)
    differences, mask, last = pad_differences(z_list)
    stats = difference_stats(differences, mask)
    m = stats["m"]
    dof = np.maximum(m - 1, 0) + BASELINE_PRIOR_DOF
    variance = (stats["ss"] + BASELINE_PRIOR_DOF * BASELINE_PRIOR_SIGMA**2) / dof
    count = len(last)

    def drift_part(damping: float) -> tuple[np.ndarray, np.ndarray]:
        damp = damped_steps(steps, damping)
        location = last[:, None] + stats["mean"][:, None] * damp[None, :]
        return location, np.sqrt(variance[:, None] * (steps[None, :] + damp[None, :] ** 2 / m[:, None]))

    naive = (np.repeat(last[:, None], len(steps), axis=1), np.sqrt(variance[:, None] * steps[None, :]))
    parts = {
        "naive": [naive],
        "drift": [drift_part(1.0)],
        "damped": [drift_part(BASELINE_DAMPING)],
        "baseline": [naive, drift_part(BASELINE_DAMPING)],
    }[model]
    return Mixture(
        t_weight=np.full((count, len(parts)), 1.0 / len(parts)),
        t_df=np.repeat(dof[:, None], len(parts), axis=1),
        t_loc=np.stack([location for location, _ in parts], axis=1),
        t_scale=np.stack([scale for _, scale in parts], axis=1),
    )


def _trend_mixture(z_list, steps: np.ndarray, years_list=None) -> Mixture:
    """Linear trend of z on the year with normal noise; coefficients and noise integrated out."""
    locations, scales, dofs = [], [], []
    for index, z in enumerate(z_list):
        z = np.asarray(z, float)
        years = np.asarray(years_list[index] if years_list is not None else np.arange(len(z)), float)
        design = np.column_stack([np.ones(len(z)), years - years.mean()])
        inverse = np.linalg.inv(design.T @ design)
        coefficients = inverse @ design.T @ z
        residual_ss = float(np.sum((z - design @ coefficients) ** 2))
        dof = max(len(z) - 2, 0) + BASELINE_PRIOR_DOF
        variance = (residual_ss + BASELINE_PRIOR_DOF * BASELINE_PRIOR_SIGMA**2) / dof
        future = np.column_stack([np.ones(len(steps)), years[-1] + steps - years.mean()])
        locations.append(future @ coefficients)
        scales.append(np.sqrt(variance * (1 + np.einsum("hi,ij,hj->h", future, inverse, future))))
        dofs.append(dof)
    count = len(z_list)
    return Mixture(
        t_weight=np.ones((count, 1)),
        t_df=np.array(dofs)[:, None],
        t_loc=np.array(locations)[:, None, :],
        t_scale=np.array(scales)[:, None, :],
    )


# --- one series ----------------------------------------------------------------------------


@dataclass
class Forecast:
    """The forecast of one series for the years after its last observation.

    ``years`` are the forecast years; every array below is indexed like them.
    """

    years: np.ndarray
    scale: Scale
    mixture: Mixture
    z: np.ndarray
    method: str
    hyper: Hyperparameters | None

    def quantiles(self) -> dict[str, np.ndarray]:
        """Median and the 50/80/95% forecast intervals per year, in the series' unit."""
        values = self.scale.inverse(self.mixture.quantiles(list(QUANTILES.values()))[0])
        return {name: values[:, j] for j, name in enumerate(QUANTILES)}

    def probability_in_year(self, target: float, comparator: str = "at_least") -> np.ndarray:
        """Probability that the value of each year meets the target (exact, no simulation)."""
        below = self.mixture.cdf(np.full((1, len(self.years)), float(self.scale.forward(target))))[0]
        return 1.0 - below if comparator in ("at_least", "between") else below

    def paths(self, n_paths: int = 4000, seed: int = 0) -> np.ndarray:
        """Paths (n_paths x years) drawn from the same posterior, for questions about whole paths."""
        if self.method != "default" or self.hyper is None:
            raise ValueError("paths are drawn for the default method only")
        return self.scale.inverse(default_paths(self.z, len(self.years), self.hyper, n_paths, seed))


def default_paths(z: np.ndarray, horizon: int, hyper: Hyperparameters, n_paths: int, seed: int = 0) -> np.ndarray:
    """Paths of the default method on the transformed scale (n_paths x horizon).

    A path is a no-change path with probability ``naive_weight``; otherwise sigma^2 is drawn from
    its grid posterior and the drift from its normal posterior given sigma^2.  Each year's
    distribution over paths is the closed-form predictive of :func:`default_mixture`.
    """
    rng = np.random.default_rng(seed)
    differences, mask, last = pad_differences([z])
    stats = difference_stats(differences, mask)
    variance, weight, mean, precision = _drift_posterior(stats, hyper)
    naive_dof, naive_variance = _naive_posterior(stats, hyper)
    is_naive = rng.random(n_paths) < hyper.naive_weight
    point = rng.choice(GRID_POINTS, size=n_paths, p=weight[0] / weight[0].sum())
    sigma = np.where(
        is_naive,
        np.sqrt(naive_dof[0] * naive_variance[0] / rng.chisquare(naive_dof[0], n_paths)),
        np.sqrt(variance[0, point]),
    )
    drift = np.where(is_naive, 0.0, mean[0, point] + rng.standard_normal(n_paths) / np.sqrt(precision[0, point]))
    damp = damped_steps(np.arange(1, horizon + 1), hyper.damping)
    noise = np.cumsum(sigma[:, None] * rng.standard_normal((n_paths, horizon)), axis=1)
    return last[0] + drift[:, None] * damp[None, :] + noise


def forecast(
    years, values, horizon: int, unit: str | None = None, method: str = "default", hyper: Hyperparameters | None = None
) -> Forecast:
    """Forecast one yearly series ``horizon`` years past its last observation.

    Parameters
    ----------
    years, values : array-like
        At least two observations; gaps between years are treated as consecutive steps.
    unit : str, optional
        Canonical unit; percent shares are modelled on the logit scale.
    method : str
        ``default``, ``baseline`` (the previous default) or one of :data:`MODELS`.  A series that
        is not positive (identity scale) uses the baseline: the learned priors are on the log /
        logit scale only.
    hyper : Hyperparameters, optional
        For the default method (default: the shipped values).
    """
    years = np.asarray(years, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        raise ValueError("need at least two observations")
    order = np.argsort(years)
    years, values = years[order], values[order]
    scale = scale_for(values, unit)
    z = scale.forward(values)
    steps = np.arange(1, horizon + 1)
    if method == "default" and scale.kind == "identity":
        method = "baseline"
    if method == "default":
        hyper = hyper or load_defaults()
        mixture = default_mixture([z], steps, hyper)
    else:
        mixture = baseline_mixture([z], steps, method, [years])
    return Forecast(years[-1] + steps, scale, mixture, z, method, hyper if method == "default" else None)


# --- questions about paths -------------------------------------------------------------------


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
