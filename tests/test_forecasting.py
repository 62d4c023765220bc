"""Forecast paths respect bounds, widen with short series, and give sensible probabilities."""

import numpy as np
import pytest

from analysis.models import forecasting
from analysis.models.assessment import likelihood_label
from analysis.models.benchmark import evaluate, mase, smape


def test_share_paths_stay_inside_0_100():
    paths = forecasting.simulate_paths(
        [2021, 2022, 2023], [15.38, 18.66, 21.5], 7, unit="percent_of_GRDP", n_paths=2000
    )
    assert paths.min() > 0.5 and paths.max() < 99.5


def test_intervals_widen_with_horizon_and_with_fewer_points():
    long_years = np.arange(2010, 2024)
    long_values = 10 + 0.8 * (long_years - 2010) + np.random.default_rng(1).normal(0, 0.3, len(long_years))
    long_paths = forecasting.simulate_paths(long_years, long_values, 5, unit="percent", n_paths=4000)
    short_paths = forecasting.simulate_paths(long_years[-3:], long_values[-3:], 5, unit="percent", n_paths=4000)
    q_long, q_short = forecasting.path_quantiles(long_paths), forecasting.path_quantiles(short_paths)
    width_long = q_long["hi80"] - q_long["lo80"]
    assert np.all(np.diff(width_long) > 0)
    assert (q_short["hi80"] - q_short["lo80"])[-1] > width_long[-1]


def test_parameter_uncertainty_widens_intervals_beyond_residual_noise():
    # A perfectly straight series has no residual noise; parameter (sigma) uncertainty and its floor still give width.
    paths = forecasting.simulate_paths([2020, 2021, 2022, 2023], [10, 11, 12, 13], 3, unit="percent", n_paths=2000)
    q = forecasting.path_quantiles(paths)
    assert (q["hi95"] - q["lo95"])[-1] > 0.1


def test_probabilities_are_monotone_in_target_and_by_year_dominates_in_year():
    paths = forecasting.simulate_paths(
        [2020, 2021, 2022, 2023], [12.6, 13.8, 13.5, 14.65], 7, unit="percent_of_GRDP", n_paths=3000
    )
    low, high = forecasting.probability_meets(paths, 15)[-1], forecasting.probability_meets(paths, 25)[-1]
    assert low > high
    assert np.all(forecasting.probability_met_by(paths, 20) >= forecasting.probability_meets(paths, 20) - 1e-12)


def test_median_first_year_is_inf_when_target_out_of_reach():
    paths = np.full((100, 5), 10.0)
    assert forecasting.median_first_year(paths, 2024, 20) == np.inf
    assert forecasting.median_first_year(paths, 2024, 5) == 2024


def test_metrics():
    assert smape([100], [100]) == 0
    assert smape([100], [50]) == pytest.approx(200 * 50 / 150)
    assert mase([1, 2, 3], [4], [4]) == 0


def test_benchmark_runs_on_any_file_in_the_format():
    rng = np.random.default_rng(0)
    series = [(str(i), 100 + np.cumsum(rng.normal(2, 1, 10)), None) for i in range(20)]
    series = [(sid, values[:-3], values[-3:]) for sid, values, _ in series]
    result = evaluate(series, n_paths=200)
    assert set(result["methods"]) >= {"default", "naive", "drift"}
    assert 0 <= result["methods"]["default"]["coverage80"] <= 1


@pytest.mark.parametrize(
    "p, label",
    [
        (0.995, "virtually_certain"),
        (0.7, "likely"),
        (0.5, "about_as_likely_as_not"),
        (0.2, "unlikely"),
        (0.05, "very_unlikely"),
    ],
)
def test_likelihood_labels(p, label):
    assert likelihood_label(p) == label
