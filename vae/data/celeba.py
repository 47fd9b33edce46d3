"""CelebA: aligned face photos, centre-cropped and resized to 64x64 RGB, with 40 attributes.

CelebA cannot be downloaded here (it is not in ``keras.datasets``): the loader reads the
official layout from ``$VAE_DATA_DIR/celeba/`` (or ``$VAE_DATA_DIR`` itself)::

    img_align_celeba/000001.jpg ...
    list_attr_celeba.txt        count, 40 attribute names, then "file v1 ... v40" (-1/1)
    list_eval_partition.txt     "file split" with 0 train, 1 val, 2 test

and the variants users download: the official ``img_align_celeba.zip`` read in place,
Kaggle's .csv files with its nested image folder, and torchvision's ``celeba/`` folder
(see :mod:`vae.data.celeba_layouts`).

Each image is cropped to its central 140x140 square (the usual crop of the 178x218
aligned images; other sizes keep the same fraction of the shorter side) and resized with
Lanczos filtering. The decoded uint8 arrays are cached in ``$VAE_CACHE_DIR/celeba/`` so
that only the first load decodes JPEGs.
"""

import hashlib
import io
import json
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from vae import paths
from vae.data.base import Dataset, eval_size, split_order, take_subset
from vae.data.celeba_layouts import (
    ImageFiles,
    Layout,
    find_layout,
    read_attributes,
    read_partition,
)
from vae.errors import DataError

log = logging.getLogger(__name__)

IMAGE_SIZE = 64
CROP_FRACTION = 140 / 178  # the common 140x140 crop of the 178-pixel-wide aligned images
SPLITS = ("train", "val", "test")
_CACHE_VERSION = 1  # bump when the preprocessing changes, so old caches are not reused
_BATCH = 512  # images decoded per batch of threads: a failure stops the load quickly


def load(data_dir=None, subset: int | None = None) -> Dataset:
    """Load CelebA's official train / validation / test partition.

    Images are float32 in [0, 1], ``(n, 64, 64, 3)``; ``y_*`` hold the 40 attributes as
    0/1 ``(n, 40)``. Each split is in a fixed shuffled order (``split_order("celeba",
    split, n)`` of the partition file's order); with ``subset`` only its first ``subset``
    train images and first ``max(subset // 4, 64)`` val and test images are decoded.

    Raises:
        DataError: a missing folder or file, a malformed line, a missing or corrupt JPEG.
    """
    layout = find_layout(data_dir)
    selected = _select(read_partition(layout.partition), layout.partition, subset)
    with ImageFiles(layout.images, layout.partition.name) as files:
        cache_path = _cache_path(layout, files, selected, subset)
        arrays = _read_cache(cache_path)
        if arrays is not None:
            notes = [f"celeba: read from cache {cache_path}"]
        else:
            arrays = _decode_selected(layout, files, selected)
            cached = _write_cache(cache_path, arrays)
            notes = [
                f"celeba: decoded {sum(len(v) for v in selected.values())} JPEGs from "
                f"{layout.images} "
                + (f"(cached in {cache_path})" if cached else "(could not cache them)")
            ]

    def images(split):
        x = arrays[f"x_{split}"].astype(np.float32)
        x *= 1 / 255  # in place: full CelebA is 10 GB as float32, twice would be 20
        return x

    def labels(split):
        return arrays[f"y_{split}"].astype(np.int64)

    dataset = Dataset(
        name="celeba",
        x_train=images("train"),
        x_val=images("val"),
        x_test=images("test"),
        y_train=labels("train"),
        y_val=labels("val"),
        y_test=labels("test"),
        likelihood="logistic",  # exact 8-bit probabilities; the README says why
        factor_names=[str(n) for n in arrays["factor_names"]],
        notes=notes,
    )
    return take_subset(dataset, subset)


