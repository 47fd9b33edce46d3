"""DCI's histogram trees score like disentanglement_lib's exact gradient-boosted trees."""

import numpy as np
import pytest

from vae.metrics import dci


def _codes(seed, num, entangled):
    rng = np.random.RandomState(seed)
    factors = np.stack([rng.randint(4, size=num), rng.randint(5, size=num)], axis=1)
    first = factors[:, 0] + factors[:, 1] if entangled else factors[:, 0]
    codes = np.stack([first, factors[:, 1], rng.randn(num)], axis=1) + 0.05 * rng.randn(num, 3)
    return codes, factors


@pytest.mark.parametrize("entangled", [False, True])
def test_histogram_trees_agree_with_exact_trees(entangled):
    train, test = _codes(0, 400, entangled), _codes(1, 200, entangled)
    hist = dci(*train, *test, n_estimators=10)
    exact = dci(*train, *test, n_estimators=10, trees="exact")
    assert hist == pytest.approx(exact, abs=0.05)


def test_unknown_tree_kind_is_an_input_error():
    with pytest.raises(ValueError, match="trees"):
        dci(*_codes(0, 50, False), *_codes(1, 20, False), trees="forest")
