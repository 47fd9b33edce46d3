"""MNIST and Fashion-MNIST: 28x28 grey images with a class label."""

import logging
from pathlib import Path

import numpy as np

from vae import paths
from vae.data import idx
from vae.data.base import (
    Dataset,
    binarize,
    data_seed,
    split_arrays,
    split_order,
    split_seed,
    take_subset,
)
from vae.errors import DataError

log = logging.getLogger(__name__)


def load_mnist_family(
    name: str,
    folders: tuple[str, ...],
    keras_loader: str,
    likelihood: str,
    data_dir: str | Path | None = None,
    subset: int | None = None,
) -> Dataset:
    """Load an MNIST-format dataset from local files, or download it through keras.datasets.

    Args:
        name: the dataset's registry name.
        folders: folder names under the data directory that may hold its files.
        keras_loader: the ``keras.datasets`` module to download with when no file is local.
        likelihood: the name of a likelihood (:data:`vae.likelihoods.LIKELIHOODS`), which
            decides what the images are: one of binarized images (``"bernoulli"``) binarizes
            them, one of 8-bit images (``"gaussian"``, ``"logistic"``, ...) keeps the 256 grey
            levels k/255. ``load_dataset(..., likelihood=...)`` passes it, so MNIST is also
            available as grey 8-bit images (``--likelihood logistic``) and Fashion-MNIST
            binarized.

    The validation images are drawn from the train split and the official test split is
    shuffled, both with :func:`~vae.data.base.data_seed` of ``name``; a copy holding only
    the test split is cut into all three. Binarization noise is fixed per split too.
    """
    from vae.likelihoods import get_likelihood

    binary = get_likelihood(likelihood).data == "binary"
    splits, source = _read_local(name, folders, data_dir)
    if splits is None:
        splits, source = _download(name, keras_loader), f"keras.datasets.{keras_loader}"
    notes = [f"{name}: read from {source}; " + ("binarized" if binary else "8-bit grey levels")
             + f" for the {likelihood} likelihood"]
    if "train" in splits:
        (x_trainval, y_trainval), (x_test, y_test) = splits["train"], splits["test"]
        (x_train, y_train), (x_val, y_val), _ = split_arrays(
            x_trainval, y_trainval, fractions=(1 - 1 / 12, 1 / 12, 0.0), seed=data_seed(name)
        )
        order = split_order(name, "test", len(x_test))
        x_test, y_test = x_test[order], y_test[order]
    else:
        x_all, y_all = splits["test"]
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = split_arrays(
            x_all, y_all, fractions=(0.8, 0.1, 0.1), seed=data_seed(name)
        )
        notes.append(
            f"{name}: only the test split is present; split its {len(x_all)} images "
            f"into {len(x_train)} train / {len(x_val)} val / {len(x_test)} test"
        )

    def prepare(x, split):
        x = (x.astype(np.float32) / 255.0)[..., None]
        # One noise stream per split: the same stream would binarize train image i and
        # test image i with the same pattern.
        return binarize(x, split_seed(name, split)) if binary else x

    dataset = Dataset(
        name=name,
        x_train=prepare(x_train, "train"),
        x_val=prepare(x_val, "val"),
        x_test=prepare(x_test, "test"),
        y_train=y_train.astype(np.int64),
        y_val=y_val.astype(np.int64),
        y_test=y_test.astype(np.int64),
        likelihood=likelihood,
        factor_names=["label"],
        notes=notes,
    )
    return take_subset(dataset, subset)


def _read_local(name, folders, data_dir):
    root = paths.data_dir(data_dir)
    if root is None:
        return None, None
    if not root.is_dir():
        raise DataError(
            f"data directory {root} does not exist; create it or point --data-dir / "
            f"${paths.DATA_DIR_ENV} at the folder that holds {folders[0]}/"
        )
    for folder in [root / f for f in folders] + [root]:
        if not folder.is_dir():
            continue
        splits = {s: pair for s in ("train", "test") if (pair := idx.read_split(folder, s))}
        if splits:
            return splits, folder
        npz = folder / f"{folders[0].replace('-', '_')}.npz"
        if npz.is_file():
            return idx.read_npz(npz), npz
    return None, None


def _download(name, keras_loader):
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, keras_loader).load_data()
    except Exception as exc:  # any network or cache failure means the same to the user
        raise DataError(
            f"{name}: no local files and the download failed ({type(exc).__name__}); put the "
            f"IDX files (*-ubyte.gz) in $VAE_DATA_DIR/{name}/ or pass --data-dir"
        ) from None
    return {"train": (x_train, y_train), "test": (x_test, y_test)}
