"""Quality of a model's samples, compared with real images in a reference feature space.

Two views of the same comparison. The Fréchet distance (Heusel et al., 2017) fits one
Gaussian to each feature set and measures how far apart they are: one number mixing
fidelity and diversity. Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019,
https://arxiv.org/abs/1904.06991) separate the two: each set's manifold is the union of
balls around its points reaching their k-th nearest neighbour; precision is the fraction
of generated samples inside the real manifold (are samples realistic?), recall the fraction
of real images inside the generated manifold (is the data covered?).

The feature space is a small classifier trained on the dataset itself
(:mod:`vae.metrics.reference`), so the values are named ``sample_*``: they are comparable
between models scored with the same reference network, not with published FID values.
:func:`inception_fid` gives the standard FID when the user supplies Inception weights.
"""

import warnings
from pathlib import Path

import numpy as np
import scipy.linalg

from vae.errors import ConfigError
from vae.metrics import utils
from vae.metrics.reference import reference_network

_DISTANCE_ROWS = 1024  # rows of a pairwise-distance block: bounds memory at ~8 MB per 1k columns


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets.

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``.

    Args:
        features_a: ``(n_a, d)`` features.
        features_b: ``(n_b, d)`` features.

    Returns:
        The distance, >= 0 (squared feature units); 0 for identical sets.

    Raises:
        MetricInputError: not 2-D, fewer than two rows, NaN, or different widths.
    """
    a = utils.check_codes(features_a, "features_a")
    b = utils.check_codes(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise utils.MetricInputError(
            f"features_a has {a.shape[1]} columns but features_b has {b.shape[1]}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        # A singular product warns; the result is checked below instead.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(covmean)):
        # A singular product (fewer samples than dimensions, dead features) has no finite
        # square root; a tiny ridge on both covariances makes it well defined, as the
        # reference FID code does.
        ridge = np.eye(a.shape[1]) * 1e-6
        covmean = scipy.linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    # The root of a product of PSD matrices is real in exact arithmetic; drop rounding's
    # imaginary crumbs.
    covmean = np.real(covmean)
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean)
    return max(0.0, float(distance))


def precision_recall(real_features, fake_features, k: int = 3) -> dict[str, float]:
    """Improved precision and recall of generated samples (Kynkäänniemi et al., 2019).

    Args:
        real_features: ``(n_real, d)`` features of real images.
        fake_features: ``(n_fake, d)`` features of generated images.
        k: the neighbour whose distance is each point's radius (3 in the paper).

    Returns:
        ``{"precision", "recall"}`` in [0, 1]: 1 and 1 for identical sets.

    Raises:
        MetricInputError: bad shapes, NaN, or a set with k or fewer rows.
    """
    real = utils.check_codes(real_features, "real_features", k + 1)
    fake = utils.check_codes(fake_features, "fake_features", k + 1)
    if real.shape[1] != fake.shape[1]:
        raise utils.MetricInputError(
            f"real_features has {real.shape[1]} columns but fake_features has {fake.shape[1]}")
    if k < 1:
        raise utils.MetricInputError(f"precision_recall: k must be >= 1, got {k}")
    return {
        "precision": _inside_fraction(fake, real, _kth_neighbour_radii(real, k)),
        "recall": _inside_fraction(real, fake, _kth_neighbour_radii(fake, k)),
    }


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` squared Euclidean distances, clipped at 0 against rounding."""
    d = np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _kth_neighbour_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each point to its k-th nearest other point."""
    radii = np.empty(len(points))
    for start in range(0, len(points), _DISTANCE_ROWS):
        block = _squared_distances(points[start : start + _DISTANCE_ROWS], points)
        # Column k of the sorted row: column 0 is the point itself at distance 0.
        radii[start : start + len(block)] = np.partition(block, k, axis=1)[:, k]
    return radii


def _inside_fraction(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Fraction of ``queries`` within some centre's radius (the centres' manifold)."""
    inside = 0
    for start in range(0, len(queries), _DISTANCE_ROWS):
        block = _squared_distances(queries[start : start + _DISTANCE_ROWS], centres)
        inside += int(np.sum(np.any(block <= radii[None, :], axis=1)))
    return inside / len(queries)


