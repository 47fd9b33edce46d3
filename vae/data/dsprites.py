"""dSprites: 64x64 binary sprites from five known factors, rendered procedurally.

The factors follow the published dataset (Matthey et al., 2017): ``shape`` (square,
ellipse, heart), ``scale`` (6 values in [0.5, 1]), ``orientation`` (40 values,
``linspace(0, 2π, 40)``), ``pos_x`` and ``pos_y`` (32 values in [0, 1] each). The
original's constant colour factor is left out.

No download is needed: :mod:`vae.data.dsprites_render` draws the images with the
original's geometry as far as its published images show it (centres over [16, 48], a
square of scale 1 is 20 pixels wide, counter-clockwise orientation). What still differs:
a few edge pixels of ellipses and hearts per image, whose exact outlines are not
published, and the original's image order, which no loader here uses. When the official
``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` lies in ``$VAE_DATA_DIR/dsprites/``
its images are used instead, for the splits and for the ground-truth sampler alike.
"""

import logging
import zipfile
import zlib
from pathlib import Path

import numpy as np

from vae import paths
from vae.data.base import Dataset, eval_size, split_order, take_subset
from vae.data.dsprites_render import IMAGE_SIZE, render
from vae.errors import DataError

log = logging.getLogger(__name__)

FACTOR_NAMES = ["shape", "scale", "orientation", "pos_x", "pos_y"]
FACTORS_NUM_VALUES = [3, 6, 40, 32, 32]
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, 40)
POSITIONS = np.linspace(0.0, 1.0, 32)
NUM_COMBINATIONS = int(np.prod(FACTORS_NUM_VALUES))  # 737,280 as in the original
OFFICIAL_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
SPLIT_SIZES = {"train": 50_000, "val": 5_000, "test": 5_000}

_CHUNK = 4096  # official images packed per read: bounds the temporaries


def factor_values(factors: np.ndarray):
    """Map factor class indices ``(n, 5)`` to the values :func:`render` takes."""
    factors = _check_factors(factors)
    return (
        factors[:, 0],
        SCALES[factors[:, 1]],
        ORIENTATIONS[factors[:, 2]],
        POSITIONS[factors[:, 3]],
        POSITIONS[factors[:, 4]],
    )


def _check_factors(factors):
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise ValueError(f"factors must have shape (n, {len(FACTOR_NAMES)}), got {factors.shape}")
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer class indices, got {factors.dtype}")
    if np.any(factors < 0) or np.any(factors >= np.array(FACTORS_NUM_VALUES)):
        raise ValueError(f"factor classes out of range; sizes are {FACTORS_NUM_VALUES}")
    return factors.astype(np.int64)


class DSprites:
    """Ground-truth sampler for dSprites (disentanglement_lib's ``GroundTruthData``).

    Args:
        official: optional ``(packed_images, rows)`` read from the official file: images as
            ``np.packbits`` rows ``(m, 64, 8)`` and, for every factor combination (in the
            row-major order of :data:`FACTORS_NUM_VALUES`), its row or -1. Without it,
            observations are rendered.
    """

    def __init__(self, official: tuple[np.ndarray, np.ndarray] | None = None):
        self._official = official

    @property
    def num_factors(self) -> int:
        return len(FACTOR_NAMES)

    @property
    def factors_num_values(self) -> list[int]:
        return list(FACTORS_NUM_VALUES)

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        return (IMAGE_SIZE, IMAGE_SIZE, 1)

    @property
    def factor_names(self) -> list[str]:
        return list(FACTOR_NAMES)

    def sample_factors(self, num: int, random_state: np.random.RandomState) -> np.ndarray:
        """Draw ``num`` factor combinations uniformly (with replacement): ``(num, 5)`` ints."""
        return np.stack(
            [random_state.randint(k, size=num) for k in FACTORS_NUM_VALUES], axis=1
        ).astype(np.int64)

    def sample_observations_from_factors(
        self, factors: np.ndarray, random_state: np.random.RandomState
    ) -> np.ndarray:
        """Images for factor classes ``(n, 5)``: float32 ``(n, 64, 64, 1)``; deterministic."""
        factors = _check_factors(factors)
        if self._official is None:
            return render(*factor_values(factors))
        packed, rows = self._official
        index = rows[np.ravel_multi_index(factors.T, FACTORS_NUM_VALUES)]
        if np.any(index < 0):
            missing = factors[index < 0][0].tolist()
            raise DataError(
                f"dsprites: the official file holds no image for factors {missing}; use "
                f"the complete official {OFFICIAL_FILE}"
            )
        return _unpack(packed[index])

    def sample(self, num: int, random_state: np.random.RandomState):
        """Draw factors and their observations: ``(factors, images)``."""
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)


def _unpack(packed):
    images = np.unpackbits(packed, axis=-1, count=IMAGE_SIZE)
    return images[..., None].astype(np.float32)


