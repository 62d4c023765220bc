"""Fitting the default forecaster's hyperparameters from many yearly series (training parts only).

The rule (:func:`fit_hyperparameters`), the same on any file in the M3 long format:

1. **Empirical Bayes.** ``drift_mean, drift_sd, noise_dof, noise_scale`` maximise the summed
   marginal likelihood of every series' yearly differences (drift integrated analytically, noise
   on a grid), on the log scale.
2. **Damping and pool weight.** ``damping`` and ``naive_weight`` are chosen on a grid to maximise
   the mean predictive log density of pseudo-forecasts made *inside* the training parts (origins 6,
   7 and 8 years before their end; windows 3, 4, 5, 6 and the whole history; horizons 1-6),
   subject to the stability figure at windows 3 and 4 being at most
   ``1 - STABILITY_MARGIN`` times that of the previous default on the same pseudo-forecasts.
   If no grid point qualified, the most stable one would be taken.

Nothing is keyed to particular series: the fit sees only arrays of values.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from scipy import optimize, special

from analysis.models.forecasting import (
    BASELINE_DAMPING,
    Hyperparameters,
    Mixture,
    Scale,
    baseline_mixture,
    default_mixture,
    difference_stats,
    noise_grid,
    pad_differences,
)

PSEUDO_TARGET_GROWTH = (0.0, 0.03, 0.06, 0.10)
FIT_WINDOWS = (3, 4, 5, 6, None)
STABILITY_WINDOWS = (3, 4)
STABILITY_MARGIN = 0.05
DAMPING_GRID = np.round(np.arange(0.70, 1.0001, 0.01), 2)
NAIVE_WEIGHT_GRID = np.round(np.arange(0.0, 0.9001, 0.025), 3)
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
    differences, mask, _ = pad_differences(list(z_list))
    stats = difference_stats(differences, mask)
    start = np.array(
        [
            float(np.median(stats["mean"])),
            np.log(max(float(np.std(stats["mean"])), 1e-3)),
            np.log(2.0),
            np.log(max(float(np.sqrt(np.median(stats["ss"] / np.maximum(stats["m"] - 1, 1)))), 1e-4)),
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
    """Pseudo-forecasts inside the training parts: (history, the values that followed) pairs.

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
                cases.append((history if window is None else history[-window:], future))
    return cases


def stability_cases(trains, window: int, origins: int = ORIGINS, horizon: int = HORIZON):
    """Pairs for the stability figure inside the training parts: (history, history plus the next value, targets)."""
    growth = np.asarray(PSEUDO_TARGET_GROWTH)
    cases = []
    for train in trains:
        for end in _origin_ends(train, origins, horizon):
            history = train[max(0, end - window) : end]
            cases.append((history, train[end - len(history) : end + 1], history[-1] * (1 + growth) ** horizon))
    return cases


def probabilities_above(mixture: Mixture, z_targets: np.ndarray) -> np.ndarray:
    """P(z >= target) for each series (rows of ``z_targets``) and each of its targets (columns), one horizon."""
    return np.stack([1 - mixture.cdf(z_targets[:, [g]])[:, 0] for g in range(z_targets.shape[1])], axis=1)


def _parts(z_list, steps, hyper: Hyperparameters) -> tuple[Mixture, Mixture]:
    """The drift part alone and the no-change part alone (the pool mixes them with ``naive_weight``)."""
    drift = default_mixture(z_list, steps, Hyperparameters(**{**hyper.as_dict(), "naive_weight": 0.0}))
    naive = default_mixture(z_list, steps, Hyperparameters(**{**hyper.as_dict(), "naive_weight": 1.0}))
    return drift, naive


