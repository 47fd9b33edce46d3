"""Contract tests generated from the metric registry: every registered metric declares known
requirements and columns, computes exactly its columns where its requirements are met, and is
left out, with its reason, where they are not."""

import math

import numpy as np
import pytest

from vae.data.base import Dataset
from vae.metrics import registry
from vae.metrics.inputs import MetricSettings, TrialInputs
from vae.models import MODELS, build_model

SETTINGS = MetricSettings(eval_images=120, fit_images=200, iwae_samples=4, dci_estimators=5,
                                   sampler_train=20, sampler_eval=10, sampler_batch=8)


class Squares:
    """A real ground-truth sampler: a 4x4 square at one of 3 x 3 positions on 16x16 images."""

    num_factors, factors_num_values, observation_shape = 2, [3, 3], (16, 16, 1)

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(3, size=num), random_state.randint(3, size=num)], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        images = np.zeros((len(factors), 16, 16, 1), np.float32)
        for i, (x, y) in enumerate(factors):
            images[i, 2 + 4 * y : 6 + 4 * y, 2 + 4 * x : 6 + 4 * x] = 1.0
        return images


def dataset(kind: str) -> Dataset:
    """A small dataset of one kind: single ``labels``, several ``factors`` with a sampler, or ``none``."""
    sampler, rng = Squares(), np.random.RandomState(0)
    factors = sampler.sample_factors(400, rng)
    x = sampler.sample_observations_from_factors(factors, rng)
    y = {"labels": factors[:, 0], "factors": factors, "none": None}[kind]

    def part(a, start, stop):
        return None if a is None else a[start:stop]

    return Dataset(name=f"squares-{kind}", x_train=x[:200], x_val=x[200:280], x_test=x[280:], y_train=part(y, 0, 200),
                   y_val=part(y, 200, 280), y_test=part(y, 280, 400), likelihood="bernoulli",
                   factor_names=["x", "y"] if kind == "factors" else ["x"], ground_truth=sampler if kind == "factors" else None)


DATASETS = {kind: dataset(kind) for kind in ("labels", "factors", "none")}


def model_for(family: str, data: Dataset):
    context = {"num_classes": 3} if family == "cvae" else {}
    return build_model(family, data.image_shape, data.likelihood, latent_dim=3, depth=2, seed=0, **context)


@pytest.mark.parametrize("name", list(registry.METRICS))
def test_a_metric_declares_known_requirements_and_unique_columns_with_a_direction(name):
    metric = registry.METRICS[name]
    assert set(metric.needs) <= set(registry.REQUIREMENTS)
    assert metric.columns and all(c.direction in ("min", "max") and c.label and c.description for c in metric.columns)
    keys = [c.key for c in registry.columns()]
    assert len(keys) == len(set(keys))
    assert all(registry.owner(c.key) is metric for c in metric.columns)


@pytest.mark.parametrize("name", list(registry.METRICS))
def test_a_metric_computes_its_columns_where_its_requirements_are_met(name, tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_CACHE_DIR", str(tmp_path))  # the generation metric caches its reference network
    metric = registry.METRICS[name]
    if metric.setting:  # a user's file (Inception weights): without it the trial says what it needs
        from sweeps.evaluation import settings_reason

        assert settings_reason(metric, SETTINGS) == f"needs {metric.setting_hint}"
        return
    data = next((d for d in DATASETS.values() if metric.unmet(MODELS["mlp"], d) is None), None)
    assert data is not None, f"{name} applies to none of the test datasets"
    values = metric.compute(TrialInputs(model_for("mlp", data), data, SETTINGS))
    for column in metric.columns:
        assert column.key in values and math.isfinite(values[column.key]), (column.key, values)


@pytest.mark.parametrize("family", list(MODELS))
def test_a_family_is_scored_by_exactly_the_metrics_whose_requirements_it_meets(family):
    cls = MODELS[family]
    for metric in registry.METRICS.values():
        reason = metric.unmet_by_family(cls)
        expected_unmet = (("elbo" in metric.needs and not cls.has_elbo)
                          or ("unconditional" in metric.needs and cls.conditional)
                          or ("vector_code" in metric.needs and cls.code_kind != "vector"))
        assert (reason is not None) == expected_unmet, (metric.name, reason)
        if reason:
            assert family in reason


def test_the_dataset_decides_between_the_probe_and_the_disentanglement_metrics():
    mlp = MODELS["mlp"]
    assert registry.METRICS["probe_accuracy"].unmet(mlp, DATASETS["labels"]) is None
    assert "single label factor" in registry.METRICS["mig"].unmet(mlp, DATASETS["labels"])
    assert registry.METRICS["mig"].unmet(mlp, DATASETS["factors"]) is None
    assert "several factors" in registry.METRICS["probe_accuracy"].unmet(mlp, DATASETS["factors"])
    assert "ground-truth sampler" in registry.METRICS["beta_vae_score"].unmet(mlp, DATASETS["labels"])
    assert "no labels or factors" in registry.METRICS["sap"].unmet(mlp, DATASETS["none"])


def test_columns_are_split_neutral_and_logged_under_their_split():
    assert registry.logged("val", {"mig": 0.4, "nll": 90.0}) == {"val_mig": 0.4, "val_nll": 90.0}
    assert [c.key for c in registry.columns(None)][:2] == ["elbo", "elbo_se"]
    assert {"test_nll", "test_bits_per_dim", "test_elbo", "test_mig"} <= {c.key for c in registry.columns()}
    assert registry.column("val_mig").key == "val_mig" and registry.column("val_mig").direction == "max"
    assert registry.owner("val_dci_completeness").name == "dci" and registry.owner("test_nll").name == "likelihood"
    assert registry.owner("test_reconstruction_loss") is None  # the family's own terms are not registry metrics
    with pytest.raises(ValueError, match="split"):
        registry.logged("train", {"mig": 0.4})
