"""Probabilistic forecasts for short, bounded yearly series, in closed form.

Every series is modelled on a scale that respects its bounds: logit for shares in 0-100 (a drift on
that scale is a logistic, saturating curve on the share scale), log for positive levels.  On that
scale the change over a gap of ``g`` years is ``N(mu g, sigma^2 g)`` (a year missing from a series is
a two-year step, not one).

The default method (fitted out of sample, on shares for shares and on levels for levels: :mod:`forecast_fit`)
    A random walk whose drift ``mu`` and noise ``sigma`` are shrunk toward those of many series of the
    same kind by priors learned from data (empirical Bayes)::

        mu      ~ N(drift_mean, drift_sd^2)
        sigma^2 ~ scaled-Inv-chi2(noise_dof, noise_scale^2)

    ``sigma^2`` is integrated on a grid of :data:`GRID_POINTS` values; given ``sigma^2`` the drift
    posterior is normal.  The forecast drift fades by ``damping`` a year and may
    itself wander (a local linear trend with yearly drift changes of sd ``trend_sd``), and the model is
    pooled with a no-change (naive) model of the same noise, with weight ``naive_weight``.  The
    predictive distribution of each future year is a mixture of normal and Student-t distributions, so
    quantiles and the probability of meeting a target are exact (no simulation, no Monte-Carlo noise).
    Paths, for "met by year" and the first year a target is met, are drawn from the same posterior.

    A published plan for a future year (a budget allocation) is evidence about that year: the
    forecast is conditioned on it as on a noisy observation whose spread says how far spending can
    stray from a plan (:class:`Evidence`).

The previous default (``baseline``)
    Kept for the benchmark.  It uses a fixed weak noise prior (:data:`BASELINE_PRIOR_DOF`
    pseudo-observations of :data:`BASELINE_PRIOR_SIGMA`) and pools naive and a drift damped by
    :data:`BASELINE_DAMPING` half and half.  The single models behind the reports' model range are
    statsmodels' (:mod:`single_models`).

The fitted values live in ``forecast_defaults.yml`` beside this module, one section per kind of series
(``share``, ``level``) with its provenance; ``python -m analysis fit-defaults`` refits them.  They are on
the logit / log scale, so they do not depend on a series' unit.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import special

from analysis.storage import parse_yaml

#: Quantile name -> level of the predictive distribution.
QUANTILES = {"lo95": 0.025, "lo80": 0.10, "lo50": 0.25, "median": 0.50, "hi50": 0.75, "hi80": 0.90, "hi95": 0.975}
#: Models of the previous default's family, scored in the benchmark beside the default.
MODELS = ("naive", "drift", "trend", "damped")
#: Kinds of series with their own fitted defaults: shares (logit scale) and positive levels (log scale).
KINDS = ("share", "level")
#: A series of more figures than this has a long history: its damping, drift wandering and pool weight are
#: the ``long_`` values, fitted on long pseudo-forecasts (the city's series have three to six figures).
LONG_HISTORY = 6
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
            # only a value on a bound is moved (by a billionth of the range): a tiny share such as
            # 0.00002% keeps its own logit, so the no-change forecast is the last value exactly
            margin = 1e-9 * (self.upper - self.lower)
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


def is_share(unit: str | None) -> bool:
    """True for a unit that is a share in percent (bounded 0-100), not a rate of change."""
    return unit is not None and unit.startswith("percent") and unit != "percent_change"


def scale_for(values, unit: str | None = None) -> Scale:
    """Logit (0-100) for percent shares, log for positive levels, identity otherwise."""
    values = np.asarray(values, dtype=float)
    if is_share(unit):
        return SHARE_SCALE
    if (values > 0).all():
        return Scale("log")
    return Scale("identity")


def scale_of_kind(kind: str) -> Scale:
    """The scale a kind of series is modelled on: logit 0-100 for ``share``, log for ``level``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return SHARE_SCALE if kind == "share" else Scale("log")


