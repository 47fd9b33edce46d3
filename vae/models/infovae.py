"""InfoVAE / MMD-VAE (Zhao et al., 2019): the ELBO's terms plus an MMD between the aggregate
posterior q(z) and the prior, which keeps q(z) close to p(z) even when the KL is down-weighted."""

import keras

from vae.models.conv import ConvVAE
from vae.models.wae import MMDPenalty, check_mmd_weight


@keras.saving.register_keras_serializable(package="vaesweep")
class InfoVAE(MMDPenalty, ConvVAE):
    """Objective: reconstruction NLL + β · KL(q(z|x) || p(z)) + ``mmd_weight`` · MMD(q(z), p(z)),
    the MMD taken between the batch's sampled codes and as many prior draws.

    In the paper's terms β = 1 - α and ``mmd_weight`` = α + λ - 1; the defaults (β = 1,
    ``mmd_weight`` = 1000) are its MMD-VAE setting α = 0, λ ≈ 1000. ``elbo`` is the true
    one-sample ELBO; the objective ``loss`` is not a bound. Logs ``mmd`` besides the ELBO terms.
    """

    family = "infovae"
    objective_weights = ("beta", "mmd_weight")

    def __init__(self, image_shape, latent_dim, likelihood, beta=None, depth=2, seed=None, mmd_weight=1000.0,
                 **kwargs):
        self.mmd_weight = check_mmd_weight(mmd_weight)
        super().__init__(image_shape, latent_dim, likelihood, beta=beta, depth=depth, seed=seed, **kwargs)

    def get_config(self):
        return {**super().get_config(), "mmd_weight": self.mmd_weight}
