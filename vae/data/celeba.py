"""CelebA: aligned face photos, centre-cropped and resized to 64x64 RGB, with 40 attributes.

CelebA cannot be downloaded here (it is not in ``keras.datasets``): the loader reads the
official layout from ``$VAE_DATA_DIR/celeba/`` (or ``$VAE_DATA_DIR`` itself)::

    img_align_celeba/000001.jpg ...
    list_attr_celeba.txt        count, 40 attribute names, then "file v1 ... v40" (-1/1)
    list_eval_partition.txt     "file split" with 0 train, 1 val, 2 test

Each image is cropped to its central 140x140 square (the usual crop of the 178x218
aligned images; other sizes keep the same fraction of the shorter side) and resized with
Lanczos filtering. The decoded uint8 arrays are cached in ``$VAE_CACHE_DIR/celeba/`` so
that only the first load decodes JPEGs.
"""

import hashlib
import json
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from vae import config
from vae.data.base import Dataset, eval_size, split_order, take_subset
from vae.errors import DataError

log = logging.getLogger(__name__)

IMAGE_DIR = "img_align_celeba"
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
IMAGE_SIZE = 64
CROP_FRACTION = 140 / 178  # the common 140x140 crop of the 178-pixel-wide aligned images
SPLITS = ("train", "val", "test")
_CACHE_VERSION = 1  # bump when the preprocessing changes, so old caches are not reused
_BATCH = 512  # images decoded per batch of threads: a failure stops the load quickly
_HOW_TO = (
    f"put {IMAGE_DIR}/, {ATTR_FILE} and {PARTITION_FILE} in ${config.DATA_DIR_ENV}/celeba/ "
    "or pass --data-dir (CelebA cannot be downloaded automatically; mnist and dsprites "
    "work offline)"
)


def load(data_dir=None, subset: int | None = None) -> Dataset:
    """Load CelebA's official train / validation / test partition.

    Images are float32 in [0, 1], ``(n, 64, 64, 3)``; ``y_*`` hold the 40 attributes as
    0/1 ``(n, 40)``. Each split is in a fixed shuffled order (``split_order("celeba",
    split, n)`` of the partition file's order); with ``subset`` only its first ``subset``
    train images and first ``max(subset // 4, 64)`` val and test images are decoded.

    Raises:
        DataError: a missing folder or file, a malformed line, a missing or corrupt JPEG.
    """
    source = find_source(data_dir)
    attr_path, partition_path = source / ATTR_FILE, source / PARTITION_FILE
    image_dir = source / IMAGE_DIR
    for path in (attr_path, partition_path):
        if not path.is_file():
            raise DataError(f"celeba: {path} is missing; {_HOW_TO}")
    if not image_dir.is_dir():
        raise DataError(f"celeba: the image folder {image_dir} is missing; {_HOW_TO}")

    selected = _select(read_partition(partition_path), subset)
    cache_path = _cache_path(source, attr_path, partition_path, image_dir, selected, subset)
    arrays = _read_cache(cache_path)
    if arrays is not None:
        notes = [f"celeba: read from cache {cache_path}"]
    else:
        names, attributes = read_attributes(attr_path)
        arrays = {"factor_names": np.array(names)}
        for split in SPLITS:
            files = selected[split]
            missing = [f for f in files if f not in attributes]
            if missing:
                raise DataError(
                    f"celeba: {missing[0]} is listed in {partition_path} but has no line in "
                    f"{attr_path}; restore the official {ATTR_FILE}"
                )
            arrays[f"y_{split}"] = np.array([attributes[f] for f in files], np.int8).reshape(
                len(files), len(names)
            )
            arrays[f"x_{split}"] = _decode_all([image_dir / f for f in files])
        cached = _write_cache(cache_path, arrays)
        notes = [
            f"celeba: decoded {sum(len(v) for v in selected.values())} JPEGs from {source} "
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
        likelihood="gaussian",
        factor_names=[str(n) for n in arrays["factor_names"]],
        notes=notes,
    )
    return take_subset(dataset, subset)


