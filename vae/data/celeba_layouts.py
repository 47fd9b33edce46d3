"""Where a copy of CelebA keeps its attributes, partition and JPEGs, in the layouts users have.

Three pieces make a copy, looked for in ``<data_dir>/celeba/``, ``<data_dir>/celeba/celeba/``
(torchvision's ``CelebA(root=<data_dir>/celeba)``) or ``<data_dir>`` itself, in that order::

    attributes  list_attr_celeba.txt (official, torchvision) or list_attr_celeba.csv (Kaggle)
    partition   list_eval_partition.txt or list_eval_partition.csv
    images      img_align_celeba/img_align_celeba/ (Kaggle's nested folder), img_align_celeba/,
                or the official img_align_celeba.zip, read in place without unpacking

torchvision's folder is the official layout (its extra identity, bounding-box and landmark
files are not needed). The pieces may come from different variants: each is found alone.
"""

import csv
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vae import paths
from vae.errors import DataError

IMAGE_DIR = "img_align_celeba"
ATTR_FILES = ("list_attr_celeba.txt", "list_attr_celeba.csv")
PARTITION_FILES = ("list_eval_partition.txt", "list_eval_partition.csv")
# Kaggle's archive unpacks to a folder inside a folder of the same name: look there first.
IMAGE_LOCATIONS = (f"{IMAGE_DIR}/{IMAGE_DIR}", IMAGE_DIR, f"{IMAGE_DIR}.zip")
_NO_DOWNLOAD = "CelebA cannot be downloaded automatically; mnist and dsprites work offline"
HOW_TO = (
    f"put {IMAGE_DIR}/ (or {IMAGE_DIR}.zip), {ATTR_FILES[0]} and {PARTITION_FILES[0]} (or "
    f"Kaggle's .csv files) in ${paths.DATA_DIR_ENV}/celeba/ or pass --data-dir ({_NO_DOWNLOAD})"
)


@dataclass(frozen=True)
class Layout:
    """The three pieces of one copy of CelebA; ``images`` is a folder or a zip file."""

    attributes: Path
    partition: Path
    images: Path


def find_layout(data_dir=None) -> Layout:
    """Find CelebA's pieces under the data directory (see the module docstring).

    Raises:
        DataError: no data directory, no CelebA in it, or a piece missing, in one line that
            names the missing pieces and the folder they belong in.
    """
    root = paths.data_dir(data_dir)
    if root is None:
        raise DataError(f"celeba: no data directory given and no local copy; {HOW_TO}")
    if not root.is_dir():
        raise DataError(f"celeba: data directory {root} does not exist; {HOW_TO}")
    items = ATTR_FILES + PARTITION_FILES + IMAGE_LOCATIONS
    for base in (root / "celeba", root / "celeba" / "celeba", root):
        if base.is_dir() and any((base / item).exists() for item in items):
            return _layout_in(base.resolve())
    raise DataError(f"celeba: no folder {root / 'celeba'}; {HOW_TO}")


def _layout_in(base: Path) -> Layout:
    def first(names, kind):
        return next((base / n for n in names if kind(base / n)), None)

    attributes = first(ATTR_FILES, Path.is_file)
    partition = first(PARTITION_FILES, Path.is_file)
    images = first(IMAGE_LOCATIONS[:2], Path.is_dir) or first(IMAGE_LOCATIONS[2:], Path.is_file)
    wanted = [
        (attributes, f"the attributes ({' or '.join(ATTR_FILES)})"),
        (partition, f"the partition ({' or '.join(PARTITION_FILES)})"),
        (images, f"the images ({IMAGE_DIR}/ or {IMAGE_DIR}.zip)"),
    ]
    missing = [what for found, what in wanted if found is None]
    if missing:
        raise DataError(
            f"celeba: {base} lacks {' and '.join(missing)}; put them in {base} ({_NO_DOWNLOAD})"
        )
    return Layout(attributes, partition, images)


