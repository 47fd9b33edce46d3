"""One evaluation set per dataset: fixed by the dataset, shuffled, and nested across budgets."""

import gzip
import hashlib
import random
import struct

import numpy as np
import pytest

from vae.data import load_dataset
from vae.data.base import eval_digest, eval_size

TRAIN, TEST = 600, 300


def _write_idx(path, array, magic):
    header = struct.pack(">i", magic) + struct.pack(f">{array.ndim}i", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _digits(first, count):
    """Images whose 0/255 pixels spell their number in binary: binarization keeps them."""
    numbers = np.arange(first, first + count)
    bits = (numbers[:, None] >> np.arange(12)) & 1
    images = np.zeros((count, 28, 28), np.uint8)
    images[:, 0, :12] = 255 * bits
    images[:, 5:20, 5:20] = 128  # grey: binarized by random draws
    return images, numbers % 10


def _numbers(x):
    """The number each image spells (see :func:`_digits`)."""
    return (x[:, 0, :12, 0].round().astype(np.int64) << np.arange(12)).sum(axis=1)


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    """A tiny MNIST: 600 train and 300 test images numbered 0..599 and 1000..1299."""
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for prefix, first, count in (("train", 0, TRAIN), ("t10k", 1000, TEST)):
        images, labels = _digits(first, count)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, 2051)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, 2049)
    return tmp_path


def _arrays(dataset):
    return [getattr(dataset, f"{a}_{s}") for a in "xy" for s in ("train", "val", "test")]


def load_dataset_after_seed(name, seed, **kwargs):
    """Load with the process's global random state seeded as a run seeds it."""
    random.seed(seed)
    np.random.seed(seed)
    return load_dataset(name, **kwargs)


@pytest.mark.parametrize("test_only", [False, True])
def test_run_seeds_do_not_change_the_images_labels_or_digest(mnist_dir, test_only):
    if test_only:  # a copy holding only the test split is cut into all three
        for path in (mnist_dir / "mnist").glob("train-*"):
            path.unlink()
    first = load_dataset_after_seed("mnist", 0, data_dir=mnist_dir)
    second = load_dataset_after_seed("mnist", 1, data_dir=mnist_dir)
    for a, b in zip(_arrays(first), _arrays(second), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.eval_digest == second.eval_digest
    assert first.eval_images == len(first.x_test) == (TEST // 10 if test_only else TEST)
    grey = first.x_test[:, 5:20, 5:20]
    assert set(np.unique(grey)) == {0.0, 1.0} and 0.3 < grey.mean() < 0.7  # binarized


def test_the_test_set_is_a_shuffle_of_the_whole_official_test_split(mnist_dir):
    numbers = _numbers(load_dataset("mnist", data_dir=mnist_dir).x_test)
    assert sorted(numbers) == list(range(1000, 1000 + TEST))
    assert not np.array_equal(numbers, np.arange(1000, 1000 + TEST))
    # The first 64, what the smallest budget keeps, come from the whole split.
    assert numbers[:64].min() < 1000 + TEST // 4 and numbers[:64].max() > 1000 + 3 * TEST // 4


def test_budgets_take_nested_prefixes_of_the_same_test_and_val_sequences(mnist_dir):
    full = load_dataset("mnist", data_dir=mnist_dir)
    digests = set()
    for subset in (64, 400, 520):  # 64, 100 and 130 test images
        kept = load_dataset("mnist", data_dir=mnist_dir, subset=subset)
        assert kept.eval_images == eval_size(subset)
        for split in ("train", "val", "test"):
            x, y = getattr(kept, f"x_{split}"), getattr(kept, f"y_{split}")
            np.testing.assert_array_equal(x, getattr(full, f"x_{split}")[: len(x)])
            np.testing.assert_array_equal(y, getattr(full, f"y_{split}")[: len(y)])
        n = kept.eval_images
        assert kept.eval_digest == eval_digest(full.x_test[:n], full.y_test[:n])
        digests.add(kept.eval_digest)
    assert len(digests) == 3  # the digest tells budgets apart


def test_eval_digest_is_the_sha256_of_the_arrays_bytes():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1)
    y = np.array([3, 7])
    expected = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()[:16]
    assert eval_digest(x, y) == expected and len(expected) == 16
    assert eval_digest(x) == hashlib.sha256(x.tobytes()).hexdigest()[:16]
    assert eval_digest(x[::-1], y[::-1]) != expected  # order matters: it names a sequence


def test_dsprites_ignores_the_run_seed_too():
    first = load_dataset_after_seed("dsprites", 0, subset=64)
    second = load_dataset_after_seed("dsprites", 7, subset=64)
    assert first.eval_digest == second.eval_digest
    np.testing.assert_array_equal(first.y_train, second.y_train)
