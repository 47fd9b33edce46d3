"""Sample-quality metrics: the Fréchet distance, precision/recall and the reference network."""

import numpy as np
import pytest
import scipy.linalg

from vae.data import load_dataset
from vae.data.base import Dataset
from vae.errors import ConfigError
from vae.metrics.generation import (
    frechet_distance,
    generation_quality,
    inception_fid,
    precision_recall,
)
from vae.metrics.reference import reference_network


def test_frechet_distance_is_zero_for_identical_features():
    features = np.random.RandomState(0).randn(300, 5)
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.RandomState(0)
    # Exact sample moments, so the closed form applies to the samples themselves.
    a, b = rng.randn(400, 3), rng.randn(400, 3)
    a = (a - a.mean(0)) / a.std(0, ddof=1)
    b = (b - b.mean(0)) / b.std(0, ddof=1)
    a, b = a @ np.linalg.inv(np.linalg.cholesky(np.cov(a, rowvar=False))).T, \
        b @ np.linalg.inv(np.linalg.cholesky(np.cov(b, rowvar=False))).T
    var_a, var_b, shift = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0]), np.array([1.0, 0.0, 2.0])
    x, y = a * np.sqrt(var_a), b * np.sqrt(var_b) + shift
    expected = np.sum(shift**2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)  # 5 + 2
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)


def _with_covariance(white, cov):
    """Rows whose sample mean is 0 and sample covariance exactly ``cov``."""
    white = white - white.mean(0)
    white = white @ np.linalg.inv(np.linalg.cholesky(np.cov(white, rowvar=False))).T
    return white @ np.linalg.cholesky(cov).T


def test_frechet_distance_with_non_commuting_covariances_matches_the_symmetric_square_root():
    rng = np.random.RandomState(1)
    cov_a, cov_b = np.array([[2.0, 1.8], [1.8, 2.0]]), np.array([[1.0, 0.0], [0.0, 9.0]])
    assert not np.allclose(cov_a @ cov_b, cov_b @ cov_a)
    shift = np.array([1.0, -2.0])
    x, y = _with_covariance(rng.randn(500, 2), cov_a), _with_covariance(rng.randn(500, 2), cov_b) + shift
    # tr (A B)^(1/2) through the symmetric form A^(1/2) B A^(1/2), computed directly ...
    root_a = scipy.linalg.sqrtm(cov_a)
    cross = np.trace(np.real(scipy.linalg.sqrtm(root_a @ cov_b @ root_a)))
    expected = np.sum(shift**2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross
    # ... and by hand: a 2x2 root's trace is sqrt(tr M + 2 sqrt(det M)) = sqrt(20 + 2 sqrt 6.84).
    assert expected == pytest.approx(5 + 14 - 2 * np.sqrt(20 + 2 * np.sqrt(6.84)), rel=1e-9)  # 8.954...
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)
    # Taking roots of each covariance separately (right only when they commute) is 0.46 away.
    wrong = np.sum(shift**2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root_a @ scipy.linalg.sqrtm(cov_b))
    assert abs(frechet_distance(x, y) - wrong) > 0.4


def test_precision_and_recall_match_a_hand_computed_nearest_neighbour_case():
    # Points on a line. Each point's radius is the distance to its k-th nearest *other* point;
    # counting the point itself (distance 0) would make every radius 0 at k = 1 and both
    # figures 0 here.
    real = np.array([[0.0], [1.0], [3.0], [7.0]])
    fake = np.array([[2.5], [4.5], [12.0], [20.0]])
    # k = 1. Real radii 1, 1, 2, 4: balls [-1, 1], [0, 2], [1, 5], [3, 11] hold 2.5 and 4.5.
    # Fake radii 2, 2, 7.5, 8: balls [0.5, 4.5], [2.5, 6.5], [4.5, 19.5], [12, 28] hold 1, 3, 7.
    assert precision_recall(real, fake, k=1) == pytest.approx({"precision": 0.5, "recall": 0.75})
    # k = 2. Real radii 3, 2, 3, 6: 2.5, 4.5 and 12 (in [1, 13]) are inside, 20 is not.
    # Fake radii 9.5, 7.5, 8, 15.5: [-7, 12] alone holds every real point.
    assert precision_recall(real, fake, k=2) == pytest.approx({"precision": 0.75, "recall": 1.0})


