"""Datasets behind one interface: ``load_dataset(name, ...) -> Dataset``."""

import importlib

from vae.data.base import Dataset, GroundTruthData, data_seed, eval_digest
from vae.errors import ConfigError

# name -> module whose ``load(data_dir=None, subset=None)`` returns a Dataset.
DATASETS = {
    "mnist": "vae.data.mnist",
    "fashion_mnist": "vae.data.fashion_mnist",
    "celeba": "vae.data.celeba",
    "dsprites": "vae.data.dsprites",
}


def load_dataset(name: str, data_dir=None, subset: int | None = None) -> Dataset:
    """Load a registered dataset's train / validation / test splits.

    The images are fixed by the dataset (see :mod:`vae.data.base`), never by a run's seed,
    and ``subset`` keeps prefixes of the same fixed sequences.

    Args:
        name: a key of :data:`DATASETS`.
        data_dir: the folder holding local files (else ``$VAE_DATA_DIR``).
        subset: train images to keep; val and test keep ``eval_size(subset)``.

    Raises:
        ConfigError: unknown name or a subset below 1.
        DataError: missing, truncated or malformed files.
    """
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}")
    if subset is not None and subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {subset}")
    module = importlib.import_module(DATASETS[name])
    return module.load(data_dir=data_dir, subset=subset)


__all__ = ["DATASETS", "Dataset", "GroundTruthData", "data_seed", "eval_digest", "load_dataset"]
