"""The importance-weighted likelihood: bounded by the ELBO and tighter with more samples."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from vae import losses
from vae.metrics import importance_weighted_nll
from vae.metrics.likelihood import bits_per_dim
from vae.models import build_model

pytestmark = pytest.mark.backend_neutral


@pytest.fixture(scope="module")
def model_and_data():
    keras.utils.set_random_seed(1)
    model = build_model("mlp", (28, 28, 1), "bernoulli", latent_dim=4, depth=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = (np.random.default_rng(0).random((128, 28, 28, 1)) < 0.2).astype("float32")
    model.fit(x, epochs=3, batch_size=32, verbose=0)
    return model, x[:16]


def exact_elbo_nll(model, x, samples=2000):
    """-ELBO estimated with many single samples (its expectation, not a bound on it)."""
    z_mean, z_log_var = (ops.convert_to_numpy(t) for t in model.encode(x))
    kl = ops.convert_to_numpy(ops.sum(losses.kl_per_dim(z_mean, z_log_var), axis=-1))
    total = np.zeros(len(x))
    rng = np.random.default_rng(0)
    for _ in range(samples // 100):
        eps = rng.standard_normal((100, *z_mean.shape)).astype("float32")
        z = (z_mean + np.exp(0.5 * z_log_var) * eps).reshape(-1, z_mean.shape[1])
        tiled = np.tile(x, (100, 1, 1, 1))
        total += ops.convert_to_numpy(model.reconstruction_nll(tiled, model.decode(z))).reshape(100, len(x)).sum(0)
    return total / samples + kl


def test_one_sample_iwae_is_the_elbo_and_more_samples_tighten_the_bound(model_and_data):
    model, x = model_and_data
    elbo_nll = exact_elbo_nll(model, x).mean()
    k1 = importance_weighted_nll(model, x, num_samples=1, seed=0)
    k1_mean = np.mean([importance_weighted_nll(model, x, num_samples=1, seed=s).mean() for s in range(20)])
    k500 = importance_weighted_nll(model, x, num_samples=500, seed=0).mean()
    assert k1.shape == (16,)
    assert k1_mean == pytest.approx(elbo_nll, rel=0.02)
    assert k500 < elbo_nll  # log p(x) >= IWAE_k >= ELBO


def test_bits_per_dim_conversions():
    assert bits_per_dim(784 * math.log(2), 784, discrete_binary=True) == pytest.approx(1.0)
    # a continuous density of 1 on [0, 1]^D is 8 bits per 8-bit dimension
    assert bits_per_dim(0.0, 10, discrete_binary=False) == pytest.approx(8.0)
