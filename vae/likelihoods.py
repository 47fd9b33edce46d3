"""The decoder's likelihoods p(x|z), one entry per name in :data:`LIKELIHOODS`.

Each entry says which images it is a probability of (``data``: ``"binary"`` 0/1 pixels, or
``"8bit"`` pixels k/255 with k in 0..255), how many decoder outputs it reads per image channel
(``params``), and gives, from the decoder's output ``out``:

- ``nll``: -log p(x|z) per example, in nats summed over pixels, a proper bound on the
  negative log-probability of the *discrete* images, so ELBOs, IWAE bounds and bits/dim
  compare across all the likelihoods of one kind of data (not between kinds: a Bernoulli
  scores binarized images, the others the 8-bit ones);
- ``mean``: the image shown to people, the decoder's mean in [0, 1] (figures draw it, never
  a sample);
- ``std``: the per-pixel standard deviation of p(x|z) on the [0, 1] scale (the scale figure).

Conventions. The decoder's output holds ``params`` blocks of ``channels`` maps, parameter-major
(``out[..., p * C + c]`` is parameter p of channel c). The Gaussians' means are ``sigmoid`` of
their output, on [0, 1] like the images; the logistics' locations are the output itself (as in
PixelCNN++): the edge bins reward a location ever further beyond 0 or 1, where a sigmoid's
gradient vanishes and a pixel dark in most images could no longer be lit by z (the posterior
collapsed). Continuous densities (the Gaussians) score dequantized pixels
y = (255 x + u) / 256, u ~ U(0, 1), plus D ln 256 nats: an upper bound on -log P(k|z) in
expectation over u (Theis et al., 2016). The discretized logistic is an exact probability
of the 256 levels (Salimans et al., 2017), and needs no noise.
"""

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from vae import losses
from vae.errors import ConfigError

MIN_LOG_SCALE = math.log(0.01)  # keeps the global Gaussian scale from collapsing to 0
# The lower bound of a per-pixel log-scale, a sixteenth of a grey level: low enough that a
# pixel the decoder knows costs almost nothing under the logistic (P > 0.96 for its level),
# while the Gaussian's optimum (the dequantization noise, 1/885) stays above it.
MIN_PIXEL_LOG_SCALE = math.log(1.0 / 2048.0)
LOG_256 = math.log(256.0)  # nats per pixel between a density on [0, 1] and 8-bit probabilities
LOGISTIC_STD = math.pi / math.sqrt(3.0)  # std of a logistic of scale 1
MIXTURE_COMPONENTS = 5


def bounded_log_scale(raw):
    """A per-pixel log-scale from the decoder's raw output, smoothly bounded below by
    ``MIN_PIXEL_LOG_SCALE`` (softplus, so pixels at the bound still get a gradient)."""
    return MIN_PIXEL_LOG_SCALE + ops.softplus(raw - MIN_PIXEL_LOG_SCALE)


def raw_for_log_scale(log_scale: np.ndarray) -> np.ndarray:
    """The inverse of :func:`bounded_log_scale` (targets at the bound move just above it)."""
    excess = np.maximum(np.asarray(log_scale, np.float64) - MIN_PIXEL_LOG_SCALE, 1e-3)
    return MIN_PIXEL_LOG_SCALE + np.log(np.expm1(excess))


def _params(out, channels: int, count: int):
    """The decoder's output ``(batch, h, w, count * channels)`` as ``count`` maps of shape
    ``(batch, h, w, channels)`` (parameter-major layout)."""
    return [out[..., p * channels : (p + 1) * channels] for p in range(count)]


def _dequantize(model, x, seed=None):
    """y = (255 x + u) / 256, u ~ U(0, 1) per pixel from ``seed`` (an evaluation's own stream,
    see ``vae.metrics.streams``), else the model's noise stream."""
    u = keras.random.uniform(ops.shape(x), dtype="float32", seed=model.seed_generator if seed is None else seed)
    return (255.0 * x + u) / 256.0