def find_source(data_dir=None) -> Path:
    """The folder holding CelebA's official layout: ``<data_dir>/celeba`` or ``<data_dir>``."""
    root = config.data_dir(data_dir)
    if root is None:
        raise DataError(f"celeba: no data directory given and no local copy; {_HOW_TO}")
    if not root.is_dir():
        raise DataError(f"celeba: data directory {root} does not exist; {_HOW_TO}")
    if (root / "celeba").is_dir():
        return (root / "celeba").resolve()
    if any((root / item).exists() for item in (IMAGE_DIR, ATTR_FILE, PARTITION_FILE)):
        return root.resolve()
    raise DataError(f"celeba: no folder {root / 'celeba'}; {_HOW_TO}")


def read_attributes(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    """Parse ``list_attr_celeba.txt``: attribute names and, per file, its 0/1 values."""
    lines = _read_lines(path)
    if len(lines) < 2:
        raise DataError(f"celeba: {path} is truncated: it needs a count and a line of names")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise DataError(
            f"celeba: {path} line 1 should be the image count, got {lines[0]!r}"
        ) from None
    names = lines[1].split()
    if not names:
        raise DataError(f"celeba: {path} line 2 should list the attribute names")
    attributes = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names) + 1 or any(v not in ("1", "-1") for v in fields[1:]):
            raise DataError(
                f"celeba: {path} line {number} is malformed: expected a file name and "
                f"{len(names)} values of -1 or 1"
            )
        if fields[0] in attributes:
            raise DataError(f"celeba: {path} line {number} repeats {fields[0]}")
        attributes[fields[0]] = [1 if v == "1" else 0 for v in fields[1:]]
    if len(attributes) != count:
        raise DataError(f"celeba: {path} announces {count} images but lists {len(attributes)}")
    return names, attributes


def read_partition(path: Path) -> list[tuple[str, int]]:
    """Parse ``list_eval_partition.txt`` into ``(file, split)`` pairs, 0 train, 1 val, 2 test."""
    entries, seen = [], set()
    for number, line in enumerate(_read_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(
                f"celeba: {path} line {number} is malformed: expected 'file split' with "
                f"split 0, 1 or 2"
            )
        if fields[0] in seen:
            raise DataError(f"celeba: {path} line {number} repeats {fields[0]}")
        seen.add(fields[0])
        entries.append((fields[0], int(fields[1])))
    return entries


def _read_lines(path):
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"celeba: cannot read {path} ({exc}); restore the official file") from None


def _select(partition, subset):
    selected = {split: [] for split in SPLITS}
    for name, split in partition:
        selected[SPLITS[split]].append(name)
    for split, files in selected.items():
        if not files:
            raise DataError(f"celeba: {PARTITION_FILE} assigns no image to the {split} split")
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


def _decode(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return preprocess(image)
    except FileNotFoundError:
        raise DataError(
            f"celeba: {path} is listed in {PARTITION_FILE} but missing; re-extract {IMAGE_DIR}"
        ) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"celeba: {path} is unreadable or corrupt ({exc}); re-extract {IMAGE_DIR}"
        ) from None


def _decode_all(paths: list[Path]) -> np.ndarray:
    out = np.empty((len(paths), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    if len(paths) > 1000:
        log.info("celeba: decoding %d JPEGs (cached for later loads)", len(paths))
    # Pillow releases the GIL while it decodes and resizes, so threads scale.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(paths), _BATCH):
            batch = paths[start : start + _BATCH]
            for offset, image in enumerate(pool.map(_decode, batch)):
                out[start + offset] = image
    return out


def _cache_path(source, attr_path, partition_path, image_dir, selected, subset) -> Path:
    """One cache file per source folder, its files' sizes and mtimes, and the subset."""

    def stamp(path):
        try:
            info = path.stat()
        except FileNotFoundError:
            raise DataError(
                f"celeba: {path} is listed in {PARTITION_FILE} but missing; re-extract {IMAGE_DIR}"
            ) from None
        return [info.st_size, info.st_mtime_ns]

    images = hashlib.sha256()
    for split in SPLITS:
        for name in selected[split]:
            images.update(json.dumps([split, name, stamp(image_dir / name)]).encode())
    key = json.dumps(
        {
            "version": _CACHE_VERSION,
            "source": str(source),
            "attributes": stamp(attr_path),
            "partition": stamp(partition_path),
            "images": images.hexdigest(),
            "subset": subset,
            "size": IMAGE_SIZE,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return config.cache_dir() / "celeba" / f"celeba-{digest}.npz"


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
