"""Total correlation of the Gaussian that matches the codes' first two moments.

TC(z) = KL(q(z) || prod_i q(z_i)). For a Gaussian with covariance S this is
``0.5 * (sum_i log S_ii - log det S)``, which equals ``-0.5 * log det C`` with C the
correlation matrix. It is a cheap, label-free proxy for how statistically dependent the
code dimensions are (the quantity FactorVAE and beta-TCVAE penalise).
"""

import numpy as np

from vae.metrics import utils


def gaussian_total_correlation(codes) -> dict[str, float]:
    """Computes the total correlation (nats) of a Gaussian fitted to the codes.

    Args:
        codes: ``(num_examples, num_codes)`` mean codes; needs more examples than
            varying codes for a finite answer.

    Returns:
        ``{"gaussian_total_correlation": tc}``, >= 0 and 0 exactly when the empirical
        covariance is diagonal. Constant code dimensions are left out (a constant is
        independent of everything, and its zero variance would make log S_ii
        undefined). ``inf`` when the remaining codes are linearly dependent.

    Raises:
        MetricInputError: (a ``ValueError``) codes not 2-D, fewer than two examples,
            or NaN/infinite values.
    """
    codes = utils.check_codes(codes)
    codes = codes[:, np.var(codes, axis=0) > 0.0]
    if codes.shape[1] < 2:
        return {"gaussian_total_correlation": 0.0}
    correlation = np.corrcoef(codes, rowvar=False)
    sign, logdet = np.linalg.slogdet(correlation)
    if sign <= 0:
        return {"gaussian_total_correlation": float("inf")}
    # Rounding can push a near-diagonal log det a hair above 0; TC is never negative.
    return {"gaussian_total_correlation": max(0.0, float(-0.5 * logdet))}
