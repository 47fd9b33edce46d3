"""VQ-VAE (van den Oord et al., 2017): the encoder's feature map is snapped to the nearest of
K learned code vectors; the decoder reconstructs from the snapped grid.

Latent layout: the convolutional encoder's ``feature_grid`` (7x7 for 28x28 images at depth 2,
16x16 for 64x64) of code vectors of dimension ``latent_dim``. Training uses the straight-through
estimator and the codebook + commitment losses. Samples come from a prior over code indices
fitted after training (``fit_prior``): the empirical categorical distribution of the codes at
each grid position on the training set, sampled independently per position (the paper fits a
PixelCNN instead; this simple prior ignores the dependencies between positions).
"""

import keras
import numpy as np
from keras import layers, ops

from vae import losses
from vae.errors import ConfigError
from vae.models.conv import FILTERS, ConvVAE
from vae.models.trackers import CodePerplexity


@keras.saving.register_keras_serializable(package="vaesweep")
class VQVAE(ConvVAE):
    """Objective: reconstruction NLL + ``vq_loss`` (codebook + ``commitment_cost`` × commitment
    term, summed over the code grid; squared distances, see ``losses.vq_loss``).

    Logs ``loss``, ``reconstruction_loss``, ``vq_loss`` and ``perplexity`` (codebook usage
    over the epoch) and their ``val_`` twins. There is no KL term: with a uniform prior over
    codes the paper's KL is the constant grid size · log K, which says nothing about a model, so
    ``kl_loss``, ``elbo`` and ``kl_dim_<i>`` are not tracked (``has_elbo = False``).

    Args:
        num_embeddings: K, the number of code vectors.
        commitment_cost: weight of the commitment term (the paper's β = 0.25).
    """

    family = "vqvae"
    objective_weights = ("commitment_cost", "num_embeddings")
    has_elbo = False
    code_kind = "grid"
    default_beta = 0.0  # no KL term: what run names and params show as beta
    figures = ("reconstructions", "samples", "interpolations")  # a code grid has no axes to traverse
    code_kind = "grid"

    def __init__(self, image_shape, latent_dim, likelihood, depth=2, seed=None, num_embeddings=64,
                 commitment_cost=0.25, **kwargs):
        beta = kwargs.pop("beta", None)
        if beta is not None:
            raise ConfigError(f"vqvae has no KL term for beta to weight (got beta {beta}); its commitment "
                              "weight is --param commitment_cost=0.25")
        if int(num_embeddings) != num_embeddings or int(num_embeddings) < 2:
            raise ConfigError(f"num_embeddings must be an integer of at least 2, got {num_embeddings}; "
                              "pass e.g. --param num_embeddings=64")
        if not float(commitment_cost) >= 0:
            raise ConfigError(f"commitment_cost must be 0 or more, got {commitment_cost}; "
                              "pass e.g. --param commitment_cost=0.25")
        self.num_embeddings = int(num_embeddings)
        self.commitment_cost = float(commitment_cost)
        super().__init__(image_shape, latent_dim, likelihood, depth=depth, seed=seed, **kwargs)
        self.grid = self.feature_grid()
        self.codebook = self.add_weight(
            shape=(self.num_embeddings, self.latent_dim), name="codebook",
            initializer=keras.initializers.VarianceScaling(1.0, mode="fan_out", distribution="uniform", seed=seed),
        )
        # The sampling prior, one categorical per grid position; uniform until fit_prior.
        self.prior_probs = self.add_weight(
            shape=(self.grid[0] * self.grid[1], self.num_embeddings), name="prior_probs", trainable=False,
            initializer=keras.initializers.Constant(1.0 / self.num_embeddings),
        )

    # --- architecture: a grid of code vectors -----------------------------------------
    def build_encoder(self):
        inputs = keras.Input(self.image_shape)
        z_e = layers.Conv2D(self.latent_dim, 1, name="z_e")(self.stack(self.down_convs(), inputs))
        return keras.Model(inputs, z_e, name="encoder")

    def build_decoder(self):
        h0, w0 = self.feature_grid()
        inputs = keras.Input((h0, w0, self.latent_dim))
        h = layers.Conv2D(FILTERS[self.depth - 1], 3, padding="same", activation="relu")(inputs)
        return keras.Model(inputs, self.stack(self.up_convs(), h), name="decoder")

    # --- quantization ---------------------------------------------------------------
    def encode(self, x, training=False):
        """``(z_e, None)``: the encoder's continuous grid, before quantization."""
        return self.encoder(x, training=training), None

    def snap_to_codebook(self, z_e):
        """``(z_q, codes)``: the nearest code vector at each grid position and its index."""
        codes = losses.nearest_codes(z_e, self.codebook)
        return ops.take(self.codebook, codes, axis=0), codes

    def decode(self, z, training=False):
        """Decode a grid after snapping it to the codebook (the decoder only sees codes)."""
        z_q, _ = self.snap_to_codebook(z)
        return self.decoder(z_q, training=training)

    def call(self, inputs, training=False):
        z_e, _ = self.encode(inputs, training=training)
        z_q, codes = self.snap_to_codebook(z_e)
        z = losses.straight_through(z_e, z_q)
        return {"out": self.decoder(z, training=training), "z_mean": z_e, "z": z, "z_q": z_q, "codes": codes}

    # --- objective: no prior term (has_elbo is False); the VQ terms and codebook usage ----
    @classmethod
    def extra_metric_names(cls):
        return ("vq_loss", "perplexity")

    def extra_terms(self, images, y_pred):
        return {"vq_loss": (1.0, losses.vq_loss(y_pred["z_mean"], y_pred["z_q"], self.commitment_cost))}

    def extra_metrics(self, images, y_pred):
        return {"perplexity": y_pred["codes"]}

    def make_tracker(self, name):
        if name == "perplexity":
            return CodePerplexity(self.num_embeddings, name=name)
        return super().make_tracker(name)

    # --- the prior over codes ----------------------------------------------------------
    def codes_of(self, x, batch_size: int = 256) -> np.ndarray:
        """Code indices ``(n, h, w)`` of images ``x``."""
        codes = []
        for start in range(0, len(x), batch_size):
            z_e, _ = self.encode(ops.convert_to_tensor(x[start : start + batch_size], "float32"))
            codes.append(ops.convert_to_numpy(self.snap_to_codebook(z_e)[1]))
        return np.concatenate(codes)

    def fit_prior(self, x, y=None, batch_size: int = 256) -> None:
        """Set each grid position's categorical to the code frequencies at that position on ``x``."""
        codes = self.codes_of(x, batch_size=batch_size).reshape(len(x), -1)
        counts = np.zeros((codes.shape[1], self.num_embeddings), np.float64)
        for position in range(codes.shape[1]):
            counts[position] = np.bincount(codes[:, position], minlength=self.num_embeddings)
        self.prior_probs.assign((counts / counts.sum(axis=1, keepdims=True)).astype(np.float32))

    def sample_latents(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` code grids, each position's index drawn independently from ``prior_probs``."""
        probs = ops.convert_to_numpy(self.prior_probs).astype(np.float64)
        cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        u = np.random.default_rng(seed).random((n, len(cdf), 1))
        codes = np.minimum((u > cdf[None]).sum(axis=-1), self.num_embeddings - 1)
        z = ops.convert_to_numpy(self.codebook)[codes]
        return z.reshape(n, *self.grid, self.latent_dim).astype(np.float32)

    def get_config(self):
        config = {**super().get_config(), "num_embeddings": self.num_embeddings,
                  "commitment_cost": self.commitment_cost}
        config.pop("beta")
        return config
