"""The base VAE: shapes for every dataset, the objective's terms, per-dimension KL, images."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from vae import images, losses
from vae.data import load_dataset
from vae.errors import ConfigError
from vae.metrics.active_units import active_units
from vae.models import build_model


@pytest.mark.backend_neutral
def test_bernoulli_nll_matches_the_formula_by_hand():
    x = np.array([[1.0, 0.0]], dtype="float32")
    logits = np.array([[0.0, 2.0]], dtype="float32")
    # -log sigmoid(0) - log(1 - sigmoid(2)) = log 2 + log(1 + e^2)
    expected = math.log(2) + math.log(1 + math.exp(2))
    assert float(losses.bernoulli_nll(x, logits)[0]) == pytest.approx(expected, rel=1e-6)


@pytest.mark.backend_neutral
def test_gaussian_nll_and_kl_per_dimension_by_hand():
    x = np.array([[0.5, 1.5]], dtype="float32")
    nll = float(losses.gaussian_nll(x, np.array([[0.5, 0.5]], "float32"), 0.0)[0])
    assert nll == pytest.approx(math.log(2 * math.pi) + 0.5, rel=1e-6)
    kl = ops.convert_to_numpy(losses.kl_per_dim(np.array([[0.0, 1.0]], "float32"), np.array([[0.0, math.log(4)]], "float32")))
    # KL(N(0,1)||N(0,1)) = 0; KL(N(1,4)||N(0,1)) = 0.5 (1 + 4 - 1 - ln 4)
    assert kl[0] == pytest.approx([0.0, 0.5 * (4 - math.log(4))], abs=1e-6)


@pytest.mark.parametrize("family", ["mlp", "conv", "beta"])
@pytest.mark.parametrize("shape,likelihood", [((28, 28, 1), "bernoulli"), ((64, 64, 1), "bernoulli"), ((64, 64, 3), "gaussian")])
def test_every_core_family_adapts_to_every_image_shape(family, shape, likelihood):
    depth = 4 if family != "mlp" else 2
    model = build_model(family, shape, likelihood, latent_dim=3, depth=depth)
    out = model(np.zeros((2, *shape), "float32"))
    assert tuple(out["out"].shape) == (2, *shape)
    assert tuple(out["z_mean"].shape) == (2, 3)


@pytest.mark.backend_neutral
def test_loss_is_reconstruction_plus_beta_times_kl_and_elbo_is_unweighted():
    keras.utils.set_random_seed(0)
    model = build_model("beta", (28, 28, 1), "bernoulli", latent_dim=2, beta=4.0, depth=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = (np.random.default_rng(0).random((64, 28, 28, 1)) > 0.5).astype("float32")
    logs = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + 4.0 * logs["kl_loss"], rel=1e-4)
    assert logs["elbo"] == pytest.approx(-(logs["reconstruction_loss"] + logs["kl_loss"]), rel=1e-4)
    assert logs["kl_dim_0"] + logs["kl_dim_1"] == pytest.approx(logs["kl_loss"], rel=1e-4)


@pytest.mark.backend_neutral
def test_fit_logs_val_twins_of_every_term():
    model = build_model("mlp", (28, 28, 1), "bernoulli", latent_dim=2, depth=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.zeros((32, 28, 28, 1), "float32")
    history = model.fit(x, validation_data=(x,), epochs=1, batch_size=16, verbose=0)
    assert {"loss", "reconstruction_loss", "kl_loss", "elbo", "kl_dim_0", "kl_dim_1"} <= set(history.history)
    assert {"val_loss", "val_reconstruction_loss", "val_kl_loss", "val_elbo", "val_kl_dim_1"} <= set(history.history)


@pytest.mark.parametrize("kwargs,message", [
    ({"family": "gan"}, "unknown model 'gan'"),
    ({"latent_dim": 0}, "latent dimension must be at least 1"),
    ({"beta": -0.5}, "beta must be 0 or more"),
    ({"depth": 7}, "depth 7 is out of range"),
])
def test_impossible_hyperparameters_are_config_errors(kwargs, message):
    args = {"family": "conv", "image_shape": (28, 28, 1), "likelihood": "bernoulli", "latent_dim": 2, **kwargs}
    with pytest.raises(ConfigError, match=message):
        build_model(**args)


def test_save_and_load_round_trip_keeps_the_decoder(tmp_path):
    model = build_model("conv", (28, 28, 1), "bernoulli", latent_dim=3, depth=3)
    z = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded.decode(z)), ops.convert_to_numpy(model.decode(z)), rtol=1e-5, atol=1e-5)


def test_images_have_the_documented_grids():
    model = build_model("mlp", (28, 28, 1), "bernoulli", latent_dim=3, depth=1)
    x = np.zeros((12, 28, 28, 1), "float32")
    grids = images.all_images(model, x, kl_per_dim=np.array([0.1, 2.0, 1.0]))
    cell = 28 + 2
    assert grids["reconstructions"].shape == (2 * cell + 2, 10 * cell + 2)
    assert grids["samples"].shape == (8 * cell + 2, 8 * cell + 2)
    assert grids["interpolations"].shape == (5 * cell + 2, 10 * cell + 2)
    assert grids["traversals"].shape == (3 * cell + 2, 9 * cell + 2)  # one row per latent dimension
    assert all(g.dtype == np.uint8 for g in grids.values())


def test_active_units_count_dimensions_whose_mean_varies():
    z = np.zeros((100, 3))
    z[:, 0] = np.linspace(-1, 1, 100)  # variance ~0.34
    z[:, 1] = np.linspace(-0.1, 0.1, 100)  # variance ~0.003
    assert active_units(z) == 1


def test_mnist_test_split_is_split_into_train_val_test_without_overlap(mnist_data):
    data = load_dataset("mnist", data_dir=mnist_data)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (800, 100, 100)
    assert set(np.unique(data.x_train)) <= {0.0, 1.0}  # binarized for the Bernoulli likelihood
    assert any("only the test split" in note for note in data.notes)
    flat = {row.tobytes() for row in data.x_val[:200]}
    assert sum(row.tobytes() in flat for row in data.x_test[:200]) < 5  # (a few blank-ish digits may repeat)
    assert np.bincount(np.concatenate([data.y_train, data.y_val, data.y_test])).tolist() == [100] * 10


def test_manifold_decodes_a_15_by_15_grid_of_prior_quantiles_for_a_2d_code():
    model = build_model("mlp", (8, 8, 1), "bernoulli", latent_dim=2)
    grid = images.manifold(model, n=15)
    cell = 8 + 2
    assert grid.shape == (15 * cell + 2, 15 * cell + 2) and grid.dtype == np.uint8
    assert "manifold" in images.figure_names(model)
    # The corners decode the 5% and 95% quantiles: different codes, different images.
    assert np.abs(grid[2:10, 2:10].astype(int) - grid[-10:-2, -10:-2].astype(int)).sum() > 0


def test_codes_that_are_not_2_vectors_get_no_manifold_and_say_why():
    model = build_model("mlp", (8, 8, 1), "bernoulli", latent_dim=3)
    assert "manifold" not in images.figure_names(model)
    assert images.manifold_skipped(model) == "the manifold needs a 2-D latent vector; mlp has latent_dim 3"
    with pytest.raises(ConfigError, match="latent_dim 3"):
        images.manifold(model)
