"""Test-set figures of a trained model: the terms it tracks (ELBO terms, or reconstruction and
its own terms for families without an ELBO), KL per dimension and active units."""

import keras
import numpy as np
from keras import ops

from vae import losses
from vae.errors import ConfigError
from vae.metrics.likelihood import standard_error

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): Cov_x(E_q[z_d]) > 0.01


def _rows(inputs, start, stop):
    """Rows ``start:stop`` of an array or of each array of ``(images, condition)``."""
    return keras.tree.map_structure(lambda a: a[start:stop], inputs)


def posterior_means(model, x, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
    """``(z_mean, z_log_var)`` of every row of ``x``, as NumPy arrays.

    ``x`` is what the model's encoder takes: images, or ``(images, conditions)`` for a
    conditional model (``model.training_inputs(x, y)``). ``z_log_var`` is None for families
    with a deterministic encoder (``has_elbo`` False); their ``z_mean`` is the code itself.
    """
    n = len(keras.tree.flatten(x)[0])
    means, log_vars = [], []
    for start in range(0, n, batch_size):
        batch = keras.tree.map_structure(lambda a: ops.convert_to_tensor(a, "float32"),
                                         _rows(x, start, start + batch_size))
        m, lv = model.encode(batch)
        means.append(ops.convert_to_numpy(m))
        log_vars.append(None if lv is None else ops.convert_to_numpy(lv))
    return np.concatenate(means), None if log_vars[0] is None else np.concatenate(log_vars)


def _elbo(model, images, y_pred):
    """Per-image ELBO (nats) from a batch's model output: -(reconstruction NLL + KL)."""
    kl = ops.sum(losses.kl_per_dim(y_pred["z_mean"], y_pred["z_log_var"]), axis=-1)
    return -(model.reconstruction_nll(images, y_pred["out"]) + kl)


def per_image_elbo(model, x, y=None, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """The ELBO of each image with one posterior sample per image (nats).

    With the analytic KL, as the training loss computes it; an unbiased estimate of each
    image's ELBO, so its mean and :func:`standard_error` give ``test_elbo`` with its
    uncertainty, and per-image values allow paired comparisons between models.

    Args:
        model: a family with an ELBO (``has_elbo``).
        x: images ``(n, h, w, c)``.
        y: labels or factors of ``x``, which a conditional family conditions on.
        seed: seed of the posterior samples (the model's own noise generator is not used,
            so the values do not depend on what the model sampled before).
        batch_size: images per encode and decode call.

    Returns:
        ``(n,)`` float64 array of ELBOs (higher is better; -ELBO bounds -log p(x)).

    Raises:
        ConfigError: the family has no ELBO (a deterministic encoder).
    """
    if not model.has_elbo:
        raise ConfigError(f"{model.family} has no ELBO: its encoder is deterministic")
    rng = np.random.default_rng(seed)
    inputs = model.training_inputs(x, y)
    values = []
    for start in range(0, len(x), batch_size):
        batch = keras.tree.map_structure(lambda a: ops.convert_to_tensor(a, "float32"),
                                         _rows(inputs, start, start + batch_size))
        z_mean, z_log_var = model.encode(batch)
        eps = ops.convert_to_tensor(rng.standard_normal(tuple(ops.shape(z_mean))), "float32")
        z = z_mean + ops.exp(0.5 * z_log_var) * eps
        condition = batch[1] if model.conditional else None
        y_pred = {"out": model.decode(model.decoder_inputs(z, condition)), "z_mean": z_mean, "z_log_var": z_log_var}
        values.append(ops.convert_to_numpy(_elbo(model, model.images_of(batch), y_pred)).astype(np.float64))
    return np.concatenate(values)


def active_units(z_mean: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Dimensions whose posterior mean varies across the data by more than ``threshold``."""
    return int(np.sum(np.var(z_mean, axis=0) > threshold))


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
