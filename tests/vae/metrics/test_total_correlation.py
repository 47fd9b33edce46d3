"""The Gaussian total correlation is corrected for its finite-sample bias."""

import numpy as np
import pytest

from vae.metrics import gaussian_total_correlation
from vae.metrics.total_correlation import plug_in_bias


def test_corrected_tc_of_independent_codes_is_near_zero_where_the_plug_in_is_not():
    codes = np.random.RandomState(0).randn(500, 50) * np.linspace(0.5, 3.0, 50)
    result = gaussian_total_correlation(codes)
    bias = result["gaussian_total_correlation_bias"]
    assert bias == pytest.approx(50 * 49 / (4 * 499), rel=0.1)  # about 1.2 nats
    assert result["gaussian_total_correlation"] + bias > 0.8 * bias  # the plug-in value
    assert abs(result["gaussian_total_correlation"]) < 0.25 * bias
    assert (result["gaussian_total_correlation_n"], result["gaussian_total_correlation_d"]) == (500, 50)


def test_bias_correction_is_unbiased_over_repeated_draws():
    rng = np.random.RandomState(1)
    values = [gaussian_total_correlation(rng.randn(60, 20))["gaussian_total_correlation"] for _ in range(200)]
    # d / N = 1/3: the first-order term d(d-1)/(4 nu) would leave a visible bias here.
    assert abs(np.mean(values)) < 0.05
    assert plug_in_bias(20, 60) > 1.1 * 20 * 19 / (4 * 59)


def test_exact_bias_approaches_the_first_order_term_for_few_dimensions():
    assert plug_in_bias(200, 200_001) == pytest.approx(200 * 199 / (4 * 200_000), rel=1e-2)
    assert plug_in_bias(1, 100) == 0.0
