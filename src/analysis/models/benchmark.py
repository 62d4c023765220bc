"""Does the method earn trust?  Back-test on yearly series in the M3 long format, out of sample, on the
path the reports take.

Input: a CSV with columns ``series_id, t, value, split`` (``split`` is train/test; other columns are
ignored), e.g. ``../shared/benchmarks/m3_yearly.csv`` (levels) or ``share_series.csv`` (shares in
percent).  The file's **kind** decides the scale and the priors, as in the reports: a share is modelled
on the logit scale within 0-100 with the ``share`` defaults, a level on the log scale with the
``level`` defaults (:func:`detect_kind`, or ``--kind``).  Each method forecasts the test points from the
training points (all of them, or the last ``window``: the regime of the city's series, three to six
points).

**Cross-fitting.**  The default method's hyperparameters are fitted (:mod:`forecast_fit`) on the
training parts of one half of the series (split by the MD5 hash of ``series_id``) and scored on the
other half, then the halves swap: every figure is out of sample.  The fit never sees a test part.  The
**shipped** defaults (``forecast_defaults.yml``, fitted on every training part of their file) are scored
too, exactly as the reports apply them; on the file they were fitted on they are in sample for the
priors, never for the test parts.

Reported per method: sMAPE, MASE, the share of test points inside the 80% and 95% intervals, the share
of forecast medians and interval bounds outside the kind's bounds (0-100 for a share), the Brier score
of target probabilities for pseudo-targets (the last training value grown by
:data:`PSEUDO_TARGET_GROWTH` a year on the model's scale, judged at the last test year) beside the Brier
score of the base rate and of Eurostat's category read as yes/no, and the **stability**: the mean
absolute change of the probability of meeting the same pseudo-target in the same year when one more
observation (the first test point) is added.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models.benchmark_code import METHOD_FILES
from analysis.models.forecast_fit import (
    PSEUDO_TARGET_GROWTH,
    fit_hyperparameters,
    probabilities_above,
    pseudo_targets,
)
from analysis.models.forecasting import (
    Hyperparameters,
    Scale,
    baseline_mixture,
    default_mixture,
    load_defaults,
    scale_of_kind,
)
from analysis.models.progress import eurostat_assessment
from analysis.models.single_models import SINGLE_MODELS, closed_forms, probability_at_least, quantile

REQUIRED_COLUMNS = ("series_id", "t", "value", "split")
LEVELS = (0.025, 0.10, 0.50, 0.90, 0.975)  # lo95, lo80, median, hi80, hi95
#: Windows of ``make bench`` and of the method appendix (None: the whole history).
WINDOWS = (None, 6, 5, 4, 3)
#: Bounds of each kind's values (a level has no upper bound).
BOUNDS = {"share": (0.0, 100.0), "level": (0.0, math.inf)}


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent, as in M3/M4: mean of 200|y - f| / (|y| + |f|)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    return float(np.mean(200.0 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast))))


def mase(train, actual, forecast) -> float:
    """Mean absolute scaled error against the in-sample one-step naive error (m = 1)."""
    scale = np.mean(np.abs(np.diff(np.asarray(train, float))))
    if scale == 0:
        return math.nan
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))) / scale)


def detect_kind(frame: pd.DataFrame) -> str:
    """``share`` when every value lies in 0-100 and every row's ``category`` (if any) names a percentage,
    ``level`` otherwise."""
    values = pd.to_numeric(frame["value"], errors="coerce")
    percent = "category" in frame and frame["category"].astype(str).str.contains("%").all()
    return "share" if percent and bool(((values >= 0) & (values <= 100)).all()) else "level"


def load_series(path: Path, kind: str | None = None) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], str]:
    """Read a long-format benchmark file into (series_id, train, test) triples, ordered by t, and its kind.

    Raises
    ------
    ValueError
        Naming the file (and the row) for a missing column, an unknown split, or a value the kind's scale
        cannot take (a level must be positive, a share within 0-100).
    """
    frame = pd.read_csv(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")
    bad_split = set(frame["split"].unique()) - {"train", "test"}
    if bad_split:
        raise ValueError(f"{path}: column split has values {sorted(bad_split)}; expected train or test")
    kind = kind or detect_kind(frame)
    values = pd.to_numeric(frame["value"], errors="coerce")
    valid = (values >= 0) & (values <= 100) if kind == "share" else values > 0
    bad = frame.index[~valid]
    if len(bad):
        expected = (
            "a share within 0-100" if kind == "share" else "a positive number (levels are modelled on the log scale)"
        )
        raise ValueError(
            f"{path}, row {int(bad[0]) + 2}, column value: {frame.loc[bad[0], 'value']!r} is not {expected}"
        )
    out = []
    for series_id, group in frame.sort_values(["series_id", "t"]).groupby("series_id", sort=False):
        train = group.loc[group["split"] == "train", "value"].to_numpy(float)
        test = group.loc[group["split"] == "test", "value"].to_numpy(float)
        if len(train) >= 3 and len(test) >= 1:
            out.append((str(series_id), train, test))
    return out, kind


def half_of(series_id: str) -> int:
    """0 or 1: the cross-fitting half of a series, from the MD5 hash of its identifier."""
    return int(hashlib.md5(series_id.encode()).hexdigest(), 16) % 2


# --- methods ------------------------------------------------------------------------------------


@dataclass
class FittedDefault:
    """The default method, its hyperparameters fitted on the training parts it is given (memoised)."""

    name: str = "default"
    fits: dict = field(default_factory=dict)
    fit_seconds: float = 0.0
    #: fitted on the other half of the series (cross-fitting), never on the one it scores
    crossfitted: bool = True

    def fit(self, trains: list[np.ndarray], scale: Scale) -> Hyperparameters:
        key = hashlib.md5(scale.kind.encode() + b"".join(t.tobytes() + b"|" for t in trains)).hexdigest()
        if key not in self.fits:
            started = time.perf_counter()
            self.fits[key] = fit_hyperparameters(trains, scale)[0]
            self.fit_seconds += time.perf_counter() - started
        return self.fits[key]

    def predict(self, hyper, windows, steps, z_targets, target_step, scale: Scale):
        """Quantiles (S, H, 5) in the series' unit and P(value in step ``target_step`` >= target) (S, G)."""
        z_list = [scale.forward(w) for w in windows]
        quantiles = scale.inverse(default_mixture(z_list, steps, hyper).quantiles(LEVELS)) if len(steps) else None
        return quantiles, probabilities_above(default_mixture(z_list, [target_step], hyper), z_targets)