def generation_quality(model_samples: np.ndarray, real_test_images: np.ndarray, reference,
                       k: int = 3) -> dict[str, float]:
    """Scores a model's samples against real test images in a reference network's features.

    Args:
        model_samples: ``(n, h, w, c)`` generated images in [0, 1] (e.g. decoded prior
            samples, the likelihood's mean).
        real_test_images: ``(m, h, w, c)`` real images the reference network did not train on.
        reference: a :class:`vae.metrics.reference.Reference` for the dataset.
        k: neighbour for precision and recall.

    Returns:
        ``{"sample_frechet_distance", "sample_precision", "sample_recall",
        "sample_count"}``. Both sets are cut to the smaller one's size, ``sample_count``,
        because the Fréchet distance and the k-NN radii depend on the number of points.

    Raises:
        MetricInputError: the image shapes differ, or fewer than k + 1 images.
    """
    model_samples, real_test_images = np.asarray(model_samples), np.asarray(real_test_images)
    if model_samples.shape[1:] != real_test_images.shape[1:]:
        raise utils.MetricInputError(
            f"model_samples have shape {model_samples.shape[1:]} per image but real images "
            f"{real_test_images.shape[1:]}")
    n = min(len(model_samples), len(real_test_images))
    fake = reference.features(model_samples[:n])
    real = reference.features(real_test_images[:n])
    scores = precision_recall(real, fake, k)
    return {
        "sample_frechet_distance": frechet_distance(real, fake),
        "sample_precision": scores["precision"],
        "sample_recall": scores["recall"],
        "sample_count": n,
    }


def inception_fid(fake: np.ndarray, real: np.ndarray, weights_path, batch_size: int = 32) -> dict[str, float]:
    """The standard FID: Fréchet distance in InceptionV3's pooled features.

    Only with weights the user supplies (nothing is downloaded): the
    ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`` file Keras Applications
    publishes. Images are resized to 299x299 and grey ones repeated to RGB. On a CPU this
    costs seconds per hundred images; FID is biased by the sample count, so compare values
    computed on equally many images (50,000 in the literature).

    Args:
        fake: ``(n, h, w, c)`` generated images in [0, 1], ``c`` 1 or 3.
        real: ``(m, h, w, c)`` real images in [0, 1].
        weights_path: path to the no-top InceptionV3 weights file.
        batch_size: images per forward pass.

    Returns:
        ``{"inception_fid": distance, "inception_fid_count": images per set}``.

    Raises:
        ConfigError: the weights file does not exist.
    """
    path = Path(weights_path).expanduser()
    if not path.is_file():
        raise ConfigError(f"inception weights file {path} not found; pass the path of "
                          f"inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    import keras  # deferred: only this optional metric needs Keras Applications

    network = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=str(path),
                                             input_shape=(299, 299, 3))
    n = min(len(fake), len(real))

    def features(images):
        out = []
        for start in range(0, n, batch_size):
            batch = keras.ops.convert_to_tensor(images[start : start + batch_size], "float32")
            if batch.shape[-1] == 1:
                batch = keras.ops.repeat(batch, 3, axis=-1)
            batch = keras.ops.image.resize(batch, (299, 299))
            # InceptionV3 expects [-1, 1] (keras.applications.inception_v3.preprocess_input).
            out.append(keras.ops.convert_to_numpy(network(batch * 2.0 - 1.0, training=False)))
        return np.concatenate(out)

    return {"inception_fid": frechet_distance(features(real), features(fake)), "inception_fid_count": n}


def compute(inputs) -> dict:
    """Samples against the evaluation images, in the dataset's reference network's features;
    the network's digest goes to ``inputs.params["reference_digest"]`` (figures compare only
    between equal digests)."""
    reference = reference_network(inputs.dataset, data_dir=inputs.data_dir)
    inputs.params["reference_digest"] = reference.digest[:16]
    return {**generation_quality(inputs.samples, inputs.x_eval, reference), "reference_accuracy": reference.accuracy}
