"""The metric registry: what each trial metric needs, what it logs, and how to compute it.

An entry declares its requirements (``needs``: a likelihood bound, a vector code, an
unconditional encoder, single labels, several factors, a ground-truth sampler), the columns
it logs with their label, direction and unit, and a ``compute(inputs)`` adapter onto the
metric's pure function. The trial metrics are a loop over ``METRICS``; the reasons a metric
is left out come from its unmet requirements; the report reads its columns from here.

Adding a metric: one module beside this one and one entry below.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from keras import ops

from vae.evaluate import active_units, per_image_elbo
from vae.metrics import likelihood
from vae.metrics.beta_vae import beta_vae_score
from vae.metrics.dci import dci
from vae.metrics.factor_vae import factor_vae_score
from vae.metrics.generation import generation_quality, inception_fid
from vae.metrics.inputs import TrialInputs
from vae.metrics.mig import mig
from vae.metrics.modularity import modularity
from vae.metrics.probe import linear_probe
from vae.metrics.reference import reference_network
from vae.metrics.sap import sap
from vae.metrics.total_correlation import gaussian_total_correlation


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
    """One logged value of a metric as tables show it."""

    key: str
    label: str
    direction: str  # "max" or "min": which way is better
    description: str


@dataclass(frozen=True)
class Metric:
    name: str
    needs: tuple[str, ...]
    columns: tuple[Column, ...]
    compute: Callable[[TrialInputs], dict]
    core: bool = False  # a report column whether or not any trial logged it
    setting: str | None = None  # a MetricSettings field the metric cannot run without (a user's file)
    setting_hint: str = ""  # how the user provides it

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


# Adapters onto the pure metric functions ------------------------------------------------------
def _elbo(t: TrialInputs) -> dict:
    values = per_image_elbo(t.model, t.x_eval, t.y_eval, seed=t.settings.sampler_seed)
    t.per_image["test_elbo"] = values
    return {"test_elbo": float(np.mean(values)), "test_elbo_se": likelihood.standard_error(values)}


def _active_units(t: TrialInputs) -> dict:
    return {"active_units": active_units(t.codes_eval)}


def _likelihood(t: TrialInputs) -> dict:
    values = likelihood.importance_weighted_nll(t.model, t.x_eval, num_samples=t.settings.iwae_samples,
                                                seed=t.settings.sampler_seed)
    t.per_image["test_nll"] = values
    return likelihood.summarize_nll(values, int(np.prod(t.x_eval.shape[1:])))


def _samples(t: TrialInputs) -> np.ndarray:
    """As many model samples as evaluation images. Bernoulli models are sampled in the data space
    (binary pixels drawn from the decoded probabilities, as the binarized data are); Gaussian
    models contribute their decoded means."""
    n, seed = len(t.x_eval), t.settings.sampler_seed
    z = t.model.sample_latents(n, seed=seed)
    means = np.concatenate([ops.convert_to_numpy(t.model.mean_image(t.model.decode(ops.convert_to_tensor(z[i:i + 256]))))
                            for i in range(0, n, 256)])
    if t.dataset.likelihood == "bernoulli":
        means = (np.random.default_rng(seed).random(means.shape) < means).astype(np.float32)
    return means


def _generation(t: TrialInputs) -> dict:
    """Samples against the evaluation images, in a reference network's features."""
    reference = reference_network(t.dataset)
    return {**generation_quality(_samples(t), t.x_eval, reference), "reference_accuracy": reference.accuracy}


def _inception(t: TrialInputs) -> dict:
    return inception_fid(_samples(t), t.x_eval, t.settings.inception_weights)


