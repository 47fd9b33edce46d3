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
        return self.down_convs() + [layers.Flatten(), layers.Dense(HIDDEN, activation="relu")]

    def decoder_body(self):
        h0, w0 = self.feature_grid()
        return [
            layers.Dense(HIDDEN, activation="relu"),
            layers.Dense(h0 * w0 * FILTERS[self.depth - 1], activation="relu"),
            layers.Reshape((h0, w0, FILTERS[self.depth - 1])),
        ] + self.up_convs()

    # --- the convolutional stacks, shared with the families that keep a spatial code ------
    def feature_grid(self) -> tuple[int, int]:
        """Height and width of the deepest feature map: ``ceil(size / 2**depth)``."""
        height, width, _ = self.image_shape
        return math.ceil(height / 2**self.depth), math.ceil(width / 2**self.depth)

    def down_convs(self) -> list[layers.Layer]:
        """``depth`` stride-2 convolutions: images -> the ``feature_grid`` feature map."""
        return [
            layers.Conv2D(f, 4, strides=2, padding="same", activation="relu")
            for f in FILTERS[: self.depth]
        ]

    def up_convs(self) -> list[layers.Layer]:
        """Transposed convolutions from the ``feature_grid`` map to per-pixel outputs (the
        likelihood's ``decoder_channels``), cropped to the image size."""
        height, width, _ = self.image_shape
        h0, w0 = self.feature_grid()
        scale = 2**self.depth
        body = [
            layers.Conv2DTranspose(f, 4, strides=2, padding="same", activation="relu")
            for f in reversed(FILTERS[: self.depth - 1])
        ]
        body.append(layers.Conv2DTranspose(self.decoder_channels, 4, strides=2, padding="same"))
        extra_h, extra_w = h0 * scale - height, w0 * scale - width
        if extra_h or extra_w:
            body.append(
                layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2)))
            )
        return body
