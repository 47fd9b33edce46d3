"""UDR: seeds that agree up to permutation and sign score near 1, independent seeds near 0,
and latents below the KL threshold do not count."""

import numpy as np
import pytest

from vae.metrics import udr as udr_module
from vae.metrics.udr import gaussian_kl, relative_strength, spearman_matrix, udr
from vae.metrics.utils import MetricInputError

# Independent latents still correlate by about 1/sqrt(NUM) on a finite sample, and those small
# correlations enter each column's sum: identical codes of 1,000 rows score about 0.89 (the
# library's own tests accept 0.8 to 1), of 5,000 rows about 0.95.
NUM, DIM = 5000, 5


def _sources(seed=0):
    return np.random.default_rng(seed).normal(size=(NUM, DIM))


def _permuted_flipped(z, seed):
    """The same latents in another order, some negated, squashed monotonically, plus noise."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=z.shape[1])
    codes = np.tanh(z[:, rng.permutation(z.shape[1])] * signs)
    return codes + 0.05 * rng.normal(size=codes.shape)


def _informative(dim=DIM):
    return np.full(dim, 2.0)


# The Lasso's alpha (0.1, the library's) shrinks a matching coefficient to about 0.9, and a
# lone coefficient is the pair score, so UDR_L tops out near 0.9 (the library's tests: >= 0.8).
@pytest.mark.parametrize("correlation, floor", [("spearman", 0.9), ("lasso", 0.8)])
def test_permuted_and_sign_flipped_seeds_score_near_one(correlation, floor):
    z = _sources()
    codes = [z + 0.05 * np.random.default_rng(9).normal(size=z.shape), _permuted_flipped(z, 1),
             _permuted_flipped(z, 2)]
    result = udr(codes, [_informative()] * 3, correlation=correlation)
    assert result.score > floor
    assert min(result.model_scores) > floor
    assert result.num_informative == [DIM] * 3


def test_independent_seeds_score_near_zero():
    rng = np.random.default_rng(3)
    codes = [rng.normal(size=(NUM, DIM)) for _ in range(3)]
    result = udr(codes, [_informative()] * 3)
    assert result.score < 0.1
    assert result.pair_scores.max() < 0.1


def test_rotated_seeds_score_between_the_two():
    # An entangled model: another seed finds the same subspace in another rotation.
    z = _sources()
    angle = np.pi / 4
    rotation = np.eye(DIM)
    rotation[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    aligned = udr([z, _permuted_flipped(z, 1)], [_informative()] * 2).score
    rotated = udr([z, z @ rotation], [_informative()] * 2).score
    assert 0.3 < rotated < aligned - 0.1


def test_latents_below_the_kl_threshold_do_not_count():
    z = _sources()
    base_codes = [z, _permuted_flipped(z, 1)]
    base = udr(base_codes, [_informative()] * 2)
    # Two more latents per seed, noisy and different in each seed, with KL below 0.01 nats.
    rng = np.random.default_rng(5)
    padded = [np.hstack([c, rng.normal(size=(NUM, 2))]) for c in base_codes]
    kl = [np.concatenate([_informative(), [0.001, 0.009]])] * 2
    with_uninformative = udr(padded, kl)
    assert with_uninformative.score == pytest.approx(base.score, abs=1e-12)
    assert with_uninformative.num_informative == [DIM, DIM]
    # Counted as informative, the same latents would pull the score down.
    assert udr(padded, kl, kl_threshold=0.0).score < base.score - 0.05


def test_a_seed_without_informative_latents_agrees_with_nothing():
    z = _sources()
    result = udr([z, z.copy(), z[:, ::-1]], [_informative(), _informative(), np.zeros(DIM)])
    assert result.pairwise[0, 1] > 0.9
    assert result.pairwise[0, 2] == 0.0 and result.pairwise[2, 0] == 0.0
    assert result.num_informative == [DIM, DIM, 0]


def test_configuration_score_is_the_median_of_model_scores_with_the_pair_range():
    z = _sources()
    rng = np.random.default_rng(4)
    codes = [z, _permuted_flipped(z, 1), rng.normal(size=z.shape)]
    result = udr(codes, [_informative()] * 3)
    pairs = result.pairwise
    assert np.isnan(np.diag(pairs)).all()
    # Spearman's matrix is symmetric, so the pair scores are too.
    np.testing.assert_allclose(pairs, pairs.T)
    expected = [np.median([pairs[j, i] for j in range(3) if j != i]) for i in range(3)]
    assert result.model_scores == pytest.approx(expected)
    assert result.score == pytest.approx(np.median(expected))
    metrics = result.as_metrics()
    assert metrics["udr_pair_min"] == pytest.approx(np.nanmin(pairs))
    assert metrics["udr_pair_max"] == pytest.approx(np.nanmax(pairs))


def test_relative_strength_matches_disentanglement_libs_cases():
    assert relative_strength(np.eye(3)) == 1.0
    assert relative_strength(np.array([[1.0, 1, 0], [1, 1, 0], [0, 0, 1]])) == pytest.approx(2 / 3)
    assert relative_strength(np.ones((3, 3))) == pytest.approx(1 / 3)
    assert relative_strength(np.zeros((3, 3))) == 0.0


def test_spearman_matrix_agrees_with_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 4))
    b[:, 1] = np.exp(a[:, 0])  # monotone in a[:, 0]
    matrix = spearman_matrix(a, b)
    assert matrix.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert matrix[i, j] == pytest.approx(abs(spearmanr(a[:, i], b[:, j])[0]))
    assert matrix[0, 1] == pytest.approx(1.0)


def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere():
    kl = gaussian_kl(np.array([[0.0, 1.0], [0.0, -1.0]]), np.array([[0.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(kl, [0.0, 0.5])


@pytest.mark.parametrize("codes, kl, match", [
    ([np.zeros((10, 2))], [np.ones(2)], "at least two seeds"),
    ([np.zeros((10, 2)), np.zeros((9, 2))], [np.ones(2)] * 2, "same inputs"),
    ([np.zeros((10, 2))] * 2, [np.ones(3)] * 2, "one finite value per latent"),
    ([np.full((10, 2), np.nan)] * 2, [np.ones(2)] * 2, "NaN"),
])
def test_bad_inputs_are_refused(codes, kl, match):
    with pytest.raises(MetricInputError, match=match):
        udr(codes, kl)


def test_unknown_correlation_is_refused():
    with pytest.raises(MetricInputError, match="spearman, lasso"):
        udr([np.zeros((10, 2))] * 2, [np.ones(2)] * 2, correlation="pearson")
    assert udr_module.CORRELATIONS == ("spearman", "lasso")
