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
from vae.likelihoods import LIKELIHOODS, MIN_LOG_SCALE, channel_std, get_likelihood, pixel_stats
from vae.models.trackers import MeanVector

__all__ = ["LIKELIHOODS", "MIN_LOG_SCALE", "VAE", "channel_std"]


class VAE(keras.Model):
    """Encoder -> q(z|x) = N(mean, var) -> reparameterized z -> decoder -> p(x|z).

    Logged terms (nats per example): ``reconstruction_loss`` = -log p(x|z) summed over pixels,
    ``kl_loss`` = KL(q(z|x) || N(0, I)), ``elbo`` = -(reconstruction + KL) and ``loss`` = the
    objective minimised, reconstruction + ``regularizer(...)`` + the family's ``extra_terms``;
    plus ``kl_dim_<i>``. Families without an ELBO (``has_elbo = False``) track only
    ``reconstruction_loss`` and ``loss`` of these, plus their own terms (``extra_metric_names``).

    A family overrides the hooks that differ, never ``compute_loss``: ``regularizer`` (the prior
    term, beta * KL here), ``extra_terms`` (more objective terms, each logged: WAE's MMD,
    VQ-VAE's vq_loss), ``extra_metrics`` and ``make_tracker`` (tracked values outside the
    objective: VQ-VAE's perplexity). Conditional families also override the input protocol
    (``training_inputs``, ``images_of``, ``conditions_of``, ``decoder_inputs``, ``dummy_inputs``);
    code outside the models calls it on every family, hence its identity defaults here.

    Args:
        image_shape: ``(height, width, channels)`` of the data.
        latent_dim: number of latent dimensions.
        likelihood: a name of :data:`vae.likelihoods.LIKELIHOODS` (``bernoulli``, ``gaussian``,
            ``gaussian_pixel``, ``logistic``, ``logistic_mix``); the decoder outputs
            ``decoder_channels`` = that likelihood's ``params`` maps per image channel.
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
    # Hyperparameters that weight a term of the family's own ``loss`` or set its capacity:
    # ranking by ``loss`` or by reconstruction across their values rewards the weight, not the model.
    objective_weights: tuple[str, ...] = ("beta",)
    maximized_logs: tuple[str, ...] = ("elbo",)  # Keras logs where higher is better; the rest are losses
    # "vector": one latent vector per image (the latent-space metrics apply); "grid": a spatial
    # map of codes (VQ-VAE), which those metrics cannot score.
    code_kind = "vector"
    jit_compatible = True  # False: XLA cannot compile the step (Keras' ``supports_jit`` then off)
    # The figures of vae.images that apply to the family (see images.all_images).
    figures = ("reconstructions", "samples", "interpolations", "traversals")
    depth_range = (1, 4)

    def __init__(self, image_shape, latent_dim, likelihood, beta=None, depth=2, seed=None, **kwargs):
        super().__init__(name=kwargs.pop("name", f"{self.family}_vae"), **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = int(latent_dim)
        self.likelihood = likelihood
        self.likelihood_spec = get_likelihood(likelihood)
        self.decoder_channels = self.image_shape[-1] * self.likelihood_spec.params
        self.beta = float(self.default_beta if beta is None else beta)
        self.depth = int(depth)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_jit = self.jit_compatible
        self.encoder = self.build_encoder()
        self.decoder = self.build_decoder()
        if likelihood == "gaussian":
            self.log_scale = self.add_weight(
                shape=(self.image_shape[-1],), initializer="zeros", name="log_scale"
            )
        if self.likelihood_spec.per_pixel_scale:
            # A learned per-pixel bias of the decoder's output, which adapt() starts at the
            # data's per-pixel mean and scale (a transposed convolution's bias is per channel).
            self.pixel_offsets = self.add_weight(
                shape=(*self.image_shape[:2], self.decoder_channels), initializer="zeros", name="pixel_offsets"
            )
        standard = ("reconstruction_loss", "kl_loss", "elbo") if self.has_elbo else ("reconstruction_loss",)
        self.trackers = {name: self.make_tracker(name) for name in (*standard, *self.extra_metric_names())}
        self.kl_dim_tracker = MeanVector(self.latent_dim, name="kl_dim") if self.has_elbo else None

    # --- architecture: the families override these two -------------------------------
    def encoder_body(self) -> list[layers.Layer]:
        """Hidden layers from images to a feature vector."""
        raise NotImplementedError

    def decoder_body(self) -> list[layers.Layer]:
        """Layers from a latent vector to per-pixel outputs: ``image_shape`` with
        ``decoder_channels`` channels (the likelihood's parameters)."""
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
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def decode(self, z, training=False):
        """Decoder output: the likelihood's parameters per pixel (see :mod:`vae.likelihoods`)."""
        return self.with_offsets(self.decoder(z, training=training))

    def with_offsets(self, out):  # the decoder's output plus a per-pixel likelihood's offsets
        if not self.likelihood_spec.per_pixel_scale:
            return out
        return out + ops.cast(self.pixel_offsets, out.dtype)

    def reconstruction_nll(self, x, out, seed=None):
        """-log p(x|z) per example, nats, summed over pixels, computed in float32.

        A bound on -log P(x|z) of the discrete images for every likelihood (see
        :mod:`vae.likelihoods`): a Gaussian dequantizes 8-bit images with noise from ``seed``
        (an evaluation's stream), else ``seed_generator``; the discretized logistic is an exact
        probability of the 256 levels; bits/dim is nll / (D ln 2) for all of them.
        """
        return self.likelihood_spec.nll(self, ops.cast(x, "float32"), ops.cast(out, "float32"), seed=seed)

    def adapt(self, x) -> None:
        """Data-dependent initial values from the training images ``x``, before ``fit``: the
        scale starts where a model that has learned nothing is, so the reconstruction term
        dominates from the first epoch. Global Gaussian: each channel's log-scale at its pixels'
        std (floored at ``MIN_LOG_SCALE``). Per-pixel likelihoods: ``pixel_offsets`` at each
        pixel's mean and std (``Likelihood.initial_offsets``) and the decoder's output kernel a
        tenth of its random start: near the data's, a mixture's components still apart."""
        spec = self.likelihood_spec
        if self.likelihood == "gaussian":
            std = np.maximum(channel_std(x, self.image_shape[-1]), math.exp(MIN_LOG_SCALE))
            self.log_scale.assign(np.log(std).astype("float32"))
        elif spec.per_pixel_scale:
            self.pixel_offsets.assign(spec.initial_offsets(*pixel_stats(x)).astype("float32"))
            last = [layer for layer in self.decoder.layers if getattr(layer, "kernel", None) is not None][-1]
            last.kernel.assign(0.1 * ops.convert_to_numpy(last.kernel))

    def mean_image(self, out):
        """The decoded image shown to people: the likelihood's mean, in [0, 1] (never a sample)."""
        return self.likelihood_spec.mean(self, out)

    def std_image(self, out):
        """The per-pixel standard deviation of p(x|z), on the [0, 1] scale of the images."""
        return self.likelihood_spec.std(self, out)

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encode(inputs, training=training)
        z = self.sample_posterior(z_mean, z_log_var)
        return {"out": self.decode(z, training=training), "z_mean": z_mean, "z_log_var": z_log_var, "z": z}

    # --- the objective: families override regularizer / extra terms ------------------
    def regularizer(self, kl, z_mean, z_log_var, z):
        """The prior term added to the reconstruction loss: beta * KL. ``kl`` is per example
        and dimension, None for a family without an ELBO (which then adds nothing here)."""
        if kl is None:
            return 0.0
        return self.beta * ops.mean(ops.sum(kl, axis=-1))

    def extra_terms(self, images, y_pred) -> dict:
        """The family's own objective terms, ``{name: (weight, value)}``: the objective adds
        ``weight * mean(value)`` and the logs show ``mean(value)`` under ``name`` (one of
        ``extra_metric_names``). ``value`` is per example or one number for the batch."""
        return {}

    def extra_metrics(self, images, y_pred) -> dict:
        """Values of tracked terms that are not in the objective, ``{name: value}``; each
        goes to its tracker's ``update_state`` (see ``make_tracker``)."""
        return {}

    @classmethod
    def logged_metric_names(cls) -> tuple[str, ...]:
        """The family's Keras log names, without ``val_`` twins and ``kl_dim_<i>``."""
        standard = ("loss", "reconstruction_loss") + (("kl_loss", "elbo") if cls.has_elbo else ())
        return standard + tuple(cls.extra_metric_names())

    @classmethod
    def extra_metric_names(cls) -> tuple[str, ...]:
        """Names of the family's own tracked terms (``extra_terms`` and ``extra_metrics``)."""
        return ()

    def make_tracker(self, name) -> keras.metrics.Metric:
        """The metric that tracks term ``name`` over an epoch: its mean, unless a family needs
        another reduction (VQ-VAE's codebook perplexity)."""
        return keras.metrics.Mean(name=name)

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
        # Losses and bounds in float32 whatever the dtype policy (mixed_bfloat16 computes the
        # network in bfloat16, too coarse for sums over thousands of pixels).
        y_pred = {key: ops.cast(value, "float32") if keras.backend.is_float_dtype(value.dtype) else value
                  for key, value in y_pred.items()}
        recon = self.reconstruction_nll(images, y_pred["out"])
        z_log_var = y_pred.get("z_log_var")
        kl = losses.kl_per_dim(y_pred["z_mean"], z_log_var) if self.has_elbo else None
        terms = self.extra_terms(images, y_pred)
        loss = ops.mean(recon) + self.regularizer(kl, y_pred["z_mean"], z_log_var, y_pred["z"])
        for weight, value in terms.values():
            loss = loss + weight * ops.mean(value)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        self.trackers["reconstruction_loss"].update_state(recon)
        if kl is not None:
            kl_total = ops.sum(kl, axis=-1)
            self.trackers["kl_loss"].update_state(kl_total)
            self.trackers["elbo"].update_state(-(recon + kl_total))
            self.kl_dim_tracker.update_state(kl)
        tracked = {name: value for name, (_, value) in terms.items()} | self.extra_metrics(images, y_pred)
        for name, value in tracked.items():
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