def _sampler_kwargs(t: TrialInputs) -> dict:
    s = t.settings
    return dict(batch_size=s.sampler_batch, num_train=s.sampler_train, num_eval=s.sampler_eval)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("elbo", ("elbo",), (
        Column("test_elbo", "test ELBO", "max", "one-sample ELBO on the evaluation set, nats per image"),
        Column("test_elbo_se", "ELBO s.e.", "min", "standard error of the test ELBO over the evaluation images, nats")),
        _elbo, core=True),
    Metric("likelihood", ("elbo", "unconditional"), (
        Column("test_nll", "test NLL", "min", "importance-weighted negative log-likelihood, nats per image"),
        Column("test_bits_per_dim", "bits/dim", "min", "test NLL in bits per pixel dimension"),
        Column("test_nll_se", "NLL s.e.", "min", "standard error of test NLL over the evaluation images, nats"),
        Column("test_bits_per_dim_se", "bits/dim s.e.", "min", "standard error of bits/dim")),
        _likelihood, core=True),
    Metric("generation", ("unconditional",), (
        Column("sample_frechet_distance", "sample FD", "min",
               "Fréchet distance of samples to the evaluation images in the features of a classifier trained on this "
               "dataset (not Inception's FID: comparable between trials of one dataset only)"),
        Column("sample_precision", "precision", "max", "fraction of samples inside the real images' k=3 manifold"),
        Column("sample_recall", "recall", "max", "fraction of real images inside the samples' k=3 manifold"),
        Column("reference_accuracy", "ref. acc.", "max", "test accuracy of the reference classifier")), _generation),
    Metric("inception_fid", ("unconditional",), (
        Column("inception_fid", "FID", "min", "Fréchet Inception Distance of samples to the evaluation images "
               "(InceptionV3 features; biased by the sample count, see inception_fid_count)"),), _inception,
        setting="inception_weights", setting_hint="--inception-weights PATH (Keras' InceptionV3 no-top weights file; "
                                                  "nothing is downloaded)"),
    Metric("active_units", ("vector_code",), (
        Column("active_units", "active units", "max",
               "latent dimensions whose posterior mean varies by more than 0.01 (Burda et al.)"),), _active_units, core=True),
    Metric("gaussian_total_correlation", ("unconditional", "vector_code"), (
        Column("gaussian_total_correlation", "Gaussian TC", "min",
               "total correlation of a Gaussian fitted to the codes, nats, corrected for its finite-sample bias "
               "(exact Wishart expectation, so trials of different latent sizes compare; lower is more factorised)"),),
        lambda t: gaussian_total_correlation(t.codes_eval)),
    Metric("probe_accuracy", ("unconditional", "vector_code", "labels"), (
        Column("probe_accuracy", "probe acc.", "max", "linear probe accuracy of the label from the codes"),),
        lambda t: linear_probe(t.codes_fit, t.y_fit, t.codes_eval, t.y_eval)),
    Metric("mig", ("unconditional", "vector_code", "factors"), (
        Column("mig", "MIG", "max", "mutual information gap"),),
        lambda t: mig(t.codes_eval, t.y_eval, num_bins=t.settings.num_bins)),
    Metric("sap", ("unconditional", "vector_code", "factors"), (
        Column("sap", "SAP", "max", "separated attribute predictability"),),
        lambda t: sap(t.codes_fit, t.y_fit, t.codes_eval, t.y_eval)),
    Metric("dci", ("unconditional", "vector_code", "factors"), (
        Column("dci_disentanglement", "DCI dis.", "max", "DCI disentanglement"),
        Column("dci_completeness", "DCI comp.", "max", "DCI completeness"),
        Column("dci_informativeness", "DCI info.", "max", "DCI informativeness: test accuracy of the factor predictors")),
        lambda t: dci(t.codes_fit, t.y_fit, t.codes_eval, t.y_eval, n_estimators=t.settings.dci_estimators)),
    Metric("modularity", ("unconditional", "vector_code", "factors"), (
        Column("modularity", "modularity", "max", "modularity score"),),
        lambda t: modularity(t.codes_eval, t.y_eval, num_bins=t.settings.num_bins)),
    Metric("beta_vae_score", ("unconditional", "vector_code", "sampler"), (
        Column("beta_vae_accuracy_eval", "β-VAE acc.", "max", "β-VAE metric, evaluation accuracy"),),
        lambda t: beta_vae_score(t.dataset.ground_truth, t.representation, t.sampler_rng(), **_sampler_kwargs(t))),
    Metric("factor_vae_score", ("unconditional", "vector_code", "sampler"), (
        Column("factor_vae_accuracy_eval", "FactorVAE acc.", "max", "FactorVAE metric, evaluation accuracy"),),
        lambda t: factor_vae_score(t.dataset.ground_truth, t.representation, t.sampler_rng(),
                                   num_variance_estimate=t.settings.sampler_train, **_sampler_kwargs(t))),
)}


def columns() -> list[Column]:
    """Every column of every registered metric, in registry order."""
    return [c for m in METRICS.values() for c in m.columns]


def column(key: str) -> Column | None:
    return next((c for c in columns() if c.key == key), None)


def owner(key: str) -> Metric | None:
    """The metric that logs ``key`` (``dci_completeness`` -> ``dci``)."""
    return next((m for m in METRICS.values() if any(c.key == key for c in m.columns)), None)


