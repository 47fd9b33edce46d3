"""β-VAE (Higgins et al., 2017): the convolutional VAE with the KL term weighted by β."""

import keras

from vae.models.conv import ConvVAE


@keras.saving.register_keras_serializable(package="vaesweep")
class BetaVAE(ConvVAE):
    """β weights KL(q(z|x) || p(z)) in the objective (the base regularizer); β = 1 is the
    plain VAE. Only the default differs: β-VAE sweeps start from β = 4."""

    family = "beta"
    default_beta = 4.0
