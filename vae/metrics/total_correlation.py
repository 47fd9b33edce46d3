"""Total correlation of the Gaussian that matches the codes' first two moments.

TC(z) = KL(q(z) || prod_i q(z_i)). For a Gaussian with covariance S this is
``0.5 * (sum_i log S_ii - log det S)``, which equals ``-0.5 * log det C`` with C the
correlation matrix. It is a cheap, label-free proxy for how statistically dependent the
code dimensions are (the quantity FactorVAE and beta-TCVAE penalise).

Finite-sample bias. Plugging the sample covariance into the formula overestimates TC:
with N examples and d codes, even independent codes score about d(d-1)/(4N) nats (5 nats
at d = 200, N = 2,000), so models with wider codes or fewer evaluation images look more
entangled. The bias has an exact closed form for Gaussian codes: with nu = N - 1 degrees of
freedom, nu * S is Wishart(Sigma, nu), whose log-determinant has expectation
``log det Sigma + sum_{i=1..d} psi((nu - i + 1) / 2) + d log(2 / nu)`` (psi the digamma
function); each diagonal entry is the d = 1 case, ``log Sigma_ii + psi(nu / 2) + log(2 / nu)``.
The plug-in estimate is therefore biased by exactly

    b(d, nu) = 0.5 * sum_{i=1..d} [psi(nu / 2) - psi((nu - i + 1) / 2)],

whatever Sigma is, and subtracting it gives an unbiased estimate of the Gaussian TC. Its
first-order expansion, psi(a) - psi(a - x) ~ x / a, is the d(d-1)/(4 nu) quoted above; the
exact form is used because it stays right when d is a sizeable fraction of N, where the
first-order term underestimates the bias. Being unbiased, the corrected value can come out
slightly below 0 for nearly independent codes; it is not clipped, which would bias it up
again.
"""

import numpy as np
from scipy.special import digamma

from vae.metrics import utils


def gaussian_total_correlation(codes) -> dict[str, float]:
    """Computes the bias-corrected total correlation (nats) of a Gaussian fitted to the codes.

    Args:
        codes: ``(num_examples, num_codes)`` mean codes; needs more examples than
            varying codes for a finite answer.

    Returns:
        ``{"gaussian_total_correlation": tc, "gaussian_total_correlation_bias": b,
        "gaussian_total_correlation_n": N, "gaussian_total_correlation_d": d}``: ``tc`` is
        the plug-in estimate minus its expected finite-sample bias ``b`` (both in nats;
        ``tc + b`` is the uncorrected value), ``N`` the examples and ``d`` the varying code
        dimensions it was computed from. Constant code dimensions are left out (a constant
        is independent of everything, and its zero variance would make log S_ii
        undefined). ``tc`` is ``inf`` when the remaining codes are linearly dependent,
        which is certain when ``N <= d``.

    Raises:
        MetricInputError: (a ``ValueError``) codes not 2-D, fewer than two examples,
            or NaN/infinite values.
    """
    codes = utils.check_codes(codes)
    # max > min, not var > 0: the variance of a constant column can round to 1e-33.
    codes = codes[:, np.ptp(codes, axis=0) > 0.0]
    n, d = codes.shape
    sizes = {"gaussian_total_correlation_n": n, "gaussian_total_correlation_d": d}
    if d < 2:
        return {"gaussian_total_correlation": 0.0, "gaussian_total_correlation_bias": 0.0, **sizes}
    if n <= d:
        return {"gaussian_total_correlation": float("inf"),
                "gaussian_total_correlation_bias": float("nan"), **sizes}
    bias = plug_in_bias(d, n)
    sign, logdet = np.linalg.slogdet(np.corrcoef(codes, rowvar=False))
    tc = float("inf") if sign <= 0 else float(-0.5 * logdet) - bias
    return {"gaussian_total_correlation": tc, "gaussian_total_correlation_bias": bias, **sizes}


def plug_in_bias(num_dims: int, num_examples: int) -> float:
    """Expected excess (nats) of the plug-in Gaussian TC over the true one.

    Args:
        num_dims: d, the code dimensions (at least 1).
        num_examples: N, the examples the covariance was estimated from (more than d).

    Returns:
        ``0.5 * sum_{i=1..d} [psi(nu / 2) - psi((nu - i + 1) / 2)]`` with ``nu = N - 1``
        (the mean is estimated too); about ``d (d - 1) / (4 nu)`` when d << N.
    """
    nu = num_examples - 1.0
    i = np.arange(1, num_dims + 1)
    return float(0.5 * np.sum(digamma(nu / 2.0) - digamma((nu - i + 1.0) / 2.0)))


def compute(inputs) -> dict:
    """:func:`gaussian_total_correlation` of the evaluation codes."""
    return gaussian_total_correlation(inputs.codes_eval)
