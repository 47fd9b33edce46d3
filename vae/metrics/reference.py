"""A small per-dataset classifier whose penultimate layer is the feature space of
:mod:`vae.metrics.generation`.

Trained once on a fixed set of the dataset and cached on disk under
``vae.paths.cache_dir() / "reference"``, keyed by a digest of the images and labels it
trains and is tested on and of its definition (this module's architecture source, the
training constants, the seed), so a change to any of them trains a new one and a stale
network is never reused. Its heads follow the labels, not the dataset's name:

- one label per image (MNIST, Fashion-MNIST): one softmax over the classes;
- several 0/1 columns (CelebA's 40 attributes): one sigmoid per attribute;
- several integer factors (dSprites): one softmax head per factor (shape, scale,
  orientation, x, y), so the features must tell apart every factor a sample could get wrong.

The fixed set: for a registered dataset, the first ``MAX_TRAIN`` images of its full training
split and the first ``MAX_TEST`` of its test split, loaded here with ``subset=MAX_TRAIN``
(subsets are prefixes of one fixed sequence), whatever ``--subset`` the run itself used; so a
``quick`` sweep and a ``vaesweep train`` run share one feature space, and ``Reference.digest``
(logged as ``metric_reference_digest``) says so. Generation figures compare only between
equal digests. A dataset that is not registered (tests build their own) trains on the first
rows of the splits it was given.

``Reference.accuracy`` is its mean test accuracy over heads (per attribute for sigmoid
heads): log it beside the sample metrics, since features from a network that cannot
classify the data say little about samples.
"""

import hashlib
import inspect
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from vae import paths
from vae.data import DATASETS, load_dataset
from vae.metrics import utils

VERSION = 2  # bump to retrain every cached network when training changes outside _build
FEATURE_DIM = 128
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
MIN_EPOCHS, MIN_STEPS = 2, 150  # tiny training sets get more epochs, large ones 2
MAX_TRAIN, MAX_TEST = 10_000, 10_000  # a CPU trains on 10k 64x64 images in tens of seconds


@dataclass
class Reference:
    """A trained reference network.

    Attributes:
        dataset: the dataset's name.
        network: images -> ``(n, FEATURE_DIM)`` penultimate-layer features.
        accuracy: mean test accuracy over its heads, in [0, 1].
        digest: the cache key (data and definition).
        path: the cached weights file.
        trained: True when this call trained it, False when it was loaded from the cache.
    """

    dataset: str
    network: keras.Model
    accuracy: float
    digest: str
    path: Path
    trained: bool

    def features(self, images, batch_size: int = 256) -> np.ndarray:
        """``(n, FEATURE_DIM)`` float64 features of images ``(n, h, w, c)`` in [0, 1]."""
        images = np.asarray(images, dtype=np.float32)
        out = [keras.ops.convert_to_numpy(self.network(images[s : s + batch_size], training=False))
               for s in range(0, len(images), batch_size)]
        return np.concatenate(out).astype(np.float64)


def reference_network(dataset, seed: int = 0, cache_dir: str | os.PathLike | None = None,
                      data_dir: str | os.PathLike | None = None) -> Reference:
    """Loads the dataset's reference network from the cache, training it first if needed.

    Args:
        dataset: a :class:`vae.data.base.Dataset` (``name``, ``x_train``, ``y_train``,
            ``x_test``, ``y_test``) with labels or factors.
        seed: seed of the initial weights and the batch order.
        cache_dir: folder of the cached networks; default ``paths.cache_dir() / "reference"``.
        data_dir: where a registered dataset's files are (default ``$VAE_DATA_DIR``), to load
            its fixed set.

    Returns:
        The :class:`Reference`, trained on the fixed set (module docstring).

    Raises:
        MetricInputError: the dataset has no labels or factors.
    """
    if dataset.y_train is None or dataset.y_test is None:
        raise utils.MetricInputError(
            f"{dataset.name} has no labels or factors to train a reference network on")
    rng = np.random.RandomState(seed)
    x_train, y_train, x_test, y_test = _fixed_set(dataset, data_dir)
    heads = _heads(np.concatenate([y_train, y_test]))
    digest = _digest([x_train, y_train, x_test, y_test], heads, x_train.shape[1:], seed)
    folder = Path(cache_dir) if cache_dir is not None else paths.cache_dir() / "reference"
    path = folder / f"{dataset.name}-{digest[:16]}.weights.h5"
    classifier = _build(x_train.shape[1:], heads, seed)
    trained = not (path.is_file() and path.with_suffix(".json").is_file())
    if trained:
        _train(classifier, x_train, _targets(y_train, heads), heads, rng)
        accuracy = _accuracy(classifier, x_test, y_test, heads)
        _save(classifier, path, {"dataset": dataset.name, "accuracy": accuracy, "digest": digest})
    else:
        classifier.load_weights(path)
        accuracy = float(json.loads(path.with_suffix(".json").read_text())["accuracy"])
    network = keras.Model(classifier.input, classifier.get_layer("features").output)
    return Reference(dataset.name, network, accuracy, digest, path, trained)


