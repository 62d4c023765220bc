"""Does the method earn trust?  Back-test on yearly series in the M3 long format.

Input: a CSV with columns ``series_id, t, value, split`` (``split`` is train/test; other
columns are ignored), e.g. ``../shared/benchmarks/m3_yearly.csv``.  For each series the
default method (the pooled paths of :data:`~analysis.models.forecasting.DEFAULT_MODELS`),
every single model, and two baselines (naive, drift with
their textbook normal intervals) forecast the test points from the training points (all of
them, or the last ``window``).  Reported per method: sMAPE, MASE, the share of test points
inside the 80% and 95% intervals, and the Brier score of target probabilities for
pseudo-targets (last training value raised by chosen growth rates, judged at the last test
year), beside the Brier score of Eurostat's category read as yes/no and of the base rate.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models.forecasting import DEFAULT_MODELS, MODELS, path_quantiles, probability_meets, simulate_paths
from analysis.models.progress import eurostat_assessment

PSEUDO_TARGET_GROWTH = (0.0, 0.03, 0.06, 0.10)
REQUIRED_COLUMNS = ("series_id", "t", "value", "split")


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent, as in M3/M4: mean of 200|y - f| / (|y| + |f|)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    return float(np.mean(200.0 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast))))


def mase(train: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute scaled error against the in-sample one-step naive error (m = 1)."""
    scale = np.mean(np.abs(np.diff(np.asarray(train, float))))
    if scale == 0:
        return math.nan
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))) / scale)


def load_series(path: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Read a long-format benchmark file into (series_id, train, test) triples, ordered by t."""
    frame = pd.read_csv(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")
    bad_split = set(frame["split"].unique()) - {"train", "test"}
    if bad_split:
        raise ValueError(f"{path}: column split has values {sorted(bad_split)}; expected train or test")
    out = []
    for series_id, group in frame.sort_values(["series_id", "t"]).groupby("series_id", sort=False):
        train = group.loc[group["split"] == "train", "value"].to_numpy(float)
        test = group.loc[group["split"] == "test", "value"].to_numpy(float)
        if len(train) >= 3 and len(test) >= 1:
            out.append((str(series_id), train, test))
    return out


def _normal_forecast(train: np.ndarray, horizon: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Point forecast and standard deviation per horizon for the naive and drift baselines (fpp3 5.5)."""
    n = len(train)
    steps = np.arange(1, horizon + 1)
    if method == "naive":
        sigma = np.std(np.diff(train), ddof=1) if n > 2 else np.abs(np.diff(train)).mean()
        return np.full(horizon, train[-1]), sigma * np.sqrt(steps)
    slope = (train[-1] - train[0]) / (n - 1)
    residuals = np.diff(train) - slope
    sigma = math.sqrt(np.sum(residuals**2) / max(n - 2, 1))
    return train[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / (n - 1)))


