"""A model's codes for images: the posterior means every latent-space metric scores."""

import keras
import numpy as np
from keras import ops


def rows(inputs, start, stop):
    """Rows ``start:stop`` of an array or of each array of ``(images, condition)``."""
    return keras.tree.map_structure(lambda a: a[start:stop], inputs)


def tensors(inputs):
    """An array, or each array of ``(images, condition)``, as float32 backend tensors."""
    return keras.tree.map_structure(lambda a: ops.convert_to_tensor(a, "float32"), inputs)


def posterior_means(model, x, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
    """``(z_mean, z_log_var)`` of every row of ``x``, as NumPy arrays.

    ``x`` is what the model's encoder takes: images, or ``(images, conditions)`` for a
    conditional model (``model.training_inputs(x, y)``). ``z_log_var`` is None for families
    with a deterministic encoder (``has_elbo`` False); their ``z_mean`` is the code itself.
    """
    n = len(keras.tree.flatten(x)[0])
    means, log_vars = [], []
    for start in range(0, n, batch_size):
        m, lv = model.encode(tensors(rows(x, start, start + batch_size)))
        means.append(ops.convert_to_numpy(m))
        log_vars.append(None if lv is None else ops.convert_to_numpy(lv))
    return np.concatenate(means), None if log_vars[0] is None else np.concatenate(log_vars)
