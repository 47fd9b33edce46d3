"""The metrics each trial computes: a loop over the metric registry (``vae.metrics.registry``).

Every figure of one call is computed on the same evaluation set: the first ``eval_images`` of
the split asked for, the dataset's fixed validation split (figures to choose on, logged as
``val_<name>``) or its test split (figures to report, ``test_<name>``). A metric whose
requirements the family or the dataset does not meet is left out with the registry's reason,
and one that fails is left out with its error.
"""

import io
from dataclasses import asdict

import numpy as np

from sweeps.console import say
from vae.metrics.inputs import MetricSettings, TrialInputs
from vae.metrics.registry import METRICS, logged

SETTINGS = {
    # A check that the machinery runs: no reference network is trained for 64 samples.
    "smoke": MetricSettings(eval_images=64, fit_images=256, iwae_samples=100, dci_estimators=10,
                            sampler_train=100, sampler_eval=50, sampler_batch=16, off=("generation",)),
    # Sized by the noise they buy. 500 evaluation images give the test NLL a standard error of
    # about 1 nat and paired differences between trials far less; k = 50 keeps the IWAE bound
    # within a few nats of k = 1000 at a twentieth of the cost. 500 votes give the sampler
    # metrics' accuracies a standard error of about 2 points, below their seed-to-seed spread
    # (Locatello et al., 2019), at a sixth of the images of 2,000 / 1,000 votes of 64.
    "quick": MetricSettings(eval_images=500, iwae_samples=50, sampler_train=500, sampler_eval=500, sampler_batch=32),
    "full": MetricSettings(eval_images=10000, fit_images=10000, dci_estimators=100, sampler_train=10000,
                           sampler_eval=5000),
}


def trial_metrics(model, dataset, settings: MetricSettings, seed: int = 0, split: str = "test", data_dir=None):
    """Compute every registered metric the family and dataset support on one split.

    Args:
        model, dataset, settings: the trained model, its data and the budget's settings.
        seed: the trial's seed (unused: the evaluation's noise comes from
            ``settings.sampler_seed``, the same for every trial, see ``vae.metrics.streams``).
        split: ``"val"`` (the figures a sweep chooses on) or ``"test"`` (the figures it reports).
        data_dir: the dataset's files (default ``$VAE_DATA_DIR``), from which the generation
            metrics' reference network loads its fixed training set.

    Returns:
        ``(metrics, params, skipped, arrays)``: the values to log, each as ``<split>_<name>``
        (``val_mig``, ``test_nll``); the metric settings to log as params (with
        ``metric_reference_digest`` where the generation metrics ran: their figures compare
        only between equal digests); ``{metric: reason}`` for what was left out; and the arrays
        to log beside them: ``codes`` (the split's evaluation codes with their labels/factors,
        for the report's latent view; absent when the code is not a vector) and ``per_image``
        (per-image figures under their logged names, for paired comparisons between trials).
    """
    inputs = TrialInputs(model, dataset, settings, split=split, data_dir=data_dir)
    values, skipped = {}, {}
    for metric in METRICS.values():
        reason = metric.unmet(model, dataset) or settings_reason(metric, settings)
        if reason:
            skipped[metric.name] = reason
            continue
        try:
            values.update(logged(split, metric.compute(inputs)))
        except Exception as exc:  # a metric that cannot be computed must not lose the trial
            skipped[metric.name] = f"could not be computed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            say(f"warning: {metric.name} could not be computed: {exc}")
    params = {f"metric_{k}": v for k, v in {**asdict(settings), **inputs.params}.items()}
    arrays = {"per_image": {k: v.astype(np.float32) for k, v in logged(split, inputs.per_image).items()}}
    if model.code_kind == "vector":
        codes = arrays["codes"] = {"codes": inputs.codes_eval.astype(np.float32)}
        if inputs.y_eval is not None:
            codes["labels" if inputs.y_eval.ndim == 1 else "factors"] = inputs.y_eval
            codes["factor_names"] = np.array(dataset.factor_names)
    return values, params, skipped, arrays


def settings_reason(metric, settings: MetricSettings) -> str | None:
    """Why the budget's settings leave a metric out, or None."""
    if metric.name in settings.off:
        return "left out by this budget's metric settings (raise the budget to compute it)"
    if metric.setting and getattr(settings, metric.setting) is None:
        return f"needs {metric.setting_hint}"
    return None


def npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()