@dataclass(frozen=True)
class Likelihood:
    """One likelihood: its name, the data it scores and what the decoder outputs for it.

    Attributes:
        name: the registry name (``--likelihood``).
        data: ``"binary"`` or ``"8bit"``, the images it is a probability of.
        params: decoder outputs per image channel.
        per_pixel_scale: True when the decoder outputs a scale per pixel (the scale figure).
        summary: one line for help texts and the README.
    """

    name: str
    data: str
    params: int
    per_pixel_scale: bool
    summary: str

    def nll(self, model, x, out, seed=None):
        raise NotImplementedError

    def mean(self, model, out):
        raise NotImplementedError

    def std(self, model, out):
        raise NotImplementedError

    def initial_offsets(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray | None:
        """Per-pixel values ``(h, w, params * channels)`` added to the decoder's output before
        training, from the training images' per-pixel ``mean`` and ``std``, so the model starts
        where the data puts it; None when the likelihood has no per-pixel output to start."""
        return None


class Bernoulli(Likelihood):
    def nll(self, model, x, out, seed=None):
        return losses.bernoulli_nll(x, out)

    def mean(self, model, out):
        return ops.sigmoid(out)

    def std(self, model, out):
        p = ops.sigmoid(out)
        return ops.sqrt(p * (1.0 - p))


class GlobalGaussian(Likelihood):
    """A Gaussian with one learned scale per channel (the model's ``log_scale`` weight)."""

    def log_scale(self, model):
        return ops.maximum(ops.cast(model.log_scale, "float32"), MIN_LOG_SCALE)

    def nll(self, model, x, out, seed=None):
        pixels = math.prod(model.image_shape)
        return losses.gaussian_nll(_dequantize(model, x, seed), ops.sigmoid(out), self.log_scale(model)) + pixels * LOG_256

    def mean(self, model, out):
        return ops.sigmoid(out)

    def std(self, model, out):
        return ops.ones_like(out) * ops.exp(self.log_scale(model))


class PixelGaussian(Likelihood):
    """A Gaussian whose decoder outputs a mean and a (bounded) log-scale per pixel."""

    def nll(self, model, x, out, seed=None):
        loc, raw = _params(out, model.image_shape[-1], 2)
        pixels = math.prod(model.image_shape)
        return losses.gaussian_nll(_dequantize(model, x, seed), ops.sigmoid(loc), bounded_log_scale(raw)) + pixels * LOG_256

    def mean(self, model, out):
        return ops.sigmoid(_params(out, model.image_shape[-1], 2)[0])

    def std(self, model, out):
        return ops.exp(bounded_log_scale(_params(out, model.image_shape[-1], 2)[1]))

    def initial_offsets(self, mean, std):
        return np.concatenate([_logit(mean), raw_for_log_scale(np.log(np.maximum(std, 1 / 255)))], axis=-1)


class DiscretizedLogistic(Likelihood):
    """A mixture of ``components`` discretized logistics per pixel and channel (one: no
    mixture logits). Parameters: [logits (K if K > 1)] [locations K] [log-scales K]."""

    components: int = 1

    def _split(self, model, out):
        k, channels = self.components, model.image_shape[-1]
        maps = [ops.stack(_params(out, channels, self.params)[i * k : (i + 1) * k], axis=-1)
                for i in range(self.params // k)]
        logits = maps[0] if k > 1 else ops.zeros_like(maps[0])
        return logits, maps[-2], bounded_log_scale(maps[-1])

    def nll(self, model, x, out, seed=None):
        return losses.logistic_mixture_nll(x, *self._split(model, out))

    def mean(self, model, out):
        # The components' locations, clipped to the images' range as the edge bins clip the
        # logistic, weighted by the mixture.
        logits, loc, _ = self._split(model, out)
        return ops.sum(ops.softmax(logits, axis=-1) * ops.clip(loc, 0.0, 1.0), axis=-1)

    def std(self, model, out):
        logits, loc, log_scale = self._split(model, out)
        weights, loc = ops.softmax(logits, axis=-1), ops.clip(loc, 0.0, 1.0)
        second = ops.sum(weights * (ops.square(LOGISTIC_STD * ops.exp(log_scale)) + ops.square(loc)), axis=-1)
        return ops.sqrt(ops.maximum(second - ops.square(ops.sum(weights * loc, axis=-1)), 0.0))

    def initial_offsets(self, mean, std):
        k = self.components
        log_scale = np.log(np.maximum(std, 1 / 255) / LOGISTIC_STD)
        blocks = ([np.zeros_like(mean)] * k if k > 1 else []) + [mean] * k + [raw_for_log_scale(log_scale)] * k
        return np.concatenate(blocks, axis=-1)


class LogisticMixture(DiscretizedLogistic):
    components = MIXTURE_COMPONENTS


def _logit(p: np.ndarray) -> np.ndarray:
    # Within a tenth of a grey level of the dequantized Gaussian's best mean for a pixel
    # never lit in training, 0.5/256.
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p) - np.log1p(-p)


LIKELIHOODS: dict[str, Likelihood] = {
    "bernoulli": Bernoulli("bernoulli", "binary", 1, False, "factorized Bernoulli of binarized pixels"),
    "gaussian": GlobalGaussian("gaussian", "8bit", 1, False,
                               "Gaussian with one learned scale per channel, on dequantized 8-bit pixels"),
    "gaussian_pixel": PixelGaussian("gaussian_pixel", "8bit", 2, True,
                                    "Gaussian with a decoded scale per pixel, on dequantized 8-bit pixels"),
    "logistic": DiscretizedLogistic("logistic", "8bit", 2, True,
                                    "discretized logistic per pixel: an exact probability of the 256 levels"),
    "logistic_mix": LogisticMixture("logistic_mix", "8bit", 3 * MIXTURE_COMPONENTS, True,
                                    f"mixture of {MIXTURE_COMPONENTS} discretized logistics per pixel"),
}


def get_likelihood(name: str) -> Likelihood:
    """The registered likelihood ``name``.

    Raises:
        ConfigError: an unknown name.
    """
    if name not in LIKELIHOODS:
        raise ConfigError(f"unknown likelihood '{name}'; choose one of {', '.join(LIKELIHOODS)}")
    return LIKELIHOODS[name]


def check_compatible(dataset_name: str, default: str, requested: str) -> None:
    """Refuse a likelihood of another kind of data than the dataset holds.

    Raises:
        ConfigError: unknown ``requested``, or binary against 8-bit data (or the reverse).
    """
    want, have = get_likelihood(requested).data, get_likelihood(default).data
    if want != have:
        fits = ", ".join(name for name, entry in LIKELIHOODS.items() if entry.data == have)
        raise ConfigError(f"{dataset_name} holds {have} images and '{requested}' models {want} ones; "
                          f"choose one of {fits}")


def channel_std(x, channels: int, chunk: int = 4096) -> np.ndarray:
    """Per-channel standard deviation of the pixels of images ``x``, accumulated in float64
    over chunks of images (a whole CelebA split in float64 would not fit in memory)."""
    total, squares, count = np.zeros(channels), np.zeros(channels), 0
    for start in range(0, len(x), chunk):
        pixels = np.asarray(x[start : start + chunk], np.float64).reshape(-1, channels)
        total += pixels.sum(axis=0)
        squares += np.square(pixels).sum(axis=0)
        count += len(pixels)
    mean = total / count
    return np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))


def pixel_stats(x, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel mean and standard deviation ``(h, w, c)`` of images ``x``, accumulated in
    float64 over chunks (a whole CelebA split in float64 would not fit in memory)."""
    total = squares = 0.0
    for start in range(0, len(x), chunk):
        part = np.asarray(x[start : start + chunk], np.float64)
        total = total + part.sum(axis=0)
        squares = squares + np.square(part).sum(axis=0)
    mean = total / len(x)
    return mean, np.sqrt(np.maximum(squares / len(x) - np.square(mean), 0.0))
