"""Helpers shared by the disentanglement metrics: input checks, discretization, MI.

Layout convention: every array here is ``(num_examples, num_dims)`` (one row per
example), the transpose of disentanglement_lib's ``(num_dims, num_points)``. Mutual
information and entropies are in nats, as :func:`sklearn.metrics.mutual_info_score`
returns them; the metrics that use them are ratios, so the unit cancels.
"""

import numpy as np
from sklearn.metrics import mutual_info_score

from vae.errors import VaeError


class MetricInputError(VaeError, ValueError):
    """Arrays handed to a metric have the wrong shape, too few rows or non-finite values.

    It is a ``ValueError`` for callers that treat metrics as plain NumPy functions, and a
    ``VaeError`` so the CLI reports it as one line instead of a traceback.
    """


def check_2d(array, name: str) -> np.ndarray:
    """Returns ``array`` as a 2-D NumPy array or raises :class:`MetricInputError`.

    Args:
        array: anything ``np.asarray`` accepts.
        name: the argument's name, for the message.

    Returns:
        The array, unchanged apart from ``np.asarray``.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise MetricInputError(
            f"{name} must be a 2-D array (num_examples, num_dims), got shape {array.shape}"
        )
    return array


def check_codes(codes, name: str = "codes", min_examples: int = 2) -> np.ndarray:
    """Checks a code matrix and returns it as float64.

    Args:
        codes: ``(num_examples, num_codes)`` array of representations.
        name: the argument's name, for the message.
        min_examples: the fewest rows the metric can work with.

    Returns:
        ``codes`` as a float64 array.

    Raises:
        MetricInputError: the array is not 2-D, has too few rows or columns, or holds NaN
            or infinite values (a diverged model, which no metric can score).
    """
    codes = check_2d(codes, name)
    if codes.shape[0] < min_examples:
        raise MetricInputError(
            f"{name} has {codes.shape[0]} examples; this metric needs at least {min_examples}"
        )
    if codes.shape[1] < 1:
        raise MetricInputError(f"{name} has no columns (shape {codes.shape})")
    codes = codes.astype(np.float64)
    if not np.all(np.isfinite(codes)):
        raise MetricInputError(f"{name} contains NaN or infinite values (did training diverge?)")
    return codes


def check_codes_factors(
    codes, factors, min_examples: int = 2, suffix: str = "", factors_name: str = "factors"
) -> tuple[np.ndarray, np.ndarray]:
    """Checks a (codes, factors) pair that describes the same examples row by row.

    Args:
        codes: ``(num_examples, num_codes)`` representations.
        factors: ``(num_examples, num_factors)`` ground-truth factors.
        min_examples: the fewest rows the metric can work with.
        suffix: appended to the argument names in messages (``"_train"``, ``"_test"``).
        factors_name: what the caller calls ``factors`` (``"labels"`` for a probe).

    Returns:
        ``(codes as float64, factors unchanged)``.

    Raises:
        MetricInputError: either array is not 2-D, the row counts differ, or there are
            fewer than ``min_examples`` rows.
    """
    factors = check_2d(factors, factors_name + suffix)
    codes = check_codes(codes, "codes" + suffix, min_examples)
    if codes.shape[0] != factors.shape[0]:
        raise MetricInputError(
            f"codes{suffix} has {codes.shape[0]} rows but {factors_name}{suffix} has "
            f"{factors.shape[0]}; they must describe the same examples"
        )
    if factors.shape[1] < 1:
        raise MetricInputError(f"{factors_name}{suffix} has no columns (shape {factors.shape})")
    return codes, factors


def check_train_test(
    codes_train,
    factors_train,
    codes_test,
    factors_test,
    min_examples: int = 2,
    factors_name: str = "factors",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checks train and test (codes, factors) pairs and that their columns agree.

    ``min_examples`` applies to the training pair; the test pair needs one row.
    ``factors_name`` is what the caller calls ``factors`` in messages.

    Returns:
        The four arrays, codes as float64.

    Raises:
        MetricInputError: see :func:`check_codes_factors`, or train and test differ in
            their number of code or factor columns.
    """
    codes_train, factors_train = check_codes_factors(
        codes_train, factors_train, min_examples, "_train", factors_name
    )
    codes_test, factors_test = check_codes_factors(
        codes_test, factors_test, 1, "_test", factors_name
    )
    if codes_train.shape[1] != codes_test.shape[1]:
        raise MetricInputError(
            f"codes_train has {codes_train.shape[1]} columns but codes_test has "
            f"{codes_test.shape[1]}"
        )
    if factors_train.shape[1] != factors_test.shape[1]:
        raise MetricInputError(
            f"{factors_name}_train has {factors_train.shape[1]} columns but "
            f"{factors_name}_test has {factors_test.shape[1]}"
        )
    return codes_train, factors_train, codes_test, factors_test


