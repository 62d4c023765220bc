"""Fitting the default forecaster's hyperparameters from many yearly series of one kind (training parts only).

The rule (:func:`fit_hyperparameters`), the same on any file in the M3 long format:

1. **Empirical Bayes.** ``drift_mean, drift_sd, noise_dof, noise_scale`` maximise the summed marginal
   likelihood of every series' yearly differences (drift integrated analytically, noise on a grid), on
   the series' scale (logit for shares, log for levels).
2. **The rest by pseudo-forecasts.** ``damping``, ``trend_sd`` and ``naive_weight`` are chosen on a grid
   to maximise the mean predictive log density of pseudo-forecasts made *inside* the training parts
   (origins 6, 7 and 8 years before their end; windows 3, 4, 5, 6 and the whole history; horizons 1-6,
   at most :data:`MAX_CASES` of them); then, as the ``long_`` values that series of more than
   ``LONG_HISTORY`` figures use, on the pseudo-forecasts from such long histories alone.  The first are
   subject to the probabilities being **stable** (at windows 3 and 4, adding one figure moves the probability of a
   pseudo-target by at most ``1 - STABILITY_MARGIN`` times what it moves the previous default's) and, for
   shares, to the pseudo-forecasts from short histories being **calibrated** (the share of outcomes inside
   the 80% and 95% intervals lies in :data:`COVERAGE_BANDS`); the ``long_`` values of shares to the
   pseudo-forecasts from long histories being calibrated.  Where no grid point meets the constraints, the
   one nearest to meeting them is taken, and the figures say so.

Per kind (:data:`FIT_SETTINGS`): shares may let their drift wander (``trend_sd``) and must be
calibrated; levels keep a fixed drift and no coverage constraint, the previous rule.  Both were tried on
levels: on M3 they made the intervals wider out of sample (80% coverage 90.6% at full history, 87-89% at
3-6 points, against 86.0% and 81-83% without them) and every sMAPE worse; on shares, without them, the
intervals were too narrow (80% coverage 73-78%, 95% coverage 88-90%).

Nothing is keyed to particular series: the fit sees only arrays of values.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
from scipy import optimize, special

from analysis.models.forecasting import (
    LONG_HISTORY,
    Hyperparameters,
    Mixture,
    Scale,
    baseline_mixture,
    default_mixture,
    difference_stats,
    noise_grid,
    pad_differences,
    posterior,
)

#: Pseudo-targets: the last value raised by these rates a year on the model's scale (relative growth of
#: a level, of a share's odds), judged at the last year forecast.
PSEUDO_TARGET_GROWTH = (0.0, 0.03, 0.06, 0.10)
FIT_WINDOWS = (3, 4, 5, 6, None)
#: Pseudo-forecasts from this many points must be calibrated: the regime of the city's series.
CALIBRATION_WINDOWS = (3, 4, 5, 6)  # = histories of at most LONG_HISTORY figures
#: Central interval -> the range its pseudo-forecast coverage must lie in.
COVERAGE_BANDS = {0.80: (0.78, 0.84), 0.95: (0.945, 0.975)}
STABILITY_WINDOWS = (3, 4)
STABILITY_MARGIN = 0.05
#: Damping is searched on a coarse grid, then in steps of 0.01 within 0.04 of the best coarse value (at its trend_sd).
DAMPING_GRID = tuple(np.round(np.arange(0.70, 1.0001, 0.05), 2))
DAMPING_STEP, DAMPING_REFINE = 0.01, 0.04
NAIVE_WEIGHT_GRID = tuple(np.round(np.arange(0.0, 0.9001, 0.025), 3))
#: What the rule may choose per scale: the drift's wandering, and whether short pseudo-forecasts must be calibrated.
FIT_SETTINGS = {
    "logit": {"trend_sd": (0.0, 0.01, 0.02, 0.03), "calibrate": True},
    "log": {"trend_sd": (0.0,), "calibrate": False},
}
MAX_CASES = 10_000
ORIGINS = 3
HORIZON = 6
LOG = Scale("log")

#: Bounds of the empirical-Bayes search, in the coordinates the optimiser moves in.
_EB_BOUNDS = [(-0.5, 0.5), (np.log(1e-4), np.log(2.0)), (np.log(1e-2), np.log(1e4)), (np.log(1e-5), np.log(5.0))]


def fit_empirical_bayes(z_list, damping: float = 1.0, naive_weight: float = 0.0) -> Hyperparameters:
    """Type-II maximum likelihood of the drift and noise priors from many transformed series.

    Returns
    -------
    Hyperparameters
        With the given ``damping`` and ``naive_weight`` (they do not enter the likelihood).
    """
    differences, gaps, mask, _ = pad_differences(list(z_list))
    stats = difference_stats(differences, gaps, mask)
    start = np.array(
        [
            float(np.median(stats["mean"])),
            np.log(max(float(np.std(stats["mean"])), 1e-3)),
            np.log(2.0),
            np.log(max(float(np.sqrt(np.median(stats["ss"] / np.maximum(stats["n"] - 1, 1)))), 1e-4)),
        ]
    )

    def unpack(theta) -> Hyperparameters:
        return Hyperparameters(
            drift_mean=float(theta[0]),
            drift_sd=float(np.exp(theta[1])),
            noise_dof=float(np.exp(theta[2])),
            noise_scale=float(np.exp(theta[3])),
            damping=damping,
            naive_weight=naive_weight,
        )

    def objective(theta) -> float:
        return -float(np.sum(special.logsumexp(noise_grid(stats, unpack(theta))[1], axis=1))) / len(z_list)

    start = np.clip(start, [b[0] for b in _EB_BOUNDS], [b[1] for b in _EB_BOUNDS])
    result = optimize.minimize(
        objective, start, method="L-BFGS-B", bounds=_EB_BOUNDS, options={"maxiter": 500, "ftol": 1e-10, "eps": 1e-5}
    )
    return unpack(result.x)


def _origin_ends(train, origins: int, horizon: int) -> list[int]:
    """Forecast origins inside a training part: the last ``origins`` with ``horizon`` points after and 3 before."""
    return [end for end in (len(train) - horizon - j for j in range(origins)) if end >= 3]


def origin_cases(trains, windows=FIT_WINDOWS, origins: int = ORIGINS, horizon: int = HORIZON):
    """Pseudo-forecasts inside the training parts: (history, the values that followed, window) triples.

    For each series, origin ``len - horizon - j`` (j < origins) and window K (None: all points
    before the origin), the last K points before the origin and the ``horizon`` points after it.
    """
    cases = []
    for train in trains:
        for end in _origin_ends(train, origins, horizon):
            history, future = train[:end], train[end : end + horizon]
            for window in windows:
                if window is not None and window > len(history):
                    continue
                cases.append((history if window is None else history[-window:], future, window))
    return cases


def pseudo_targets(last_values: np.ndarray, horizon: int, scale: Scale) -> np.ndarray:
    """Targets (S, len(PSEUDO_TARGET_GROWTH)) on the series' scale: the last value grown by each rate a year."""
    growth = np.log1p(np.asarray(PSEUDO_TARGET_GROWTH)) * horizon
    return scale.inverse(scale.forward(np.asarray(last_values, float))[:, None] + growth[None, :])


