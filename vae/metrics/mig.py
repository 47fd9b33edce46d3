"""Mutual Information Gap (MIG).

Based on "Isolating Sources of Disentanglement in Variational Autoencoders"
(Chen et al., 2018, https://arxiv.org/abs/1802.04942), computed as in
disentanglement_lib's ``mig.py``: codes discretized into equal-width bins, then for each
factor the gap between the two most informative codes, divided by the factor's entropy.
"""

import numpy as np

from vae.metrics import utils


def mig(codes, factors, num_bins: int = 20) -> dict[str, float]:
    """Computes the Mutual Information Gap.

    Args:
        codes: ``(num_examples, num_codes)`` mean codes, at least two columns.
        factors: ``(num_examples, num_factors)`` discrete ground-truth factors.
        num_bins: equal-width bins per code dimension before estimating MI.

    Returns:
        ``{"mig": score}`` with score in [0, 1]: 1 when each factor is captured by one
        code and no other code knows about it.

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes, fewer than two code columns,
            or every factor constant. Constant factors are left out of the average
            (their entropy is zero); disentanglement_lib would return NaN.
    """
    codes, factors = utils.check_codes_factors(codes, factors)
    utils.check_min_columns(codes, 2, "code", "mig")
    factors = factors[:, utils.varying_factors(factors, "mig")]
    return {"mig": _compute_mig(utils.discretize(codes, num_bins), factors)}


def _compute_mig(discrete_codes: np.ndarray, factors: np.ndarray) -> float:
    """MIG from discretized codes and non-constant discrete factors."""
    m = utils.discrete_mutual_info(discrete_codes, factors)
    sorted_m = np.sort(m, axis=0)[::-1]
    entropy = utils.discrete_entropy(factors)
    return float(np.mean((sorted_m[0] - sorted_m[1]) / entropy))
