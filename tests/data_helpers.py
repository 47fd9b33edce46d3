"""Small datasets in their real on-disk layouts, written by the tests themselves."""

import gzip
from pathlib import Path

import numpy as np

MNIST_IMAGES = 1000


def write_idx(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """The MNIST test split's two gzipped IDX files (the official names) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    header = np.array([2051, len(images), *images.shape[1:]], dtype=">i4").tobytes()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.astype(np.uint8).tobytes()))
    header = np.array([2049, len(labels)], dtype=">i4").tobytes()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + labels.astype(np.uint8).tobytes()))
    return folder


def digit_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 images of 10 classes: each class a bar at its own angle through the
    centre, with jittered position, width and brightness (learnable, like digits)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    images = np.zeros((n, 28, 28), np.float32)
    for i, label in enumerate(labels):
        angle = np.pi * label / 10 + rng.normal(0, 0.05)
        cy, cx = 14 + rng.normal(0, 1.5, 2)
        distance = np.abs((yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle))
        along = np.abs((yy - cy) * np.sin(angle) + (xx - cx) * np.cos(angle))
        images[i] = np.clip(1.5 - distance / rng.uniform(1.0, 2.0), 0, 1) * (along < 10) * rng.uniform(0.7, 1.0)
    return (images * 255).round().astype(np.uint8), labels.astype(np.uint8)


def write_mnist(root: Path, n: int = MNIST_IMAGES) -> Path:
    """A data folder holding ``mnist/`` with a test split of ``n`` digit-like images."""
    write_idx(root / "mnist", *digit_like(n))
    return root