def stability_cases(trains, window: int, scale: Scale, origins: int = ORIGINS, horizon: int = HORIZON):
    """Pairs for the stability figure inside the training parts: (history, history plus the next value, targets)."""
    cases = []
    for train in trains:
        for end in _origin_ends(train, origins, horizon):
            history = train[max(0, end - window) : end]
            targets = pseudo_targets(np.array([history[-1]]), horizon, scale)[0]
            cases.append((history, train[end - len(history) : end + 1], targets))
    return cases


def probabilities_above(mixture: Mixture, z_targets: np.ndarray) -> np.ndarray:
    """P(z >= target) for each series (rows of ``z_targets``) and each of its targets (columns), one horizon."""
    return np.stack([1 - mixture.cdf(z_targets[:, [g]])[:, 0] for g in range(z_targets.shape[1])], axis=1)


def _parts(z_list, steps, hyper: Hyperparameters) -> tuple[Mixture, Mixture]:
    """The drift part alone and the no-change part alone (the pool mixes them with ``naive_weight``)."""
    return default_mixture(z_list, steps, hyper.replace(naive_weight=0.0)), default_mixture(
        z_list, steps, hyper.replace(naive_weight=1.0)
    )


def _subsample(cases: list, limit: int) -> list:
    """At most ``limit`` cases, the same ones on every run (a fixed seed)."""
    if len(cases) <= limit:
        return cases
    chosen = np.random.default_rng(0).choice(len(cases), size=limit, replace=False)
    return [cases[i] for i in np.sort(chosen)]


