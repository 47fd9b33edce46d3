"""Test log-likelihood by importance weighting (the IWAE bound, Burda et al. 2016).

log p(x) >= log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x), z_j ~ q(z|x); the bound tightens
as k grows and equals the ELBO at k = 1.
"""

import math

import numpy as np
from keras import ops

from vae import losses


def importance_weighted_nll(model, x: np.ndarray, num_samples: int = 1000, batch_size: int = 32,
                            max_decodes: int = 8192, seed: int = 0) -> np.ndarray:
    """-log p(x) per example (nats), estimated with ``num_samples`` importance samples.

    Args:
        model: a VAE with ``encode``, ``decode`` and ``reconstruction_nll``.
        x: images ``(n, h, w, c)``.
        num_samples: k, importance samples per image.
        batch_size: images encoded at once.
        max_decodes: images decoded at once (bounds memory: k * batch is chunked).
        seed: seed of the importance samples.
    """
    rng = np.random.default_rng(seed)
    result = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        n = len(batch)
        z_mean, z_log_var = (ops.convert_to_numpy(t) for t in model.encode(ops.convert_to_tensor(batch, "float32")))
        log_weights = np.empty((num_samples, n), dtype=np.float64)
        chunk = max(1, max_decodes // n)
        for s0 in range(0, num_samples, chunk):
            s = min(chunk, num_samples - s0)
            eps = rng.standard_normal((s, n, z_mean.shape[-1])).astype(np.float32)
            z = z_mean[None] + np.exp(0.5 * z_log_var)[None] * eps
            flat_z = z.reshape(s * n, -1)
            tiled_x = np.broadcast_to(batch[None], (s, *batch.shape)).reshape(s * n, *batch.shape[1:])
            log_px_z = -ops.convert_to_numpy(model.reconstruction_nll(tiled_x, model.decode(flat_z)))
            log_pz = ops.convert_to_numpy(losses.gaussian_log_density(flat_z, 0.0, ops.zeros_like(flat_z)))
            log_qz = ops.convert_to_numpy(losses.gaussian_log_density(
                flat_z, np.repeat(z_mean[None], s, 0).reshape(s * n, -1),
                np.repeat(z_log_var[None], s, 0).reshape(s * n, -1)))
            log_weights[s0 : s0 + s] = (log_px_z + log_pz - log_qz).reshape(s, n)
        peak = log_weights.max(axis=0)
        log_mean = peak + np.log(np.mean(np.exp(log_weights - peak), axis=0))
        result.append(-log_mean)
    return np.concatenate(result)


def bits_per_dim(nll_nats: float, num_dims: int, discrete_binary: bool) -> float:
    """Convert an NLL in nats per image to bits per dimension.

    Binary data: nats / (D ln 2). Continuous data scaled to [0, 1] from 8-bit pixels: the
    density is moved to the 256-level scale first, (nats + D ln 256) / (D ln 2), the usual
    convention (it assumes uniform dequantization; our data is not dequantized, so read it
    as an approximation).
    """
    if discrete_binary:
        return nll_nats / (num_dims * math.log(2))
    return (nll_nats + num_dims * math.log(256)) / (num_dims * math.log(2))


def test_nll(model, x: np.ndarray, num_samples: int = 1000, binary: bool = True, seed: int = 0) -> dict:
    """``{"test_nll": nats per image, "test_bits_per_dim": ...}`` on images ``x``."""
    nll = float(np.mean(importance_weighted_nll(model, x, num_samples=num_samples, seed=seed)))
    return {"test_nll": nll, "test_bits_per_dim": bits_per_dim(nll, int(np.prod(x.shape[1:])), binary)}


test_nll.__test__ = False  # not a pytest test despite its name
