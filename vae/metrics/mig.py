"""Mutual Information Gap (MIG).

Based on "Isolating Sources of Disentanglement in Variational Autoencoders"
(Chen et al., 2018, https://arxiv.org/abs/1802.04942): for each factor the gap between the
two codes that know most about it, on the scale of the factor's entropy, averaged over
factors. The information is estimated as :mod:`vae.metrics.information` explains, which
differs from disentanglement_lib's ``mig.py`` (20 equal-width bins, plug-in MI / H): bins
that let a perfect code reach 1 for every factor, and a chance correction that scores a
noise code near 0 at a few hundred samples.
"""

import numpy as np

from vae.metrics import information, utils


def mig(codes, factors, num_bins: int = 20) -> dict[str, float]:
    """Computes the Mutual Information Gap.

    Args:
        codes: ``(num_examples, num_codes)`` mean codes, at least two columns.
        factors: ``(num_examples, num_factors)`` discrete ground-truth factors.
        num_bins: the fewest equal-width bins per code; a factor with more values gets
            as many bins as it has values.

    Returns:
        ``{"mig": score}``: 1 when each factor is determined by one code and no other code
        knows about it, about 0 for codes independent of the factors (it can be slightly
        negative: the chance correction is not clipped).

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes, fewer than two code columns,
            or every factor constant. Constant factors are left out of the average
            (their entropy is zero); disentanglement_lib would return NaN.
    """
    codes, factors = utils.check_codes_factors(codes, factors)
    utils.check_min_columns(codes, 2, "code", "mig")
    factors = factors[:, utils.varying_factors(factors, "mig")]
    return {"mig": _compute_mig(information.information_matrix(codes, factors, num_bins))}


def _compute_mig(scores: np.ndarray) -> float:
    """MIG from the ``(num_codes, num_factors)`` normalized information of varying factors."""
    top_two = np.sort(scores, axis=0)[::-1][:2]
    return float(np.mean(top_two[0] - top_two[1]))


def compute(inputs) -> dict:
    """:func:`mig` of the evaluation codes."""
    return mig(inputs.codes_eval, inputs.y_eval, num_bins=inputs.settings.num_bins)
