"""The latent x factor MI matrix finds which code carries which factor."""

import numpy as np
import pytest

from vae.metrics import mig, utils
from vae.metrics.mi_matrix import mutual_information_matrix, order_latents


def _codes_and_factors(seed=0, num=1000):
    rng = np.random.RandomState(seed)
    factors = np.stack([rng.randint(4, size=num), rng.randint(5, size=num)], axis=1)
    # Code 0 is noise, code 1 is factor 1, code 2 is factor 0.
    codes = np.stack([rng.randn(num), factors[:, 1], factors[:, 0]], axis=1) + 0.01 * rng.randn(num, 3)
    return codes, factors


def test_each_factor_is_found_in_the_code_that_carries_it():
    codes, factors = _codes_and_factors()
    mi = mutual_information_matrix(codes, factors)
    assert mi.shape == (3, 2)
    assert np.argmax(mi, axis=0).tolist() == [2, 1]
    assert mi[2, 0] == pytest.approx(utils.discrete_entropy(factors)[0], rel=1e-6)
    assert mi[0].max() < 0.05


def test_matrix_agrees_with_mig():
    codes, factors = _codes_and_factors()
    mi = np.sort(mutual_information_matrix(codes, factors), axis=0)[::-1]
    expected = np.mean((mi[0] - mi[1]) / utils.discrete_entropy(factors))
    assert mig(codes, factors)["mig"] == pytest.approx(expected)


def test_latents_are_ordered_by_factor_with_inactive_ones_last():
    mi = np.array([[0.0, 0.1], [0.0, 2.0], [1.5, 0.0], [0.0, 1.0], [0.9, 0.0]])
    result = order_latents(mi, activity=[0.5, 3.0, 2.0, 0.001, 1.0])
    assert result["order"].tolist() == [2, 4, 1, 0, 3]
    assert result["best_factor"].tolist() == [1, 1, 0, 1, 0]
    assert result["active"].tolist() == [True, True, True, False, True]


def test_order_rejects_activity_of_the_wrong_length():
    with pytest.raises(utils.MetricInputError, match="activity"):
        order_latents(np.zeros((3, 2)), activity=[1.0, 1.0])