SHARE_SCALE = Scale("logit", 0.0, 100.0)


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
    trend_sd : float
        Standard deviation of the drift's yearly change after the last figure (0: a fixed drift).
    long_damping, long_naive_weight, long_trend_sd : float, optional
        The same three for a series of more than :data:`LONG_HISTORY` figures (None: as for short ones).
    """

    drift_mean: float
    drift_sd: float
    noise_dof: float
    noise_scale: float
    damping: float
    naive_weight: float
    trend_sd: float = 0.0
    long_damping: float | None = None
    long_naive_weight: float | None = None
    long_trend_sd: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {
            name: None if getattr(self, name) is None else float(getattr(self, name))
            for name in self.__dataclass_fields__
        }

    def replace(self, **changes) -> Hyperparameters:
        """A copy with some values changed."""
        return Hyperparameters(**{**self.as_dict(), **changes})

    def for_length(self, figures: int) -> Hyperparameters:
        """The values that apply to a series of ``figures`` figures (the ``long_`` ones beyond LONG_HISTORY)."""
        if figures <= LONG_HISTORY:
            return self
        return self.replace(
            damping=self.damping if self.long_damping is None else self.long_damping,
            naive_weight=self.naive_weight if self.long_naive_weight is None else self.long_naive_weight,
            trend_sd=self.trend_sd if self.long_trend_sd is None else self.long_trend_sd,
        )


@functools.cache
def defaults_document(path: Path = DEFAULTS_FILE) -> dict:
    """``forecast_defaults.yml``: per kind of series, the shipped hyperparameters, their provenance and the
    figures of the fit."""
    return parse_yaml(path.read_text(encoding="utf-8"))


def load_defaults(kind: str = "share", path: Path = DEFAULTS_FILE) -> Hyperparameters:
    """The shipped hyperparameters for ``share`` or ``level`` series (written by ``fit-defaults``)."""
    section = defaults_document(path)[kind]["hyperparameters"]
    return Hyperparameters(**{k: None if v is None else float(v) for k, v in section.items()})


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

    @staticmethod
    def stack(parts: list[Mixture], order: np.ndarray) -> Mixture:
        """Mixtures of the same components for different series, as one, rows put in ``order``."""
        return Mixture(
            **{name: np.concatenate([getattr(p, name) for p in parts])[order] for name in Mixture.__dataclass_fields__}
        )

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
        stacked = np.concatenate(terms, axis=1)
        top = np.max(stacked, axis=1)  # a plain logsumexp: scipy's checks cost more than the sum here
        return top + np.log(np.sum(np.exp(stacked - top[:, None, :]), axis=1))

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


def pad_differences(z_list, gaps_list=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The yearly differences of several transformed series, right-aligned.

    Parameters
    ----------
    gaps_list : list of array-like, optional
        For each series, the years between consecutive figures (default: all 1).

    Returns
    -------
    differences, gaps, mask : ndarray (S, M)
        Column M-1 holds each series' latest difference and its gap in years; ``mask`` is 1 where a
        difference exists (gaps are 1 elsewhere).
    last : ndarray (S,)
        Each series' latest transformed value.
    """
    longest = max(len(z) for z in z_list) - 1
    differences = np.zeros((len(z_list), longest))
    gaps = np.ones((len(z_list), longest))
    mask = np.zeros((len(z_list), longest))
    for row, z in enumerate(z_list):
        steps = np.diff(np.asarray(z, float))
        if len(steps):
            differences[row, longest - len(steps) :] = steps
            mask[row, longest - len(steps) :] = 1.0
            if gaps_list is not None:
                gaps[row, longest - len(steps) :] = np.asarray(gaps_list[row], float)
    return differences, gaps, mask, np.array([z[-1] for z in z_list], float)


