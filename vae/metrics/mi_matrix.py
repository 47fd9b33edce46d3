"""Mutual information between every latent dimension and every ground-truth factor.

The matrix behind MIG (Chen et al., 2018), kept whole for a heatmap: which codes carry
which factor, and how much. Estimated exactly as :mod:`vae.metrics.mig` does
(:mod:`vae.metrics.information`: bins that can reach the factor's entropy,
corrected for chance), so the heatmap and the MIG logged beside it describe the same
estimate, and a cell divided by the factor's entropy is 1 when the code determines the
factor and about 0 when it is noise.
"""

import numpy as np

from vae.metrics import information, utils


def mutual_information_matrix(codes, factors, num_bins: int = 20) -> np.ndarray:
    """Computes I(code_i; factor_j) for every code dimension and factor.

    Args:
        codes: ``(num_examples, num_codes)`` mean codes.
        factors: ``(num_examples, num_factors)`` discrete ground-truth factors (a 1-D
            label array is taken as one factor).
        num_bins: the fewest equal-width bins per code (a factor with more values gets
            as many bins as it has values).

    Returns:
        ``(num_codes, num_factors)`` float64 matrix in nats: the chance-corrected information
        on the scale of each factor's entropy H (H x (MI - E[MI]) / (H - E[MI])), so a code
        that determines the factor has H and a noise code about 0. A constant factor's
        column is 0; divide by the factors' entropies (``utils.discrete_entropy``) for MIG's
        scale.

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes, NaN codes or fewer than two rows.
    """
    factors = np.asarray(factors)
    if factors.ndim == 1:
        factors = factors[:, None]
    codes, factors = utils.check_codes_factors(codes, factors)
    return information.information_matrix(codes, factors, num_bins) * utils.discrete_entropy(factors)[None, :]


def order_latents(mi: np.ndarray, activity, threshold: float = 0.01) -> dict[str, np.ndarray]:
    """Orders latent dimensions for display: grouped by best factor, inactive ones last.

    Args:
        mi: ``(num_codes, num_factors)`` matrix from :func:`mutual_information_matrix`.
        activity: ``(num_codes,)`` how much each dimension is used: its mean KL to the
            prior (nats) or the variance of its posterior mean over the data.
        threshold: dimensions with ``activity <= threshold`` are inactive (0.01 is Burda
            et al.'s active-unit threshold for the variance; it is also a small KL).

    Returns:
        ``{"order": (num_codes,) dimension indices, "best_factor": (num_codes,) the
        factor each dimension shares most information with, "active": (num_codes,)
        bool}``. ``order`` lists active dimensions first, sorted by best factor and, within
        a factor, by decreasing MI, so an ideal code shows as a diagonal; then the inactive
        dimensions in index order. ``best_factor`` and ``active`` are indexed by the
        original dimension, not by ``order``.

    Raises:
        MetricInputError: ``mi`` not 2-D or ``activity`` of the wrong length.
    """
    mi = utils.check_2d(mi, "mi")
    activity = np.asarray(activity, dtype=np.float64).reshape(-1)
    if activity.shape[0] != mi.shape[0]:
        raise utils.MetricInputError(
            f"activity has {activity.shape[0]} values but mi has {mi.shape[0]} code rows"
        )
    best_factor = np.argmax(mi, axis=1)
    best_mi = mi[np.arange(mi.shape[0]), best_factor]
    active = activity > threshold
    # lexsort's last key is the primary one: inactive last, then by factor, then by MI.
    order = np.lexsort((np.arange(mi.shape[0]), -np.where(active, best_mi, 0.0),
                        np.where(active, best_factor, 0), ~active))
    return {"order": order, "best_factor": best_factor, "active": active}