def load(data_dir=None, subset: int | None = None) -> Dataset:
    """Train / validation / test images of distinct factor combinations, fixed by the dataset.

    The 737,280 combinations (or the official file's rows) are shuffled once with
    :func:`~vae.data.base.data_seed` of ``"dsprites"``: the first 5,000 are the test set,
    the next 5,000 the validation set, and the following 50,000 the training set (from an
    official file of fewer than 60,000 rows, a twelfth of it each for test and val). With
    ``subset`` the first ``subset`` train and ``max(subset // 4, 64)`` val and test images
    of those sequences are kept (at most 5,000), and only they are rendered or unpacked.

    Raises:
        DataError: the official file is present but unreadable, incomplete or too small.
    """
    path = _find_official(data_dir)
    if path is None:
        ground_truth, available = DSprites(), NUM_COMBINATIONS
    else:
        packed, classes = _read_official(path)
        rows = np.full(NUM_COMBINATIONS, -1, np.int64)
        rows[np.ravel_multi_index(classes.T, FACTORS_NUM_VALUES)] = np.arange(len(classes))
        ground_truth, available = DSprites((packed, rows)), len(classes)
    drawn = _draw(available, subset, path)
    total = sum(len(index) for index in drawn.values())
    if path is None:
        # A combination's number is its row in the official file's row-major order.
        factors = {s: np.stack(np.unravel_index(i, FACTORS_NUM_VALUES), 1) for s, i in drawn.items()}
        images = {s: render(*factor_values(f)) for s, f in factors.items()}
        notes = [f"dsprites: rendered {total} images procedurally"]
    else:
        factors = {split: classes[index] for split, index in drawn.items()}
        images = {split: _unpack(packed[index]) for split, index in drawn.items()}
        notes = [f"dsprites: read {total} images from {path}"]
    if subset is not None:
        notes[-1] += f", only those the subset keeps (not {sum(SPLIT_SIZES.values())})"
    dataset = Dataset(
        name="dsprites",
        x_train=images["train"],
        x_val=images["val"],
        x_test=images["test"],
        y_train=factors["train"].astype(np.int64),
        y_val=factors["val"].astype(np.int64),
        y_test=factors["test"].astype(np.int64),
        likelihood="bernoulli",
        factor_names=list(FACTOR_NAMES),
        ground_truth=ground_truth,
        notes=notes,
    )
    return take_subset(dataset, subset)


def _draw(available: int, subset: int | None, path: Path | None) -> dict[str, np.ndarray]:
    """The rows of each split: prefixes of fixed blocks of one fixed shuffle of ``available``."""
    order = split_order("dsprites", "all", available)
    # Fixed blocks, whatever the subset: test first, then val, then train.
    test, val = (min(SPLIT_SIZES[s], available // 12) for s in ("test", "val"))
    blocks = {"test": order[:test], "val": order[test : test + val], "train": order[test + val :]}
    wanted = dict(SPLIT_SIZES)
    if subset is not None:
        wanted = {"train": subset, "val": eval_size(subset), "test": eval_size(subset)}
    if wanted["train"] > len(blocks["train"]):
        source = "the procedural combinations" if path is None else str(path)
        raise DataError(
            f"dsprites: {source} holds {available} images but {sum(wanted.values())} are "
            f"needed; use the complete official file or a smaller --subset"
        )
    return {split: block[: wanted[split]] for split, block in blocks.items()}


def _find_official(data_dir) -> Path | None:
    root = paths.data_dir(data_dir)
    if root is None:
        return None
    for path in (root / "dsprites" / OFFICIAL_FILE, root / OFFICIAL_FILE):
        if path.is_file():
            return path
    return None


def _read_official(path: Path):
    """Read the official file's latent classes and its images, packed 8 pixels a byte.

    The images decompress to 3 GB of 0/1 bytes; they are streamed from the zip member in
    chunks and packed on the way, so memory peaks near the packed 377 MB.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            classes = np.asarray(npz["latents_classes"])
        with zipfile.ZipFile(path) as archive, archive.open("imgs.npy") as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            if fortran or dtype != np.uint8 or tuple(shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
                raise ValueError(f"imgs is {dtype} {shape}, expected uint8 (n, 64, 64)")
            if classes.ndim != 2 or classes.shape != (shape[0], 1 + len(FACTOR_NAMES)):
                raise ValueError(f"latents_classes has shape {classes.shape}")
            packed = np.empty((shape[0], IMAGE_SIZE, IMAGE_SIZE // 8), np.uint8)
            image_bytes = IMAGE_SIZE * IMAGE_SIZE
            for start in range(0, shape[0], _CHUNK):
                count = min(_CHUNK, shape[0] - start)
                buffer = member.read(count * image_bytes)
                if len(buffer) != count * image_bytes:
                    raise ValueError("imgs is truncated")
                chunk = np.frombuffer(buffer, np.uint8).reshape(count, IMAGE_SIZE, IMAGE_SIZE)
                packed[start : start + count] = np.packbits(chunk > 0, axis=-1)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(
            f"dsprites: {path} is unreadable or corrupt ({exc}); download the official "
            f"file again or remove it to render dSprites procedurally"
        ) from None
    classes = classes[:, 1:].astype(np.int64)  # drop the constant colour column
    if np.any(classes < 0) or np.any(classes >= np.array(FACTORS_NUM_VALUES)):
        raise DataError(
            f"dsprites: {path} has latent classes outside {FACTORS_NUM_VALUES}; it is not dSprites"
        )
    log.info("dsprites: read %d images from %s", len(classes), path)
    return packed, classes
