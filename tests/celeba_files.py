"""A 12-image CelebA written small, in the official layout or a variant users download."""

import io
import zipfile

import numpy as np
from PIL import Image

# Partition order, interleaved so that a loader that ignores the split column fails.
SPLIT_OF = [0, 0, 1, 0, 2, 0, 0, 1, 0, 2, 0, 0]  # 8 train, 2 val, 2 test
NAMES = [f"{i:06d}.jpg" for i in range(1, len(SPLIT_OF) + 1)]
ATTRIBUTES = [f"Attribute_{k:02d}" for k in range(40)]
LAYOUTS = ("official", "zip", "kaggle", "torchvision")
# torchvision keeps these beside the official files (and the zip it extracted).
TORCHVISION_EXTRAS = (
    "identity_CelebA.txt",
    "list_bbox_celeba.txt",
    "list_landmarks_align_celeba.txt",
)


def colours(i):
    """Distinct colours for the top and bottom halves of image i's central crop."""
    top = (20 * i + 10, 200 - 10 * i, 60 + 15 * i)
    bottom = (230 - 15 * i, 40 + 12 * i, 250 - 20 * i)
    return np.array(top), np.array(bottom)


def photo(i, width=178, height=218):
    """A 'photo' whose central crop is two flat colours and whose outside is pure red."""
    image = np.zeros((height, width, 3), np.uint8)
    image[...] = (255, 0, 0)
    side = min(width, height) * 140 // 178  # computed here, not by the code under test
    left, top = (width - side) // 2, (height - side) // 2
    right, bottom = left + side, top + side
    middle = (top + bottom) // 2
    image[top:middle, left:right] = colours(i)[0]
    image[middle:bottom, left:right] = colours(i)[1]
    return Image.fromarray(image)


def jpegs():
    """The 12 JPEGs' bytes by name; image 5 is twice as large (same crop fraction)."""
    out = {}
    for i, name in enumerate(NAMES):
        buffer = io.BytesIO()
        size = (356, 436) if i == 5 else (178, 218)
        photo(i, *size).save(buffer, format="JPEG", quality=95, subsampling=0)
        out[name] = buffer.getvalue()
    return out


def write_celeba(folder, layout="official"):
    """Write the 12 images, attributes and partition into ``folder`` in one of LAYOUTS.

    Returns:
        the attributes as 0/1, ``(12, 40)``, in NAMES order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    images = folder / "img_align_celeba"
    if layout == "kaggle":
        images = images / "img_align_celeba"  # Kaggle's archive nests the folder
    if layout == "zip":
        with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as archive:
            archive.writestr("img_align_celeba/", b"")
            for name, data in jpegs().items():
                archive.writestr(f"img_align_celeba/{name}", data)
    else:
        images.mkdir(parents=True)
        for name, data in jpegs().items():
            (images / name).write_bytes(data)
    values = np.where(np.random.default_rng(0).random((len(NAMES), 40)) < 0.3, 1, -1)
    # The attribute file lists the images in another order than the partition file.
    rows = list(zip(NAMES, values, strict=True))[::-1]
    partition = list(zip(NAMES, SPLIT_OF, strict=True))
    if layout == "kaggle":
        attr = ["image_id," + ",".join(ATTRIBUTES)]
        attr += [f"{name}," + ",".join(str(v) for v in vals) for name, vals in rows]
        (folder / "list_attr_celeba.csv").write_text("\n".join(attr) + "\n")
        lines = ["image_id,partition"] + [f"{name},{split}" for name, split in partition]
        (folder / "list_eval_partition.csv").write_text("\n".join(lines) + "\n")
        return (values + 1) // 2
    attr = [str(len(NAMES)), " ".join(ATTRIBUTES) + " "]
    attr += [f"{name} " + " ".join(f"{v:2d}" for v in vals) for name, vals in rows]
    (folder / "list_attr_celeba.txt").write_text("\n".join(attr) + "\n")
    lines = [f"{name} {split}" for name, split in partition]
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    if layout == "torchvision":
        for extra in TORCHVISION_EXTRAS:
            (folder / extra).write_text("unused by vaesweep\n")
    return (values + 1) // 2