def _decode_selected(layout: Layout, files: ImageFiles, selected) -> dict[str, np.ndarray]:
    names, attributes = read_attributes(layout.attributes)
    arrays = {"factor_names": np.array(names)}
    for split in SPLITS:
        listed = selected[split]
        missing = [f for f in listed if f not in attributes]
        if missing:
            raise DataError(
                f"celeba: {missing[0]} is listed in {layout.partition} but has no line in "
                f"{layout.attributes}; restore the official {layout.attributes.name}"
            )
        arrays[f"y_{split}"] = np.array([attributes[f] for f in listed], np.int8).reshape(
            len(listed), len(names)
        )
        arrays[f"x_{split}"] = _decode_all(files, listed)
    return arrays


def _select(partition, partition_path, subset):
    selected = {split: [] for split in SPLITS}
    for name, split in partition:
        selected[SPLITS[split]].append(name)
    for split, files in selected.items():
        if not files:
            raise DataError(f"celeba: {partition_path} assigns no image to the {split} split")
        # The file order follows the image numbers, which need not be a random order: a
        # subset's prefix of it could be a biased sample.
        selected[split] = [files[i] for i in split_order("celeba", split, len(files))]
    if subset is not None:
        n_eval = eval_size(subset)
        limits = {"train": subset, "val": n_eval, "test": n_eval}
        selected = {split: files[: limits[split]] for split, files in selected.items()}
    return selected


def crop_box(width: int, height: int) -> tuple[float, float, float, float]:
    """The central square kept from an image: 140x140 of a 178x218 one, same fraction otherwise."""
    side = min(width, height) * CROP_FRACTION
    left, top = (width - side) / 2, (height - side) / 2
    return (left, top, left + side, top + side)


def preprocess(image: Image.Image) -> np.ndarray:
    """Centre-crop and resize one image: uint8 ``(64, 64, 3)``."""
    image = image.convert("RGB")
    small = image.resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS, box=crop_box(*image.size)
    )
    return np.asarray(small, dtype=np.uint8)


def _decode(files: ImageFiles, name: str) -> np.ndarray:
    data = files.read(name)
    try:
        with Image.open(io.BytesIO(data)) as image:
            return preprocess(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"celeba: {files.where(name)} is unreadable or corrupt ({exc}); restore it from "
            f"the official {files.location.name}"
        ) from None


def _decode_all(files: ImageFiles, names: list[str]) -> np.ndarray:
    out = np.empty((len(names), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    if len(names) > 1000:
        log.info("celeba: decoding %d JPEGs (cached for later loads)", len(names))
    # Pillow releases the GIL while it decodes and resizes, so threads scale.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(names), _BATCH):
            batch = names[start : start + _BATCH]
            for offset, image in enumerate(pool.map(lambda n: _decode(files, n), batch)):
                out[start + offset] = image
    return out


def _cache_path(layout: Layout, files: ImageFiles, selected, subset) -> Path:
    """One cache file per set of source files (their sizes and mtimes) and subset."""

    def stamp(path):
        info = path.stat()
        return [info.st_size, info.st_mtime_ns]

    images = hashlib.sha256()
    for split in SPLITS:
        for name in selected[split]:
            images.update(json.dumps([split, name, files.stamp(name)]).encode())
    key = json.dumps(
        {
            "version": _CACHE_VERSION,
            "source": str(layout.images),
            "attributes": [str(layout.attributes), *stamp(layout.attributes)],
            "partition": [str(layout.partition), *stamp(layout.partition)],
            "images": images.hexdigest(),
            "subset": subset,
            "size": IMAGE_SIZE,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return paths.cache_dir() / "celeba" / f"celeba-{digest}.npz"


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    keys = ["factor_names"] + [f"{a}_{s}" for a in ("x", "y") for s in SPLITS]
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: np.asarray(npz[key]) for key in keys}
    except Exception as exc:  # a damaged cache only costs a rebuild
        log.warning("celeba: ignoring unreadable cache %s (%s)", path, exc)
        return None


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            tmp = f.name
            np.savez(f, **arrays)
        os.replace(tmp, path)  # readers see the old file or the whole new one, never a part
        return True
    except OSError as exc:
        log.warning(
            "celeba: could not write the cache %s (%s); later loads decode again", path, exc
        )
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return False
