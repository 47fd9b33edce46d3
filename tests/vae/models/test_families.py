"""Contract tests of every registered family (``vae.models.MODELS``): it builds for every image
size, trains one epoch with finite losses and exactly the terms it declares, evaluates and draws
only those, and survives a save/load round trip. Family-specific objectives follow."""

import keras
import numpy as np
import pytest
from keras import ops

from vae import images, losses
from vae.data import load_dataset
from vae.errors import ConfigError
from vae.metrics import terms
from vae.models import MODELS, build_model, dataset_context

FAMILIES = list(MODELS)


def expected_logs(family: str) -> set[str]:
    """The Keras logs a family declares: its terms, and the KL of each of 3 latent dimensions."""
    cls = MODELS[family]
    return set(cls.logged_metric_names()) | ({f"kl_dim_{i}" for i in range(3)} if cls.has_elbo else set())


def expected_test(family: str) -> set[str]:
    """What ``evaluate`` reports for a family: ``test_<term>`` of each term but the objective."""
    cls = MODELS[family]
    terms = {f"test_{name}" for name in cls.logged_metric_names() if name != "loss"}
    return terms | ({"test_elbo_se", "kl_per_dim"} if cls.has_elbo else set())


STANDARD_FIGURES = {"reconstructions", "samples", "interpolations", "traversals"}


def _context(family, dataset):
    return dataset_context(family, dataset)


@pytest.fixture(scope="module")
def mnist(mnist_data):
    """256 training images of the shared MNIST copy (64 validation, 64 test)."""
    return load_dataset("mnist", data_dir=mnist_data, subset=256)


@pytest.fixture(scope="module")
def trained(mnist):
    """One model per family trained for one epoch, with its history; built lazily."""
    cache = {}

    def get(family):
        if family not in cache:
            keras.utils.set_random_seed(0)
            model = build_model(family, mnist.image_shape, mnist.likelihood, latent_dim=3, depth=2, seed=0,
                                **_context(family, mnist))
            model.compile(optimizer=keras.optimizers.Adam(1e-3))
            history = model.fit(model.training_inputs(mnist.x_train, mnist.y_train),
                                validation_data=(model.training_inputs(mnist.x_val, mnist.y_val),),
                                epochs=1, batch_size=64, verbose=0)
            model.fit_prior(mnist.x_train, mnist.y_train)
            cache[family] = model, {k: v[-1] for k, v in history.history.items()}
        return cache[family]

    return get


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("shape, likelihood", [((28, 28, 1), "bernoulli"), ((64, 64, 3), "gaussian")])
def test_family_builds_and_reconstructs_at_the_image_shape(family, shape, likelihood, mnist):
    context = _context(family, mnist)
    model = build_model(family, shape, likelihood, latent_dim=2, depth=2, seed=0, **context)
    out = model(model.dummy_inputs())["out"]
    assert tuple(out.shape) == (1, *shape)
    assert model.family == family


@pytest.mark.parametrize("family", FAMILIES)
def test_one_epoch_logs_exactly_the_terms_of_the_family_with_finite_values(trained, family):
    _, logs = trained(family)
    expected = expected_logs(family) | {f"val_{k}" for k in expected_logs(family)}
    assert set(logs) == expected
    assert all(np.isfinite(v) for v in logs.values())


def test_wae_and_infovae_objective_adds_the_weighted_mmd(trained):
    # Validation is one batch of 64, so each logged value is that batch's exact term.
    _, wae = trained("wae")
    assert wae["val_loss"] == pytest.approx(wae["val_reconstruction_loss"] + 10.0 * wae["val_mmd"], rel=1e-5)
    _, info = trained("infovae")
    assert info["val_loss"] == pytest.approx(
        info["val_reconstruction_loss"] + 1.0 * info["val_kl_loss"] + 1000.0 * info["val_mmd"], rel=1e-4)
    assert info["val_elbo"] == pytest.approx(-(info["val_reconstruction_loss"] + info["val_kl_loss"]), rel=1e-5)


