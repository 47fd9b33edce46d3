"""What a trial's metrics read: how much work they may do, the split they evaluate, and the
model's evaluation codes and samples."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from keras import ops

from vae.metrics import streams
from vae.metrics.codes import posterior_means

SPLITS = ("val", "test")  # choose on the validation split, report on the test split


@dataclass(frozen=True)
class MetricSettings:
    """How much work the trial metrics may do (each budget has its own, see ``sweeps.evaluation``).

    ``eval_images`` is the size of the evaluation set: the first images of the split evaluated
    (the dataset's fixed validation or test set), the same for every figure of a trial and every
    trial of a budget.
    """

    eval_images: int = 2000
    fit_images: int = 2000  # training codes that the supervised metrics (probe, SAP, DCI) fit on
    iwae_samples: int = 1000
    num_bins: int = 20  # modularity's equal-width bins; MIG's fewest bins (it takes more for many-valued factors)
    dci_estimators: int = 50
    sampler_train: int = 2000
    sampler_eval: int = 1000
    sampler_batch: int = 64
    # The evaluation seed, fixed: every trial is scored on the same sampled factors, and every
    # stochastic part of an evaluation draws from its streams (vae.metrics.streams).
    sampler_seed: int = 0
    off: tuple[str, ...] = ()  # metrics this budget leaves out (their cost buys nothing at its size)
    inception_weights: str | None = None  # InceptionV3 weights for the standard FID (the user's file)


class TrialInputs:
    """What a trial's metrics read: the model, one split's evaluation set and, lazily, their
    codes and the model's samples.

    Args:
        model: the trained model.
        dataset: its :class:`vae.data.base.Dataset`.
        settings: the budget's :class:`MetricSettings`.
        split: ``"val"`` or ``"test"``: the first ``eval_images`` images of that split are
            the evaluation set. The supervised metrics fit on the training split either way.
        data_dir: where the dataset's files are, for the reference network's fixed set
            (default ``$VAE_DATA_DIR``).
    """

    def __init__(self, model, dataset, settings: MetricSettings, split: str = "test", data_dir=None):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.model, self.dataset, self.settings, self.split = model, dataset, settings, split
        self.data_dir = data_dir
        n, m = settings.eval_images, settings.fit_images
        self.x_eval, self.y_eval = getattr(dataset, f"x_{split}")[:n], first_rows(getattr(dataset, f"y_{split}"), n)
        self.x_fit, self.y_fit = dataset.x_train[:m], first_rows(dataset.y_train, m)
        self.per_image: dict[str, np.ndarray] = {}  # per-image values, for paired comparisons
        self.params: dict[str, str] = {}  # what a figure depends on besides the settings (a digest)

    @classmethod
    def from_codes(cls, codes_fit, y_fit, codes_eval, y_eval, settings: MetricSettings = MetricSettings()):
        """Inputs of given codes and factors, without a model: what the metrics that read only
        codes (MIG, SAP, DCI, modularity, ...) need, for tests and benchmarks."""
        inputs = cls.__new__(cls)
        inputs.model = inputs.dataset = None
        inputs.settings, inputs.split, inputs.per_image, inputs.params, inputs.data_dir = settings, "test", {}, {}, None
        inputs.x_eval = inputs.x_fit = None
        inputs.y_fit, inputs.y_eval = y_fit, y_eval
        inputs.__dict__.update(codes_fit=codes_fit, codes_eval=codes_eval)  # the cached properties' values
        return inputs

    def codes_of(self, x, y=None) -> np.ndarray:
        return posterior_means(self.model, self.model.training_inputs(x, y) if self.model.conditional else x)[0]

    @cached_property
    def codes_eval(self) -> np.ndarray:
        return self.codes_of(self.x_eval, self.y_eval)

    @cached_property
    def codes_fit(self) -> np.ndarray:
        return self.codes_of(self.x_fit, self.y_fit)

    @cached_property
    def samples(self) -> np.ndarray:
        """As many model samples as evaluation images, from the evaluation's prior and
        binarization streams. Bernoulli models are sampled in the data space (binary pixels
        drawn from the decoded probabilities, as the binarized data are); Gaussian models
        contribute their decoded means."""
        n, seed, model = len(self.x_eval), self.settings.sampler_seed, self.model
        z = model.sample_latents(n, seed=streams.int_seed(seed, streams.PRIOR))
        means = np.concatenate([ops.convert_to_numpy(model.mean_image(model.decode(ops.convert_to_tensor(z[i:i + 256]))))
                                for i in range(0, n, 256)])
        if self.dataset.likelihood == "bernoulli":
            noise = streams.generator(seed, streams.BINARIZATION).random(means.shape)
            means = (noise < means).astype(np.float32)
        return means

    def representation(self, observations) -> np.ndarray:
        return self.codes_of(observations)

    def sampler_rng(self) -> np.random.RandomState:
        return np.random.RandomState(self.settings.sampler_seed)


def first_rows(y, n):
    """The first ``n`` labels or factors, or None for a dataset without them."""
    return None if y is None else y[:n]