@dataclass
class ShippedDefault(FittedDefault):
    """The default method with the shipped hyperparameters of the file's kind, exactly as the reports apply them."""

    name: str = "shipped"
    crossfitted: bool = False

    def fit(self, trains, scale: Scale) -> Hyperparameters:
        return load_defaults("share" if scale.kind == "logit" else "level")


@dataclass
class FixedModel:
    """The previous default (``baseline``) with its fixed weak prior: nothing to fit."""

    model: str
    name: str = ""

    def __post_init__(self):
        self.name = self.name or self.model

    def fit(self, trains, scale):
        return None

    def predict(self, hyper, windows, steps, z_targets, target_step, scale: Scale):
        z_list = [scale.forward(w) for w in windows]
        quantiles = scale.inverse(baseline_mixture(z_list, steps, self.model).quantiles(LEVELS)) if len(steps) else None
        return quantiles, probabilities_above(baseline_mixture(z_list, [target_step], self.model), z_targets)


@dataclass
class SingleModel:
    """One of the reports' single models (statsmodels' naive, drift, OLS trend, :mod:`single_models`), in
    closed form on the kind's scale."""

    model: str
    name: str = ""

    def __post_init__(self):
        self.name = self.name or f"model:{self.model}"

    def fit(self, trains, scale):
        return None

    def predict(self, hyper, windows, steps, z_targets, target_step, scale: Scale):
        z_list = [scale.forward(w) for w in windows]
        quantiles = None
        if len(steps):
            location, spread, dof = closed_forms(z_list, len(steps))[self.model]
            quantiles = np.stack([scale.inverse(quantile(location, spread, dof[:, None], q)) for q in LEVELS], axis=2)
        location, spread, dof = closed_forms(z_list, target_step)[self.model]
        probabilities = probability_at_least(location[:, [-1]], spread[:, [-1]], dof[:, None], z_targets)
        return quantiles, probabilities


@dataclass
class Textbook:
    """Naive or drift with the textbook normal intervals on the original scale (fpp3 5.5)."""

    kind: str
    name: str = ""

    def __post_init__(self):
        self.name = self.name or f"textbook:{self.kind}"

    def fit(self, trains, scale):
        return None

    def mean_sd(self, window: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(window)
        if self.kind == "naive":
            sigma = np.std(np.diff(window), ddof=1) if n > 2 else np.abs(np.diff(window)).mean()
            return np.full(len(steps), window[-1]), sigma * np.sqrt(steps)
        slope = (window[-1] - window[0]) / (n - 1)
        sigma = math.sqrt(np.sum((np.diff(window) - slope) ** 2) / max(n - 2, 1))
        return window[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / (n - 1)))

    def predict(self, hyper, windows, steps, z_targets, target_step, scale: Scale):
        steps = np.asarray(steps, float)
        z = stats.norm.ppf(LEVELS)
        quantiles = None
        if len(steps):
            quantiles = np.empty((len(windows), len(steps), len(LEVELS)))
            for i, window in enumerate(windows):
                mean, sd = self.mean_sd(window, steps)
                quantiles[i] = mean[:, None] + sd[:, None] * z[None, :]
        probabilities = np.empty(z_targets.shape)
        targets = scale.inverse(z_targets)
        for i, window in enumerate(windows):
            mean, sd = self.mean_sd(window, np.array([float(target_step)]))
            probabilities[i] = 1 - stats.norm.cdf(targets[i], mean[-1], max(sd[-1], 1e-12))
        return quantiles, probabilities