def _coverage(pit: np.ndarray) -> dict[float, float]:
    """Share of outcomes inside each central interval of :data:`COVERAGE_BANDS`, from their PIT values."""
    return {level: float(np.mean((pit >= (1 - level) / 2) & (pit <= (1 + level) / 2))) for level in COVERAGE_BANDS}


def _deviation(row: dict, calibrate: bool = True) -> float:
    """How far a grid point is from meeting the constraints (0: it meets them)."""
    off = 0.0
    if calibrate:
        for level, (low, high) in COVERAGE_BANDS.items():
            value = row[f"coverage{int(100 * level)}"]
            off += max(0.0, low - value) + max(0.0, value - high)
    ratios = [row[f"stability_ratio_{w}"] for w in STABILITY_WINDOWS if f"stability_ratio_{w}" in row]
    return off + sum(max(0.0, ratio - (1 - STABILITY_MARGIN)) for ratio in ratios)


def fit_hyperparameters(trains, scale: Scale = LOG) -> tuple[Hyperparameters, dict]:
    """The fitting rule of the module docstring, on training series in their original unit.

    Returns
    -------
    (Hyperparameters, dict)
        The fitted values, and the figures behind the choice: the chosen grid points' log score,
        pseudo-forecast coverage and stability against the previous default, the best short point without
        the constraints, the number of series and pseudo-forecasts.
    """
    settings = FIT_SETTINGS[scale.kind]
    trains = [np.asarray(t, float) for t in trains]
    prior = fit_empirical_bayes([scale.forward(t) for t in trains])
    cases = _subsample(origin_cases(trains), MAX_CASES)
    if not cases:
        # training parts shorter than HORIZON + 3 points leave nothing to choose the rest on
        fallback = prior.replace(damping=0.9, naive_weight=0.5)
        return fallback, {
            "series": len(trains),
            "pseudo_forecasts": 0,
            "chosen": {"note": "training parts too short"},
            "best_without_constraints": {},
            "previous_default_stability": {},
            "constraint_met": False,
        }
    reference, stable = {}, {}
    for window in STABILITY_WINDOWS:
        found = stability_cases(trains, window, scale)
        before = [scale.forward(a) for a, _, _ in found]
        after = [scale.forward(b) for _, b, _ in found]
        z_targets = scale.forward(np.stack([t for _, _, t in found]))
        p_before = probabilities_above(baseline_mixture(before, [HORIZON]), z_targets)
        p_after = probabilities_above(baseline_mixture(after, [HORIZON - 1]), z_targets)
        reference[window] = float(np.mean(np.abs(p_after - p_before)))
        stable[window] = (posterior(before, prior), posterior(after, prior), z_targets)

    def best(rows: list[dict]) -> dict:
        feasible = [r for r in rows if _deviation(r, settings["calibrate"]) == 0]
        if feasible:
            return max(feasible, key=lambda r: r["log_score"])
        return min(rows, key=lambda r: (_deviation(r, settings["calibrate"]), -r["log_score"]))

    grid = _search(cases, prior, scale, settings["trend_sd"], best, stable, reference)
    feasible = [r for r in grid if _deviation(r, settings["calibrate"]) == 0]
    chosen = best(grid)
    fitted_values = prior.replace(
        damping=chosen["damping"], trend_sd=chosen["trend_sd"], naive_weight=chosen["naive_weight"]
    )
    long = [c for c in cases if len(c[0]) > LONG_HISTORY]
    chosen_long = None
    if long:
        chosen_long = best(_search(long, prior, scale, settings["trend_sd"], best))
        fitted_values = fitted_values.replace(
            long_damping=chosen_long["damping"],
            long_trend_sd=chosen_long["trend_sd"],
            long_naive_weight=chosen_long["naive_weight"],
        )
    figures = {
        "series": len(trains),
        "pseudo_forecasts": len(cases),
        "chosen": chosen,
        "chosen_long": chosen_long or {},
        "best_without_constraints": max(grid, key=lambda r: r["log_score"]),
        "previous_default_stability": reference,
        "constraint_met": bool(feasible),
    }
    return fitted_values, figures


