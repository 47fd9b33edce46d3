"""The trial metrics of one split: chosen on validation, reported on test, each under its name."""

import numpy as np
import pytest

from sweeps.evaluation import trial_metrics
from vae.data.base import Dataset
from vae.metrics.elbo import per_image_elbo
from vae.metrics.inputs import MetricSettings
from vae.models import build_model

SETTINGS = MetricSettings(eval_images=40, fit_images=60, iwae_samples=3, dci_estimators=5, off=("generation",))


@pytest.fixture(scope="module")
def trial():
    """An untrained MLP VAE on small binary images with two discrete factors (no sampler)."""
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 3, size=(200, 2))
    x = (rng.random((200, 8, 8, 1)) < 0.3).astype("float32")
    x[np.arange(200), factors[:, 0] * 2, factors[:, 1] * 2] = 1.0
    data = Dataset(name="dots", x_train=x[:100], x_val=x[100:150], x_test=x[150:], y_train=factors[:100],
                   y_val=factors[100:150], y_test=factors[150:], likelihood="bernoulli", factor_names=["a", "b"])
    return build_model("mlp", data.image_shape, data.likelihood, latent_dim=3, depth=1, seed=0), data


def test_each_split_logs_its_own_names_computed_on_its_own_images(trial):
    model, data = trial
    val, _, _, val_arrays = trial_metrics(model, data, SETTINGS, split="val")
    test, params, skipped, test_arrays = trial_metrics(model, data, SETTINGS, split="test")
    assert {"val_mig", "val_nll", "val_elbo", "val_active_units"} <= set(val)
    assert {"test_mig", "test_nll", "test_bits_per_dim", "test_elbo", "test_elbo_se"} <= set(test)
    assert all(k.startswith("val_") for k in val) and all(k.startswith("test_") for k in test)
    expected = {split: per_image_elbo(model, getattr(data, f"x_{split}")[:40], seed=0) for split in ("val", "test")}
    assert val["val_elbo"] == pytest.approx(expected["val"].mean()) and test["test_elbo"] == pytest.approx(
        expected["test"].mean())
    np.testing.assert_allclose(val_arrays["per_image"]["val_elbo"], expected["val"], rtol=1e-5)
    assert set(test_arrays["per_image"]) == {"test_elbo", "test_nll"}
    assert "generation" in skipped and "metric_reference_digest" not in params
