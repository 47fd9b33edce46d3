"""The contract every registered family keeps: it overrides hooks, never the objective; it says
what kind of code it has; the Gaussian likelihood is dequantized and adapted to the data."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from vae.models import MODELS, build_model
from vae.models.base import MIN_LOG_SCALE, VAE

pytestmark = pytest.mark.backend_neutral
CONTEXT = {"cvae": {"num_classes": 3}}


def _model(family, shape=(28, 28, 1), likelihood="bernoulli", **kwargs):
    return build_model(family, shape, likelihood, latent_dim=2, seed=0, **CONTEXT.get(family, {}), **kwargs)


@pytest.mark.parametrize("family", MODELS)
def test_families_override_the_hooks_not_compute_loss(family):
    family_classes = MODELS[family].__mro__[: MODELS[family].__mro__.index(VAE)]
    assert not [cls.__name__ for cls in family_classes if {"compute_loss", "train_step", "test_step"} & set(vars(cls))]


@pytest.mark.parametrize("family", MODELS)
def test_code_kind_says_whether_the_code_of_an_image_is_a_vector_or_a_grid(family):
    model = _model(family)
    z_mean, _ = model.encode(model.dummy_inputs())
    assert model.code_kind == ("vector" if len(z_mean.shape) == 2 else "grid")
    assert model.code_kind == ("grid" if family == "vqvae" else "vector")


def test_adapt_starts_each_channels_log_scale_at_the_datas_log_std():
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 256, (20, 8, 8, 3)) / 255.0).astype("float32")
    x[..., 2] = 0.5  # a constant channel: the floor, not log 0
    model = _model("mlp", shape=(8, 8, 3), likelihood="gaussian")
    np.testing.assert_array_equal(ops.convert_to_numpy(model.log_scale), 0.0)
    model.adapt(x)
    expected = [math.log(x[..., 0].std()), math.log(x[..., 1].std()), MIN_LOG_SCALE]
    np.testing.assert_allclose(ops.convert_to_numpy(model.log_scale), expected, rtol=1e-5)
    assert ops.convert_to_numpy(model.log_scale).dtype == np.float32


def test_adapt_leaves_a_bernoulli_model_unchanged():
    model = _model("mlp")
    before = [ops.convert_to_numpy(w) for w in model.weights]
    model.adapt(np.ones((4, 28, 28, 1), "float32"))
    assert all(np.array_equal(a, ops.convert_to_numpy(w)) for a, w in zip(before, model.weights, strict=True))


def test_gaussian_nll_is_that_of_the_8_bit_data_and_positive():
    x = (np.random.default_rng(1).integers(0, 256, (3, 4, 4, 1)) / 255.0).astype("float32")
    model = _model("mlp", shape=(4, 4, 1), likelihood="gaussian")
    # A decoder mean at the pixel and sigma = 1: the dequantized y is within 1/256 of the mean,
    # so -log p(y|z) is 0.5 ln 2pi per pixel up to 1e-5, plus the D ln 256 of 8-bit data.
    logits = np.log(np.clip(x, 1e-6, 1 - 1e-6) / (1 - np.clip(x, 1e-6, 1 - 1e-6)))
    nll = ops.convert_to_numpy(model.reconstruction_nll(x, logits))
    np.testing.assert_allclose(nll, 16 * (0.5 * math.log(2 * math.pi) + math.log(256)), atol=16 * 1e-4)
    # The narrowest scale still leaves every 8-bit image a positive NLL (a probability <= 1).
    model.log_scale.assign(np.full((1,), -10.0, "float32"))
    assert (ops.convert_to_numpy(model.reconstruction_nll(x, logits)) > 0).all()


def test_gaussian_reconstruction_is_dequantized_with_the_models_seed_generator():
    x = np.full((2, 4, 4, 1), 0.5, "float32")
    model = _model("mlp", shape=(4, 4, 1), likelihood="gaussian")
    model.log_scale.assign(np.full((1,), MIN_LOG_SCALE, "float32"))  # a scale that resolves 1/256
    out = np.zeros_like(x)
    first = ops.convert_to_numpy(model.reconstruction_nll(x, out))
    second = ops.convert_to_numpy(model.reconstruction_nll(x, out))
    assert not np.allclose(first, second)  # fresh noise per call
    bernoulli = _model("mlp", shape=(4, 4, 1))
    np.testing.assert_array_equal(ops.convert_to_numpy(bernoulli.reconstruction_nll(x, out)),
                                  ops.convert_to_numpy(bernoulli.reconstruction_nll(x, out)))


def test_mixed_bfloat16_computes_the_network_in_bfloat16_and_the_losses_in_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _model("mlp", shape=(8, 8, 1), likelihood="gaussian")
        x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
        y_pred = model(x)
        assert keras.backend.standardize_dtype(y_pred["out"].dtype) == "bfloat16"
        loss = model.compute_loss(x=x, y_pred=y_pred, training=False)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert keras.backend.standardize_dtype(model.log_scale.dtype) == "float32"
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    assert np.isfinite(float(loss))
    assert float(model.trackers["elbo"].result()) < 0


def test_a_family_needs_only_its_hooks_for_a_new_term():
    class Penalized(MODELS["mlp"]):
        family = "penalized"

        @classmethod
        def extra_metric_names(cls):
            return ("z_norm",)

        def extra_terms(self, images, y_pred):
            return {"z_norm": (3.0, ops.sum(ops.square(y_pred["z_mean"]), axis=-1))}

    model = Penalized((28, 28, 1), latent_dim=2, likelihood="bernoulli", depth=1, seed=0)
    model.compile(optimizer="adam")
    x = (np.random.default_rng(0).random((16, 28, 28, 1)) > 0.5).astype("float32")
    logs = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    assert set(Penalized.logged_metric_names()) <= set(logs)
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"] + 3.0 * logs["z_norm"], rel=1e-5)
    assert issubclass(Penalized, VAE)
