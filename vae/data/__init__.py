"""Datasets behind one interface: ``load_dataset(name, ...) -> Dataset``."""

import importlib
import inspect

from vae.data.base import Dataset, GroundTruthData, data_seed, eval_digest
from vae.errors import ConfigError

# name -> module whose ``load(data_dir=None, subset=None)`` returns a Dataset.
DATASETS = {
    "mnist": "vae.data.mnist",
    "fashion_mnist": "vae.data.fashion_mnist",
    "celeba": "vae.data.celeba",
    "dsprites": "vae.data.dsprites",
}


def load_dataset(name: str, data_dir=None, subset: int | None = None, likelihood: str | None = None) -> Dataset:
    """Load a registered dataset's train / validation / test splits.

    The images are fixed by the dataset (see :mod:`vae.data.base`), never by a run's seed,
    and ``subset`` keeps prefixes of the same fixed sequences.

    Args:
        name: a key of :data:`DATASETS`.
        data_dir: the folder holding local files (else ``$VAE_DATA_DIR``).
        subset: train images to keep; val and test keep ``eval_size(subset)``.
        likelihood: the model's likelihood (``Dataset.likelihood``), None for the dataset's
            default. A loader that takes it decides from it what the images are (MNIST and
            Fashion-MNIST binarize for ``bernoulli``, keep 8-bit grey levels otherwise); for
            the others it must model the same kind of data as their default.

    Raises:
        ConfigError: unknown name, a subset below 1, or a likelihood the data cannot take.
        DataError: missing, truncated or malformed files.
    """
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}")
    if subset is not None and subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {subset}")
    module = importlib.import_module(DATASETS[name])
    if likelihood is None:
        return module.load(data_dir=data_dir, subset=subset)
    from vae.likelihoods import check_compatible, get_likelihood

    get_likelihood(likelihood)  # an unknown name fails before any file is read
    if "likelihood" in inspect.signature(module.load).parameters:
        return module.load(data_dir=data_dir, subset=subset, likelihood=likelihood)
    dataset = module.load(data_dir=data_dir, subset=subset)
    check_compatible(name, dataset.likelihood, likelihood)
    dataset.likelihood = likelihood
    return dataset


__all__ = ["DATASETS", "Dataset", "GroundTruthData", "data_seed", "eval_digest", "load_dataset"]