def fit_hyperparameters(trains, scale: Scale = LOG) -> tuple[Hyperparameters, dict]:
    """The fitting rule of the module docstring, on training series in their original unit.

    Returns
    -------
    (Hyperparameters, dict)
        The fitted values, and the figures behind the choice: the chosen grid point's log score
        and stability per window against the previous default, the best point without the
        stability constraint, the number of series and pseudo-forecasts.
    """
    trains = [np.asarray(t, float) for t in trains]
    prior = fit_empirical_bayes([scale.forward(t) for t in trains])
    cases = origin_cases(trains)
    if not cases:
        # training parts shorter than HORIZON + 3 points leave nothing to choose damping and weight on
        fallback = Hyperparameters(**{**prior.as_dict(), "damping": BASELINE_DAMPING, "naive_weight": 0.5})
        return fallback, {
            "series": len(trains),
            "pseudo_forecasts": 0,
            "chosen": {"damping": BASELINE_DAMPING, "naive_weight": 0.5, "note": "training parts too short"},
            "best_without_stability_constraint": {},
            "previous_default_stability": {},
            "constraint_met": False,
        }
    histories = [scale.forward(h) for h, _ in cases]
    futures = np.stack([scale.forward(f) for _, f in cases])
    steps = np.arange(1, HORIZON + 1)
    reference, pairs = {}, {}
    for window in STABILITY_WINDOWS:
        found = stability_cases(trains, window)
        before = [scale.forward(a) for a, _, _ in found]
        after = [scale.forward(b) for _, b, _ in found]
        z_targets = scale.forward(np.stack([t for _, _, t in found]))
        p_before = probabilities_above(baseline_mixture(before, [HORIZON]), z_targets)
        p_after = probabilities_above(baseline_mixture(after, [HORIZON - 1]), z_targets)
        reference[window] = float(np.mean(np.abs(p_after - p_before)))
        pairs[window] = (before, after, z_targets)
    grid = []
    for damping in DAMPING_GRID:
        hyper = Hyperparameters(**{**prior.as_dict(), "damping": float(damping)})
        drift, naive = _parts(histories, steps, hyper)
        log_drift, log_naive = drift.logpdf(futures), naive.logpdf(futures)
        parts = {}
        for window, (before, after, z_targets) in pairs.items():
            parts[window] = [
                probabilities_above(part, z_targets)
                for part in (*_parts(before, [HORIZON], hyper), *_parts(after, [HORIZON - 1], hyper))
            ]
        for weight in NAIVE_WEIGHT_GRID:
            with np.errstate(divide="ignore"):
                score = float(np.mean(np.logaddexp(np.log1p(-weight) + log_drift, np.log(weight) + log_naive)))
            row = {"damping": float(damping), "naive_weight": float(weight), "log_score": score}
            for window, (drift_before, naive_before, drift_after, naive_after) in parts.items():
                p_before = (1 - weight) * drift_before + weight * naive_before
                p_after = (1 - weight) * drift_after + weight * naive_after
                row[f"stability_{window}"] = float(np.mean(np.abs(p_after - p_before)))
                row[f"stability_ratio_{window}"] = row[f"stability_{window}"] / reference[window]
            grid.append(row)
    feasible = [r for r in grid if all(r[f"stability_ratio_{w}"] <= 1 - STABILITY_MARGIN for w in STABILITY_WINDOWS)]
    chosen = (
        max(feasible, key=lambda r: r["log_score"])
        if feasible
        else min(grid, key=lambda r: max(r[f"stability_ratio_{w}"] for w in STABILITY_WINDOWS))
    )
    fitted = Hyperparameters(
        **{**prior.as_dict(), "damping": chosen["damping"], "naive_weight": chosen["naive_weight"]}
    )
    figures = {
        "series": len(trains),
        "pseudo_forecasts": len(cases),
        "chosen": chosen,
        "best_without_stability_constraint": max(grid, key=lambda r: r["log_score"]),
        "previous_default_stability": reference,
        "constraint_met": bool(feasible),
    }
    return fitted, figures


def _rounded(value):
    return round(value, 6) if isinstance(value, float) else value


def defaults_document(hyper: Hyperparameters, figures: dict, data: Path, seconds: float) -> str:
    """``forecast_defaults.yml``: the fitted values with their provenance (data, date, figures), as YAML text."""
    import datetime as dt

    import yaml

    from analysis import __version__

    document = {
        "hyperparameters": {name: round(value, 6) for name, value in hyper.as_dict().items()},
        "provenance": {
            "command": "python -m analysis fit-defaults" + (f" --data {data}" if data.name != "m3_yearly.csv" else ""),
            "data": data.name,
            "data_sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
            "series": figures["series"],
            "pseudo_forecasts": figures["pseudo_forecasts"],
            "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "package_version": __version__,
            "fit_seconds": round(seconds, 1),
            "rule": "empirical Bayes priors on all training differences, then damping and naive weight by the "
            "predictive log score of pseudo-forecasts inside the training parts, subject to stability at "
            f"windows {', '.join(map(str, STABILITY_WINDOWS))} at most {1 - STABILITY_MARGIN:.2f} x the previous "
            "default's (analysis/models/forecast_fit.py)",
        },
        "figures": {
            "chosen": {k: _rounded(v) for k, v in figures["chosen"].items()},
            "best_without_stability_constraint": {
                k: _rounded(v) for k, v in figures["best_without_stability_constraint"].items()
            },
            "previous_default_stability": {
                f"window_{k}": _rounded(v) for k, v in figures["previous_default_stability"].items()
            },
            "constraint_met": figures["constraint_met"],
        },
    }
    header = (
        "# The default forecaster's hyperparameters (log / logit scale), fitted on the training parts of the\n"
        "# benchmark series. Written by `python -m analysis fit-defaults`; read by analysis.models.forecasting.\n"
        "# Do not edit by hand: rerun the command (the benchmark in the README is cross-fitted and does not\n"
        "# use these values, so it stays out of sample).\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
