"""Readers for the MNIST family's files: IDX (optionally gzipped) and keras' ``.npz``."""

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from vae.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read one IDX file into a uint8 array, checking its magic number and its length."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read ({exc}); download the file again") from None
    if len(raw) < 8:
        raise DataError(f"{path}: file is truncated ({len(raw)} bytes); download it again")
    magic = struct.unpack(">i", raw[:4])[0]
    if magic != expected_magic:
        raise DataError(
            f"{path}: not an IDX file of this kind (magic {magic}, expected {expected_magic}); "
            "check that images and labels are not swapped or download it again"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}i", raw[4:header])
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise DataError(
            f"{path}: file is truncated or padded ({len(raw) - header} bytes of data, "
            f"expected {size}); download it again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def find_file(folder: Path, stem: str) -> Path | None:
    """``stem`` or ``stem.gz`` in ``folder`` (also the ``stem`` with '.' instead of '-idx')."""
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The images and labels of one split, or None when its files are not in ``folder``."""
    images_stem, labels_stem = SPLIT_FILES[split]
    images_path, labels_path = find_file(folder, images_stem), find_file(folder, labels_stem)
    if images_path is None and labels_path is None:
        return None
    if images_path is None or labels_path is None:
        missing = images_stem if images_path is None else labels_stem
        raise DataError(f"{folder}: {missing}(.gz) is missing beside its pair; add it")
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{folder}: {images_path.name} holds {images.shape} but {labels_path.name} "
            f"{labels.shape}; the two files must describe the same images"
        )
    return images, labels


def read_npz(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """keras.datasets' ``mnist.npz`` layout: ``x_train, y_train, x_test, y_test``."""
    try:
        with np.load(path) as data:
            return {
                "train": (data["x_train"], data["y_train"]),
                "test": (data["x_test"], data["y_test"]),
            }
    except (OSError, KeyError, ValueError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read ({exc}); download the file again") from None
