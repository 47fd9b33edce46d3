"""Pure loss functions in ``keras.ops``. Every value is in nats per example.

Reconstruction terms are negative log-likelihoods summed over pixels, so an ELBO computed
from them is comparable with the literature (e.g. about -90 nats on binarized MNIST).
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def bernoulli_nll(x, logits):
    """-log p(x | logits) of a factorized Bernoulli, summed over all but the batch axis."""
    # softplus(l) - x*l is the numerically stable form of binary cross-entropy on logits.
    per_pixel = ops.softplus(logits) - x * logits
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)


def gaussian_nll(x, mean, log_scale):
    """-log N(x; mean, exp(log_scale)^2), summed over all but the batch axis.

    ``log_scale`` is broadcast against ``x`` (a scalar or one value per channel).
    """
    z = (x - mean) * ops.exp(-log_scale)
    per_pixel = 0.5 * ops.square(z) + log_scale + 0.5 * LOG_2PI
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)


def discretized_logistic_log_prob(x, loc, log_scale, levels: int = 256):
    """log P(k) of 8-bit pixels ``x = k / 255`` under a logistic discretized to ``levels`` bins.

    The bin of level k is ``[(k - 0.5) / 255, (k + 0.5) / 255]`` on the [0, 1] scale of the
    images, and the first and last bins take the tails down to -inf and up to +inf (Salimans
    et al., 2017, PixelCNN++), so the levels' probabilities sum to exactly 1: an exact
    probability mass, with no dequantization. Elementwise; ``loc`` and ``log_scale`` broadcast
    against ``x``.
    """
    half_bin = 0.5 / (levels - 1)
    centered = x - loc
    inv_scale = ops.exp(-log_scale)
    plus_in = inv_scale * (centered + half_bin)
    min_in = inv_scale * (centered - half_bin)
    # log sigmoid(a) = a - softplus(a) and log(1 - sigmoid(a)) = -softplus(a), stable in the tails.
    log_cdf_plus = plus_in - ops.softplus(plus_in)
    log_one_minus_cdf_min = -ops.softplus(min_in)
    cdf_delta = ops.sigmoid(plus_in) - ops.sigmoid(min_in)
    # Where the bin holds almost no mass the difference of two sigmoids underflows: there the
    # density at the bin's centre times its width is the same number to float32 precision.
    mid_in = inv_scale * centered
    log_pdf_mid = mid_in - log_scale - 2.0 * ops.softplus(mid_in) - math.log(levels - 1)
    log_mid = ops.where(cdf_delta > 1e-5, ops.log(ops.maximum(cdf_delta, 1e-12)), log_pdf_mid)
    return ops.where(x < half_bin, log_cdf_plus, ops.where(x > 1.0 - half_bin, log_one_minus_cdf_min, log_mid))


def logistic_mixture_nll(x, logits, loc, log_scale):
    """-log P(x) of 8-bit pixels under a mixture of discretized logistics, summed over all but
    the batch axis.

    Args:
        x: images ``(batch, ...)`` with pixels k / 255.
        logits: mixture logits ``(batch, ..., K)`` (one mixture per pixel and channel).
        loc, log_scale: each component's location (on [0, 1]) and log-scale, ``(batch, ..., K)``.
    """
    log_weights = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    per_pixel = -ops.logsumexp(log_weights + discretized_logistic_log_prob(x[..., None], loc, log_scale), axis=-1)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)


def kl_per_dim(z_mean, z_log_var):
    """KL(N(mean, var) || N(0, 1)) of each latent dimension: shape ``(batch, latent_dim)``."""
    return 0.5 * (ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var)


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, exp(log_var)) summed over the last axis."""
    return -0.5 * ops.sum(
        LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1
    )


def imq_kernel(a, b, scale):
    """Inverse multiquadratic kernel matrix ``C / (C + |a_i - b_j|^2)`` between two batches."""
    sq_dist = (
        ops.sum(ops.square(a), axis=-1)[:, None]
        + ops.sum(ops.square(b), axis=-1)[None, :]
        - 2.0 * ops.matmul(a, ops.transpose(b))
    )
    return scale / (scale + ops.maximum(sq_dist, 0.0))


