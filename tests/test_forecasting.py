"""The forecaster: bounded, honest intervals, exact probabilities that agree with its own paths, fitting
that recovers what it should, and a benchmark that scores out of sample on any file in the M3 format."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from analysis.models import forecasting
from analysis.models.benchmark import FittedDefault, FixedModel, Textbook, evaluate, load_series, mase, smape
from analysis.models.forecast_fit import fit_empirical_bayes

CITY = ([2021, 2022, 2023, 2024], [15.38, 18.66, 21.5, 22.0])


def test_share_forecasts_and_paths_stay_inside_0_100():
    result = forecasting.forecast(*CITY, 7, unit="percent_of_GRDP")
    bands = result.quantiles()
    assert bands["lo95"].min() > 0 and bands["hi95"].max() < 100
    paths = result.paths(2000)
    assert paths.min() > 0 and paths.max() < 100


def test_intervals_widen_with_horizon_and_nest():
    # (Fewer points need not mean wider intervals: the pool of "no change" and "drift" spreads a
    # long steady rise too; the benchmark checks coverage at every window instead.)
    years = np.arange(2010, 2024)
    values = 10 + 0.8 * (years - 2010) + np.random.default_rng(1).normal(0, 0.3, len(years))
    for window in (None, 3):
        kept = slice(-window, None) if window else slice(None)
        bands = forecasting.forecast(years[kept], values[kept], 5, unit="percent").quantiles()
        assert np.all(np.diff(bands["hi80"] - bands["lo80"]) > 0)
        assert np.all(bands["lo95"] < bands["lo80"]) and np.all(bands["lo80"] < bands["lo50"])
        assert np.all(bands["lo50"] < bands["median"]) and np.all(bands["median"] < bands["hi50"])
        assert np.all(bands["hi50"] < bands["hi80"]) and np.all(bands["hi80"] < bands["hi95"])


def test_a_straight_series_still_has_uncertainty():
    bands = forecasting.forecast([2020, 2021, 2022, 2023], [10, 11, 12, 13], 3, unit="percent").quantiles()
    assert (bands["hi95"] - bands["lo95"])[-1] > 0.1


def test_exact_probabilities_agree_with_the_paths_drawn_from_the_same_posterior():
    result = forecasting.forecast(*CITY, 6, unit="percent_of_GRDP")
    paths = result.paths(40_000, seed=3)
    for target in (20.0, 25.0, 40.0):
        exact = result.probability_in_year(target)
        simulated = (paths >= target).mean(axis=0)
        assert np.abs(exact - simulated).max() < 0.015, target
    # the quantiles invert the distribution function
    bands = result.quantiles()
    assert np.allclose(1 - result.probability_in_year(float(bands["hi80"][-1]))[-1], 0.90, atol=1e-4)


def test_probabilities_fall_with_the_target_and_met_by_dominates_in_year():
    result = forecasting.forecast([2020, 2021, 2022, 2023], [12.6, 13.8, 13.5, 14.65], 7, unit="percent_of_GRDP")
    assert result.probability_in_year(15)[-1] > result.probability_in_year(25)[-1]
    paths = result.paths(3000)
    in_year = (paths >= 20).mean(axis=0)
    assert np.all(forecasting.probability_met_by(paths, 20) >= in_year - 1e-12)


def test_baseline_single_models_are_the_textbook_student_t():
    # The previous default's naive model: t with m - 1 + 2 degrees of freedom and the weak prior in the scale.
    values = np.array([10.0, 11.0, 11.5, 13.0])
    z = np.log(values / (100 - values))
    d = np.diff(z)
    dof = len(d) - 1 + forecasting.BASELINE_PRIOR_DOF
    variance = (
        np.sum((d - d.mean()) ** 2) + forecasting.BASELINE_PRIOR_DOF * forecasting.BASELINE_PRIOR_SIGMA**2
    ) / dof
    target = 12.0
    expected = 1 - stats.t.cdf(np.log(target / (100 - target)), dof, loc=z[-1], scale=np.sqrt(2 * variance))
    result = forecasting.forecast([1, 2, 3, 4], values, 2, unit="percent", method="naive")
    assert result.probability_in_year(target)[1] == pytest.approx(expected, abs=1e-9)


def test_median_first_year_is_inf_when_target_out_of_reach():
    paths = np.full((100, 5), 10.0)
    assert forecasting.median_first_year(paths, 2024, 20) == np.inf
    assert forecasting.median_first_year(paths, 2024, 5) == 2024


def test_empirical_bayes_recovers_the_drift_and_noise_it_was_given():
    rng = np.random.default_rng(7)
    series = []
    for _ in range(400):
        drift = rng.normal(0.05, 0.02)
        series.append(np.cumsum(np.r_[0.0, drift + 0.03 * rng.standard_normal(12)]))
    fitted = fit_empirical_bayes(series)
    assert fitted.drift_mean == pytest.approx(0.05, abs=0.005)
    assert fitted.drift_sd == pytest.approx(0.02, abs=0.007)
    assert fitted.noise_scale == pytest.approx(0.03, rel=0.25)


def test_the_shipped_defaults_carry_their_provenance_for_each_kind():
    document = forecasting.defaults_document()
    assert set(document) == {"share", "level"}
    for kind, data in (("share", "share_series.csv"), ("level", "m3_yearly.csv")):
        section = document[kind]
        assert set(section["hyperparameters"]) == set(forecasting.Hyperparameters.__dataclass_fields__)
        assert section["provenance"]["data"] == data and len(section["provenance"]["data_sha256"]) == 64
        assert section["provenance"]["series"] > 100 and section["figures"]["constraint_met"] is True
    # the reports' shares take the share defaults, fitted on shares
    share = forecasting.forecast(*CITY, 3, unit="percent_of_GRDP")
    assert share.hyper == forecasting.load_defaults("share") != forecasting.load_defaults("level")


@pytest.mark.parametrize("level", [97.0, 0.5])
def test_no_quantile_or_path_of_a_share_leaves_0_100_near_either_bound(level):
    rising = [level - 1.5, level - 0.8, level - 0.3, level] if level > 50 else [0.2, 0.3, 0.4, level]
    result = forecasting.forecast([2021, 2022, 2023, 2024], rising, 6, unit="percent")
    bands = result.quantiles()
    assert all((band > 0).all() and (band < 100).all() for band in bands.values())
    paths = result.paths(3000)
    assert paths.min() > 0 and paths.max() < 100


def test_a_missing_year_is_a_two_year_step():
    differences, gaps, mask, _ = forecasting.pad_differences([np.log([1.0, 2.0, 4.0])], [[1, 2]])
    stats = forecasting.difference_stats(differences, gaps, mask)
    assert stats["n"][0] == 2 and stats["m"][0] == 3  # two changes over three years
    assert stats["mean"][0] == pytest.approx(np.log(4) / 3)
    # with a wide prior the drift posterior is the change per year: over four years with a gap, not three
    wide = forecasting.load_defaults("share").replace(drift_sd=10.0)
    z = forecasting.SHARE_SCALE.forward([0.4, 0.78, 0.97, 1.2])
    with_gap = forecasting.posterior([z], wide, [[1, 1, 2]])
    without = forecasting.posterior([z], wide)
    per_year = (z[-1] - z[0]) / np.array([4.0, 3.0])
    assert np.average(with_gap.mean[0], weights=with_gap.weight[0]) == pytest.approx(per_year[0], rel=0.01)
    assert np.average(without.mean[0], weights=without.weight[0]) == pytest.approx(per_year[1], rel=0.01)


def test_a_published_plan_moves_the_forecast_of_its_year():
    years, budget = [2020, 2021, 2022, 2024], [0.4, 0.78, 0.97, 1.2]
    plain = forecasting.forecast(years, budget, 4, unit="percent")
    planned = forecasting.forecast(years, budget, 4, unit="percent", plan=(2026, 2.5, 0.9, 0.25))
    before, after = plain.quantiles(), planned.quantiles()
    # 2026 is step 2: pulled toward what the plan implies (2.5 x 0.9), and narrower
    assert before["median"][1] < after["median"][1] < 2.5
    assert (after["hi80"][1] - after["lo80"][1]) < (before["hi80"][1] - before["lo80"][1])
    assert planned.probability_in_year(2.0)[1] > plain.probability_in_year(2.0)[1]
    # the paths agree with the conditioned closed form in the plan's year
    paths = planned.paths(20_000, seed=1)
    assert abs((paths[:, 1] >= 2.0).mean() - planned.probability_in_year(2.0)[1]) < 0.03
    # a plan that says nothing new leaves the forecast nearly where it was
    unchanged = forecasting.forecast(years, budget, 4, unit="percent", plan=(2026, before["median"][1] / 0.9, 0.9, 5.0))
    assert unchanged.quantiles()["median"][1] == pytest.approx(before["median"][1], rel=0.02)


def test_the_single_models_are_statsmodels_and_the_benchmark_scores_the_same_closed_forms():
    from analysis.models.single_models import closed_forms, statsmodels_forecast

    rng = np.random.default_rng(3)
    cases = [
        (np.array([2021, 2022, 2023, 2024]), np.array([-1.70, -1.47, -1.29, -1.27])),
        (np.array([2020, 2021, 2022, 2024]), np.log([0.4, 0.78, 0.97, 1.2])),  # a missing year
        (np.arange(2015, 2021), rng.normal(size=6).cumsum()),
    ]
    for years, z in cases:
        fitted, closed = statsmodels_forecast(years, z, 5), closed_forms([z], 5, [years])
        assert set(fitted) == {"naive", "drift", "trend"}
        for name, (location, scale, dof) in fitted.items():
            assert location == pytest.approx(closed[name][0][0], abs=1e-4)
            assert scale == pytest.approx(closed[name][1][0], rel=1e-3)
            assert dof == closed[name][2][0]


def _synthetic_series(count: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        values = 100 * np.exp(np.cumsum(rng.normal(0.04, 0.05, 16)))
        out.append((f"S{i}", values[:-6], values[-6:]))
    return out


def test_metrics():
    assert smape([100], [100]) == 0
    assert smape([100], [50]) == pytest.approx(200 * 50 / 150)
    assert mase([1, 2, 3], [4], [4]) == 0


def test_benchmark_is_cross_fitted_and_reports_every_figure():
    series = _synthetic_series()
    seen = []

    class Recording(FittedDefault):
        def fit(self, trains, scale):
            seen.append({t.tobytes() for t in trains})
            return super().fit(trains, scale)

    result = evaluate(series, window=3, methods=[Recording()])
    figures = result["methods"]["default"]
    assert set(figures) >= {"smape", "mase", "coverage80", "coverage95", "brier", "stability", "out_of_bounds"}
    assert 0 <= figures["stability"] <= 1 and 0 <= figures["coverage80"] <= 1
    # two fits, on complementary halves: no series is scored by a fit that saw it
    assert len(seen) == 2 and not (seen[0] & seen[1])
    assert len(seen[0] | seen[1]) == len(series)


def _share_file(path, count: int = 24):
    """A small share file in the M3 format: rising adoption-type shares near the top."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(count):
        values = 100 / (1 + np.exp(-(1.0 + np.cumsum(rng.normal(0.35, 0.15, 16)))))
        for t, value in enumerate(values):
            rows.append(
                {
                    "series_id": f"P{i}",
                    "category": "Users (% of population)",
                    "t": t,
                    "value": value,
                    "split": "train" if t < 11 else "test",
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_kind_share_models_the_file_on_the_bounded_scale(tmp_path):
    path = _share_file(tmp_path / "shares.csv")
    series, detected = load_series(path)
    assert detected == "share" and load_series(path, "level")[1] == "level"
    methods = lambda: [FixedModel("baseline"), Textbook("drift")]  # noqa: E731
    as_share = evaluate(series, window=3, methods=methods(), kind="share")
    as_level = evaluate(series, window=3, methods=methods(), kind="level")
    # on the logit scale nothing crosses 100; the textbook interval, on the original scale, does
    assert as_share["methods"]["baseline"]["out_of_bounds"] == 0.0
    assert as_share["methods"]["textbook:drift"]["out_of_bounds"] > 0.0
    assert as_share["kind"] == "share" and as_share["methods"]["baseline"] != as_level["methods"]["baseline"]
    # the same model on the log scale (what --kind level would use) puts shares above 100
    windows = [forecasting.Scale("log").forward(train[-3:]) for _, train, _ in series]
    upper = forecasting.Scale("log").inverse(forecasting.baseline_mixture(windows, np.arange(1, 6)).quantiles([0.975]))
    assert (upper > 100).any()


def test_benchmark_file_errors_name_the_row_and_column(tmp_path):
    path = tmp_path / "bench.csv"
    path.write_text("series_id,t,value,split\nA,1,10,train\nA,2,-3,train\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 3, column value"):
        load_series(path)
    with pytest.raises(ValueError, match=r"row 3, column value: .* within 0-100"):
        path.write_text("series_id,t,value,split\nA,1,10,train\nA,2,130,train\n", encoding="utf-8")
        load_series(path, "share")


def test_fit_defaults_runs_on_any_file_in_the_format_and_keeps_the_other_kind(tmp_path):
    rows = [
        {"series_id": sid, "t": t, "value": v, "split": "train" if t < len(train) else "test"}
        for sid, train, test in _synthetic_series(30, seed=2)
        for t, v in enumerate(np.r_[train, test])
    ]
    data, out = tmp_path / "other.csv", tmp_path / "defaults.yml"
    pd.DataFrame(rows).to_csv(data, index=False)
    out.write_text(forecasting.DEFAULTS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "fit-defaults", "--kind", "level", "--data", str(data), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert document["level"]["provenance"]["data"] == "other.csv" and document["level"]["provenance"]["series"] == 30
    assert document["share"] == forecasting.defaults_document()["share"]  # the other kind is kept as it was
    hyper = forecasting.load_defaults("level", out)
    assert 0.7 <= hyper.damping <= 1 and 0 <= hyper.naive_weight <= 0.9