def _search(cases, prior: Hyperparameters, scale: Scale, trend_grid, best, stable=None, reference=None) -> list[dict]:
    """The grid rows of a coarse damping grid, then of the fine damping steps around the ``best`` coarse row
    (at its trend_sd)."""
    scorer = _Scorer(cases, prior, scale, stable, reference)
    rows = scorer.rows(DAMPING_GRID, trend_grid)
    coarse = best(rows)
    centre = coarse["damping"]
    fine = np.round(np.arange(centre - DAMPING_REFINE, centre + DAMPING_REFINE + 1e-9, DAMPING_STEP), 2)
    return rows + scorer.rows([d for d in fine if 0.0 < d <= 1.0 and d not in DAMPING_GRID], (coarse["trend_sd"],))


class _Scorer:
    """Scores grid points on one set of pseudo-forecasts: what does not depend on the point is computed once."""

    def __init__(self, cases, prior: Hyperparameters, scale: Scale, stable=None, reference=None):
        self.prior, self.stable, self.reference = prior, stable, reference
        self.futures = np.stack([scale.forward(f) for _, f, _ in cases])
        # coverage is judged on the short histories when there are any (the first pass), else on all
        short = np.array([len(h) <= LONG_HISTORY for h, _, _ in cases])
        self.short = short if short.any() else slice(None)
        self.steps = np.arange(1, HORIZON + 1)
        self.fitted = posterior([scale.forward(h) for h, _, _ in cases], prior)
        no_change = prior.replace(naive_weight=1.0)
        naive = default_mixture(None, self.steps, no_change, fitted=self.fitted)
        self.log_naive, self.cdf_naive = naive.logpdf(self.futures), naive.cdf(self.futures)
        self.windows = STABILITY_WINDOWS if stable else ()
        self.naive_stability = {w: _stability_pair(no_change, stable[w]) for w in self.windows}

    def rows(self, dampings, trend_grid) -> list[dict]:
        """Every grid point's log score on the cases, the pseudo-forecast coverage of their short histories, and
        (given the stability pairs) the stability figure."""
        out = []
        for damping, trend_sd in itertools.product(dampings, trend_grid):
            hyper = self.prior.replace(damping=float(damping), trend_sd=float(trend_sd), naive_weight=0.0)
            drift = default_mixture(None, self.steps, hyper, fitted=self.fitted)
            log_drift, cdf_drift = drift.logpdf(self.futures), drift.cdf(self.futures)
            drift_stability = {w: _stability_pair(hyper, self.stable[w]) for w in self.windows}
            for weight in NAIVE_WEIGHT_GRID:
                with np.errstate(divide="ignore"):
                    score = float(np.mean(np.logaddexp(np.log1p(-weight) + log_drift, np.log(weight) + self.log_naive)))
                pit = ((1 - weight) * cdf_drift + weight * self.cdf_naive)[self.short]
                row = {
                    "damping": float(damping),
                    "trend_sd": float(trend_sd),
                    "naive_weight": float(weight),
                    "log_score": score,
                    **{f"coverage{int(100 * level)}": value for level, value in _coverage(pit).items()},
                }
                for window in self.windows:
                    drift_before, drift_after = drift_stability[window]
                    naive_before, naive_after = self.naive_stability[window]
                    p_before = (1 - weight) * drift_before + weight * naive_before
                    p_after = (1 - weight) * drift_after + weight * naive_after
                    row[f"stability_{window}"] = float(np.mean(np.abs(p_after - p_before)))
                    row[f"stability_ratio_{window}"] = row[f"stability_{window}"] / self.reference[window]
                out.append(row)
        return out


