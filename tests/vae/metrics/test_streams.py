"""Common random numbers: an evaluation's noise comes from its own seeded streams, one per
purpose, so evaluating one model twice gives identical figures."""

import keras
import numpy as np
import pytest

from vae.data.base import Dataset
from vae.metrics import registry, streams
from vae.metrics.elbo import per_image_elbo
from vae.metrics.inputs import MetricSettings, TrialInputs
from vae.metrics.likelihood import importance_weighted_nll
from vae.models import build_model

pytestmark = pytest.mark.backend_neutral


@pytest.fixture(scope="module")
def gaussian():
    """A Gaussian-likelihood model trained briefly on 8-bit images, and a dataset of them."""
    keras.utils.set_random_seed(0)
    x = np.round(np.random.default_rng(0).random((160, 8, 8, 1)) * 255).astype("float32") / 255
    model = build_model("mlp", (8, 8, 1), "gaussian", latent_dim=3, depth=1, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.adapt(x)
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    data = Dataset(name="grey", x_train=x[:96], x_val=x[96:128], x_test=x[128:], y_train=None, y_val=None,
                   y_test=None, likelihood="gaussian")
    return model, data


def evaluate(model, data):
    inputs = TrialInputs(model, data, MetricSettings(eval_images=32, iwae_samples=5))
    return {**registry.METRICS["elbo"].compute(inputs), **registry.METRICS["likelihood"].compute(inputs)}


def test_evaluating_one_gaussian_model_twice_gives_identical_nll_and_elbo(gaussian):
    model, data = gaussian
    first = evaluate(model, data)
    model(data.x_test[:8])  # the model's own generator moves on: the evaluation must not care
    second = evaluate(model, data)
    assert first == second
    assert np.isfinite(first["nll"]) and first["nll_se"] > 0


def test_one_sample_iwae_is_minus_the_elbo_of_each_image_on_the_same_noise(gaussian):
    model, data = gaussian
    iwae = importance_weighted_nll(model, data.x_test, num_samples=1, seed=7)
    elbo = per_image_elbo(model, data.x_test, seed=7, sampled_kl=True)
    np.testing.assert_allclose(iwae, -elbo, rtol=1e-5, atol=1e-3)
    # On other noise they differ image by image (the check above is not vacuous).
    assert np.max(np.abs(importance_weighted_nll(model, data.x_test, num_samples=1, seed=8) + elbo)) > 0.1


def test_purposes_draw_independent_streams_that_repeat_per_seed():
    a = streams.generator(0, streams.PRIOR).standard_normal(5)
    np.testing.assert_array_equal(a, streams.generator(0, streams.PRIOR).standard_normal(5))
    assert not np.allclose(a, streams.generator(0, streams.POSTERIOR).standard_normal(5))
    assert not np.allclose(a, streams.generator(1, streams.PRIOR).standard_normal(5))
    assert streams.int_seed(0, streams.PRIOR) == streams.int_seed(0, streams.PRIOR) != streams.int_seed(0, streams.BINARIZATION)
