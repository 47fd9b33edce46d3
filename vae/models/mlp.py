"""The basic VAE (Kingma & Welling): fully connected encoder and decoder."""

import math

import keras
from keras import layers

from vae.models.base import VAE

HIDDEN_UNITS = (512, 256, 128, 64)


@keras.saving.register_keras_serializable(package="vaesweep")
class MLPVAE(VAE):
    """``depth`` hidden Dense layers of 512, 256, ... units, mirrored in the decoder."""

    family = "mlp"

    def encoder_body(self):
        return [layers.Flatten()] + [
            layers.Dense(units, activation="relu") for units in HIDDEN_UNITS[: self.depth]
        ]

    def decoder_body(self):
        hidden = [layers.Dense(u, activation="relu") for u in reversed(HIDDEN_UNITS[: self.depth])]
        return hidden + [
            layers.Dense(math.prod(self.image_shape[:2]) * self.decoder_channels),
            layers.Reshape((*self.image_shape[:2], self.decoder_channels)),
        ]
