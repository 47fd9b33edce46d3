"""Conditional VAE (Sohn et al., 2015): encoder and decoder both see a condition c, so the
model learns p(x | z, c) with q(z | x, c) and a prior N(0, I) on z that ignores c.

What c is depends on the data (read from the dataset through ``needs``):

- a single class label (MNIST, Fashion-MNIST): its one-hot vector of ``num_classes``;
- 0/1 attributes (CelebA's 40): the attribute vector itself.

Datasets whose ``y`` holds multi-valued factor classes (dSprites) are refused with a
ConfigError when their labels are first seen: one-hot coding the factors would need their
number of values, which the model is not told.
"""

import keras
import numpy as np
from keras import layers, ops

from vae.errors import ConfigError
from vae.models.conv import HIDDEN, ConvVAE

SUPPORTED = "a class label (mnist, fashion_mnist) or 0/1 attributes (celeba)"


@keras.saving.register_keras_serializable(package="vaesweep")
class CVAE(ConvVAE):
    """The convolutional VAE with the condition concatenated to the encoder's features and to
    the latent code entering the decoder. Inputs are ``(images, conditions)``
    (``training_inputs(x, y)`` builds them); the logged terms are the VAE's, conditioned on c.

    Args:
        num_classes: number of classes of a single-label dataset (the condition is one-hot).
        factor_names: names of the 0/1 attributes, used when ``num_classes`` is None (the
            condition is the attribute vector).
    """

    family = "cvae"
    conditional = True
    needs = ("num_classes", "factor_names")
    figures = (*ConvVAE.figures, "conditional_samples")

    def __init__(self, image_shape, latent_dim, likelihood, beta=None, depth=2, seed=None, num_classes=None,
                 factor_names=None, **kwargs):
        if num_classes is not None:
            if int(num_classes) < 2:
                raise ConfigError(f"cvae needs at least 2 classes to condition on, got {num_classes}")
            self.num_classes, self.factor_names = int(num_classes), None
            self.condition_dim = self.num_classes
        elif factor_names:
            self.num_classes, self.factor_names = None, [str(name) for name in factor_names]
            self.condition_dim = len(self.factor_names)
        else:
            raise ConfigError(f"cvae conditions on {SUPPORTED}; this dataset has neither")
        super().__init__(image_shape, latent_dim, likelihood, beta=beta, depth=depth, seed=seed, **kwargs)

    # --- architecture ----------------------------------------------------------------
    def build_encoder(self):
        images = keras.Input(self.image_shape)
        condition = keras.Input((self.condition_dim,))
        features = self.stack(self.encoder_body(), images)
        h = layers.Dense(HIDDEN, activation="relu")(layers.Concatenate()([features, condition]))
        return keras.Model([images, condition], self.gaussian_heads(h), name="encoder")

    def build_decoder(self):
        z = keras.Input((self.latent_dim,))
        condition = keras.Input((self.condition_dim,))
        h = self.stack(self.decoder_body(), layers.Concatenate()([z, condition]))
        return keras.Model([z, condition], h, name="decoder")

    def call(self, inputs, training=False):
        _, condition = inputs
        z_mean, z_log_var = self.encode(inputs, training=training)
        z = self.sample_posterior(z_mean, z_log_var)
        out = self.decode(self.decoder_inputs(z, condition), training=training)
        return {"out": out, "z_mean": z_mean, "z_log_var": z_log_var, "z": z}

    # --- conditions ------------------------------------------------------------------
    def conditions_of(self, y) -> np.ndarray:
        """One-hot labels or the 0/1 attribute vectors of ``y``, as float32.

        Raises:
            ConfigError: ``y`` is missing or does not hold what this model conditions on.
        """
        if y is None:
            raise ConfigError(f"cvae needs labels or attributes to condition on: {SUPPORTED}")
        y = np.asarray(y)
        if self.num_classes is not None:
            if y.ndim != 1 or y.min() < 0 or y.max() >= self.num_classes:
                raise ConfigError(f"cvae was built for labels 0..{self.num_classes - 1}; got labels of shape "
                                  f"{y.shape} with values {y.min()}..{y.max()}")
            return np.eye(self.num_classes, dtype=np.float32)[y]
        if y.ndim != 2 or y.shape[1] != self.condition_dim or not np.isin(y, (0, 1)).all():
            raise ConfigError(f"cvae conditions on {SUPPORTED}; this dataset's factors "
                              f"({', '.join(self.factor_names)}) are not 0/1 attributes")
        return y.astype(np.float32)

    def training_inputs(self, x, y=None):
        return (x, self.conditions_of(y))

    def images_of(self, inputs):
        return inputs[0]

    def decoder_inputs(self, z, condition=None):
        if condition is None:
            raise ConfigError(f"cvae decodes with a condition: pass labels or attributes ({SUPPORTED})")
        # Keras refuses a nested argument that mixes tensors and arrays.
        return (ops.convert_to_tensor(z, "float32"), ops.convert_to_tensor(condition, "float32"))

    def dummy_inputs(self):
        return (np.zeros((1, *self.image_shape), "float32"), np.zeros((1, self.condition_dim), "float32"))

    def condition_rows(self, y=None) -> np.ndarray:
        """One condition per row of the class-conditional sample grid: each class's one-hot,
        or for attributes the first example of ``y`` with attribute i set to 1 in row i."""
        if self.num_classes is not None:
            return np.eye(self.num_classes, dtype=np.float32)
        reference = self.conditions_of(y[:1])
        rows = np.repeat(reference, self.condition_dim, axis=0)
        rows[np.arange(self.condition_dim), np.arange(self.condition_dim)] = 1.0
        return rows

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "factor_names": self.factor_names}
