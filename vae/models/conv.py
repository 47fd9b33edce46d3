"""The convolutional VAE: strided convolutions down, transposed convolutions up."""

import math

import keras
from keras import layers

from vae.models.base import VAE

FILTERS = (32, 64, 128, 256)
HIDDEN = 256


@keras.saving.register_keras_serializable(package="vaesweep")
class ConvVAE(VAE):
    """``depth`` blocks of 4x4 stride-2 convolutions (32, 64, 128, 256 filters).

    The decoder starts from ``ceil(size / 2**depth)`` and crops the last feature map to the
    image size, so any height and width work (28x28 as well as 64x64).
    """

    family = "conv"
    depth_range = (2, 4)

    def encoder_body(self):
        convs = [
            layers.Conv2D(f, 4, strides=2, padding="same", activation="relu")
            for f in FILTERS[: self.depth]
        ]
        return convs + [layers.Flatten(), layers.Dense(HIDDEN, activation="relu")]

    def decoder_body(self):
        height, width, channels = self.image_shape
        scale = 2**self.depth
        h0, w0 = math.ceil(height / scale), math.ceil(width / scale)
        filters = FILTERS[: self.depth]
        body = [
            layers.Dense(HIDDEN, activation="relu"),
            layers.Dense(h0 * w0 * filters[-1], activation="relu"),
            layers.Reshape((h0, w0, filters[-1])),
        ]
        body += [
            layers.Conv2DTranspose(f, 4, strides=2, padding="same", activation="relu")
            for f in reversed(filters[:-1])
        ]
        body.append(layers.Conv2DTranspose(channels, 4, strides=2, padding="same"))
        extra_h, extra_w = h0 * scale - height, w0 * scale - width
        if extra_h or extra_w:
            body.append(
                layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2)))
            )
        return body
