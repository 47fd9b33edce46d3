"""The importance-weighted likelihood: bounded by the ELBO and tighter with more samples."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from vae import losses
from vae.errors import ConfigError
from vae.metrics import importance_weighted_nll, test_nll
from vae.metrics.elbo import per_image_elbo
from vae.metrics.likelihood import bits_per_dim, standard_error
from vae.metrics.terms import evaluate
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


def test_bits_per_dim_is_nats_over_d_ln2_for_every_likelihood():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    # An 8-bit image that costs ln 256 nats per pixel costs 8 bits per pixel.
    assert bits_per_dim(10 * math.log(256), 10) == pytest.approx(8.0)


def test_test_nll_reports_standard_errors_over_images(model_and_data):
    model, x = model_and_data
    per_image = importance_weighted_nll(model, x, num_samples=20, seed=3)
    result = test_nll(model, x, num_samples=20, seed=3)
    assert result["test_nll"] == pytest.approx(per_image.mean())
    assert result["test_nll_se"] == pytest.approx(per_image.std(ddof=1) / 4.0)  # sqrt(16)
    assert result["test_bits_per_dim_se"] == pytest.approx(result["test_nll_se"] / (784 * math.log(2)))


@pytest.fixture(scope="module")
def tiny_untrained():
    keras.utils.set_random_seed(0)
    model = build_model("mlp", (8, 8, 1), "bernoulli", latent_dim=2)
    x = (np.random.default_rng(1).random((200, 8, 8, 1)) < 0.3).astype("float32")
    return model, x


def test_one_sample_iwae_and_the_elbo_agree_within_their_standard_errors(tiny_untrained):
    model, x = tiny_untrained
    iwae = importance_weighted_nll(model, x, num_samples=1, seed=0)
    elbo = per_image_elbo(model, x, seed=1)
    assert elbo.shape == iwae.shape == (200,)
    combined_se = math.hypot(standard_error(iwae), standard_error(elbo))
    assert abs(iwae.mean() + elbo.mean()) < 2 * combined_se


def test_per_image_elbo_is_seeded_and_evaluate_reports_its_standard_error(tiny_untrained):
    model, x = tiny_untrained
    np.testing.assert_array_equal(per_image_elbo(model, x, seed=4), per_image_elbo(model, x, seed=4))
    result = evaluate(model, x)
    elbo = per_image_elbo(model, x, seed=4)
    assert result["test_elbo_se"] == pytest.approx(standard_error(elbo), rel=0.3)
    assert abs(result["test_elbo"] - elbo.mean()) < 3 * result["test_elbo_se"]


def test_per_image_elbo_refuses_a_family_without_an_elbo():
    model = build_model("wae", (8, 8, 1), "bernoulli", latent_dim=2)
    with pytest.raises(ConfigError, match="no ELBO"):
        per_image_elbo(model, np.zeros((4, 8, 8, 1), "float32"))