def _fixed_set(dataset, data_dir):
    """``(x_train, y_train, x_test, y_test)`` the network trains and is tested on, the same
    for every ``--subset`` of a registered dataset."""
    if dataset.name in DATASETS:
        dataset = load_dataset(dataset.name, data_dir=data_dir, subset=MAX_TRAIN)
    return (np.asarray(dataset.x_train[:MAX_TRAIN], np.float32), np.asarray(dataset.y_train[:MAX_TRAIN]),
            np.asarray(dataset.x_test[:MAX_TEST], np.float32), np.asarray(dataset.y_test[:MAX_TEST]))


def _heads(y: np.ndarray) -> list[tuple[str, int]]:
    """``[(activation, units), ...]``: the output heads the labels call for."""
    if y.ndim == 1:
        return [("softmax", int(y.max()) + 1)]
    if np.isin(y, (0, 1)).all():
        return [("sigmoid", y.shape[1])]
    return [("softmax", int(column.max()) + 1) for column in y.T]


def _targets(y, heads):
    """The labels split as the heads take them."""
    if y.ndim == 1 or heads[0][0] == "sigmoid":
        return [y.astype(np.float32 if heads[0][0] == "sigmoid" else np.int64)]
    return [column.astype(np.int64) for column in y.T]


def _build(image_shape, heads, seed) -> keras.Model:
    """Two strided convolutions, a ``features`` layer and one output per head."""
    init = [keras.initializers.GlorotUniform(seed=seed + i) for i in range(3 + len(heads))]
    inputs = keras.Input(tuple(image_shape))
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[0])(inputs)
    h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[1])(h)
    h = layers.Dense(FEATURE_DIM, activation="relu", name="features", kernel_initializer=init[2])(layers.Flatten()(h))
    outputs = [layers.Dense(units, activation=activation, name=f"head_{i}", kernel_initializer=init[3 + i])(h)
               for i, (activation, units) in enumerate(heads)]
    return keras.Model(inputs, outputs, name="reference")


def _train(classifier, x, targets, heads, rng) -> None:
    """At least ``MIN_EPOCHS`` epochs and ``MIN_STEPS`` steps, each epoch in a seeded order."""
    # Compiled here, not in _build: a loaded network needs no optimizer state.
    classifier.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                       loss=["binary_crossentropy" if a == "sigmoid" else "sparse_categorical_crossentropy"
                             for a, _ in heads])
    epochs = max(MIN_EPOCHS, math.ceil(MIN_STEPS / math.ceil(len(x) / BATCH_SIZE)))
    order = np.concatenate([rng.permutation(len(x)) for _ in range(epochs)])
    # One fit call over all epochs' batches: a fit per epoch costs more than tiny epochs do.
    classifier.fit(_Batches(x, targets, order), epochs=1, verbose=0)


class _Batches(keras.utils.PyDataset):
    """Batches of ``(x, targets)`` in the row order ``order`` (a seeded shuffle)."""

    def __init__(self, x, targets, order):
        super().__init__()
        self.x, self.targets, self.order = x, targets, order

    def __len__(self):
        return math.ceil(len(self.order) / BATCH_SIZE)

    def __getitem__(self, index):
        rows = self.order[index * BATCH_SIZE : (index + 1) * BATCH_SIZE]
        return self.x[rows], tuple(t[rows] for t in self.targets)


def _accuracy(classifier, x, y, heads) -> float:
    """Mean test accuracy over heads (over attributes for a sigmoid head)."""
    predictions = classifier.predict(x, batch_size=256, verbose=0)
    predictions = predictions if isinstance(predictions, list) else [predictions]
    targets = _targets(y, heads)
    scores = [np.mean((p > 0.5) == t) if a == "sigmoid" else np.mean(np.argmax(p, axis=-1) == t)
              for (a, _), p, t in zip(heads, predictions, targets, strict=True)]
    return float(np.mean(scores))


def _digest(arrays, heads, image_shape, seed) -> str:
    """SHA-256 of the data and of everything that defines the trained network."""
    definition = {"version": VERSION, "heads": heads, "image_shape": list(image_shape), "seed": seed,
                  "feature_dim": FEATURE_DIM, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE,
                  "min_epochs": MIN_EPOCHS, "min_steps": MIN_STEPS, "keras": keras.__version__,
                  "build": inspect.getsource(_build), "train": inspect.getsource(_train),
                  "batches": inspect.getsource(_Batches)}
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode())
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _save(classifier, path: Path, record: dict) -> None:
    """Weights and their record, each written to a temporary name and renamed, so that a
    concurrent trial never loads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name[: -len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5")
    classifier.save_weights(tmp)
    os.replace(tmp, path)
    tmp_record = path.with_suffix(f".{os.getpid()}.tmp")
    tmp_record.write_text(json.dumps(record, indent=1))
    os.replace(tmp_record, path.with_suffix(".json"))
