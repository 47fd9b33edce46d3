"""The ELBO of each evaluation image, from the evaluation's own random streams."""

import numpy as np
from keras import ops

from vae import losses
from vae.errors import ConfigError
from vae.metrics import streams
from vae.metrics.codes import rows, tensors
from vae.metrics.likelihood import standard_error


def per_image_elbo(model, x, y=None, seed: int = 0, batch_size: int = 256, sampled_kl: bool = False) -> np.ndarray:
    """The ELBO of each image with one posterior sample per image (nats).

    With the analytic KL, as the training loss computes it; an unbiased estimate of each
    image's ELBO, so its mean and :func:`standard_error` give ``test_elbo`` with its
    uncertainty, and per-image values allow paired comparisons between models.

    Args:
        model: a family with an ELBO (``has_elbo``).
        x: images ``(n, h, w, c)``.
        y: labels or factors of ``x``, which a conditional family conditions on.
        seed: the evaluation seed. The posterior samples and a Gaussian likelihood's
            dequantization noise come from its ``streams`` (never the model's generator), so
            the values do not depend on what the model or another metric sampled before.
        batch_size: images per encode and decode call.
        sampled_kl: use the one-sample KL estimate log q(z|x) - log p(z) at the drawn z
            instead of the analytic KL. The value is then exactly -IWAE with k = 1 on the
            same streams (the consistency check of :mod:`vae.metrics.likelihood`).

    Returns:
        ``(n,)`` float64 array of ELBOs (higher is better; -ELBO bounds -log p(x)).

    Raises:
        ConfigError: the family has no ELBO (a deterministic encoder).
    """
    if not model.has_elbo:
        raise ConfigError(f"{model.family} has no ELBO: its encoder is deterministic")
    posterior, dequantization = streams.generator(seed, streams.POSTERIOR), streams.seed_generator(
        seed, streams.DEQUANTIZATION)
    inputs = model.training_inputs(x, y)
    values = []
    for start in range(0, len(x), batch_size):
        batch = tensors(rows(inputs, start, start + batch_size))
        z_mean, z_log_var = model.encode(batch)
        eps = ops.convert_to_tensor(posterior.standard_normal(tuple(ops.shape(z_mean))), "float32")
        z = z_mean + ops.exp(0.5 * z_log_var) * eps
        out = model.decode(model.decoder_inputs(z, batch[1] if model.conditional else None))
        if sampled_kl:
            kl = (losses.gaussian_log_density(z, z_mean, z_log_var)
                  - losses.gaussian_log_density(z, 0.0, ops.zeros_like(z)))
        else:
            kl = ops.sum(losses.kl_per_dim(z_mean, z_log_var), axis=-1)
        elbo = -(model.reconstruction_nll(model.images_of(batch), out, seed=dequantization) + kl)
        values.append(ops.convert_to_numpy(elbo).astype(np.float64))
    return np.concatenate(values)


def compute(inputs) -> dict:
    """``{"elbo", "elbo_se"}`` on the inputs' evaluation images; the per-image values go to
    ``inputs.per_image["elbo"]``."""
    values = per_image_elbo(inputs.model, inputs.x_eval, inputs.y_eval, seed=inputs.settings.sampler_seed)
    inputs.per_image["elbo"] = values
    return {"elbo": float(np.mean(values)), "elbo_se": standard_error(values)}