def _stability_pair(hyper: Hyperparameters, stable: tuple) -> tuple[np.ndarray, np.ndarray]:
    """P(pseudo-target) before and after one more figure, for the stability figure."""
    before, after, targets = stable
    return (
        probabilities_above(default_mixture(None, [HORIZON], hyper, fitted=before), targets),
        probabilities_above(default_mixture(None, [HORIZON - 1], hyper, fitted=after), targets),
    )


def _rounded(value):
    return round(value, 6) if isinstance(value, float) else value


def rule_text(kind: str) -> str:
    """The fitting rule of one kind, in a sentence (for the provenance)."""
    from analysis.models.forecasting import scale_of_kind

    settings = FIT_SETTINGS[scale_of_kind(kind).kind]
    calibration = (
        "pseudo-forecast coverage (histories of at most 6 points) of "
        + ", ".join(f"{int(100 * k)}% intervals in {v[0]:.3f}-{v[1]:.3f}" for k, v in COVERAGE_BANDS.items())
        + f" at windows {', '.join(map(str, CALIBRATION_WINDOWS))} and "
        if settings["calibrate"]
        else ""
    )
    wander = "damping, trend_sd and naive weight" if len(settings["trend_sd"]) > 1 else "damping and naive weight"
    return (
        f"empirical Bayes priors on all training differences, then {wander} by the predictive log score of "
        f"pseudo-forecasts inside the training parts, subject to {calibration}"
        f"stability at windows {', '.join(map(str, STABILITY_WINDOWS))} at most {1 - STABILITY_MARGIN:.2f} x the "
        "previous default's; the long_ values likewise on longer histories, subject to the coverage only "
        "(analysis/models/forecast_fit.py)"
    )


def defaults_section(hyper: Hyperparameters, figures: dict, data: Path, seconds: float, kind: str) -> dict:
    """One kind's section of ``forecast_defaults.yml``: the fitted values with their provenance."""
    import datetime as dt

    from analysis import __version__

    return {
        "hyperparameters": {
            name: None if value is None else round(value, 6) for name, value in hyper.as_dict().items()
        },
        "provenance": {
            "command": f"python -m analysis fit-defaults --kind {kind} --data {data.name}",
            "data": data.name,
            "data_sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
            "series": figures["series"],
            "pseudo_forecasts": figures["pseudo_forecasts"],
            "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "package_version": __version__,
            "fit_seconds": round(seconds, 1),
            "rule": rule_text(kind),
        },
        "figures": {
            "chosen": {k: _rounded(v) for k, v in figures["chosen"].items()},
            "chosen_long": {k: _rounded(v) for k, v in figures.get("chosen_long", {}).items()},
            "best_without_constraints": {k: _rounded(v) for k, v in figures["best_without_constraints"].items()},
            "previous_default_stability": {
                f"window_{k}": _rounded(v) for k, v in figures["previous_default_stability"].items()
            },
            "constraint_met": figures["constraint_met"],
        },
    }


def defaults_document(sections: dict[str, dict]) -> str:
    """``forecast_defaults.yml`` as YAML text: one section per kind of series."""
    import yaml

    header = (
        "# The default forecaster's hyperparameters, one section per kind of series (share: logit scale, fitted\n"
        "# on shares; level: log scale, fitted on levels), each fitted on the training parts of a benchmark file.\n"
        "# Written by `python -m analysis fit-defaults --kind KIND`; read by analysis.models.forecasting.\n"
        "# Do not edit by hand: rerun the command (the benchmark in the README is cross-fitted and does not\n"
        "# use these values, so it stays out of sample).\n"
    )
    return header + yaml.safe_dump(sections, sort_keys=False, allow_unicode=True, width=110)
