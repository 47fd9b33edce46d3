"""CelebA as users download it: the official zip, Kaggle's CSV variant, torchvision's folder."""

import zipfile

import numpy as np
import pytest
from celeba_files import ATTRIBUTES, LAYOUTS, NAMES, write_celeba

from vae.data.celeba import load
from vae.errors import DataError


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.setenv("VAE_CACHE_DIR", str(tmp_path / "cache"))


def _write(tmp_path, layout):
    """The layout under tmp_path/<layout>/ as its users place it; returns (data_dir, folder)."""
    data_dir = tmp_path / layout
    # torchvision's CelebA(root=$VAE_DATA_DIR/celeba) keeps its files in root/celeba/.
    folder = data_dir / "celeba" / ("celeba" if layout == "torchvision" else "")
    write_celeba(folder, layout)
    return data_dir, folder


def test_every_layout_loads_the_same_images_and_attributes(tmp_path):
    loaded = {layout: load(data_dir=_write(tmp_path, layout)[0]) for layout in LAYOUTS}
    official = loaded["official"]
    assert official.x_train.shape == (8, 64, 64, 3) and official.factor_names == ATTRIBUTES
    assert official.y_train.sum() > 0
    for layout, dataset in loaded.items():
        assert dataset.factor_names == ATTRIBUTES, layout
        for split in ("train", "val", "test"):
            for array in ("x", "y"):
                got, want = getattr(dataset, f"{array}_{split}"), getattr(official, f"{array}_{split}")
                np.testing.assert_array_equal(got, want, err_msg=f"{layout} {array}_{split}")
        assert dataset.eval_digest == official.eval_digest


def test_torchvision_root_itself_may_be_the_data_dir(tmp_path):
    data_dir, folder = _write(tmp_path, "torchvision")
    assert load(data_dir=data_dir / "celeba").x_test.shape == (2, 64, 64, 3)


def test_the_zip_is_read_in_place_and_a_missing_member_is_named(tmp_path):
    data_dir, folder = _write(tmp_path, "zip")
    assert not (folder / "img_align_celeba").exists()
    archive = folder / "img_align_celeba.zip"
    with zipfile.ZipFile(archive) as original:
        kept = [(i, original.read(i)) for i in original.infolist() if NAMES[7] not in i.filename]
    with zipfile.ZipFile(archive, "w") as rewritten:
        for info, data in kept:
            rewritten.writestr(info, data)
    with pytest.raises(DataError) as error:
        load(data_dir=data_dir)
    message = str(error.value)
    assert f"{archive}:img_align_celeba/{NAMES[7]} is listed in" in message and "missing" in message


@pytest.mark.parametrize(
    "layout, piece, named",
    [
        ("zip", "img_align_celeba.zip", "img_align_celeba.zip"),
        ("kaggle", "list_attr_celeba.csv", "list_attr_celeba.csv"),
        ("kaggle", "list_eval_partition.csv", "list_eval_partition.csv"),
        ("torchvision", "list_eval_partition.txt", "list_eval_partition.txt"),
    ],
)
def test_a_missing_piece_is_one_line_naming_it_and_its_folder(tmp_path, layout, piece, named):
    data_dir, folder = _write(tmp_path, layout)
    (folder / piece).unlink()
    with pytest.raises(DataError) as error:
        load(data_dir=data_dir)
    message = str(error.value)
    assert f"{folder.resolve()} lacks" in message and named in message and "\n" not in message


def test_a_malformed_kaggle_csv_line_is_named(tmp_path):
    data_dir, folder = _write(tmp_path, "kaggle")
    path = folder / "list_eval_partition.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",", ";")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=f"{path.name} line 4 is malformed"):
        load(data_dir=data_dir)
