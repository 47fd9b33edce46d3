"""The decoder's likelihoods: exact 8-bit probabilities, bounds the IWAE agrees with, data they take."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from tests.data_helpers import digit_like, write_mnist
from vae import images, losses
from vae.data import load_dataset
from vae.errors import ConfigError
from vae.likelihoods import LIKELIHOODS, check_compatible
from vae.metrics import importance_weighted_nll
from vae.metrics.elbo import per_image_elbo
from vae.metrics.likelihood import standard_error
from vae.models import build_model

pytestmark = pytest.mark.backend_neutral

LEVELS = np.arange(256, dtype=np.float32) / 255.0
EIGHT_BIT = [name for name, entry in LIKELIHOODS.items() if entry.data == "8bit"]


@pytest.mark.parametrize("loc, log_scale", [(0.3, -3.0), (0.0, -7.6), (1.0, -1.0), (0.5, 2.0), (0.123, -6.0)])
def test_the_discretized_logistic_sums_to_one_over_the_256_levels(loc, log_scale):
    log_p = ops.convert_to_numpy(losses.discretized_logistic_log_prob(ops.convert_to_tensor(LEVELS), loc, log_scale))
    assert np.exp(log_p.astype(np.float64)).sum() == pytest.approx(1.0, abs=1e-5)
    assert np.all(log_p <= 0.0)


@pytest.mark.parametrize("name", ["logistic", "logistic_mix"])
def test_a_logistic_models_pixel_probabilities_sum_to_one_over_the_256_levels(name):
    keras.utils.set_random_seed(3)
    model = build_model("mlp", (1, 1, 1), name, latent_dim=2, depth=1)
    # One random decoder output, scored against every level of the model's single pixel.
    out = np.random.default_rng(0).normal(0.0, 2.0, (1, 1, 1, model.decoder_channels)).astype("float32")
    nll = model.reconstruction_nll(LEVELS.reshape(256, 1, 1, 1), np.repeat(out, 256, axis=0))
    assert np.exp(-ops.convert_to_numpy(nll).astype(np.float64)).sum() == pytest.approx(1.0, abs=1e-5)


@pytest.fixture(scope="module")
def grey_digits():
    return (digit_like(200, seed=2)[0][..., None] / 255.0).astype("float32")[:, ::3, ::3]  # 10x10


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_one_sample_iwae_equals_minus_the_elbo_for_every_likelihood(name, grey_digits):
    keras.utils.set_random_seed(0)
    x = grey_digits if LIKELIHOODS[name].data == "8bit" else (grey_digits > 0.5).astype("float32")
    model = build_model("mlp", x.shape[1:], name, latent_dim=2, depth=1, seed=0)
    model.adapt(x)
    iwae = importance_weighted_nll(model, x, num_samples=1, seed=0)
    elbo = per_image_elbo(model, x, seed=1)
    assert np.all(np.isfinite(iwae)) and iwae.shape == elbo.shape == (200,)
    combined_se = math.hypot(standard_error(iwae), standard_error(elbo))
    assert abs(iwae.mean() + elbo.mean()) < 2.5 * combined_se


@pytest.mark.parametrize("name", ["gaussian_pixel", "logistic", "logistic_mix"])
def test_per_pixel_scales_start_where_the_data_puts_them(name, grey_digits):
    keras.utils.set_random_seed(0)
    started = build_model("conv", grey_digits.shape[1:], name, latent_dim=2, depth=2, seed=0)
    started.adapt(grey_digits)
    blank = build_model("conv", grey_digits.shape[1:], name, latent_dim=2, depth=2, seed=0)
    nats = [float(ops.mean(m.reconstruction_nll(grey_digits, m(grey_digits)["out"]))) / 100 for m in (started, blank)]
    # Untrained: the adapted model already predicts the background of centred digits. An
    # unadapted logistic, its locations near 0 (no sigmoid), happens to predict it too, so a
    # logistic is held to a third of the uniform's ln 256 nats per pixel instead.
    if name == "gaussian_pixel":
        assert nats[0] < nats[1] - 0.05
    else:
        assert nats[0] < math.log(256) / 3
    std = ops.convert_to_numpy(started.std_image(started(grey_digits)["out"]))
    corner, centre = std[:, 0, 0, 0].mean(), std[:, 5, 5, 0].mean()
    assert corner < 0.05 < centre  # sure of the empty corner, unsure where the strokes cross


def test_a_mixtures_components_start_near_the_data_and_apart(grey_digits):
    keras.utils.set_random_seed(0)
    model = build_model("conv", grey_digits.shape[1:], "logistic_mix", latent_dim=2, depth=2, seed=0)
    model.adapt(grey_digits)
    _, loc, _ = model.likelihood_spec._split(model, model(grey_digits)["out"])
    loc = ops.convert_to_numpy(loc)  # (batch, h, w, c, components)
    assert np.abs(loc.mean(axis=(0, -1)) - grey_digits.mean(axis=0)).max() < 0.1
    # Identical components would get identical gradients and stay one logistic.
    assert loc.std(axis=-1).mean() > 1e-4


def test_the_pixel_scale_figure_shows_inputs_means_and_scales(grey_digits):
    model = build_model("conv", grey_digits.shape[1:], "logistic", latent_dim=2, depth=2, seed=0)
    model.adapt(grey_digits)
    assert "pixel_scales" in images.figure_names(model)
    figure = images.all_images(model, grey_digits[:12])["pixel_scales"]
    assert figure.shape == (3 * 12 + 2, 10 * 12 + 2) and figure.dtype == np.uint8
    global_scale = build_model("conv", grey_digits.shape[1:], "gaussian", latent_dim=2, depth=2)
    assert "pixel_scales" not in images.figure_names(global_scale)


def test_an_8bit_likelihood_keeps_mnist_grey_and_bernoulli_binarizes_it(tmp_path):
    write_mnist(tmp_path, n=200)
    grey = load_dataset("mnist", data_dir=tmp_path, likelihood="logistic")
    binary = load_dataset("mnist", data_dir=tmp_path)
    assert grey.likelihood == "logistic" and binary.likelihood == "bernoulli"
    levels = grey.x_test * 255.0
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)
    assert len(np.unique(grey.x_test)) > 50 and set(np.unique(binary.x_test)) <= {0.0, 1.0}
    assert grey.eval_digest != binary.eval_digest  # their figures never compare
    assert "8-bit grey levels" in grey.notes[0]


def test_a_likelihood_of_another_kind_of_data_is_refused():
    check_compatible("celeba", "gaussian", "logistic_mix")
    with pytest.raises(ConfigError, match="celeba holds 8bit images and 'bernoulli' models binary ones"):
        check_compatible("celeba", "gaussian", "bernoulli")
    with pytest.raises(ConfigError, match="unknown likelihood 'poisson'"):
        build_model("conv", (28, 28, 1), "poisson", latent_dim=2)