def test_precision_and_recall_are_one_for_identical_sets_and_drop_for_a_shifted_one():
    real = np.random.RandomState(0).randn(300, 16)
    assert precision_recall(real, real.copy()) == {"precision": 1.0, "recall": 1.0}
    # 16 dimensions: in few, one outlier's large radius can cover much of the other set.
    shifted = precision_recall(real, np.random.RandomState(1).randn(300, 16) + 3.0)
    assert shifted["precision"] < 0.2 and shifted["recall"] < 0.2


def test_precision_and_recall_separate_fidelity_from_coverage():
    rng = np.random.RandomState(0)
    real = rng.randn(500, 2)
    collapsed = 0.2 * rng.randn(500, 2)  # realistic samples covering only the centre
    result = precision_recall(real, collapsed)
    assert result["precision"] > 0.9 and result["recall"] < 0.5


def _squares(num, seed):
    """8x8 images whose class (0-3) sets which quadrant holds a bright 3x3 square."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(4, size=num)
    images = 0.1 * rng.rand(num, 8, 8, 1).astype("float32")
    for i, label in enumerate(labels):
        r, c = 4 * (label // 2), 4 * (label % 2)
        images[i, r + 1 : r + 4, c + 1 : c + 4] = 1.0
    return images, labels


def test_reference_network_learns_the_classes_and_is_cached(tmp_path):
    x_train, y_train = _squares(200, 0)
    x_test, y_test = _squares(100, 1)
    data = Dataset("squares", x_train, x_test, x_test, y_train, y_test, y_test, "gaussian")
    first = reference_network(data, cache_dir=tmp_path)
    assert first.trained and first.accuracy > 0.95
    mtime = first.path.stat().st_mtime_ns
    second = reference_network(data, cache_dir=tmp_path)
    assert not second.trained and second.accuracy == first.accuracy
    assert second.path.stat().st_mtime_ns == mtime
    np.testing.assert_allclose(second.features(x_test[:10]), first.features(x_test[:10]), rtol=1e-5)

    quality = generation_quality(x_test[:60], _squares(80, 2)[0], second)
    assert quality["sample_count"] == 60
    assert quality["sample_precision"] > 0.8 and quality["sample_recall"] > 0.8
    blank = generation_quality(np.zeros((60, 8, 8, 1), "float32") + 0.05, x_test[:60], second)
    assert blank["sample_frechet_distance"] > 4 * quality["sample_frechet_distance"]
    assert blank["sample_recall"] < 0.2


def test_the_reference_network_of_a_registered_dataset_does_not_depend_on_the_subset(tmp_path, mnist_data):
    small = load_dataset("mnist", data_dir=mnist_data, subset=64)
    larger = load_dataset("mnist", data_dir=mnist_data, subset=256)
    first = reference_network(small, cache_dir=tmp_path, data_dir=mnist_data)
    second = reference_network(larger, cache_dir=tmp_path, data_dir=mnist_data)
    assert first.trained and not second.trained and first.digest == second.digest


def test_reference_network_has_one_head_per_factor(tmp_path):
    x, labels = _squares(200, 0)
    factors = np.stack([labels // 2, labels % 2 + 2 * (labels == 3)], axis=1)  # values 0..1, 0..3
    data = Dataset("factors", x, x, x[:50], factors, factors, factors[:50], "gaussian")
    reference = reference_network(data, cache_dir=tmp_path)
    assert [layer.name for layer in reference.network.layers][-1] == "features"
    assert reference.accuracy > 0.9


def test_inception_fid_without_a_weights_file_is_a_config_error(tmp_path):
    images = np.zeros((4, 8, 8, 1), "float32")
    with pytest.raises(ConfigError, match="not found"):
        inception_fid(images, images, tmp_path / "missing.h5")
