"""How much each code tells about each factor, estimated so that its scale means something at
the sample sizes a sweep evaluates: the estimator behind MIG and the MI heatmap.

disentanglement_lib (``utils._histogram_discretize``, ``mig.py``) bins each code into 20
equal-width bins and divides the plug-in MI by the factor's entropy. At 500 codes that scale
fails both ways: with 20 bins MI/H cannot exceed ln 20 / ln K for a factor of K > 20 values
(0.81 for dSprites' 40 orientations), so "1 = the code determines the factor" is
unreachable; and the plug-in MI of a contingency table is biased up by about
(bins - 1)(K - 1) / 2N nats, so a pure-noise code scores MI/H near 0.17 against orientation.

Here instead:

- **Bins that can reach 1.** Each code gets ``max(num_bins, K_max)`` equal-width bins over its
  own [min, max] (K_max: the most values any factor takes) instead of 20, so a code that
  spreads a factor's K values evenly, plus noise smaller than their spacing, puts each value
  in a bin of its own and scores 1; a code with no more distinct values than bins keeps its
  values as they are. (Equal-frequency bins were tried: they cut through the clusters of a
  near-perfect code whenever the factor's values are not equally frequent, which the sample
  never makes them exactly, and such a code then stayed below 0.9.)
- **Chance correction.** Each MI is scored as (MI - E[MI]) / (H(factor) - E[MI]), with E[MI]
  the exact expected MI of two independent labelings with these marginals (the
  hypergeometric model of adjusted mutual information, Vinh et al., 2010). A code that
  determines the factor scores 1 (MI = H), an independent code 0 in expectation at any sample
  size (it can come out slightly below 0, and is not clipped, which would bias it up again).
"""

import numpy as np
from sklearn.metrics import mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

# sklearn's adjusted_mutual_info_score uses it; only its marginals matter. The private import
# lives here alone.
from sklearn.metrics.cluster._expected_mutual_info_fast import expected_mutual_information


def num_code_bins(factors: np.ndarray, minimum: int) -> int:
    """``max(minimum, most values any factor column takes)``."""
    return max(int(minimum), max(np.unique(column).size for column in factors.T))


def discretize(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Each code column in ``num_bins`` equal-width bins over its own [min, max] (as
    disentanglement_lib's ``_histogram_discretize``); a column with at most ``num_bins``
    distinct values keeps one bin per value.

    Returns:
        ``(num_examples, num_codes)`` int64 bin indices from 0.
    """
    codes = np.asarray(codes, dtype=np.float64)
    out = np.zeros(codes.shape, dtype=np.int64)
    for i, column in enumerate(codes.T):
        values, inverse = np.unique(column, return_inverse=True)
        if values.size <= num_bins:
            out[:, i] = inverse
        else:
            # Interior edges only: the maximum falls in the top bin, not a bin of its own.
            out[:, i] = np.digitize(column, np.linspace(values[0], values[-1], num_bins + 1)[1:-1])
    return out


def normalized_information(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Chance-corrected (MI - E[MI]) / (H(factor) - E[MI]) of every discrete code and factor.

    Returns:
        ``(num_codes, num_factors)`` float64 matrix: 1 where the code determines the factor,
        about 0 where they are independent; 0 for a constant factor (nothing to tell).
    """
    n = discrete_codes.shape[0]
    scores = np.zeros((discrete_codes.shape[1], factors.shape[1]))
    for j, factor in enumerate(factors.T):
        entropy = mutual_info_score(factor, factor)
        if entropy <= 0:
            continue
        for i, code in enumerate(discrete_codes.T):
            table = contingency_matrix(factor, code, sparse=True)
            mi = mutual_info_score(None, None, contingency=table)
            expected = expected_mutual_information(table, n)
            scores[i, j] = (mi - expected) / (entropy - expected) if entropy > expected else 0.0
    return scores


def information_matrix(codes: np.ndarray, factors: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """:func:`normalized_information` of continuous codes, binned by the rules above."""
    bins = num_code_bins(factors, num_bins)
    return normalized_information(discretize(codes, bins), factors)
