"""The evaluation's own random streams: one per purpose, derived from (evaluation seed, purpose).

Every stochastic part of an evaluation (the Gaussian dequantization noise, posterior samples
for the ELBO, importance samples, prior draws, the binarization of samples) draws from its
own stream, never from the model's seed generator. So evaluating one trained model twice
gives identical figures, and two trials scored with one evaluation seed share their noise
(common random numbers), which keeps their paired differences as tight as they can be.
Separate purposes are independent: drawing more prior samples does not shift the noise that
binarizes them.

A stream is made fresh by each call, so a function that takes ``seed`` and creates its
streams inside gives the same values however often, and in whatever order, it is called.
"""

import zlib

import keras
import numpy as np

DEQUANTIZATION = "dequantization"  # u ~ U(0, 1) per pixel of a Gaussian likelihood's 8-bit data
POSTERIOR = "posterior"  # z ~ q(z|x): the ELBO's sample and the importance samples
PRIOR = "prior"  # z ~ p(z) for the model's samples
BINARIZATION = "binarization"  # binary pixels drawn from a Bernoulli model's decoded probabilities


def _sequence(seed: int, purpose: str) -> np.random.SeedSequence:
    # crc32 is stable across processes and Python versions (hash() of a str is not).
    return np.random.SeedSequence([int(seed), zlib.crc32(purpose.encode())])


def generator(seed: int, purpose: str) -> np.random.Generator:
    """A fresh NumPy generator for ``purpose`` under evaluation seed ``seed``."""
    return np.random.default_rng(_sequence(seed, purpose))


def int_seed(seed: int, purpose: str) -> int:
    """A 31-bit integer seed for ``purpose``, for APIs that take an int (``sample_latents``)."""
    return int(_sequence(seed, purpose).generate_state(1)[0] >> 1)


def seed_generator(seed: int, purpose: str) -> keras.random.SeedGenerator:
    """A fresh Keras seed generator for ``purpose``: noise drawn on the backend, for the model's
    ``reconstruction_nll(..., seed=...)``, which would otherwise use the model's own generator."""
    return keras.random.SeedGenerator(int_seed(seed, purpose))
