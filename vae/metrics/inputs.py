"""What a trial's metrics read: how much work they may do, and the model's evaluation codes."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vae.evaluate import posterior_means


@dataclass(frozen=True)
class MetricSettings:
    """How much work the trial metrics may do (each budget has its own, see ``sweeps.evaluation``).

    ``eval_images`` is the size of the evaluation set: the first images of the dataset's fixed
    test set, the same for every figure of a trial and every trial of a budget.
    """

    eval_images: int = 2000
    fit_images: int = 2000  # training codes that the supervised metrics (probe, SAP, DCI) fit on
    iwae_samples: int = 1000
    num_bins: int = 20
    dci_estimators: int = 50
    sampler_train: int = 2000
    sampler_eval: int = 1000
    sampler_batch: int = 64
    sampler_seed: int = 0  # fixed: every trial is scored on the same sampled factors
    off: tuple[str, ...] = ()  # metrics this budget leaves out (their cost buys nothing at its size)
    inception_weights: str | None = None  # InceptionV3 weights for the standard FID (the user's file)


class TrialInputs:
    """What a trial's metrics read: the model, the evaluation set and, lazily, their codes."""

    def __init__(self, model, dataset, settings: MetricSettings):
        self.model, self.dataset, self.settings = model, dataset, settings
        n, m = settings.eval_images, settings.fit_images
        self.x_eval, self.y_eval = dataset.x_test[:n], _rows(dataset.y_test, n)
        self.x_fit, self.y_fit = dataset.x_train[:m], _rows(dataset.y_train, m)
        self.per_image: dict[str, np.ndarray] = {}  # per-image values, for paired comparisons

    def codes_of(self, x, y=None) -> np.ndarray:
        return posterior_means(self.model, self.model.training_inputs(x, y) if self.model.conditional else x)[0]

    @cached_property
    def codes_eval(self) -> np.ndarray:
        return self.codes_of(self.x_eval, self.y_eval)

    @cached_property
    def codes_fit(self) -> np.ndarray:
        return self.codes_of(self.x_fit, self.y_fit)

    def representation(self, observations) -> np.ndarray:
        return self.codes_of(observations)

    def sampler_rng(self) -> np.random.RandomState:
        return np.random.RandomState(self.settings.sampler_seed)


def _rows(y, n):
    return None if y is None else y[:n]
