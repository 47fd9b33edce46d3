"""Test-set figures of a trained model: the terms it tracks (ELBO terms, or reconstruction and
its own terms for families without an ELBO), KL per dimension and active units."""

import keras
import numpy as np
from keras import ops

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
        ``kl_per_dim`` (an array, the mean test KL of each dimension) where the family has an
        ELBO; ``active_units`` where its code is a vector.
    """
    for metric in model.metrics:
        metric.reset_state()
    for start in range(0, len(x_test), batch_size):
        batch = x_test[start : start + batch_size]
        labels = None if y_test is None else y_test[start : start + batch_size]
        inputs = model.training_inputs(batch, labels)
        model.compute_loss(x=inputs, y_pred=model(inputs), training=False)
    # The compiled "loss" tracker is updated by train/test steps only, not by compute_loss.
    result = {f"test_{name}": float(value) for name, value in model.get_metrics_result().items()
              if name != "loss" and not name.startswith("kl_dim_")}
    if model.kl_dim_tracker is not None:
        result["kl_per_dim"] = ops.convert_to_numpy(model.kl_dim_tracker.result())
    if model.code_kind == "vector":
        z_mean, _ = posterior_means(model, model.training_inputs(x_test, y_test), batch_size)
        result["active_units"] = active_units(z_mean)
    return result
