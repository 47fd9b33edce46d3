"""Datasets behind one interface: ``load_dataset(name, ...) -> Dataset``."""

import importlib

from vae.data.base import Dataset, GroundTruthData
from vae.errors import ConfigError

# name -> module whose ``load(data_dir=None, subset=None, seed=0)`` returns a Dataset.
DATASETS = {
    "mnist": "vae.data.mnist",
    "fashion_mnist": "vae.data.fashion_mnist",
    "celeba": "vae.data.celeba",
    "dsprites": "vae.data.dsprites",
}


def load_dataset(name: str, data_dir=None, subset: int | None = None, seed: int = 0) -> Dataset:
    """Load a registered dataset's train / validation / test splits.

    Raises:
        ConfigError: unknown name or a subset below 1.
        DataError: missing, truncated or malformed files.
    """
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}")
    if subset is not None and subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {subset}")
    module = importlib.import_module(DATASETS[name])
    return module.load(data_dir=data_dir, subset=subset, seed=seed)


__all__ = ["DATASETS", "Dataset", "GroundTruthData", "load_dataset"]
