"""Modularity (Ridgeway & Zemel).

Based on "Learning Deep Disentangled Embeddings With the F-Statistic Loss"
(https://arxiv.org/abs/1802.05312), computed as in disentanglement_lib's
``modularity_explicitness.py`` (the modularity half only): a code is modular when its
mutual information is concentrated on a single factor.
"""

import numpy as np

from vae.metrics import utils


def modularity(codes, factors, num_bins: int = 20) -> dict[str, float]:
    """Computes the modularity score.

    Args:
        codes: ``(num_examples, num_codes)`` mean codes.
        factors: ``(num_examples, num_factors)`` discrete ground-truth factors, at least
            two of which vary.
        num_bins: equal-width bins per code dimension before estimating MI.

    Returns:
        ``{"modularity": score}``, the mean over codes of ``1 - delta`` where ``delta``
        is the squared MI with every factor but the best, relative to the best. 1 when
        every code informs about one factor only. Note that codes carrying no information
        still score well above 0 (their small, noisy MI estimates are rarely equal), so
        compare this metric between models rather than against 0.

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes or fewer than two varying
            factors (with one factor every code is trivially modular). Constant factors
            are left out.
    """
    codes, factors = utils.check_codes_factors(codes, factors)
    factors = factors[:, utils.varying_factors(factors, "modularity")]
    utils.check_min_columns(factors, 2, "varying factor", "modularity")
    mi = utils.discrete_mutual_info(utils.discretize(codes, num_bins), factors)
    return {"modularity": _modularity_from_mi(mi)}


def _modularity_from_mi(mutual_information: np.ndarray) -> float:
    """Modularity from a ``(num_codes, num_factors)`` MI matrix (at least two factors)."""
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.0)
    # A code with no information about any factor scores 0, not 0/0.
    with np.errstate(divide="ignore", invalid="ignore"):
        per_code = np.where(max_squared_mi > 0.0, 1.0 - numerator / denominator, 0.0)
    return float(np.mean(per_code))


def compute(inputs) -> dict:
    """:func:`modularity` of the evaluation codes."""
    return modularity(inputs.codes_eval, inputs.y_eval, num_bins=inputs.settings.num_bins)
