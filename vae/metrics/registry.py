"""The metric registry: what each trial metric needs, what it logs, and how to compute it.

An entry is data: its requirements (``needs``: a likelihood bound, a vector code, an
unconditional encoder, single labels, several factors, a ground-truth sampler), the columns
it logs with their label, direction and unit, an optional setting it cannot run without, and
its module's ``compute(inputs) -> dict`` (every metric module exports one, beside its pure
core). The trial metrics are a loop over ``METRICS``; the reasons a metric is left out come
from its unmet requirements; the report reads its columns from here.

Column names are split-neutral (``nll``, ``elbo``, ``mig``): one trial evaluates the
validation split, to choose on, and the test split, to report on, and the caller logs each
value as ``<split>_<name>`` (:func:`logged`): ``val_mig`` and ``test_mig``, ``val_nll`` and
``test_nll``, ``test_bits_per_dim``, ``test_active_units``. ``val_<name>`` of a trial metric
(``val_elbo``) is computed on the first ``eval_images`` of the validation split with the
evaluation's own noise: not the same figure as the Keras epoch log of that name (the whole
validation split, the model's noise), which the training callbacks log per epoch.

Adding a metric: one module beside this one with ``compute(inputs)``, and one entry below.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from vae.metrics.inputs import SPLITS


# Requirements: name -> check(model, dataset) returning None when met, else the reason ----------
def _has_elbo(model, dataset):
    return None if model.has_elbo else f"{model.family} has no likelihood bound"


def _unconditional(model, dataset):
    return None if not model.conditional else (
        f"{model.family} encodes each image together with its own labels, which its objective pushes the code to "
        "leave out: scoring the code against those labels would measure the condition, not the representation")


def _vector_code(model, dataset):
    return None if model.code_kind == "vector" else f"{model.family} codes are a grid of codebook vectors, not a latent vector"


def _labels(model, dataset):
    if dataset.y_test is None:
        return f"{dataset.name} has no labels or factors"
    return None if dataset.y_test.ndim == 1 else f"{dataset.name} has several factors; the disentanglement metrics score the codes"


def _factors(model, dataset):
    if dataset.y_test is None:
        return f"{dataset.name} has no labels or factors"
    return None if dataset.y_test.ndim == 2 else f"{dataset.name} has a single label factor; probe_accuracy reported instead"


def _sampler(model, dataset):
    return None if dataset.ground_truth is not None else f"needs a ground-truth sampler, which {dataset.name} has not"


FAMILY_NEEDS = ("elbo", "unconditional", "vector_code")  # the rest depend on the dataset
REQUIREMENTS: dict[str, Callable] = {"elbo": _has_elbo, "unconditional": _unconditional, "vector_code": _vector_code,
                                     "labels": _labels, "factors": _factors, "sampler": _sampler}


@dataclass(frozen=True)
class Column:
    """One logged value of a metric as tables show it; ``key`` is split-neutral until
    :func:`columns` gives it a split's prefix."""

    key: str
    label: str
    direction: str  # "max" or "min": which way is better
    description: str


