"""The one small interface every dataset module implements, and the helpers they share.

Data randomness is fixed by the dataset, never by the run: every split, shuffle and
binarization draws from :func:`data_seed` of the dataset's name, so runs with different
``--seed`` values (and different budgets) train and are evaluated on the same images. The
evaluation images of a dataset are one fixed, shuffled sequence; ``--subset N`` keeps its
first :func:`eval_size` images, so a smaller budget's test images are the first test images
of a larger budget's, and :func:`eval_digest` names that set in a run's record.
"""

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


class GroundTruthData(Protocol):
    """A sampler of observations from known factors (disentanglement_lib's interface)."""

    @property
    def num_factors(self) -> int: ...

    @property
    def factors_num_values(self) -> list[int]: ...

    @property
    def observation_shape(self) -> tuple[int, int, int]: ...

    def sample_factors(self, num: int, random_state: np.random.RandomState) -> np.ndarray: ...

    def sample_observations_from_factors(
        self, factors: np.ndarray, random_state: np.random.RandomState
    ) -> np.ndarray: ...


@dataclass
class Dataset:
    """Train / validation / test images ready for Keras, with labels or factors.

    Images are float32 in [0, 1] with shape ``(n, height, width, channels)``. ``y_*`` hold
    integer class labels ``(n,)`` or integer factor classes ``(n, k)``; ``factor_names``
    names the columns (one name for a label).

    Attributes:
        likelihood: the likelihood the images are modelled with (a name of
            :data:`vae.likelihoods.LIKELIHOODS`): ``"bernoulli"`` for binary images, one of the
            8-bit likelihoods (``"gaussian"``, ``"logistic"``, ...) for 8-bit grey levels.
        ground_truth: a sampler for the disentanglement metrics that need one, else None.
        notes: what the loader decided that a user should know (shown in the log).
    """

    name: str
    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None
    y_val: np.ndarray | None
    y_test: np.ndarray | None
    likelihood: str
    factor_names: list[str] = field(default_factory=list)
    ground_truth: GroundTruthData | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int | None:
        """Number of classes of a single-label dataset (for conditional models), else None."""
        if self.y_train is None or self.y_train.ndim != 1:
            return None
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1

    @property
    def eval_images(self) -> int:
        """Number of test images, the set every metric of a run is computed on."""
        return len(self.x_test)

    @property
    def eval_digest(self) -> str:
        """:func:`eval_digest` of the test images and labels: equal digests, same test set."""
        return eval_digest(self.x_test, self.y_test)


def data_seed(name: str) -> int:
    """The fixed seed of a dataset's own randomness, derived from its registry name.

    The first 4 bytes of the name's SHA-256 (``data_seed("mnist")`` is always the same
    number): a constant per dataset that no run option can change, and different between
    datasets so that they do not share noise patterns.
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def split_seed(name: str, split: str) -> tuple[int, int]:
    """A seed for one split's draws of a dataset: independent streams for train, val, test."""
    return (data_seed(name), zlib.crc32(split.encode()))


def split_order(name: str, split: str, n: int) -> np.ndarray:
    """The fixed shuffled order of a split's ``n`` items, whose prefixes are the subsets.

    Official test splits are ordered (MNIST's first 5,000 test digits are easier than the
    last 5,000), so a prefix of the raw order would be a biased evaluation set.
    """
    return np.random.default_rng(split_seed(name, split)).permutation(n)


def eval_digest(x: np.ndarray, y: np.ndarray | None = None) -> str:
    """The first 16 hex digits of the SHA-256 of the arrays' bytes (``x``, then ``y``).

    Two runs report the same digest exactly when they were evaluated on the same images
    (and labels) in the same order.
    """
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    if y is not None:
        digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:16]


def split_arrays(x, y, fractions=(0.8, 0.1, 0.1), seed: int | Sequence[int] = 0):
    """Shuffle ``x`` (and ``y``) with a fixed seed and cut them into train/val/test.

    Each part is in shuffled order, so its prefixes (the subsets) are unbiased samples.
    """
    order = np.random.default_rng(seed).permutation(len(x))
    n_train = int(round(fractions[0] * len(x)))
    n_val = int(round(fractions[1] * len(x)))
    cuts = (order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :])
    return [(x[idx], None if y is None else y[idx]) for idx in cuts]


def eval_size(subset: int) -> int:
    """Validation and test images kept with ``--subset N``: a quarter as many, at least 64."""
    return max(subset // 4, 64)


def take_subset(dataset: Dataset, subset: int | None) -> Dataset:
    """Keep the first ``subset`` training images and ``eval_size(subset)`` val and test ones.

    Prefixes of fixed sequences, so budgets nest: a smaller budget's images are the first
    images of a larger budget's.
    """
    if subset is None:
        return dataset
    n_eval = eval_size(subset)

    def cut(a, n):
        return None if a is None else a[:n]

    dataset.x_train, dataset.y_train = dataset.x_train[:subset], cut(dataset.y_train, subset)
    dataset.x_val, dataset.y_val = dataset.x_val[:n_eval], cut(dataset.y_val, n_eval)
    dataset.x_test, dataset.y_test = dataset.x_test[:n_eval], cut(dataset.y_test, n_eval)
    dataset.notes.append(
        f"subset: {len(dataset.x_train)} train / {len(dataset.x_val)} val / "
        f"{len(dataset.x_test)} test images"
    )
    return dataset


def binarize(x: np.ndarray, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Stochastic binarization with a fixed seed (the usual 'statically binarized' data).

    Image ``i`` gets the same noise whatever follows it, so the binarized prefix of a
    sequence is the prefix of the binarized sequence.
    """
    rng = np.random.default_rng(seed)
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