@pytest.mark.parametrize("family", ["wae", "infovae"])
def test_a_last_batch_of_one_example_keeps_the_mmd_penalty_finite(mnist, family):
    model = build_model(family, mnist.image_shape, mnist.likelihood, latent_dim=2, depth=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(mnist.x_train[:65], epochs=1, batch_size=64, verbose=0)  # batches of 64 and 1
    assert np.isfinite(history.history["loss"][-1]) and np.isfinite(history.history["mmd"][-1])
    assert all(np.isfinite(ops.convert_to_numpy(w)).all() for w in model.trainable_weights)


def test_vqvae_objective_adds_the_vq_loss_and_tracks_codebook_usage(trained):
    model, logs = trained("vqvae")
    assert logs["val_loss"] == pytest.approx(logs["val_reconstruction_loss"] + logs["val_vq_loss"], rel=1e-5)
    assert 1.0 <= logs["perplexity"] <= model.num_embeddings


def test_wae_encoder_is_deterministic_and_beta_is_refused(trained, mnist):
    model, _ = trained("wae")
    x = ops.convert_to_tensor(mnist.x_test[:4])
    z, log_var = model.encode(x)
    assert log_var is None
    np.testing.assert_array_equal(ops.convert_to_numpy(model(x)["z"]), ops.convert_to_numpy(z))
    with pytest.raises(ConfigError, match="mmd_weight"):
        build_model("wae", (28, 28, 1), "bernoulli", latent_dim=2, beta=4.0)


@pytest.mark.parametrize("family", FAMILIES)
def test_evaluate_reports_only_the_terms_of_the_family(trained, mnist, family):
    model, _ = trained(family)
    result = terms.evaluate(model, mnist.x_test, mnist.y_test)
    assert set(result) == expected_test(family)
    assert all(np.isfinite(v).all() for v in result.values())
    if "test_elbo" in result:
        assert result["test_elbo"] == pytest.approx(-(result["test_reconstruction_loss"] + result["test_kl_loss"]),
                                                    rel=1e-5)
        assert result["kl_per_dim"].sum() == pytest.approx(result["test_kl_loss"], rel=1e-4)


def test_vqvae_prior_is_the_empirical_code_distribution_per_position(trained, mnist):
    model, _ = trained("vqvae")
    codes = model.codes_of(mnist.x_train).reshape(len(mnist.x_train), -1)
    probs = ops.convert_to_numpy(model.prior_probs)
    for position in (0, codes.shape[1] // 2):
        expected = np.bincount(codes[:, position], minlength=model.num_embeddings) / len(codes)
        np.testing.assert_allclose(probs[position], expected, atol=1e-6)
    z = model.sample_latents(50, seed=3)
    assert z.shape == (50, *model.grid, model.latent_dim)
    drawn = ops.convert_to_numpy(losses.nearest_codes(z, model.codebook)).reshape(50, -1)
    # Every drawn code is a codebook vector that the training set uses at that position.
    assert all(probs[p, drawn[:, p]].min() > 0 for p in range(drawn.shape[1]))


@pytest.mark.parametrize("family", FAMILIES)
def test_images_are_the_figures_that_apply_to_the_family(trained, mnist, family):
    model, _ = trained(family)
    figures = images.all_images(model, mnist.x_test, mnist.y_test, seed=0)
    assert set(figures) == set(MODELS[family].figures) and STANDARD_FIGURES - {"traversals"} <= set(figures)
    assert figures["samples"].shape == (8 * 30 + 2, 8 * 30 + 2)
    assert all(image.dtype == np.uint8 for image in figures.values())


def test_cvae_conditional_grid_has_one_row_per_class_and_the_condition_changes_the_image(trained, mnist):
    model, _ = trained("cvae")
    grid = images.conditional_samples(model, mnist.y_test, cols=8, seed=0)
    assert grid.shape == (10 * 30 + 2, 8 * 30 + 2)
    rows = [grid[2 + 30 * r : 30 * (r + 1), 2:] for r in range(10)]
    assert np.abs(rows[0].astype(int) - rows[1].astype(int)).sum() > 0


def test_cvae_conditions_on_labels_or_attributes_and_refuses_multi_valued_factors(mnist):
    model = build_model("cvae", (28, 28, 1), "bernoulli", latent_dim=2, num_classes=3)
    np.testing.assert_array_equal(model.conditions_of(np.array([2, 0])), [[0, 0, 1], [1, 0, 0]])
    attributes = build_model("cvae", (64, 64, 3), "gaussian", latent_dim=2, factor_names=["Smiling", "Male"])
    np.testing.assert_array_equal(attributes.conditions_of(np.array([[1, 0]])), [[1.0, 0.0]])
    assert attributes.condition_rows(np.array([[0, 0]])).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    dsprites_like = build_model("cvae", (64, 64, 1), "bernoulli", latent_dim=2,
                                factor_names=["shape", "scale", "orientation", "pos_x", "pos_y"])
    with pytest.raises(ConfigError, match="celeba"):
        dsprites_like.training_inputs(np.zeros((2, 64, 64, 1)), np.array([[2, 5, 39, 31, 0], [0, 0, 0, 0, 0]]))


@pytest.mark.parametrize("family", FAMILIES)
def test_save_and_load_round_trip_keeps_config_and_outputs(trained, mnist, family, tmp_path):
    model, _ = trained(family)
    path = tmp_path / f"{family}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    inputs = model.training_inputs(mnist.x_test[:8], mnist.y_test[:8])
    z, _ = model.encode(inputs)
    z_loaded, _ = loaded.encode(inputs)
    np.testing.assert_allclose(ops.convert_to_numpy(z_loaded), ops.convert_to_numpy(z), atol=1e-5)
    condition = model.conditions_of(mnist.y_test[:8])
    np.testing.assert_allclose(ops.convert_to_numpy(loaded.decode(loaded.decoder_inputs(z, condition))),
                               ops.convert_to_numpy(model.decode(model.decoder_inputs(z, condition))), atol=1e-5)
    for weight, loaded_weight in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(ops.convert_to_numpy(loaded_weight), ops.convert_to_numpy(weight))