def check_representation(representations, num_observations: int) -> np.ndarray:
    """Checks what a ``representation_fn`` returned for ``num_observations`` inputs.

    Returns:
        The representations as a float64 ``(num_observations, num_codes)`` array.

    Raises:
        MetricInputError: not 2-D, the wrong number of rows, or NaN/infinite values.
    """
    representations = check_codes(representations, "representation_fn output", 1)
    if representations.shape[0] != num_observations:
        raise MetricInputError(
            f"representation_fn returned {representations.shape[0]} rows for "
            f"{num_observations} observations"
        )
    return representations


def check_min_columns(array: np.ndarray, minimum: int, name: str, metric: str) -> None:
    """Raises :class:`MetricInputError` when ``array`` has fewer than ``minimum`` columns."""
    if array.shape[1] < minimum:
        raise MetricInputError(
            f"{metric} needs at least {minimum} {name} columns, got {array.shape[1]}"
        )


def varying_factors(factors: np.ndarray, metric: str) -> np.ndarray:
    """Boolean mask of the factor columns that take more than one value.

    A constant factor has zero entropy, so MIG would divide by zero and a classifier
    cannot be fitted to it; the metrics score only the factors that vary.

    Args:
        factors: ``(num_examples, num_factors)`` array.
        metric: the metric's name, for the message.

    Returns:
        ``(num_factors,)`` boolean mask.

    Raises:
        MetricInputError: no factor varies.
    """
    mask = np.array([np.unique(column).size > 1 for column in factors.T], dtype=bool)
    if not mask.any():
        raise MetricInputError(f"{metric}: every factor is constant, nothing to score")
    return mask


def discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Discretizes each code dimension into ``num_bins`` equal-width bins.

    Same as disentanglement_lib's ``_histogram_discretize``: bin edges span each
    column's own [min, max], so the result does not depend on the codes' scale.

    Args:
        codes: ``(num_examples, num_codes)`` array.
        num_bins: bins per dimension.

    Returns:
        ``(num_examples, num_codes)`` int64 array of bin indices in ``1..num_bins``.
    """
    codes = np.asarray(codes)
    discretized = np.zeros(codes.shape, dtype=np.int64)
    for i in range(codes.shape[1]):
        # Dropping the last edge puts each column's maximum in the top bin, not a bin
        # of its own.
        edges = np.histogram(codes[:, i], num_bins)[1][:-1]
        discretized[:, i] = np.digitize(codes[:, i], edges)
    return discretized


def discrete_mutual_info(mus: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Mutual information (nats) between every discrete code and every discrete factor.

    Args:
        mus: ``(num_examples, num_codes)`` discrete codes (see :func:`discretize`).
        ys: ``(num_examples, num_factors)`` discrete factors.

    Returns:
        ``(num_codes, num_factors)`` matrix with ``I(code_i; factor_j)`` at ``[i, j]``.
    """
    m = np.zeros((mus.shape[1], ys.shape[1]))
    for i in range(mus.shape[1]):
        for j in range(ys.shape[1]):
            m[i, j] = mutual_info_score(ys[:, j], mus[:, i])
    return m


def discrete_entropy(ys: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each discrete factor, as ``I(y; y)``.

    Args:
        ys: ``(num_examples, num_factors)`` discrete factors.

    Returns:
        ``(num_factors,)`` entropies.
    """
    return np.array([mutual_info_score(ys[:, j], ys[:, j]) for j in range(ys.shape[1])])


# Sampled metrics call representation_fn on many small batches; grouping them into calls
# of up to this many observations (64 MiB of 64x64 float32 images) avoids paying a
# model's per-call overhead tens of thousands of times.
MAX_OBSERVATIONS_PER_CALL = 4096


def batches_per_call(batch_size: int) -> int:
    """How many ``batch_size`` groups of observations fit in one representation call."""
    return max(1, MAX_OBSERVATIONS_PER_CALL // batch_size)
