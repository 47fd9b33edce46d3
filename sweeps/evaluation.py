"""The metrics each trial computes, chosen by what its dataset and model family support.

Likelihood for families with a likelihood bound; disentanglement on datasets with several
ground-truth factors (dSprites, CelebA attributes); a linear probe on single-label datasets;
Gaussian total correlation everywhere. What is left out is said, with the reason.
"""

import io
from dataclasses import asdict, dataclass

import numpy as np

from sweeps.console import say
from vae import metrics
from vae.evaluate import posterior_means


@dataclass
class MetricSettings:
    """How much work the trial metrics may do (see ``SETTINGS`` for each budget)."""

    iwae_samples: int = 1000
    iwae_images: int = 256
    metric_images: int = 2000
    num_bins: int = 20
    dci_estimators: int = 50
    sampler_train: int = 2000
    sampler_eval: int = 1000
    sampler_batch: int = 64


SETTINGS = {
    "smoke": MetricSettings(iwae_samples=100, iwae_images=64, metric_images=256, dci_estimators=10,
                            sampler_train=100, sampler_eval=50, sampler_batch=16),
    # k = 1000 on 1000 images costs minutes per conv trial on a CPU: quick sweeps use a
    # looser bound on fewer images and say so in their params (metric_iwae_*).
    "quick": MetricSettings(iwae_samples=200, iwae_images=128),
    "full": MetricSettings(iwae_images=1000, metric_images=10000, dci_estimators=100, sampler_train=10000,
                           sampler_eval=5000),
}


def codes_of(model, x, y=None) -> np.ndarray:
    """Posterior means of images ``x`` (conditioned on ``y`` for a conditional family)."""
    inputs = model.training_inputs(x, y) if getattr(model, "conditional", False) else x
    z_mean, _ = posterior_means(model, inputs)
    return z_mean


def trial_metrics(model, dataset, settings: MetricSettings, seed: int = 0):
    """Compute every metric the dataset and family support.

    Returns:
        ``(metrics, params, skipped, codes)``: the values to log, the metric parameters to
        log as params, a list of "names: reason" for what was left out, and the test codes
        with their labels/factors for the report's latent view (None for grid codes).
    """
    values, skipped = {}, []
    params = {f"metric_{k}": v for k, v in asdict(settings).items()}
    conditional = getattr(model, "conditional", False)
    if not model.has_elbo:
        skipped.append(f"test_elbo, test_nll, test_bits_per_dim: {model.family} has no likelihood bound")
    elif conditional:
        skipped.append(f"test_nll, test_bits_per_dim: {model.family} models p(x|y); the IWAE estimate here is unconditional")
    else:
        x = dataset.x_test[: settings.iwae_images]
        values.update(metrics.test_nll(model, x, num_samples=settings.iwae_samples,
                                       binary=dataset.likelihood == "bernoulli", seed=seed))

    n = settings.metric_images
    x_train, y_train = dataset.x_train[:n], None if dataset.y_train is None else dataset.y_train[:n]
    x_test, y_test = dataset.x_test[:n], None if dataset.y_test is None else dataset.y_test[:n]
    codes_test = codes_of(model, x_test, y_test)
    if codes_test.ndim > 2:
        skipped.append(f"active_units, gaussian_total_correlation, mig, sap, dci, modularity, probe_accuracy, beta_vae_score, "
                       f"factor_vae_score: {model.family} codes are a grid of codebook vectors, not a latent vector")
        return values, params, skipped, None
    codes_train = codes_of(model, x_train, y_train)
    if len(codes_test) > codes_test.shape[1]:
        values.update(safe("gaussian_total_correlation", skipped, metrics.gaussian_total_correlation, codes_test))
    else:
        skipped.append(f"gaussian_total_correlation: {len(codes_test)} test codes cannot estimate a "
                       f"{codes_test.shape[1]}-dimensional covariance")

    if y_train is None:
        skipped.append("mig, sap, dci, modularity, probe_accuracy: the dataset has no labels or factors")
    elif y_train.ndim == 1:
        skipped.append(f"mig, sap, dci, modularity: {dataset.name} has a single label factor; probe_accuracy reported instead")
        values.update(safe("probe_accuracy", skipped, metrics.linear_probe, codes_train, y_train, codes_test, y_test))
    else:
        skipped.append(f"probe_accuracy: {dataset.name} has several factors; the disentanglement metrics score the codes")
        values.update(safe("mig", skipped, metrics.mig, codes_train, y_train, num_bins=settings.num_bins))
        values.update(safe("modularity", skipped, metrics.modularity, codes_train, y_train, num_bins=settings.num_bins))
        values.update(safe("sap", skipped, metrics.sap, codes_train, y_train, codes_test, y_test))
        values.update(safe("dci", skipped, metrics.dci, codes_train, y_train, codes_test, y_test,
                           n_estimators=settings.dci_estimators))
    if dataset.ground_truth is not None and not conditional:
        def representation(observations):
            return codes_of(model, observations)

        rs = np.random.RandomState(seed)
        values.update(safe("beta_vae_score", skipped, metrics.beta_vae_score, dataset.ground_truth, representation,
                           rs, batch_size=settings.sampler_batch, num_train=settings.sampler_train,
                           num_eval=settings.sampler_eval))
        values.update(safe("factor_vae_score", skipped, metrics.factor_vae_score, dataset.ground_truth, representation,
                           rs, batch_size=settings.sampler_batch, num_train=settings.sampler_train,
                           num_eval=settings.sampler_eval, num_variance_estimate=settings.sampler_train))
    elif conditional:
        skipped.append(f"beta_vae_score, factor_vae_score: {model.family} codes depend on the condition as well as the image")
    else:
        skipped.append(f"beta_vae_score, factor_vae_score: need a ground-truth sampler, which {dataset.name} has not")
    codes = {"codes": codes_test.astype(np.float32)}
    if y_test is not None:
        codes["labels" if y_test.ndim == 1 else "factors"] = y_test
        codes["factor_names"] = np.array(dataset.factor_names)
    return values, params, skipped, codes


def safe(name, skipped, fn, *args, **kwargs) -> dict:
    """Run one metric; a failure is recorded as a skipped metric, not a failed trial."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # a metric that cannot be computed must not lose the trial
        skipped.append(f"{name}: could not be computed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
        say(f"warning: {name} could not be computed: {exc}")
        return {}


def codes_npz(codes: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **codes)
    return buffer.getvalue()
