"""The VAE base class every model family builds on.

A family overrides only what differs: its encoder/decoder bodies (``mlp``, ``conv``) or its
regularizer and extra loss terms (``beta``, ``wae``, ...). Training goes through Keras' own
``train_step``/``test_step``: this class supplies ``call`` and ``compute_loss``, so the same
code runs on any Keras backend and ``fit(validation_data=...)`` logs real ``val_`` twins.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from vae import losses

LIKELIHOODS = ("bernoulli", "gaussian")
MIN_LOG_SCALE = math.log(0.01)  # keeps a learned Gaussian scale from collapsing to 0


@keras.saving.register_keras_serializable(package="vaesweep")
class MeanVector(keras.metrics.Metric):
    """Running mean of a ``(batch, size)`` tensor, one value per column."""

    def __init__(self, size, name="mean_vector", **kwargs):
        super().__init__(name=name, **kwargs)
        self.size = size
        self.total = self.add_variable(shape=(size,), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values = ops.cast(values, self.dtype)
        self.total.assign_add(ops.sum(values, axis=0))
        self.count.assign_add(ops.cast(ops.shape(values)[0], self.dtype))

    def result(self):
        return self.total / ops.maximum(self.count, 1.0)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class VAE(keras.Model):
    """Encoder -> q(z|x) = N(mean, var) -> reparameterized z -> decoder -> p(x|z).

    Logged terms (nats per example): ``reconstruction_loss`` = -log p(x|z) summed over pixels,
    ``kl_loss`` = KL(q(z|x) || N(0, I)), ``elbo`` = -(reconstruction + KL) and ``loss`` = the
    objective minimised, reconstruction + ``regularizer(...)``; plus ``kl_dim_<i>``. Families
    without an ELBO (``has_elbo = False``) track only ``reconstruction_loss`` and ``loss``
    of these, plus their own terms (``extra_metric_names``).

    Args:
        image_shape: ``(height, width, channels)`` of the data.
        latent_dim: number of latent dimensions.
        likelihood: ``"bernoulli"`` (decoder outputs logits) or ``"gaussian"`` (decoder
            outputs the mean's logits and the model learns one scale per channel).
        beta: weight of the KL term in the objective; 1 is the plain VAE.
        depth: number of hidden blocks of encoder and decoder.
        seed: seed of the reparameterization noise.
    """

    family = "vae"
    default_beta = 1.0
    # False for families without a stochastic encoder and a KL to the prior (WAE, VQ-VAE):
    # they neither track nor report kl_loss, elbo or kl_dim_<i>, and their encode() returns
    # (codes, None).
    has_elbo = True
    conditional = False  # True when inputs are (images, condition) (see training_inputs)
    code_kind = "vector"  # what encode() gives: "vector" (batch, latent_dim) or "grid" (VQ-VAE)
    # The figures of vae.images that apply to the family (see images.all_images).
    figures = ("reconstructions", "samples", "interpolations", "traversals")
    depth_range = (1, 4)

    def __init__(self, image_shape, latent_dim, likelihood, beta=None, depth=2, seed=None, **kwargs):
        super().__init__(name=kwargs.pop("name", f"{self.family}_vae"), **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = int(latent_dim)
        self.likelihood = likelihood
        self.beta = float(self.default_beta if beta is None else beta)
        self.depth = int(depth)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.encoder = self.build_encoder()
        self.decoder = self.build_decoder()
        if likelihood == "gaussian":
            self.log_scale = self.add_weight(
                shape=(self.image_shape[-1],), initializer="zeros", name="log_scale"
            )
        standard = ("reconstruction_loss", "kl_loss", "elbo") if self.has_elbo else ("reconstruction_loss",)
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in (*standard, *self.extra_metric_names())
        }
        self.kl_dim_tracker = MeanVector(self.latent_dim, name="kl_dim") if self.has_elbo else None

    # --- architecture: the families override these two -------------------------------
    def encoder_body(self) -> list[layers.Layer]:
        """Hidden layers from images to a feature vector."""
        raise NotImplementedError

    def decoder_body(self) -> list[layers.Layer]:
        """Layers from a latent vector to per-pixel outputs of shape ``image_shape``."""
        raise NotImplementedError

    @staticmethod
    def stack(layer_list, h):
        """``h`` through each layer in turn (the families' encoder and decoder bodies)."""
        for layer in layer_list:
            h = layer(h)
        return h

    def gaussian_heads(self, h):
        """The parameters ``[z_mean, z_log_var]`` of q(z|x) from encoder features ``h``."""
        return [layers.Dense(self.latent_dim, name="z_mean")(h), layers.Dense(self.latent_dim, name="z_log_var")(h)]

    def build_encoder(self):
        inputs = keras.Input(self.image_shape)
        return keras.Model(inputs, self.gaussian_heads(self.stack(self.encoder_body(), inputs)), name="encoder")

    def build_decoder(self):
        inputs = keras.Input((self.latent_dim,))
        return keras.Model(inputs, self.stack(self.decoder_body(), inputs), name="decoder")

    # --- the probabilistic model ------------------------------------------------------
    def encode(self, x, training=False):
        """Parameters ``(z_mean, z_log_var)`` of q(z|x)."""
        return self.encoder(x, training=training)

    def sample_posterior(self, z_mean, z_log_var):
        """The reparameterization trick: z = mean + std * eps, eps ~ N(0, I)."""
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def decode(self, z, training=False):
        """Decoder output: Bernoulli logits, or the Gaussian mean's logits."""
        return self.decoder(z, training=training)

    def reconstruction_nll(self, x, out):
        """-log p(x|z) per example, nats, summed over pixels."""
        if self.likelihood == "bernoulli":
            return losses.bernoulli_nll(x, out)
        log_scale = ops.maximum(self.log_scale, MIN_LOG_SCALE)
        return losses.gaussian_nll(x, ops.sigmoid(out), log_scale)

    def mean_image(self, out):
        """The decoded image shown to people: the likelihood's mean, in [0, 1]."""
        return ops.sigmoid(out)

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encode(inputs, training=training)
        z = self.sample_posterior(z_mean, z_log_var)
        return {"out": self.decode(z, training=training), "z_mean": z_mean, "z_log_var": z_log_var, "z": z}

    # --- the objective: families override regularizer / extra terms ------------------
    def regularizer(self, kl, z_mean, z_log_var, z):
        """The term added to the reconstruction loss; ``kl`` is per example and dimension
        (None when the family has no ELBO)."""
        return self.beta * ops.mean(ops.sum(kl, axis=-1))

    @classmethod
    def logged_metric_names(cls) -> tuple[str, ...]:
        """The family's Keras log names, without ``val_`` twins and ``kl_dim_<i>``."""
        standard = ("loss", "reconstruction_loss") + (("kl_loss", "elbo") if cls.has_elbo else ())
        return standard + tuple(cls.extra_metric_names())

    @classmethod
    def extra_metric_names(cls) -> tuple[str, ...]:
        """Names of extra per-batch terms a family tracks (see ``extra_metrics``)."""
        return ()

    def extra_metrics(self, x, y_pred) -> dict:
        """Values of the extra tracked terms, computed from a batch and the model output."""
        return {}

    def dummy_inputs(self):
        """A one-example batch that builds every weight when the model is called on it."""
        return np.zeros((1, *self.image_shape), dtype="float32")

    def training_inputs(self, x, y=None):
        """What ``fit`` and ``call`` take for images ``x`` with labels or factors ``y``."""
        return x

    def images_of(self, inputs):
        """The images of a batch (conditional families pass ``(images, condition)``)."""
        return inputs

    # --- what the figures need: conditions, decoder inputs, the prior ------------------
    def conditions_of(self, y):
        """Condition vectors for labels or factors ``y``; None for unconditional families."""
        return None

    def decoder_inputs(self, z, condition=None):
        """What ``decode`` takes for codes ``z`` (conditional families pair them with
        ``condition``, rows of ``conditions_of(y)``)."""
        return z

    def sample_latents(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws from the prior p(z), as float32 NumPy: N(0, I) here."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    def fit_prior(self, x, y=None, batch_size: int = 256) -> None:
        """Fit the prior to training data after training; a no-op for a fixed N(0, I) prior."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = self.images_of(x)
        recon = self.reconstruction_nll(images, y_pred["out"])
        z_log_var = y_pred.get("z_log_var")
        kl = losses.kl_per_dim(y_pred["z_mean"], z_log_var) if self.has_elbo else None
        loss = ops.mean(recon) + self.regularizer(kl, y_pred["z_mean"], z_log_var, y_pred["z"])
        if self.losses:
            loss = loss + ops.sum(self.losses)
        self.trackers["reconstruction_loss"].update_state(recon)
        if kl is not None:
            kl_total = ops.sum(kl, axis=-1)
            self.trackers["kl_loss"].update_state(kl_total)
            self.trackers["elbo"].update_state(-(recon + kl_total))
            self.kl_dim_tracker.update_state(kl)
        for name, value in self.extra_metrics(x, y_pred).items():
            self.trackers[name].update_state(value)
        return loss

    def get_metrics_result(self):
        # Logs must be scalars (callbacks and keras-tuner read floats): split kl_dim.
        result = {}
        for metric in self.metrics:
            value = metric.result()
            if metric is self.kl_dim_tracker:
                result.update({f"kl_dim_{i}": value[i] for i in range(self.latent_dim)})
            else:
                result[metric.name] = value
        return result

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return self.get_metrics_result()

    def get_config(self):
        return {
            "image_shape": self.image_shape,
            "latent_dim": self.latent_dim,
            "likelihood": self.likelihood,
            "beta": self.beta,
            "depth": self.depth,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
