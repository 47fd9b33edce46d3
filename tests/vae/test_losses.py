"""The loss terms of vae.losses checked against values computed by hand on tiny inputs."""

import keras
import numpy as np
import pytest
from keras import ops

from vae import losses

pytestmark = pytest.mark.backend_neutral


def _np(x):
    return ops.convert_to_numpy(x)


def _value_and_gradients(fn, *args):
    """``fn(*args)`` (a scalar) and its gradients with respect to each argument, on the current
    backend (Keras has no backend-neutral gradient call)."""
    args = [np.asarray(a, np.float32) for a in args]
    if keras.backend.backend() == "jax":
        import jax

        value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
        return value, [np.asarray(g) for g in grads]
    import tensorflow as tf

    variables = [tf.Variable(a) for a in args]
    with tf.GradientTape() as tape:
        value = fn(*variables)
    return value, [g.numpy() for g in tape.gradient(value, variables)]


# --- MMD ------------------------------------------------------------------------------
def test_mmd_matches_a_hand_computed_value():
    # One scale s = 0.5 in 1-D gives C = 2 * 1 * 0.5 = 1, so k(a, b) = 1 / (1 + (a - b)^2).
    z = np.array([[0.0], [1.0]], np.float32)
    prior = np.array([[0.0], [2.0]], np.float32)
    k_zz = 0.5  # k(0, 1), the only off-diagonal pair
    k_pp = 0.2  # k(0, 2)
    k_zp = (1.0 + 0.2 + 0.5 + 0.5) / 4  # k(0,0), k(0,2), k(1,0), k(1,2)
    expected = k_zz + k_pp - 2 * k_zp  # -0.4: the unbiased estimate can be negative
    assert float(_np(losses.mmd_imq(z, prior, scales=(0.5,)))) == pytest.approx(expected, abs=1e-6)


def test_mmd_of_a_sample_with_itself_is_the_unbiased_estimators_small_negative_bias():
    # With the diagonal dropped from the within-sample terms only, MMD(z, z) is
    # (2 / n) * (mean off-diagonal kernel - 1) per scale: below 0 and shrinking like 1/n.
    rng = np.random.default_rng(0)
    for n in (8, 64):
        z = rng.standard_normal((n, 3)).astype(np.float32)
        sq = ((z[:, None] - z[None]) ** 2).sum(-1)
        expected = 0.0
        for s in (0.1, 1.0, 10.0):
            k = (6 * s) / (6 * s + sq)
            expected += 2 / n * ((k.sum() - n) / (n * (n - 1)) - 1)
        value = float(_np(losses.mmd_imq(z, z, scales=(0.1, 1.0, 10.0))))
        assert value == pytest.approx(expected, rel=1e-4)
        assert -2 * 3 / n < value < 0


def test_mmd_of_independent_samples_of_one_distribution_is_zero_on_average():
    rng = np.random.default_rng(1)
    values = [
        float(_np(losses.mmd_imq(rng.standard_normal((64, 4)).astype(np.float32),
                                 rng.standard_normal((64, 4)).astype(np.float32))))
        for _ in range(30)
    ]
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values)) + 1e-3


def test_mmd_of_a_single_sample_is_zero_with_finite_gradients():
    value, grads = _value_and_gradients(lambda z, p: losses.mmd_imq(z, p), [[0.5, -1.0]], [[0.0, 2.0]])
    assert float(_np(value)) == 0.0
    assert all(np.isfinite(g).all() for g in grads)


def test_mmd_grows_as_the_samples_separate():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((64, 2)).astype(np.float32)
    prior = rng.standard_normal((64, 2)).astype(np.float32)
    values = [float(_np(losses.mmd_imq(z + shift, prior))) for shift in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert values[0] < 0.05 < values[2]


# --- vector quantization ----------------------------------------------------------------
CODEBOOK = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)


def test_nearest_codes_picks_the_closest_code_vector():
    z = np.array([[0.9, 0.1], [0.1, 1.2], [-1.0, -1.0], [0.6, 0.0]], np.float32)
    assert _np(losses.nearest_codes(z, CODEBOOK)).tolist() == [1, 2, 0, 1]


def test_nearest_codes_keeps_the_grid_layout():
    z = np.zeros((2, 3, 4, 2), np.float32)
    z[1, 2, 3] = [0.0, 1.9]
    codes = _np(losses.nearest_codes(z, CODEBOOK))
    assert codes.shape == (2, 3, 4)
    assert codes[1, 2, 3] == 2 and codes.sum() == 2


def test_perplexity_of_uniform_use_of_k_codes_is_k_and_of_one_code_is_1():
    assert float(_np(losses.perplexity(np.full(16, 5.0, np.float32)))) == pytest.approx(16.0, rel=1e-5)
    one = np.zeros(16, np.float32)
    one[3] = 100.0
    assert float(_np(losses.perplexity(one))) == pytest.approx(1.0, abs=1e-6)
    # Two codes used 3:1: exp(-(0.75 ln 0.75 + 0.25 ln 0.25)).
    two = np.array([3.0, 1.0, 0.0, 0.0], np.float32)
    assert float(_np(losses.perplexity(two))) == pytest.approx(np.exp(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25))), rel=1e-5)


def test_code_counts_counts_each_code_over_the_whole_grid():
    codes = np.array([[[0, 2], [2, 2]]], np.int32)
    assert _np(losses.code_counts(codes, 4)).tolist() == [1.0, 0.0, 3.0, 0.0]


def test_vq_loss_is_codebook_plus_weighted_commitment_per_example():
    z_e = np.array([[[1.0, 2.0]], [[0.0, 0.0]]], np.float32)  # two examples, one position
    z_q = np.array([[[0.0, 0.0]], [[0.0, 1.0]]], np.float32)
    assert _np(losses.vq_loss(z_e, z_q, 0.25)).tolist() == pytest.approx([5.0 * 1.25, 1.0 * 1.25])


def test_vq_loss_sends_the_codebook_term_to_codes_and_the_commitment_term_to_the_encoder():
    _, (grad_e, grad_q) = _value_and_gradients(lambda z_e, z_q: ops.sum(losses.vq_loss(z_e, z_q, 0.25)),
                                               [[1.0, 2.0]], [[0.0, 0.0]])
    np.testing.assert_allclose(grad_e, 0.25 * 2 * np.array([[1.0, 2.0]]))  # commitment only
    np.testing.assert_allclose(grad_q, 2 * np.array([[-1.0, -2.0]]))  # codebook only


def test_straight_through_gives_the_code_forward_and_passes_gradients_to_the_encoder():
    weights = np.array([[2.0, 3.0], [5.0, 7.0]], np.float32)

    def quantized(z_e):
        return losses.straight_through(z_e, ops.take(CODEBOOK, losses.nearest_codes(z_e, CODEBOOK), axis=0))

    z_e = np.array([[0.3, -0.2], [1.4, 0.1]], np.float32)
    np.testing.assert_allclose(_np(quantized(z_e)), [[0.0, 0.0], [1.0, 0.0]])
    # d out / d z_e is the identity through the quantizer: exactly the weights.
    _, (grad,) = _value_and_gradients(lambda z: ops.sum(weights * quantized(z)), z_e)
    np.testing.assert_allclose(grad, weights)