def evaluate(
    series: list[tuple[str, np.ndarray, np.ndarray]], window: int | None = None, n_paths: int = 500, seed: int = 0
) -> dict:
    """Score the default method and the baselines on every series.

    Parameters
    ----------
    series : list of (series_id, train, test)
        As returned by :func:`load_series`; values in any positive unit.
    window : int, optional
        Train on the last ``window`` training points only (None: the whole history).
    n_paths : int
        Simulated paths per model.

    Returns
    -------
    dict
        ``methods``: per method ``smape`` (percent), ``mase``, ``coverage80`` and ``coverage95``
        (share of test points inside the interval, 0-1), ``brier`` (pseudo-targets);
        ``eurostat_yes_no_brier``, ``base_rate`` and ``base_rate_brier``; ``calibration`` bins;
        ``series``, ``window``, ``paths_per_model``, ``default_models``, ``seconds``.
    """
    started = time.perf_counter()
    path_methods = ("default", *tuple(f"model:{m}" for m in MODELS))
    scores = {
        m: {"smape": [], "mase": [], "in80": [], "in95": [], "brier": []} for m in (*path_methods, "naive", "drift")
    }
    eurostat_brier, events, default_probabilities = [], [], []
    z80, z95 = stats.norm.ppf(0.90), stats.norm.ppf(0.975)
    for index, (_series_id, train_full, test) in enumerate(series):
        train = train_full[-window:] if window else train_full
        horizon = len(test)
        years = np.arange(len(train))
        per_model = {
            m: simulate_paths(years, train, horizon, unit=None, n_paths=n_paths, models=(m,), seed=seed + index)
            for m in MODELS
        }
        all_paths = {"default": np.vstack([per_model[m] for m in DEFAULT_MODELS])}
        all_paths.update({f"model:{m}": p for m, p in per_model.items()})
        forecasts = {}
        for method, method_paths in all_paths.items():
            bands = path_quantiles(method_paths)
            forecasts[method] = (bands["median"], bands["lo80"], bands["hi80"], bands["lo95"], bands["hi95"])
        for baseline in ("naive", "drift"):
            mean, sd = _normal_forecast(train, horizon, baseline)
            forecasts[baseline] = (mean, mean - z80 * sd, mean + z80 * sd, mean - z95 * sd, mean + z95 * sd)
        for method, (point, lo80, hi80, lo95, hi95) in forecasts.items():
            scores[method]["smape"].append(smape(test, point))
            scores[method]["mase"].append(mase(train, test, point))
            scores[method]["in80"].extend(((test >= lo80) & (test <= hi80)).tolist())
            scores[method]["in95"].extend(((test >= lo95) & (test <= hi95)).tolist())
        base_series = pd.Series(train, index=np.arange(len(train)))
        for growth in PSEUDO_TARGET_GROWTH:
            target = train[-1] * (1 + growth) ** horizon
            event = float(test[-1] >= target)
            events.append(event)
            probabilities = {method: float(probability_meets(p, target)[-1]) for method, p in all_paths.items()}
            for baseline in ("naive", "drift"):
                mean, sd = _normal_forecast(train, horizon, baseline)
                probabilities[baseline] = float(1 - stats.norm.cdf(target, mean[-1], max(sd[-1], 1e-12)))
            for method, probability in probabilities.items():
                scores[method]["brier"].append((probability - event) ** 2)
            default_probabilities.append(probabilities["default"])
            verdict = _eurostat_yes(base_series, target, len(train) - 1 + horizon)
            eurostat_brier.append((verdict - event) ** 2)
    base_rate = float(np.mean(events)) if events else math.nan
    summary = {
        method: {
            "smape": float(np.mean(v["smape"])),
            "mase": float(np.nanmean(v["mase"])),
            "coverage80": float(np.mean(v["in80"])),
            "coverage95": float(np.mean(v["in95"])),
            "brier": float(np.mean(v["brier"])),
        }
        for method, v in scores.items()
    }
    return {
        "series": len(series),
        "window": window,
        "paths_per_model": n_paths,
        "default_models": list(DEFAULT_MODELS),
        "methods": summary,
        "eurostat_yes_no_brier": float(np.mean(eurostat_brier)),
        "base_rate": base_rate,
        "base_rate_brier": float(np.mean([(base_rate - e) ** 2 for e in events])),
        "pseudo_target_growth": list(PSEUDO_TARGET_GROWTH),
        "calibration": calibration_bins(np.array(default_probabilities), np.array(events)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def calibration_bins(probabilities: np.ndarray, events: np.ndarray, bins: int = 10) -> list[dict]:
    """Reliability table: per probability decile, mean forecast probability, observed frequency, count."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            out.append(
                {
                    "bin": b,
                    "mean_probability": float(probabilities[mask].mean()),
                    "observed_frequency": float(events[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return out


def _eurostat_yes(series: pd.Series, target: float, target_index: int) -> float:
    """Eurostat's category read as a forecast: 1 for on track (significant progress or achieved), else 0."""
    if (series <= 0).any():
        return 0.0
    result = eurostat_assessment(series, target, target_index)
    return 1.0 if result["category"] in ("significant_progress", "target_achieved") else 0.0


def format_table(result: dict) -> str:
    """Plain-text table of a benchmark result."""
    window = f"last {result['window']} points" if result["window"] else "full histories"
    lines = [
        f"{result['series']} series, training on {window} ({result['seconds']} s); "
        f"default = pooled {' + '.join(result['default_models'])}",
        f"{'method':<14}{'sMAPE':>8}{'MASE':>8}{'cov80':>8}{'cov95':>8}{'Brier':>8}",
    ]
    for method, s in result["methods"].items():
        lines.append(
            f"{method:<14}{s['smape']:>8.2f}{s['mase']:>8.2f}{s['coverage80']:>8.1%}{s['coverage95']:>8.1%}{s['brier']:>8.3f}"
        )
    lines.append(
        f"Eurostat category as yes/no: Brier {result['eurostat_yes_no_brier']:.3f}; "
        f"base rate {result['base_rate']:.2f}: Brier {result['base_rate_brier']:.3f}"
    )
    return "\n".join(lines)