def standard_methods() -> list:
    """The methods of the benchmark table: the fitted and shipped default, the previous default, the single
    models behind the reports' range, and the textbook naive and drift."""
    return [
        FittedDefault(),
        ShippedDefault(),
        FixedModel("baseline"),
        *(SingleModel(m) for m in SINGLE_MODELS),
        Textbook("naive"),
        Textbook("drift"),
    ]


# --- the harness -------------------------------------------------------------------------------


def _eurostat_yes(window: np.ndarray, target: float, target_index: int) -> float:
    """Eurostat's category read as a forecast: 1 for on track (significant progress or achieved), else 0."""
    result = eurostat_assessment(pd.Series(window, index=np.arange(len(window))), target, target_index)
    return 1.0 if result["category"] in ("significant_progress", "target_achieved") else 0.0


def calibration_bins(probabilities: np.ndarray, events: np.ndarray, bins: int = 10) -> list[dict]:
    """Reliability table: per probability decile, mean forecast probability, observed frequency, count."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    return [
        {
            "bin": b,
            "mean_probability": float(probabilities[index == b].mean()),
            "observed_frequency": float(events[index == b].mean()),
            "count": int((index == b).sum()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def evaluate(
    series, window: int | None = None, methods: list | None = None, crossfit: bool = True, kind: str = "level"
) -> dict:
    """Score every method on one window, out of sample.

    Parameters
    ----------
    series : list of (series_id, train, test)
        As returned by :func:`load_series`; series of one test length (the harness groups by it).
    window : int, optional
        Forecast from the last ``window`` training points only (None: the whole history).
    methods : list, optional
        Default: :func:`standard_methods`.  Pass the same objects to several calls to reuse fits.
    crossfit : bool
        Fit on one half and score the other (True), or fit on all series (in sample).
    kind : str
        ``share`` (logit scale within 0-100, share defaults) or ``level`` (log scale, level defaults).

    Returns
    -------
    dict
        ``methods``: per method ``smape`` (percent), ``mase``, ``coverage80`` and ``coverage95`` (0-1),
        ``out_of_bounds`` (share of medians and interval bounds outside the kind's bounds, 0-1), ``brier``,
        ``stability`` (mean absolute change of probability, 0-1), ``seconds``, ``calibration``;
        ``base_rate``, ``base_rate_brier``, ``eurostat_yes_no_brier``; ``series``, ``window``, ``kind``,
        ``seconds``.
    """
    started = time.perf_counter()
    methods = methods if methods is not None else standard_methods()
    scale = scale_of_kind(kind)
    lower, upper = BOUNDS[kind]
    horizons = {len(test) for _, _, test in series}
    if len(horizons) != 1:
        raise ValueError(f"the benchmark needs one test length for all series, found {sorted(horizons)}")
    horizon = horizons.pop()
    trains = [train for _, train, _ in series]
    windows = [train[-window:] if window else train for train in trains]
    windows_plus = [np.append(w, test[0]) for w, (_, _, test) in zip(windows, series, strict=True)]
    actual = np.stack([test for _, _, test in series])
    targets = pseudo_targets(np.array([w[-1] for w in windows]), horizon, scale)
    z_targets = scale.forward(targets)
    events = (actual[:, -1][:, None] >= targets).astype(float)
    base_rate = float(events.mean())
    eurostat = np.array(
        [[_eurostat_yes(w, t, len(w) - 1 + horizon) for t in row] for w, row in zip(windows, targets, strict=True)]
    )
    halves = np.array([half_of(series_id) for series_id, _, _ in series])
    steps = np.arange(1, horizon + 1)
    result = {
        "series": len(series),
        "window": window,
        "horizon": horizon,
        "kind": kind,
        "crossfit": crossfit,
        "base_rate": base_rate,
        "base_rate_brier": float(np.mean((base_rate - events) ** 2)),
        "eurostat_yes_no_brier": float(np.mean((eurostat - events) ** 2)),
        "pseudo_target_growth": list(PSEUDO_TARGET_GROWTH),
        "methods": {},
    }
    for method in methods:
        method_started = time.perf_counter()
        quantiles = np.empty((len(series), horizon, len(LEVELS)))
        probabilities, probabilities_plus = np.empty(targets.shape), np.empty(targets.shape)
        fitted = getattr(method, "crossfitted", False)
        groups = [(halves != b, halves == b) for b in (0, 1)] if fitted and crossfit else [(halves >= 0,) * 2]
        for fit_mask, score_mask in groups:
            hyper = method.fit([trains[i] for i in np.flatnonzero(fit_mask)], scale)
            index = np.flatnonzero(score_mask)
            if not len(index):
                continue
            q, p = method.predict(hyper, [windows[i] for i in index], steps, z_targets[index], horizon, scale)
            _, p_plus = method.predict(
                hyper, [windows_plus[i] for i in index], [], z_targets[index], horizon - 1, scale
            )
            quantiles[index], probabilities[index], probabilities_plus[index] = q, p, p_plus
        scored = ~np.isnan(quantiles).any(axis=(1, 2))  # a single model that cannot fit a window is left out
        median = quantiles[:, :, 2]
        scale_mae = np.array([np.mean(np.abs(np.diff(w))) for w in windows])
        scaled_error = np.mean(np.abs(actual - median), axis=1) / np.where(scale_mae > 0, scale_mae, np.nan)
        a, q = actual[scored], quantiles[scored]
        result["methods"][method.name] = {
            "smape": float(np.mean(200 * np.abs(a - q[:, :, 2]) / (np.abs(a) + np.abs(q[:, :, 2])))),
            "mase": float(np.nanmean(scaled_error[scored])),
            "coverage80": float(np.mean((a >= q[:, :, 1]) & (a <= q[:, :, 3]))),
            "coverage95": float(np.mean((a >= q[:, :, 0]) & (a <= q[:, :, 4]))),
            "out_of_bounds": float(np.mean((q < lower) | (q > upper))),
            "brier": float(np.mean((probabilities[scored] - events[scored]) ** 2)),
            "stability": float(np.mean(np.abs(probabilities_plus[scored] - probabilities[scored]))),
            "series_scored": int(scored.sum()),
            "seconds": round(time.perf_counter() - method_started, 2),
            "calibration": calibration_bins(probabilities[scored].ravel(), events[scored].ravel()),
        }
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def window_key(window: int | None) -> str:
    """'full' for the whole history, else the number of points as text (the keys of the results)."""
    return "full" if window is None else str(window)


def fingerprint(data: Path) -> str:
    """Hash of the benchmark's inputs: the methods' code, the shipped defaults and the data file (results are
    reused while it holds)."""
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for name in METHOD_FILES:
        digest.update((folder / name).read_bytes())
    digest.update(Path(data).read_bytes())
    return digest.hexdigest()


def evaluate_windows(series, windows=WINDOWS, crossfit: bool = True, log=None, kind: str = "level") -> dict[str, dict]:
    """:func:`evaluate` for several windows with shared fits: window key ('full', '6', ...) -> result."""
    methods = standard_methods()
    out = {}
    for window in windows:
        key = window_key(window)
        out[key] = evaluate(series, window, methods, crossfit, kind)
        if log:
            log(f"{kind} window {key}: {out[key]['seconds']} s")
    return out


def format_table(results: dict[str, dict], title: str = "") -> str:
    """Plain-text table of benchmark results by window (as ``make bench`` prints it)."""
    first = next(iter(results.values()))
    lines = [
        f"{title + ': ' if title else ''}{first['series']} {first['kind']} series, horizon {first['horizon']}; figures "
        f"out of sample ({'cross-fitted on two halves' if first['crossfit'] else 'in sample'})",
        f"{'window':<8}{'method':<16}{'sMAPE':>8}{'MASE':>7}{'cov80':>8}{'cov95':>8}{'out':>7}{'Brier':>8}"
        f"{'stab.':>8}{'s':>7}",
    ]
    for key, result in results.items():
        for method, s in result["methods"].items():
            lines.append(
                f"{key:<8}{method:<16}{s['smape']:>8.2f}{s['mase']:>7.2f}{s['coverage80']:>8.1%}"
                f"{s['coverage95']:>8.1%}{s['out_of_bounds']:>7.1%}{s['brier']:>8.3f}{s['stability']:>8.3f}"
                f"{s['seconds']:>7.1f}"
            )
        lines.append(
            f"{key:<8}{'base rate':<16}{'':>54}{result['base_rate_brier']:>8.3f}   "
            f"(Eurostat yes/no Brier {result['eurostat_yes_no_brier']:.3f}; window total {result['seconds']} s)"
        )
    return "\n".join(lines)
