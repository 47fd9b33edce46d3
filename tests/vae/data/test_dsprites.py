"""dSprites: the procedural renderer's geometry, the loader's draws and the official-file path."""

import time

import numpy as np
import pytest

from vae.data import dsprites
from vae.data.dsprites import DSprites, load, render
from vae.errors import DataError


@pytest.fixture(autouse=True)
def _no_data_dir(monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)


def _image(factors):
    return DSprites().sample_observations_from_factors(np.array([factors]), None)[0, :, :, 0]


def test_interface_reports_the_published_factors():
    data = DSprites()
    assert data.num_factors == 5
    assert data.factors_num_values == [3, 6, 40, 32, 32]
    assert data.observation_shape == (64, 64, 1)
    assert data.factor_names == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    np.testing.assert_allclose(dsprites.SCALES, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    np.testing.assert_allclose(dsprites.ORIENTATIONS[[0, -1]], [0, 2 * np.pi])


def test_sampled_factors_cover_exactly_each_factors_range():
    factors = DSprites().sample_factors(20_000, np.random.RandomState(1))
    assert factors.shape == (20_000, 5) and np.issubdtype(factors.dtype, np.integer)
    for column, size in enumerate([3, 6, 40, 32, 32]):
        assert sorted(np.unique(factors[:, column])) == list(range(size))


def test_sample_round_trips_through_the_ground_truth_interface():
    data = DSprites()
    factors, images = data.sample(50, np.random.RandomState(3))
    assert images.shape == (50, *data.observation_shape) and images.dtype == np.float32
    assert set(np.unique(images)) <= {0.0, 1.0}
    np.testing.assert_array_equal(images, data.sample_observations_from_factors(factors, None))
    again, _ = data.sample(50, np.random.RandomState(3))
    np.testing.assert_array_equal(factors, again)
    with pytest.raises(ValueError):
        data.sample_observations_from_factors(np.array([[3, 0, 0, 0, 0]]), None)
    with pytest.raises(ValueError):  # a larger sprite would not fit the rendering window
        render([0], [1.5], [0.0], [0.5], [0.5])


def test_square_at_the_top_left_covers_the_official_20_pixels_square():
    # scale 1 (index 5), orientation 0, pos (0, 0): centre at pixel corner (16, 16), side 20,
    # as in the official images (the repository's dsprites.gif shows this very square).
    image = _image([0, 5, 0, 0, 0])
    assert image.sum() == 400
    assert image[6:26, 6:26].all()
    # pos_x = 1 moves it to centre column 48, pos_y stays at the top.
    image = _image([0, 5, 0, 31, 0])
    assert image.sum() == 400 and image[6:26, 38:58].all()
    # pos_y runs down the image rows: centre (row 48, column 32), side 10 at scale 0.5.
    centre = render([0], [0.5], [0.0], [0.5], [1.0])[0, :, :, 0]
    assert centre[43:53, 27:37].all() and centre.sum() == 100


def test_no_sprite_leaves_the_frame_at_any_orientation_or_position():
    factors = np.array(
        [[s, 5, o, x, y] for s in range(3) for o in range(40) for x in (0, 31) for y in (0, 31)]
    )
    images = DSprites().sample_observations_from_factors(factors, None)[..., 0]
    border = images[:, [0, -1], :].sum() + images[:, :, [0, -1]].sum()
    assert border == 0
    assert images.sum(axis=(1, 2)).min() > 100


def test_scale_grows_the_pixel_count_monotonically_for_every_shape():
    for shape in range(3):
        counts = [_image([shape, scale, 7, 16, 16]).sum() for scale in range(6)]
        assert all(np.diff(counts) > 0), (shape, counts)
    square = [_image([0, scale, 0, 16, 16]).sum() for scale in (0, 5)]
    assert square[1] / square[0] == pytest.approx(4.0, rel=0.15)  # area grows as scale²


def test_a_quarter_turn_leaves_a_centred_square_unchanged():
    upright, turned = render([0, 0], [1.0, 1.0], [0.0, np.pi / 2], [0.5, 0.5], [0.5, 0.5])
    assert np.abs(upright - turned).sum() <= 4
    eighth = render([0], [1.0], [np.pi / 4], [0.5], [0.5])[0]
    assert np.abs(upright - eighth).sum() > 40  # 45 degrees does change it


def test_orientation_zero_and_two_pi_are_the_same_image_as_in_the_original():
    for shape in range(3):
        np.testing.assert_array_equal(_image([shape, 3, 0, 10, 20]), _image([shape, 3, 39, 10, 20]))


def test_heart_differs_from_the_ellipse_and_is_upright():
    # pos 0.5 puts the centre on pixel corner (32, 32), so mirror images are exact.
    upright = render([1, 2], [1.0, 1.0], [0.0, 0.0], [0.5, 0.5], [0.5, 0.5])[..., 0]
    ellipse, heart = upright
    assert np.abs(ellipse - heart).sum() > 40
    for image in (ellipse, heart):
        np.testing.assert_array_equal(image, image[:, ::-1])  # left-right symmetric
    # The ellipse is wider than tall; the heart's lobes (top) are wider than its point.
    rows, cols = np.nonzero(ellipse.any(axis=1))[0], np.nonzero(ellipse.any(axis=0))[0]
    assert np.ptp(cols) > 1.4 * np.ptp(rows)
    rows = np.nonzero(heart.any(axis=1))[0]
    widths = heart.sum(axis=1)
    assert widths[rows[3]] >= 2 * widths[rows[-3]]
    # Upside down, the heart is a different image; the ellipse is not.
    turned = render([1, 2], [1.0, 1.0], [np.pi, np.pi], [0.5, 0.5], [0.5, 0.5])[..., 0]
    assert np.abs(turned[0] - ellipse).sum() <= 4
    assert np.abs(turned[1] - heart).sum() > 40


def test_rendering_ten_thousand_images_takes_well_under_a_few_seconds():
    data = DSprites()
    factors = data.sample_factors(10_000, np.random.RandomState(0))
    start = time.perf_counter()
    images = data.sample_observations_from_factors(factors, None)
    assert time.perf_counter() - start < 5.0
    assert images.shape == (10_000, 64, 64, 1)


def test_load_with_subset_renders_only_what_it_keeps():
    dataset = load(subset=100)
    assert dataset.x_train.shape == (100, 64, 64, 1) and dataset.x_train.dtype == np.float32
    assert dataset.x_val.shape == dataset.x_test.shape == (64, 64, 64, 1)
    assert dataset.y_train.shape == (100, 5) and dataset.y_val.shape == (64, 5)
    assert dataset.likelihood == "bernoulli"
    assert dataset.factor_names == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    assert (
        "rendered 228 images procedurally, only those the subset keeps" in dataset.notes[0]
    )
    assert isinstance(dataset.ground_truth, DSprites)
    np.testing.assert_array_equal(
        dataset.x_test, dataset.ground_truth.sample_observations_from_factors(dataset.y_test, None)
    )
    for y in (dataset.y_train, dataset.y_val, dataset.y_test):
        assert y.min() >= 0 and (y.max(axis=0) < np.array([3, 6, 40, 32, 32])).all()


def test_load_draws_distinct_combinations_fixed_by_the_dataset_and_nested_by_subset():
    first, again = load(subset=200), load(subset=200)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    combos = np.concatenate([first.y_train, first.y_val, first.y_test])
    assert len(np.unique(combos, axis=0)) == len(combos)  # splits never share an image
    smaller = load(subset=50)
    for split in ("train", "val", "test"):
        kept = getattr(smaller, f"y_{split}")
        np.testing.assert_array_equal(kept, getattr(first, f"y_{split}")[: len(kept)])


def _write_official(path, factors, images, extra_colour_column=True):
    classes = np.concatenate([np.zeros((len(factors), 1), np.int64), factors], axis=1)
    np.savez_compressed(
        path,
        imgs=images.astype(np.uint8),
        latents_classes=classes if extra_colour_column else factors,
        latents_values=classes.astype(np.float64),
    )


def test_official_file_replaces_rendering_for_splits_and_ground_truth(tmp_path):
    rng = np.random.default_rng(0)
    factors = np.unique(DSprites().sample_factors(400, np.random.RandomState(0)), axis=0)
    images = (rng.random((len(factors), 64, 64)) < 0.5).astype(np.uint8)  # unlike any sprite
    (tmp_path / "dsprites").mkdir()
    _write_official(tmp_path / "dsprites" / dsprites.OFFICIAL_FILE, factors, images)

    dataset = load(data_dir=tmp_path, subset=8)
    assert any(dsprites.OFFICIAL_FILE in note for note in dataset.notes)
    lookup = {tuple(f): img for f, img in zip(factors.tolist(), images, strict=True)}
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        expected = np.stack([lookup[tuple(f)] for f in y.tolist()])[..., None]
        np.testing.assert_array_equal(x, expected.astype(np.float32))
    sampled = dataset.ground_truth.sample_observations_from_factors(dataset.y_val, None)
    np.testing.assert_array_equal(sampled, dataset.x_val)
    absent = np.array(
        [
            f
            for f in DSprites().sample_factors(50, np.random.RandomState(9))
            if tuple(f) not in lookup
        ][:1]
    )
    with pytest.raises(DataError, match="no image for factors"):
        dataset.ground_truth.sample_observations_from_factors(absent, None)


def test_official_file_too_small_for_the_request_is_a_data_error(tmp_path):
    factors = np.unique(DSprites().sample_factors(100, np.random.RandomState(0)), axis=0)
    path = tmp_path / dsprites.OFFICIAL_FILE  # directly in the data dir is accepted too
    _write_official(path, factors, np.zeros((len(factors), 64, 64)))
    with pytest.raises(DataError, match="holds 100 images but 60000"):
        load(data_dir=tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_shape"])
def test_corrupt_official_file_is_a_data_error_naming_it(tmp_path, damage):
    path = tmp_path / "dsprites" / dsprites.OFFICIAL_FILE
    path.parent.mkdir()
    factors = np.unique(DSprites().sample_factors(300, np.random.RandomState(0)), axis=0)
    if damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "truncated":
        _write_official(path, factors, np.ones((len(factors), 64, 64)))
        path.write_bytes(path.read_bytes()[:2000])
    else:
        _write_official(path, factors, np.ones((len(factors), 32, 32)))
    with pytest.raises(DataError) as error:
        load(data_dir=tmp_path, subset=8)
    assert str(path) in str(error.value)
