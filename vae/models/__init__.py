"""Model families behind one registry: ``build_model(family, ...)``."""

from vae.errors import ConfigError
from vae.likelihoods import get_likelihood
from vae.models.base import VAE
from vae.models.beta import BetaVAE
from vae.models.conv import ConvVAE
from vae.models.cvae import CVAE
from vae.models.infovae import InfoVAE
from vae.models.mlp import MLPVAE
from vae.models.vqvae import VQVAE
from vae.models.wae import WAE

MODELS: dict[str, type[VAE]] = {
    "mlp": MLPVAE,
    "conv": ConvVAE,
    "beta": BetaVAE,
    "wae": WAE,
    "infovae": InfoVAE,
    "vqvae": VQVAE,
    "cvae": CVAE,
}


def build_model(family, image_shape, likelihood, latent_dim, beta=None, depth=None, seed=None, **extra) -> VAE:
    """Check the hyperparameters, build a model and call it once so its weights exist.

    Calling it once matters: an unbuilt Keras 3 model cannot save or reload weights, which
    keras-tuner needs (keras-tuner#933).

    Raises:
        ConfigError: unknown family or an impossible hyperparameter.
    """
    if family not in MODELS:
        raise ConfigError(f"unknown model '{family}'; choose one of {', '.join(MODELS)}")
    cls = MODELS[family]
    if int(latent_dim) < 1:
        raise ConfigError(f"latent dimension must be at least 1, got {latent_dim}; pass --latent-dim 2 or more")
    if beta is not None and not float(beta) >= 0:
        raise ConfigError(f"beta must be 0 or more, got {beta}; pass e.g. --beta 1")
    lo, hi = cls.depth_range
    depth = lo if depth is None else int(depth)
    if not lo <= depth <= hi:
        raise ConfigError(f"depth {depth} is out of range for model '{family}'; use {lo} to {hi}")
    get_likelihood(likelihood)  # a ConfigError for an unknown name
    model = cls(image_shape=image_shape, latent_dim=latent_dim, likelihood=likelihood,
                beta=beta, depth=depth, seed=seed, **extra)
    model(model.dummy_inputs(), training=False)
    return model


def dataset_context(family: str, dataset) -> dict:
    """What a family needs to know of the data beyond its shape (``needs``: the number of
    classes of a conditional model, ...), read from ``dataset``."""
    return {key: getattr(dataset, key) for key in getattr(MODELS.get(family), "needs", ())}


__all__ = ["MODELS", "VAE", "build_model", "dataset_context"]