@dataclass(frozen=True)
class Metric:
    """A registered metric: what it needs, what it logs and its module's ``compute(inputs)``."""

    name: str
    needs: tuple[str, ...]
    columns: tuple[Column, ...]
    module: str  # the module whose compute(inputs: TrialInputs) -> {split-neutral name: value} it is
    core: bool = False  # a report column whether or not any trial logged it
    setting: str | None = None  # a MetricSettings field the metric cannot run without (a user's file)
    setting_hint: str = ""  # how the user provides it

    @property
    def compute(self) -> Callable[..., dict]:
        """The module's ``compute(inputs)`` (by module path: ``vae.metrics`` re-exports
        functions under the module names ``mig``, ``dci``, ... so attribute access would not do)."""
        return importlib.import_module(self.module).compute

    def logged_columns(self, split: str = "test") -> list[Column]:
        """The metric's columns under ``split``'s logged names (``test_mig``)."""
        return [replace(c, key=f"{split}_{c.key}") for c in self.columns]

    def unmet_by_family(self, family) -> str | None:
        """Why the metric does not apply to a family (a model class or instance), whatever the data."""
        for need in self.needs:
            if need in FAMILY_NEEDS:
                reason = REQUIREMENTS[need](family, None)
                if reason:
                    return reason
        return None

    def unmet(self, model, dataset) -> str | None:
        """Why the metric does not apply to this model and dataset, or None."""
        for need in self.needs:
            reason = REQUIREMENTS[need](model, dataset)
            if reason:
                return reason
        return None


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("elbo", ("elbo",), (
        Column("elbo", "ELBO", "max", "one-sample ELBO on the evaluation set, nats per image"),
        Column("elbo_se", "ELBO s.e.", "min", "standard error of the ELBO over the evaluation images, nats")),
        "vae.metrics.elbo", core=True),
    Metric("likelihood", ("elbo", "unconditional"), (
        Column("nll", "NLL", "min", "importance-weighted negative log-likelihood, nats per image"),
        Column("bits_per_dim", "bits/dim", "min", "NLL in bits per pixel dimension"),
        Column("nll_se", "NLL s.e.", "min", "standard error of the NLL over the evaluation images, nats"),
        Column("bits_per_dim_se", "bits/dim s.e.", "min", "standard error of bits/dim")),
        "vae.metrics.likelihood", core=True),
    Metric("generation", ("unconditional",), (
        Column("sample_frechet_distance", "sample FD", "min",
               "Fréchet distance of samples to the evaluation images in the features of a classifier trained on this "
               "dataset (not Inception's FID: comparable between trials of one reference digest only)"),
        Column("sample_precision", "precision", "max", "fraction of samples inside the real images' k=3 manifold"),
        Column("sample_recall", "recall", "max", "fraction of real images inside the samples' k=3 manifold"),
        Column("reference_accuracy", "ref. acc.", "max", "test accuracy of the reference classifier")),
        "vae.metrics.generation"),
    Metric("inception_fid", ("unconditional",), (
        Column("inception_fid", "FID", "min", "Fréchet Inception Distance of samples to the evaluation images "
               "(InceptionV3 features; biased by the sample count, see inception_fid_count)"),),
        "vae.metrics.inception", setting="inception_weights",
        setting_hint="--inception-weights PATH (Keras' InceptionV3 no-top weights file; nothing is downloaded)"),
    Metric("active_units", ("vector_code",), (
        Column("active_units", "active units", "max",
               "latent dimensions whose posterior mean varies by more than 0.01 (Burda et al.)"),),
        "vae.metrics.active_units", core=True),
    Metric("gaussian_total_correlation", ("unconditional", "vector_code"), (
        Column("gaussian_total_correlation", "Gaussian TC", "min",
               "total correlation of a Gaussian fitted to the codes, nats, corrected for its finite-sample bias "
               "(exact Wishart expectation, so trials of different latent sizes compare; lower is more factorised)"),),
        "vae.metrics.total_correlation"),
    Metric("probe_accuracy", ("unconditional", "vector_code", "labels"), (
        Column("probe_accuracy", "probe acc.", "max", "linear probe accuracy of the label from the codes"),),
        "vae.metrics.probe"),
    Metric("mig", ("unconditional", "vector_code", "factors"), (
        Column("mig", "MIG", "max", "mutual information gap (chance-corrected, bins that can reach 1)"),),
        "vae.metrics.mig"),
    Metric("sap", ("unconditional", "vector_code", "factors"), (
        Column("sap", "SAP", "max", "separated attribute predictability"),), "vae.metrics.sap"),
    Metric("dci", ("unconditional", "vector_code", "factors"), (
        Column("dci_disentanglement", "DCI dis.", "max", "DCI disentanglement"),
        Column("dci_completeness", "DCI comp.", "max", "DCI completeness"),
        Column("dci_informativeness", "DCI info.", "max", "DCI informativeness: test accuracy of the factor predictors")),
        "vae.metrics.dci"),
    Metric("modularity", ("unconditional", "vector_code", "factors"), (
        Column("modularity", "modularity", "max", "modularity score"),), "vae.metrics.modularity"),
    Metric("beta_vae_score", ("unconditional", "vector_code", "sampler"), (
        Column("beta_vae_accuracy_eval", "β-VAE acc.", "max", "β-VAE metric, evaluation accuracy"),),
        "vae.metrics.beta_vae"),
    Metric("factor_vae_score", ("unconditional", "vector_code", "sampler"), (
        Column("factor_vae_accuracy_eval", "FactorVAE acc.", "max", "FactorVAE metric, evaluation accuracy"),),
        "vae.metrics.factor_vae"),
)}


def logged(split: str, values: dict) -> dict:
    """``{f"{split}_{name}": value}``: the names a split's figures are logged under."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return {f"{split}_{name}": value for name, value in values.items()}


def split_of(key: str) -> tuple[str | None, str]:
    """``("test", "nll")`` for ``"test_nll"``; ``(None, key)`` for a key without a split prefix."""
    split, _, name = key.partition("_")
    return (split, name) if split in SPLITS and name else (None, key)


def reported_twin(key: str) -> str:
    """The test-set figure reported beside a figure chosen on (``val_mig`` -> ``test_mig``)."""
    return f"test_{split_of(key)[1]}"


def columns(split: str | None = "test") -> list[Column]:
    """Every column of every registered metric, in registry order, under ``split``'s logged
    names (``test_mig``); ``split=None`` gives the split-neutral names."""
    return [c if split is None else replace(c, key=f"{split}_{c.key}") for m in METRICS.values() for c in m.columns]


def column(key: str) -> Column | None:
    """The column logged as ``key`` (``val_mig``, ``test_nll``), under that name; None for a
    name without a split (``mig`` is never logged as such)."""
    split, name = split_of(key)
    return None if split is None else next((c for c in columns(split) if c.key == key), None)


def owner(key: str) -> Metric | None:
    """The metric that logs ``key`` (``test_dci_completeness`` -> ``dci``), whatever its split."""
    _, name = split_of(key)
    return next((m for m in METRICS.values() if any(c.key == name for c in m.columns)), None)
