"""The family's own tracked terms on evaluation images: what its training logs show as ``val_``.

Not a registry metric: each family tracks different terms (``reconstruction_loss``,
``kl_loss``, ``mmd``, ``vq_loss``, ``perplexity``, ...) and they come from one pass of the
model's own ``compute_loss`` with its own posterior noise, exactly as Keras computes them.
The registry's ``elbo`` is the ELBO figure with the evaluation's own noise.
"""

import numpy as np
from keras import ops

from vae import losses
from vae.metrics.likelihood import standard_error


def _elbo(model, images, y_pred):
    """Per-image ELBO (nats) from a batch's model output: -(reconstruction NLL + KL)."""
    kl = ops.sum(losses.kl_per_dim(y_pred["z_mean"], y_pred["z_log_var"]), axis=-1)
    return -(model.reconstruction_nll(images, y_pred["out"]) + kl)


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray | None = None, batch_size: int = 256) -> dict:
    """The model's tracked terms on the test set (nats per example), as ``test_<name>``.

    The values are those the training logs show as ``val_<name>`` (the model's own trackers,
    reset first, over one pass with one posterior sample per image), so a family reports
    exactly the terms it tracks: families without an ELBO have no ``test_elbo``,
    ``test_kl_loss`` or ``kl_per_dim``.

    Returns:
        ``test_reconstruction_loss`` and the family's other terms (``test_elbo``,
        ``test_kl_loss``, ``test_mmd``, ``test_vq_loss``, ``test_perplexity``, ...);
        ``test_elbo_se``, the standard error of ``test_elbo`` over images (from the same
        posterior samples), where the family has an ELBO;
        ``kl_per_dim`` (an array, the mean test KL of each dimension) where the family has an
        ELBO.
    """
    for metric in model.metrics:
        metric.reset_state()
    elbos = []
    for start in range(0, len(x_test), batch_size):
        batch = x_test[start : start + batch_size]
        labels = None if y_test is None else y_test[start : start + batch_size]
        inputs = model.training_inputs(batch, labels)
        y_pred = model(inputs)
        model.compute_loss(x=inputs, y_pred=y_pred, training=False)
        if model.has_elbo:
            elbos.append(ops.convert_to_numpy(_elbo(model, model.images_of(inputs), y_pred)))
    # The compiled "loss" tracker is updated by train/test steps only, not by compute_loss.
    result = {f"test_{name}": float(value) for name, value in model.get_metrics_result().items()
              if name != "loss" and not name.startswith("kl_dim_")}
    if elbos:
        result["test_elbo_se"] = standard_error(np.concatenate(elbos))
    if model.kl_dim_tracker is not None:
        result["kl_per_dim"] = ops.convert_to_numpy(model.kl_dim_tracker.result())
    return result
