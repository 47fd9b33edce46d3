"""CelebA: the official layout built small in tmp_path, parsed, cropped, cached and checked."""

import numpy as np
import pytest
from celeba_files import ATTRIBUTES, NAMES, SPLIT_OF, colours, write_celeba

from vae.data import celeba
from vae.data.base import split_order
from vae.data.celeba import crop_box, load
from vae.errors import DataError


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """A 12-image CelebA in the official layout under tmp_path/data/celeba."""
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.setenv("VAE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "data" / "celeba"
    values = write_celeba(root)
    return {"data_dir": tmp_path / "data", "root": root, "values": values}


def _indices(split):
    """Images of a split in the loader's order: the partition file's, shuffled per split."""
    listed = [i for i, s in enumerate(SPLIT_OF) if s == split]
    return [listed[k] for k in split_order("celeba", celeba.SPLITS[split], len(listed))]


def test_crop_box_is_the_usual_central_140_square_and_scales_with_the_image():
    assert crop_box(178, 218) == (19, 39, 159, 179)
    left, top, right, bottom = crop_box(356, 436)
    assert (right - left, bottom - top) == (280, 280) and (left, top) == (38, 78)
    left, top, right, bottom = crop_box(300, 200)  # landscape: the shorter side rules
    assert right - left == pytest.approx(200 * 140 / 178) and top + bottom == 200


def test_load_follows_the_partition_file_in_a_shuffled_order_with_attributes_as_0_1(layout):
    dataset = load(data_dir=layout["data_dir"])
    assert dataset.name == "celeba" and dataset.likelihood == "logistic"
    assert dataset.x_train.shape == (8, 64, 64, 3) and dataset.x_train.dtype == np.float32
    assert dataset.x_val.shape == (2, 64, 64, 3) and dataset.x_test.shape == (2, 64, 64, 3)
    assert 0.0 <= dataset.x_train.min() and dataset.x_train.max() <= 1.0
    assert dataset.factor_names == ATTRIBUTES
    for split, y in zip(range(3), (dataset.y_train, dataset.y_val, dataset.y_test), strict=True):
        assert y.shape == (len(_indices(split)), 40) and np.issubdtype(y.dtype, np.integer)
        np.testing.assert_array_equal(y, layout["values"][_indices(split)])
    assert dataset.ground_truth is None


def test_images_are_the_central_crop_resized_without_the_red_border(layout):
    dataset = load(data_dir=layout["data_dir"])
    for split, x in zip(range(3), (dataset.x_train, dataset.x_val, dataset.x_test), strict=True):
        for image, i in zip(x, _indices(split), strict=True):
            top, bottom = (c / 255.0 for c in colours(i))
            # Away from the colour edge, each half is its flat colour (JPEG error aside).
            np.testing.assert_allclose(image[2:28, 2:62].mean(axis=(0, 1)), top, atol=0.03)
            np.testing.assert_allclose(image[36:62, 2:62].mean(axis=(0, 1)), bottom, atol=0.03)
            # Up to the edges, no pixel is the red outside the crop (a Lanczos tail of it is).
            assert np.abs(image[:28] - top).max() < 0.2
            assert np.abs(image[36:] - bottom).max() < 0.2


def test_second_load_reads_the_cache_without_decoding(layout, monkeypatch):
    first = load(data_dir=layout["data_dir"])
    assert any("decoded 12 JPEGs" in note for note in first.notes)

    def no_decoding(path):
        raise AssertionError(f"decoded {path} although the cache holds it")

    monkeypatch.setattr(celeba, "_decode", no_decoding)
    second = load(data_dir=layout["data_dir"])
    assert any("read from cache" in note for note in second.notes)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    assert second.factor_names == ATTRIBUTES
    cached = list((layout["data_dir"].parent / "cache" / "celeba").iterdir())
    assert len(cached) == 1 and cached[0].suffix == ".npz"  # no temporary file left behind


def test_changed_source_files_invalidate_the_cache(layout):
    load(data_dir=layout["data_dir"])
    attr = layout["root"] / "list_attr_celeba.txt"
    attr.write_text(attr.read_text().replace(" 1", "-1"))  # every attribute now 0
    dataset = load(data_dir=layout["data_dir"])
    assert not any("read from cache" in note for note in dataset.notes)
    assert dataset.y_train.sum() == 0


def test_an_unwritable_cache_only_costs_a_note(layout, monkeypatch, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("VAE_CACHE_DIR", str(blocker))
    dataset = load(data_dir=layout["data_dir"])
    assert dataset.x_train.shape == (8, 64, 64, 3)
    assert any("could not cache them" in note for note in dataset.notes)


def test_a_damaged_cache_is_rebuilt(layout):
    load(data_dir=layout["data_dir"])
    (cached,) = (layout["data_dir"].parent / "cache" / "celeba").iterdir()
    cached.write_bytes(b"damaged")
    dataset = load(data_dir=layout["data_dir"])
    assert any("decoded 12 JPEGs" in note for note in dataset.notes)
    assert dataset.x_train.shape == (8, 64, 64, 3)


def test_subset_decodes_only_the_images_it_keeps(layout):
    # The last train image in the loader's order is garbage: only a full load reads it.
    last = NAMES[_indices(0)[-1]]
    (layout["root"] / "img_align_celeba" / last).write_bytes(b"\xff\xd8 broken")
    dataset = load(data_dir=layout["data_dir"], subset=3)
    assert dataset.x_train.shape == (3, 64, 64, 3)
    assert len(dataset.x_val) == len(dataset.x_test) == 2  # 64 asked, 2 exist
    np.testing.assert_array_equal(dataset.y_train, layout["values"][_indices(0)[:3]])
    assert any("subset: 3 train" in note for note in dataset.notes)
    with pytest.raises(DataError, match=last):
        load(data_dir=layout["data_dir"])


def test_the_layout_may_sit_directly_in_the_data_dir(layout):
    dataset = load(data_dir=layout["root"])
    assert dataset.x_train.shape == (8, 64, 64, 3)


def test_the_data_dir_may_come_from_the_environment(layout, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(layout["data_dir"]))
    assert load().x_test.shape == (2, 64, 64, 3)


def test_no_data_dir_says_where_to_put_the_files(monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    with pytest.raises(DataError) as error:
        load()
    message = str(error.value)
    assert "$VAE_DATA_DIR/celeba/" in message and "list_eval_partition.txt" in message
    assert "mnist and dsprites work offline" in message and "\n" not in message


def test_a_data_dir_without_celeba_names_the_expected_folder(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "celeba")):
        load(data_dir=tmp_path)


@pytest.mark.parametrize("item", ["list_attr_celeba.txt", "list_eval_partition.txt"])
def test_a_missing_text_file_is_named(layout, item):
    (layout["root"] / item).unlink()
    with pytest.raises(DataError, match=item):
        load(data_dir=layout["data_dir"])


def test_a_missing_image_folder_is_named(layout):
    folder = layout["root"] / "img_align_celeba"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    with pytest.raises(DataError, match="img_align_celeba"):
        load(data_dir=layout["data_dir"])


@pytest.mark.parametrize(
    "item, line, replace, expected",
    [
        ("list_attr_celeba.txt", 5, lambda s: s.replace("-1", "0", 1), "line 5 is malformed"),
        ("list_attr_celeba.txt", 7, lambda s: s.rsplit(" ", 1)[0], "line 7 is malformed"),
        ("list_attr_celeba.txt", 1, lambda s: "many", "line 1"),
        ("list_attr_celeba.txt", 1, lambda s: "13", "announces 13 images but lists 12"),
        ("list_eval_partition.txt", 4, lambda s: s[:-1] + "3", "line 4 is malformed"),
        ("list_eval_partition.txt", 2, lambda s: s + " extra", "line 2 is malformed"),
    ],
)
def test_malformed_lines_name_the_file_and_line(layout, item, line, replace, expected):
    path = layout["root"] / item
    lines = path.read_text().splitlines()
    lines[line - 1] = replace(lines[line - 1])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as error:
        load(data_dir=layout["data_dir"])
    assert str(path) in str(error.value) and expected in str(error.value)


def test_an_image_without_attributes_is_named(layout):
    path = layout["root"] / "list_attr_celeba.txt"
    lines = [line for line in path.read_text().splitlines() if not line.startswith(NAMES[4])]
    lines[0] = str(len(NAMES) - 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=f"{NAMES[4]} is listed in .* but has no line"):
        load(data_dir=layout["data_dir"])


def test_a_listed_but_missing_image_is_named(layout):
    (layout["root"] / "img_align_celeba" / NAMES[7]).unlink()
    with pytest.raises(DataError, match=f"{NAMES[7]} is listed .* but missing"):
        load(data_dir=layout["data_dir"])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_jpeg_is_named(layout, damage):
    path = layout["root"] / "img_align_celeba" / NAMES[2]
    data = path.read_bytes()
    path.write_bytes(b"this is not a jpeg" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(DataError) as error:
        load(data_dir=layout["data_dir"])
    assert str(path) in str(error.value) and "corrupt" in str(error.value)