def difference_stats(differences: np.ndarray, gaps: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per series: number of differences ``n``, years they span ``m``, drift estimate ``mean`` (per year),
    gap-weighted sums of squares about the drift ``ss`` and about zero ``q``.

    A change over ``g`` years is ``N(mu g, sigma^2 g)``: the drift is the total change over the years spanned,
    and each squared deviation is divided by its gap.
    """
    count = mask.sum(axis=1)
    years = (mask * gaps).sum(axis=1)
    mean = (mask * differences).sum(axis=1) / np.where(years > 0, years, 1.0)
    return {
        "n": count,
        "m": years,
        "mean": mean,
        "ss": (mask * (differences - mean[:, None] * gaps) ** 2 / gaps).sum(axis=1),
        "q": (mask * differences**2 / gaps).sum(axis=1),
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
    n, m, mean, ss = stats["n"], stats["m"], stats["mean"], stats["ss"]
    prior_ss = hyper.noise_dof * hyper.noise_scale**2
    posterior_dof = hyper.noise_dof + n
    centre = np.log((prior_ss + ss + 1e-300) / np.maximum(hyper.noise_dof + n - 1, 0.5))
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
        -(n[:, None] - 1) / 2 * np.log(2 * np.pi * variance)
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


def _partial_sums(damping: float, count: int) -> np.ndarray:
    """``S_j = 1 + damping + ... + damping^(j-1)`` for j = 1 .. count."""
    powers = damping ** np.arange(count)
    return np.cumsum(powers)


def trend_covariance(steps, at: int, damping: float) -> np.ndarray:
    """How the drift's own wandering ties each step to step ``at``, per unit ``trend_sd^2``.

    The drift follows ``b_{t+1} = damping b_t + w``, ``w ~ N(0, trend_sd^2)``, so ``z_{T+k}`` carries
    ``sum_j w_j S_{k-j+1}`` and two steps share ``sum_{j <= min} S_{k-j+1} S_{at-j+1}``.
    """
    steps = np.asarray(steps, int)
    sums = _partial_sums(damping, int(max(steps.max(), at)))
    out = []
    for k in steps:
        shared = np.arange(1, min(k, at) + 1)
        out.append(float(np.sum(sums[k - shared] * sums[at - shared])))
    return np.array(out)


def trend_variance(steps, damping: float) -> np.ndarray:
    """The variance the drift's wandering adds at each step, per unit ``trend_sd^2`` (``sum_j S_j^2``)."""
    sums = _partial_sums(damping, int(np.max(steps)))
    return np.array([float(np.sum(sums[: int(h)] ** 2)) for h in np.asarray(steps, int)])


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
    dof = hyper.noise_dof + stats["n"]
    return dof, (hyper.noise_dof * hyper.noise_scale**2 + stats["q"]) / dof


@dataclass
class Posterior:
    """What the figures of several series say about their noise and drift under one prior (it does not depend
    on ``damping``, ``trend_sd`` or ``naive_weight``, so a fit computes it once per prior)."""

    last: np.ndarray
    figures: np.ndarray
    variance: np.ndarray
    weight: np.ndarray
    mean: np.ndarray
    precision: np.ndarray
    naive_dof: np.ndarray
    naive_variance: np.ndarray

    def subset(self, index: np.ndarray) -> Posterior:
        """The posterior of some of the series."""
        return Posterior(*(getattr(self, name)[index] for name in self.__dataclass_fields__))


def posterior(z_list, hyper: Hyperparameters, gaps_list=None) -> Posterior:
    """The drift and noise posterior of each series (transformed values; gaps in years between figures)."""
    differences, gaps, mask, last = pad_differences(z_list, gaps_list)
    stats = difference_stats(differences, gaps, mask)
    variance, weight, mean, precision = _drift_posterior(stats, hyper)
    return Posterior(last, stats["n"] + 1, variance, weight, mean, precision, *_naive_posterior(stats, hyper))


def default_mixture(
    z_list, steps, hyper: Hyperparameters, gaps_list=None, evidence=None, fitted: Posterior | None = None
) -> Mixture:
    """The default method's predictive for each series (transformed values) at each step ahead.

    ``evidence`` (one :class:`Evidence` or None per series) conditions a series on a noisy observation of
    one of its future steps (a published plan), exactly for the normal components and with the no-change
    component treated as normal of the same variance for the update.  ``fitted`` is the series'
    :func:`posterior` under ``hyper``'s prior, when already computed.  A series of more than
    :data:`LONG_HISTORY` figures takes the ``long_`` values (:meth:`Hyperparameters.for_length`).
    """
    fitted = fitted or posterior(z_list, hyper, gaps_list)
    long = fitted.figures > LONG_HISTORY
    if not long.any() or hyper.for_length(LONG_HISTORY + 1) == hyper:
        return _mixture(fitted, steps, hyper, evidence)
    parts, order = [], []
    for selected, regime in ((~long, hyper), (long, hyper.for_length(LONG_HISTORY + 1))):
        index = np.flatnonzero(selected)
        if len(index):
            chosen = None if evidence is None else [evidence[i] for i in index]
            parts.append(_mixture(fitted.subset(index), steps, regime, chosen))
            order.append(index)
    return Mixture.stack(parts, np.argsort(np.concatenate(order)))


def _mixture(fitted: Posterior, steps, hyper: Hyperparameters, evidence=None) -> Mixture:
    """The predictive of series that share their damping, drift wandering and pool weight."""
    steps = np.asarray(steps, float)
    damp = damped_steps(steps, hyper.damping)
    count = len(fitted.last)
    wander = hyper.trend_sd**2 * trend_variance(steps, hyper.damping)
    mixture = Mixture(
        t_weight=np.full((count, 1), hyper.naive_weight),
        t_df=fitted.naive_dof[:, None],
        t_loc=np.repeat(fitted.last[:, None], len(steps), axis=1)[:, None, :],
        t_scale=np.sqrt(fitted.naive_variance[:, None] * steps[None, :])[:, None, :],
        n_weight=(1 - hyper.naive_weight) * fitted.weight,
        n_loc=fitted.last[:, None, None] + fitted.mean[:, :, None] * damp[None, None, :],
        n_scale=np.sqrt(
            fitted.variance[:, :, None] * steps[None, None, :]
            + damp[None, None, :] ** 2 / fitted.precision[:, :, None]
            + wander[None, None, :]
        ),
    )
    if evidence is not None and any(e is not None for e in evidence):
        mixture = _conditioned(mixture, steps, hyper, fitted, evidence)
    return mixture


@dataclass(frozen=True)
class Evidence:
    """A noisy observation of one future step on the transformed scale: ``observed = z_step + N(bias, sd^2)``.

    A published plan for a future year: ``observed`` its transformed value, ``bias`` how far outturns
    typically fall from plans, ``sd`` how far they stray.
    """

    step: int
    observed: float
    bias: float
    sd: float


def _conditioned(mixture: Mixture, steps, hyper, fitted: Posterior, evidence) -> Mixture:
    """The mixture after each series' evidence: every component's mean and variance updated as a Gaussian
    (a drift component's covariance across steps is known in closed form), its weight by how well it
    predicted the evidence.  The no-change component is updated as a normal of its own scale."""
    steps = np.asarray(steps, float)
    damp = damped_steps(steps, hyper.damping)
    out = {name: np.array(getattr(mixture, name), copy=True) for name in mixture.__dataclass_fields__}
    for row, item in enumerate(evidence):
        if item is None:
            continue
        at = int(np.flatnonzero(steps == item.step)[0])
        target = item.observed - item.bias
        shared = np.minimum(steps, steps[at])
        wander = hyper.trend_sd**2 * trend_covariance(steps, item.step, hyper.damping)
        covariance = (
            fitted.variance[row][:, None] * shared[None, :]
            + damp[at] * damp[None, :] / fitted.precision[row][:, None]
            + wander[None, :]
        )
        total = out["n_scale"][row][:, at] ** 2 + item.sd**2
        residual = target - out["n_loc"][row][:, at]
        log_like = -0.5 * np.log(2 * np.pi * total) - residual**2 / (2 * total)
        out["n_loc"][row] += covariance / total[:, None] * residual[:, None]
        out["n_scale"][row] = np.sqrt(np.maximum(out["n_scale"][row] ** 2 - covariance**2 / total[:, None], 1e-300))
        naive_covariance = fitted.naive_variance[row] * shared
        naive_total = naive_covariance[at] + item.sd**2
        naive_residual = target - out["t_loc"][row, 0, at]
        naive_like = -0.5 * np.log(2 * np.pi * naive_total) - naive_residual**2 / (2 * naive_total)
        out["t_loc"][row, 0] += naive_covariance / naive_total * naive_residual
        out["t_scale"][row, 0] = np.sqrt(
            np.maximum(out["t_scale"][row, 0] ** 2 - naive_covariance**2 / naive_total, 1e-300)
        )
        with np.errstate(divide="ignore"):
            logs = np.concatenate([np.log(out["t_weight"][row]) + naive_like, np.log(out["n_weight"][row]) + log_like])
        posterior = np.exp(logs - special.logsumexp(logs))
        out["t_weight"][row], out["n_weight"][row] = posterior[:1], posterior[1:]
    return Mixture(**out)


def baseline_mixture(z_list, steps, model: str = "baseline", years_list=None) -> Mixture:
    """The previous default (``baseline``: naive and damped pooled half and half) or one single model.

    With a fixed weak prior on the noise, integrating the parameters out gives Student-t predictives:
    the exact limit of the simulations the package used before.  ``trend`` regresses on
    ``years_list`` (default: consecutive positions).
    """
    steps = np.asarray(steps, float)
    if model == "trend":
        return _trend_mixture(z_list, steps, years_list)
    differences, gaps, mask, last = pad_differences(z_list)
    stats = difference_stats(differences, gaps, mask)
    m = stats["m"]
    dof = np.maximum(stats["n"] - 1, 0) + BASELINE_PRIOR_DOF
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
    gaps: np.ndarray | None = None
    evidence: Evidence | None = None

    def quantiles(self) -> dict[str, np.ndarray]:
        """Median and the 50/80/95% forecast intervals per year, in the series' unit."""
        values = self.scale.inverse(self.mixture.quantiles(list(QUANTILES.values()))[0])
        return {name: values[:, j] for j, name in enumerate(QUANTILES)}

    def probability_in_year(self, target: float, comparator: str = "at_least") -> np.ndarray:
        """Probability that the value of each year meets the target (exact, no simulation)."""
        below = self.mixture.cdf(np.full((1, len(self.years)), float(self.scale.forward(target))))[0]
        return 1.0 - below if comparator in ("at_least", "between") else below

    def paths(self, n_paths: int = 4000, seed: int = 0) -> np.ndarray:
        """Paths (n_paths x years) drawn from the same posterior, for questions about whole paths.

        With evidence (a plan), paths are drawn without it and resampled by how well each predicted it.
        """
        if self.method != "default" or self.hyper is None:
            raise ValueError("paths are drawn for the default method only")
        z_paths = default_paths(self.z, len(self.years), self.hyper, n_paths, seed, self.gaps)
        if self.evidence is not None:
            z_paths = _resampled(z_paths, self.evidence, seed)
        return self.scale.inverse(z_paths)


def _resampled(z_paths: np.ndarray, evidence: Evidence, seed: int) -> np.ndarray:
    """Paths resampled in proportion to the likelihood of the evidence given each path."""
    at = evidence.step - 1
    residual = evidence.observed - evidence.bias - z_paths[:, at]
    log_weight = -(residual**2) / (2 * evidence.sd**2)
    weight = np.exp(log_weight - log_weight.max())
    rng = np.random.default_rng(seed + 1)
    return z_paths[rng.choice(len(z_paths), size=len(z_paths), p=weight / weight.sum())]


def default_paths(
    z: np.ndarray, horizon: int, hyper: Hyperparameters, n_paths: int, seed: int = 0, gaps=None
) -> np.ndarray:
    """Paths of the default method on the transformed scale (n_paths x horizon).

    A path is a no-change path with probability ``naive_weight``; otherwise sigma^2 and the drift prior's
    component are drawn from their grid posterior, the drift from its normal posterior given them, and the
    drift then wanders by ``trend_sd`` a year and fades by ``damping``.  Each year's distribution over
    paths is the closed-form predictive of :func:`default_mixture`.
    """
    rng = np.random.default_rng(seed)
    hyper = hyper.for_length(len(z))
    differences, gap, mask, last = pad_differences([z], None if gaps is None else [gaps])
    stats = difference_stats(differences, gap, mask)
    variance, weight, mean, precision = _drift_posterior(stats, hyper)
    naive_dof, naive_variance = _naive_posterior(stats, hyper)
    is_naive = rng.random(n_paths) < hyper.naive_weight
    point = rng.choice(weight.shape[1], size=n_paths, p=weight[0] / weight[0].sum())
    sigma = np.where(
        is_naive,
        np.sqrt(naive_dof[0] * naive_variance[0] / rng.chisquare(naive_dof[0], n_paths)),
        np.sqrt(variance[0, point]),
    )
    drift = np.where(is_naive, 0.0, mean[0, point] + rng.standard_normal(n_paths) / np.sqrt(precision[0, point]))
    wander = np.where(is_naive, 0.0, hyper.trend_sd)[:, None] * rng.standard_normal((n_paths, horizon))
    slope = np.empty((n_paths, horizon))
    current = drift
    for step in range(horizon):
        current = hyper.damping * current + wander[:, step]
        slope[:, step] = current
    noise = np.cumsum(sigma[:, None] * rng.standard_normal((n_paths, horizon)), axis=1)
    return last[0] + np.cumsum(slope, axis=1) + noise


def forecast(
    years,
    values,
    horizon: int,
    unit: str | None = None,
    method: str = "default",
    hyper: Hyperparameters | None = None,
    plan: tuple[int, float, float, float] | None = None,
) -> Forecast:
    """Forecast one yearly series ``horizon`` years past its last observation.

    Parameters
    ----------
    years, values : array-like
        At least two observations; a year missing between two figures is a two-year step.
    unit : str, optional
        Canonical unit; percent shares are modelled on the logit scale with the ``share`` defaults,
        other positive series on the log scale with the ``level`` defaults.
    method : str
        ``default``, ``baseline`` (the previous default) or one of :data:`MODELS`.  A series that
        is not positive (identity scale) uses the baseline: the learned priors are on the log /
        logit scale only.
    hyper : Hyperparameters, optional
        For the default method (default: the shipped values for the series' kind).
    plan : (year, value, median ratio, log sd), optional
        A plan published for a future year: the default forecast is conditioned on it (see
        :func:`plan_evidence`).
    """
    years = np.asarray(years, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        raise ValueError("need at least two observations")
    order = np.argsort(years)
    years, values = years[order], values[order]
    scale = scale_for(values, unit)
    z = scale.forward(values)
    gaps = np.diff(years)
    steps = np.arange(1, horizon + 1)
    if method == "default" and scale.kind == "identity":
        method = "baseline"
    if method != "default":
        mixture = baseline_mixture([z], steps, method, [years])
        return Forecast(years[-1] + steps, scale, mixture, z, method, None)
    hyper = hyper or load_defaults("share" if scale.kind == "logit" else "level")
    evidence = plan_evidence(plan, scale, int(years[-1])) if plan else None
    if evidence is not None and not 1 <= evidence.step <= horizon:
        evidence = None
    mixture = default_mixture([z], steps, hyper, [gaps], None if evidence is None else [evidence])
    return Forecast(years[-1] + steps, scale, mixture, z, method, hyper, gaps, evidence)


def plan_evidence(plan: tuple[int, float, float, float], scale: Scale, last_year: int) -> Evidence:
    """A plan as a noisy observation of its year: what is spent is the plan times a ratio whose median and
    spread (on the log scale) say how plans have been executed.

    On the logit scale a ratio ``r`` on a share ``p`` moves it by ``log r / (1 - p)`` to first order: the
    bias and the spread are scaled so.
    """
    year, value, median_ratio, log_sd = plan
    share = (value - scale.lower) / (scale.upper - scale.lower) if scale.kind == "logit" else 0.0
    stretch = 1.0 / (1.0 - share) if scale.kind == "logit" else 1.0
    # what is spent is the plan times r: the plan sits -log(r) above the outturn on the log scale
    return Evidence(
        int(year) - last_year, float(scale.forward(value)), -math.log(median_ratio) * stretch, log_sd * stretch
    )


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
