"""What a trained run logs after training: its model, the family's figures, the images and
the trial metrics, a loop over the metric registry (``vae.metrics.registry``).

Every figure of one call is computed on the same evaluation set: the first ``eval_images`` of
the split asked for, the dataset's fixed validation split (figures to choose on, logged as
``val_<name>``) or its test split (figures to report, ``test_<name>``). A metric whose
requirements the family or the dataset does not meet is left out with the registry's reason,
and one that fails is left out with its error.
"""

from dataclasses import asdict

import numpy as np

from sweeps import record, tracking
from sweeps.console import say
from sweeps.record.tradeoffs import CODE_LOG_VARS
from vae import images
from vae.data import eval_digest
from vae.metrics import registry
from vae.metrics import terms as evaluate
from vae.metrics.codes import posterior_means
from vae.metrics.inputs import MetricSettings, TrialInputs, first_rows
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


def trial_metrics(model, dataset, settings: MetricSettings, seed: int = 0, only=None, split: str = "test", data_dir=None):
    """Compute every registered metric the family and dataset support on one split.

    Args:
        model, dataset, settings: the trained model, its data and the budget's settings.
        seed: the trial's seed (unused: the evaluation's noise comes from
            ``settings.sampler_seed``, the same for every trial, see ``vae.metrics.streams``).
        split: ``"val"`` (the figures a sweep chooses on) or ``"test"`` (the figures it reports).
        only: the names of the metrics to compute (default: all).
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
        if only is not None and metric.name not in only:
            continue
        reason = metric.unmet(model, dataset) or settings_reason(metric, settings)
        if reason:
            skipped[metric.name] = reason
            continue
        try:
            values.update(logged(split, metric.compute(inputs)))
        except Exception as exc:  # a metric that cannot be computed must not lose the trial
            skipped[metric.name] = f"could not be computed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            say(f"warning: {metric.name} could not be computed: {exc}")
    params = {f"{record.METRIC_PARAM_PREFIX}{k}": v for k, v in {**asdict(settings), **inputs.params}.items()}
    arrays = {"per_image": {k: v.astype(np.float32) for k, v in logged(split, inputs.per_image).items()}}
    if model.code_kind == "vector":
        codes = arrays["codes"] = {"codes": inputs.codes_eval.astype(np.float32)}
        # UDR compares seeds by their codes and each latent's KL on the same images: keep the
        # posterior log-variances beside the means (families with a stochastic encoder).
        _, log_vars = posterior_means(model, model.training_inputs(inputs.x_eval, inputs.y_eval)
                                      if model.conditional else inputs.x_eval)
        if log_vars is not None:
            codes[CODE_LOG_VARS] = log_vars.astype(np.float32)
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
    """An array file's content, in the record's codec."""
    return record.encode_arrays(arrays)


def finish_run(model, dataset, client, run_id, settings, seed: int = 0, choose_by=(), data_dir=None) -> dict:
    """Everything a trained model's run logs after training: a learned prior (VQ-VAE), the
    model (MLflow's Keras flavor), the family's test-set terms, the images, the trial metrics
    the family and dataset support on the test split (figures to report), the metrics
    ``choose_by`` names on the validation split (figures to choose on, ``val_<name>``), what
    was left out and why, and the test codes for the report.

    Validation figures whose name is one of the family's Keras logs (``val_elbo``, which Keras
    logs per epoch on the whole validation split) are kept per image only, for paired
    comparisons, so that the epoch log keeps its meaning. The model is logged before the
    test-set pass, so that a reloaded model draws the same posterior samples as the logged
    ``test_reconstruction_loss`` did (its seed generator's state is saved with it).

    Returns:
        the logged figures (``test_reconstruction_loss``, ``test_elbo``, ``test_nll``,
        ``val_mig``, ...).
    """
    model.fit_prior(dataset.x_train, dataset.y_train)
    n = min(settings.eval_images, len(dataset.x_test))
    x_eval, y_eval = dataset.x_test[:n], None if dataset.y_test is None else dataset.y_test[:n]
    tracking.log_keras_model(client, run_id, model, model.training_inputs(x_eval[:2], None if y_eval is None else y_eval[:2]))
    # Trials are comparable only on the same images: say which ones (the digests) and how many.
    m = min(settings.eval_images, len(dataset.x_val))
    tracking.log_params(client, run_id, {record.EVAL_DIGEST: eval_digest(x_eval, y_eval),
                                         record.VAL_DIGEST: eval_digest(dataset.x_val[:m], first_rows(dataset.y_val, m))})
    result = evaluate.evaluate(model, x_eval, y_eval)
    kl_per_dim = result.pop("kl_per_dim", None)
    # The registry's metrics log their own figures (test_elbo with its standard error).
    result = {k: v for k, v in result.items() if registry.owner(k) is None}
    tracking.log_metrics(client, run_id, {**result, "eval_images": n}, step=0)
    for name, image in images.all_images(model, dataset.x_test, dataset.y_test, kl_per_dim, seed=seed).items():
        tracking.log_image(client, run_id, image, record.image_path(name))
    values, params, skipped, arrays = trial_metrics(model, dataset, settings, seed=seed, data_dir=data_dir)
    per_image = dict(arrays["per_image"])
    if choose_by:
        chosen, _, _, val_arrays = trial_metrics(model, dataset, settings, seed=seed, split="val", only=set(choose_by),
                                                 data_dir=data_dir)
        epoch_logs = {f"val_{name}" for name in model.logged_metric_names()}
        values.update({k: v for k, v in chosen.items() if k not in epoch_logs and k.removesuffix("_se") not in epoch_logs})
        per_image.update(val_arrays["per_image"])
    tracking.log_metrics(client, run_id, values, step=0)
    tracking.log_params(client, run_id, params)
    record.log_skipped(client, run_id, skipped)
    if "codes" in arrays:
        tracking.log_bytes(client, run_id, npz(arrays["codes"]), record.CODES_FILE)
    if per_image:
        tracking.log_bytes(client, run_id, npz(per_image), record.PER_IMAGE_FILE)
    return {**result, **values}

