"""Test-set figures of a trained model: ELBO terms, KL per dimension and active units."""

import numpy as np
from keras import ops

from vae import losses

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): Cov_x(E_q[z_d]) > 0.01


def posterior_means(model, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(z_mean, z_log_var)`` of every row of ``x``, as NumPy arrays."""
    means, log_vars = [], []
    for start in range(0, len(x), batch_size):
        m, lv = model.encode(ops.convert_to_tensor(x[start : start + batch_size], "float32"))
        means.append(ops.convert_to_numpy(m))
        log_vars.append(ops.convert_to_numpy(lv))
    return np.concatenate(means), np.concatenate(log_vars)


def active_units(z_mean: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Dimensions whose posterior mean varies across the data by more than ``threshold``."""
    return int(np.sum(np.var(z_mean, axis=0) > threshold))


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray | None = None, batch_size: int = 256) -> dict:
    """One-sample ELBO terms on the test set (nats per example) and the latent statistics.

    Returns:
        ``test_elbo``, ``test_reconstruction_loss``, ``test_kl_loss``, ``active_units`` and
        ``kl_per_dim`` (an array, the mean test KL of each dimension).
    """
    recon, kl = [], []
    for start in range(0, len(x_test), batch_size):
        batch = x_test[start : start + batch_size]
        labels = None if y_test is None else y_test[start : start + batch_size]
        out = model(model.training_inputs(batch, labels))
        recon.append(ops.convert_to_numpy(model.reconstruction_nll(batch, out["out"])))
        kl.append(ops.convert_to_numpy(losses.kl_per_dim(out["z_mean"], out["z_log_var"])))
    recon, kl = np.concatenate(recon), np.concatenate(kl)
    z_mean, _ = posterior_means(model, x_test, batch_size)
    return {
        "test_elbo": float(-(recon + kl.sum(axis=1)).mean()),
        "test_reconstruction_loss": float(recon.mean()),
        "test_kl_loss": float(kl.sum(axis=1).mean()),
        "active_units": active_units(z_mean),
        "kl_per_dim": kl.mean(axis=0),
    }
