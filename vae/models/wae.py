"""Wasserstein autoencoder, WAE-MMD (Tolstikhin et al., 2018): a deterministic encoder whose
aggregate codes q(z) are pulled towards the prior p(z) = N(0, I) by an MMD penalty."""

import keras
from keras import layers, ops

from vae import losses
from vae.errors import ConfigError
from vae.models.conv import ConvVAE


class MMDPenalty:
    """Mixin: adds ``mmd_weight * MMD(q(z), p(z))`` to the objective and tracks ``mmd``.

    The MMD compares the batch's codes ``z`` with as many fresh prior draws, with the sum of
    inverse multiquadratic kernels of ``losses.mmd_imq`` (an unbiased estimate, so a batch
    value can be slightly negative; a batch of one example has none and counts as 0).
    """

    @classmethod
    def extra_metric_names(cls):
        return ("mmd", *super().extra_metric_names())

    def extra_terms(self, images, y_pred):
        z = y_pred["z"]
        prior_z = keras.random.normal(ops.shape(z), dtype=z.dtype, seed=self.seed_generator)
        # A last batch of one example contributes 0 (mmd_imq needs two samples).
        return {**super().extra_terms(images, y_pred), "mmd": (self.mmd_weight, losses.mmd_imq(z, prior_z))}


def check_mmd_weight(mmd_weight) -> float:
    if not float(mmd_weight) >= 0:
        raise ConfigError(f"mmd_weight must be 0 or more, got {mmd_weight}; pass e.g. --param mmd_weight=10")
    return float(mmd_weight)


@keras.saving.register_keras_serializable(package="vaesweep")
class WAE(MMDPenalty, ConvVAE):
    """The convolutional autoencoder with ``z = encoder(x)`` and the objective
    reconstruction NLL + ``mmd_weight`` · MMD(q(z), N(0, I)) (λ = 10 in the paper).

    There is no posterior variance and no KL, hence no ELBO: the logs hold ``loss``,
    ``reconstruction_loss`` and ``mmd`` (and their ``val_`` twins). β does not apply; passing
    one is an error. Samples decode N(0, I) draws, the prior the penalty matches.
    """

    family = "wae"
    objective_weights = ("mmd_weight",)
    has_elbo = False
    default_beta = 0.0  # no KL term: what run names and params show as beta

    def __init__(self, image_shape, latent_dim, likelihood, depth=2, seed=None, mmd_weight=10.0, **kwargs):
        beta = kwargs.pop("beta", None)
        if beta is not None:
            raise ConfigError(f"wae has no KL term for beta to weight (got beta {beta}); "
                              "weight its MMD penalty instead, e.g. --param mmd_weight=10")
        self.mmd_weight = check_mmd_weight(mmd_weight)
        super().__init__(image_shape, latent_dim, likelihood, depth=depth, seed=seed, **kwargs)

    def build_encoder(self):
        inputs = keras.Input(self.image_shape)
        z = layers.Dense(self.latent_dim, name="z_mean")(self.stack(self.encoder_body(), inputs))
        return keras.Model(inputs, z, name="encoder")

    def encode(self, x, training=False):
        """``(z, None)``: the encoder is deterministic."""
        return self.encoder(x, training=training), None

    def call(self, inputs, training=False):
        z, _ = self.encode(inputs, training=training)
        return {"out": self.decode(z, training=training), "z_mean": z, "z": z}

    def get_config(self):
        config = {**super().get_config(), "mmd_weight": self.mmd_weight}
        config.pop("beta")
        return config