def mmd_imq(z, prior_z, scales=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)):
    """Unbiased MMD^2 between two equally sized samples with a sum of IMQ kernels.

    As in Tolstikhin et al. (WAE), ``C = 2 * latent_dim * s`` for each scale ``s``; the
    diagonal terms are dropped from the within-sample sums so that MMD(z, z') of two
    samples from one distribution is 0 in expectation. A single sample has no estimate: it
    gives 0 (a batch of one example at the end of an epoch).
    """
    n = ops.cast(ops.shape(z)[0], z.dtype)
    dim = ops.cast(ops.shape(z)[-1], z.dtype)
    off_diag = 1.0 - ops.eye(ops.shape(z)[0], dtype=z.dtype)
    # max(.., 1) keeps n = 1 free of 0/0, whose NaN would reach the gradients even when masked.
    pairs = ops.maximum(n * (n - 1.0), 1.0)
    total = 0.0
    for s in scales:
        c = 2.0 * dim * s
        k_zz = ops.sum(imq_kernel(z, z, c) * off_diag) / pairs
        k_pp = ops.sum(imq_kernel(prior_z, prior_z, c) * off_diag) / pairs
        k_zp = ops.sum(imq_kernel(z, prior_z, c)) / (n * n)
        total = total + k_zz + k_pp - 2.0 * k_zp
    # A product rather than a cond on the batch size: XLA (TensorFlow's, with a dynamic last
    # batch) cannot differentiate that cond, and both branches would be traced anyway.
    return total * ops.cast(n > 1.0, z.dtype)


def nearest_codes(z, codebook):
    """Index of the codebook row nearest to each vector of ``z`` (squared Euclidean distance).

    Args:
        z: ``(..., dim)`` encoder outputs.
        codebook: ``(num_embeddings, dim)`` code vectors.

    Returns:
        int32 indices of shape ``z.shape[:-1]``.
    """
    flat = ops.reshape(z, (-1, ops.shape(codebook)[-1]))
    sq_dist = (
        ops.sum(ops.square(flat), axis=-1, keepdims=True)
        - 2.0 * ops.matmul(flat, ops.transpose(codebook))
        + ops.sum(ops.square(codebook), axis=-1)[None, :]
    )
    codes = ops.cast(ops.argmin(sq_dist, axis=-1), "int32")
    return ops.reshape(codes, ops.shape(z)[:-1])


def straight_through(z_e, z_q):
    """``z_q`` in the forward pass, the identity to ``z_e`` in the backward pass (VQ-VAE)."""
    return z_e + ops.stop_gradient(z_q - z_e)


def vq_loss(z_e, z_q, commitment_cost):
    """VQ-VAE's codebook + commitment terms per example, summed over the code grid:
    ``|sg(z_e) - z_q|^2 + commitment_cost * |z_e - sg(z_q)|^2`` (van den Oord et al., 2017).

    The first term moves the codes towards the encoder outputs, the second keeps the encoder
    committed to its codes. Both have the value ``|z_e - z_q|^2`` (squared distances, not nats).
    """
    codebook = ops.square(ops.stop_gradient(z_e) - z_q)
    commitment = ops.square(z_e - ops.stop_gradient(z_q))
    per_element = codebook + commitment_cost * commitment
    return ops.sum(ops.reshape(per_element, (ops.shape(z_e)[0], -1)), axis=-1)


def perplexity(counts):
    """``exp(entropy)`` of the distribution proportional to ``counts``: the effective number
    of codes in use (K for uniform use of K codes, 1 for a single code)."""
    p = counts / ops.maximum(ops.sum(counts), 1.0)
    # p * log(p) -> 0 as p -> 0; the floor keeps log finite for unused codes.
    return ops.exp(-ops.sum(p * ops.log(ops.maximum(p, 1e-12))))


def code_counts(codes, num_embeddings):
    """How often each of ``num_embeddings`` codes occurs in the integer array ``codes``."""
    one_hot = ops.one_hot(ops.reshape(codes, (-1,)), num_embeddings)
    return ops.sum(one_hot, axis=0)
