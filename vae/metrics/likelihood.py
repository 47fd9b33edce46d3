"""Test log-likelihood by importance weighting (the IWAE bound, Burda et al. 2016).

log p(x) >= log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x), z_j ~ q(z|x); the bound tightens
as k grows and equals the ELBO at k = 1. Estimates come per image, so two models scored on
the same images can be compared by their paired differences, and means come with their
standard errors.
"""

import math

import numpy as np
from keras import ops

from vae import losses
from vae.metrics import streams


def importance_weighted_nll(model, x: np.ndarray, num_samples: int = 1000, batch_size: int = 256,
                            max_decodes: int = 8192, seed: int = 0) -> np.ndarray:
    """-log p(x) per example (nats), estimated with ``num_samples`` importance samples.

    Args:
        model: a VAE with ``encode``, ``decode`` and ``reconstruction_nll``.
        x: images ``(n, h, w, c)``.
        num_samples: k, importance samples per image.
        batch_size: images encoded at once.
        max_decodes: images decoded at once (bounds memory). Each decode call takes
            ``max_decodes // k`` images with all their samples, or, when k is larger, one
            image's samples in chunks; the decoder dominates the cost, so fewer, larger
            calls are what make this fast.
        seed: the evaluation seed. The importance samples and a Gaussian likelihood's
            dequantization noise come from its ``streams`` (the posterior and dequantization
            streams of :func:`vae.metrics.elbo.per_image_elbo`, so k = 1 gives its
            ``sampled_kl`` ELBO exactly), never from the model's own generator.

    Returns:
        ``(n,)`` float64 array of -IWAE_k bounds, one per image, in the order of ``x``.
    """
    rng = streams.generator(seed, streams.POSTERIOR)
    dequantization = streams.seed_generator(seed, streams.DEQUANTIZATION)
    result = []
    group = max(1, min(batch_size, max_decodes // num_samples))
    for start in range(0, len(x), batch_size):
        batch = ops.convert_to_tensor(x[start : start + batch_size], "float32")
        z_mean, z_log_var = model.encode(batch)
        for g0 in range(0, int(ops.shape(batch)[0]), group):
            log_mean = _log_mean_weight(model, batch[g0 : g0 + group], z_mean[g0 : g0 + group],
                                        z_log_var[g0 : g0 + group], num_samples, max_decodes, rng,
                                        dequantization)
            result.append(-ops.convert_to_numpy(log_mean).astype(np.float64))
    return np.concatenate(result)


def _log_mean_weight(model, images, z_mean, z_log_var, num_samples, max_decodes, rng, dequantization):
    """log (1/k) sum_j w_j for each of ``images``, accumulated over chunks of samples.

    The log-weights stay on the backend: a running log-sum-exp over chunks avoids both
    holding all k weights and copying each chunk's decoder output back to NumPy.
    """
    n, dims = int(ops.shape(z_mean)[0]), int(ops.shape(z_mean)[1])
    chunk = max(1, max_decodes // n)
    image_shape = tuple(ops.shape(images)[1:])
    total = None
    for s0 in range(0, num_samples, chunk):
        s = min(chunk, num_samples - s0)
        eps = ops.convert_to_tensor(rng.standard_normal((s, n, dims)), "float32")
        z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps  # (s, n, dims)
        tiled = ops.reshape(ops.broadcast_to(images[None], (s, n, *image_shape)), (s * n, *image_shape))
        log_px_z = -model.reconstruction_nll(tiled, model.decode(ops.reshape(z, (s * n, dims))), seed=dequantization)
        log_w = (ops.reshape(log_px_z, (s, n)) + losses.gaussian_log_density(z, 0.0, ops.zeros_like(z))
                 - losses.gaussian_log_density(z, z_mean[None], z_log_var[None]))
        part = ops.logsumexp(log_w, axis=0)
        total = part if total is None else ops.logaddexp(total, part)
    return total - math.log(num_samples)


def standard_error(values) -> float:
    """Standard error of the mean of per-example values: std (ddof=1) / sqrt(n); 0 for n < 2."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return 0.0
    return float(np.std(values, ddof=1) / math.sqrt(values.size))


def bits_per_dim(nll_nats: float, num_dims: int) -> float:
    """Convert an NLL in nats per image to bits per dimension: nats / (D ln 2).

    Every likelihood's ``reconstruction_nll`` is a negative log-probability of the discrete
    data (binary pixels, or 8-bit pixels with uniform dequantization for the Gaussian), so
    one conversion serves both.
    """
    return nll_nats / (num_dims * math.log(2))


def summarize_nll(per_image: np.ndarray, num_dims: int, prefix: str = "test_") -> dict:
    """``{"test_nll", "test_nll_se", "test_bits_per_dim", "test_bits_per_dim_se"}`` of per-image
    NLLs (``prefix`` replaces ``test_``; the registry's split-neutral names have none)."""
    nll, se = float(np.mean(per_image)), standard_error(per_image)
    return {f"{prefix}nll": nll, f"{prefix}nll_se": se,
            f"{prefix}bits_per_dim": bits_per_dim(nll, num_dims), f"{prefix}bits_per_dim_se": bits_per_dim(se, num_dims)}


def compute(inputs) -> dict:
    """``{"nll", "nll_se", "bits_per_dim", "bits_per_dim_se"}`` on the inputs' evaluation
    images; the per-image NLLs go to ``inputs.per_image["nll"]``."""
    values = importance_weighted_nll(inputs.model, inputs.x_eval, num_samples=inputs.settings.iwae_samples,
                                     seed=inputs.settings.sampler_seed)
    inputs.per_image["nll"] = values
    return summarize_nll(values, int(np.prod(inputs.x_eval.shape[1:])), prefix="")


def test_nll(model, x: np.ndarray, num_samples: int = 1000, seed: int = 0) -> dict:
    """Importance-weighted test NLL and bits per dimension, with standard errors.

    Args:
        model: a VAE with ``encode``, ``decode`` and ``reconstruction_nll``.
        x: test images ``(n, h, w, c)``.
        num_samples: k, importance samples per image.
        seed: seed of the importance samples.

    Returns:
        ``{"test_nll", "test_nll_se", "test_bits_per_dim", "test_bits_per_dim_se"}``: the
        mean over images of -IWAE_k (nats per image), its standard error over images, and
        both in bits per dimension.
    """
    per_image = importance_weighted_nll(model, x, num_samples=num_samples, seed=seed)
    return summarize_nll(per_image, int(np.prod(x.shape[1:])))


test_nll.__test__ = False  # not a pytest test despite its name