def read_attributes(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    """Attribute names and, per file, its 0/1 values, from the official .txt or Kaggle's .csv.

    The .txt holds a count, a line of names, then "file v1 ... v40"; the .csv a header
    ``image_id,<names>`` then "file,v1,...,v40"; values are -1 or 1 in both.
    """
    lines = _read_lines(path)
    if path.suffix == ".csv":
        if not lines:
            raise DataError(f"celeba: {path} is empty: it needs a header 'image_id,<names>'")
        names, count, first = _csv_fields(lines[0])[1:], None, 2
    else:
        if len(lines) < 2:
            raise DataError(f"celeba: {path} is truncated: it needs a count and a line of names")
        try:
            count = int(lines[0].strip())
        except ValueError:
            raise DataError(
                f"celeba: {path} line 1 should be the image count, got {lines[0]!r}"
            ) from None
        names, first = lines[1].split(), 3
    if not names:
        raise DataError(f"celeba: {path} line {first - 1} should list the attribute names")
    attributes = {}
    for number, fields in _rows(path, lines[first - 1 :], first):
        if len(fields) != len(names) + 1 or any(v not in ("1", "-1") for v in fields[1:]):
            raise DataError(
                f"celeba: {path} line {number} is malformed: expected a file name and "
                f"{len(names)} values of -1 or 1"
            )
        _check_new(path, number, fields[0], attributes)
        attributes[fields[0]] = [1 if v == "1" else 0 for v in fields[1:]]
    if count is not None and len(attributes) != count:
        raise DataError(f"celeba: {path} announces {count} images but lists {len(attributes)}")
    return names, attributes


def read_partition(path: Path) -> list[tuple[str, int]]:
    """``(file, split)`` pairs (0 train, 1 val, 2 test) from the official .txt or Kaggle's .csv."""
    lines = _read_lines(path)
    first = 2 if path.suffix == ".csv" else 1  # the .csv starts with 'image_id,partition'
    entries, seen = [], set()
    for number, fields in _rows(path, lines[first - 1 :], first):
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(
                f"celeba: {path} line {number} is malformed: expected a file name and a "
                f"split 0, 1 or 2"
            )
        _check_new(path, number, fields[0], seen)
        seen.add(fields[0])
        entries.append((fields[0], int(fields[1])))
    return entries


def _rows(path, lines, first):
    """Non-blank lines split into fields (by commas in a .csv), with their line numbers."""
    split = _csv_fields if path.suffix == ".csv" else str.split
    for number, line in enumerate(lines, start=first):
        if line.strip():
            yield number, split(line)


def _csv_fields(line):
    return [field.strip() for field in next(csv.reader([line]))]


def _check_new(path, number, name, seen):
    if name in seen:
        raise DataError(f"celeba: {path} line {number} repeats {name}")


def _read_lines(path):
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()  # -sig: Excel-saved .csv
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"celeba: cannot read {path} ({exc}); restore the official file") from None


class ImageFiles:
    """CelebA's JPEGs by file name, from a folder or from inside ``img_align_celeba.zip``.

    Use as a context manager: a zip stays open until the block ends. Reads are safe from
    several threads (a zip's are serialized; decoding, the costly part, is not).
    """

    def __init__(self, location: Path, listed_in: str):
        self.location, self._listed_in = location, listed_in
        self._zip, self._members, self._lock = None, {}, threading.Lock()
        if location.suffix == ".zip":
            try:
                self._zip = zipfile.ZipFile(location)
            except (OSError, zipfile.BadZipFile) as exc:
                raise DataError(
                    f"celeba: {location} is unreadable or corrupt ({exc}); download it again"
                ) from None
            # Members sit under img_align_celeba/ in the official zip; match by file name.
            infos = (i for i in self._zip.infolist() if not i.is_dir())
            self._members = {PurePosixPath(i.filename).name: i for i in infos}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._zip is not None:
            self._zip.close()

    def where(self, name: str) -> str:
        """The image's place for messages: its path, or ``<zip>:<member>``."""
        if self._zip is None:
            return str(self.location / name)
        info = self._members.get(name)
        return f"{self.location}:{info.filename if info else f'{IMAGE_DIR}/{name}'}"

    def stamp(self, name: str) -> list[int]:
        """Size and mtime (or CRC inside a zip): what the cache key needs to see a change."""
        if self._zip is not None:
            info = self._member(name)
            return [info.file_size, info.CRC]
        try:
            stat = (self.location / name).stat()
        except FileNotFoundError:
            raise self._missing(name) from None
        return [stat.st_size, stat.st_mtime_ns]

    def read(self, name: str) -> bytes:
        """The JPEG's bytes."""
        try:
            if self._zip is None:
                return (self.location / name).read_bytes()
            info = self._member(name)
            with self._lock:
                return self._zip.read(info)
        except FileNotFoundError:
            raise self._missing(name) from None
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DataError(
                f"celeba: {self.where(name)} is unreadable or corrupt ({exc}); restore it"
            ) from None

    def _member(self, name):
        if name not in self._members:
            raise self._missing(name)
        return self._members[name]

    def _missing(self, name):
        return DataError(
            f"celeba: {self.where(name)} is listed in {self._listed_in} but missing; "
            f"restore {self.location.name}"
        )
