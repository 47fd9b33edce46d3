"""Unsupervised Disentanglement Ranking (UDR): agreement between seeds, no factors needed.

Based on "Unsupervised Model Selection for Variational Disentangled Representation
Learning" (Duan et al., ICLR 2020, https://arxiv.org/abs/1905.12614), computed as in
disentanglement_lib's ``evaluation/udr/metrics/udr.py`` (``compute_udr_sklearn``). The idea:
a disentangled representation is found again, up to permutation and sign, by every seed of
the same configuration, while an entangled one is a different rotation each time.

For models ``i`` and ``j`` (seeds of one configuration, encoding the same inputs):

1. Each code column is standardized; a latent is *informative* when its mean KL to the prior
   over the inputs exceeds ``kl_threshold`` (0.01 nats, the library's value), and the other
   latents are zeroed.
2. A similarity matrix ``R[a, b]`` between latent ``a`` of model ``i`` and latent ``b`` of
   model ``j``: the absolute Spearman rank correlation (``"spearman"``, UDR_S) or the
   absolute coefficients of a Lasso regression of ``j``'s codes on ``i``'s (``"lasso"``,
   UDR_L, ``alpha=0.1``).
3. ``R`` restricted to the informative latents of both models scores
   ``(mean_b max_a R[a,b]^2 / sum_a R[a,b] + mean_a max_b R[a,b]^2 / sum_b R[a,b]) / 2``
   (the library's ``relative_strength_disentanglement``; 0/0 counts as 0): 1 when each
   informative latent of one model matches exactly one informative latent of the other.
4. Model ``i``'s UDR is the median of the pair scores ``(j, i)`` over ``j != i``.

Where this module differs from disentanglement_lib, and why:

- **The pair formula is the library's, not the paper's equation.** The paper writes
  ``(sum_b r_b ... + sum_a r_a ...) / (d_a + d_b)``, weighting each direction by its number
  of informative latents; the library averages the two directions' means. They agree when
  both models have as many informative latents, and the library's is what the published
  numbers were computed with.
- **The same threshold zeroes and filters latents.** The library zeroes latents with
  ``kl <= 0.01`` whatever ``kl_filter_threshold`` says, then filters by that threshold; one
  threshold does both here (identical at the default).
- **A model with no informative latent scores 0 against every other** (the library's
  ``np.max`` of an empty matrix raises); a collapsed model agrees with nothing.
- **The Spearman matrix is computed at once** (Pearson correlation of column ranks, which is
  Spearman's definition) instead of one ``scipy.stats.spearmanr`` call per latent pair; a
  constant column has correlation 0 (the library gets NaN and filters it out).
- **Models may have different latent sizes** (nothing in the score needs equal sizes).
- **Inputs are codes already computed**: the caller encodes the same images with every seed
  (posterior means, as the library does) and passes the per-latent KL, for example from
  :func:`gaussian_kl`; the library samples its own observations.
- **A configuration's score** (:func:`udr`) is the median of its models' scores, with the
  spread of the pair scores; the library stops at per-model scores.

The default similarity is ``"spearman"`` (the library's default is ``"lasso"``): it is
scale-free and needs no fitted model; both are offered.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import Lasso

from vae.metrics import utils

CORRELATIONS = ("spearman", "lasso")
KL_THRESHOLD = 0.01


@dataclass(frozen=True)
class UdrResult:
    """A configuration's UDR.

    Attributes:
        score: the median of ``model_scores``: the configuration's UDR, in [0, 1].
        model_scores: each model's UDR (median of its pair scores).
        pairwise: ``(num_models, num_models)`` pair scores, ``pairwise[i, j]`` comparing
            model ``i``'s latents (rows of ``R``) with model ``j``'s; NaN on the diagonal.
        num_informative: each model's number of informative latents.
    """

    score: float
    model_scores: list[float]
    pairwise: np.ndarray
    num_informative: list[int]

    @property
    def pair_scores(self) -> np.ndarray:
        """The off-diagonal pair scores, the spread the configuration's score comes from."""
        return self.pairwise[~np.eye(len(self.pairwise), dtype=bool)]

    def as_metrics(self) -> dict[str, float]:
        """``udr`` and the range of its pair scores, as flat figures for a run's metrics."""
        pairs = self.pair_scores
        return {"udr": self.score, "udr_pair_min": float(pairs.min()), "udr_pair_max": float(pairs.max())}


def udr(
    representations: Sequence[np.ndarray],
    kl: Sequence[np.ndarray],
    correlation: str = "spearman",
    kl_threshold: float = KL_THRESHOLD,
    random_state: int = 0,
) -> UdrResult:
    """Computes the UDR of one configuration from its seeds' codes of the same inputs.

    Args:
        representations: one ``(num_examples, latent_dim)`` array of posterior means per
            seed, row ``k`` of every array encoding the same input.
        kl: one ``(latent_dim,)`` array per seed: each latent's mean KL to the prior, in
            nats, over those inputs.
        correlation: ``"spearman"`` (UDR_S) or ``"lasso"`` (UDR_L).
        kl_threshold: latents at or below this mean KL are uninformative and not counted.
        random_state: the Lasso's seed (the Spearman variant draws nothing).

    Returns:
        The configuration's score, each model's score and the pair scores.

    Raises:
        MetricInputError: (a ``ValueError``) fewer than two models, codes of different
            inputs (row counts differ), a KL vector of the wrong length, non-finite values,
            or an unknown ``correlation``.
    """
    if correlation not in CORRELATIONS:
        raise utils.MetricInputError(f"udr: correlation '{correlation}' is not one of {', '.join(CORRELATIONS)}")
    if len(representations) < 2 or len(representations) != len(kl):
        raise utils.MetricInputError(
            f"udr needs the codes and KL of at least two seeds, got {len(representations)} code "
            f"arrays and {len(kl)} KL vectors"
        )
    codes = [utils.check_codes(r, f"representations[{i}]", min_examples=3) for i, r in enumerate(representations)]
    if len({c.shape[0] for c in codes}) > 1:
        raise utils.MetricInputError(
            f"udr compares codes of the same inputs, but the seeds have {[c.shape[0] for c in codes]} rows"
        )
    kls = []
    for i, (c, k) in enumerate(zip(codes, kl, strict=True)):
        k = np.asarray(k, dtype=np.float64).reshape(-1)
        if k.shape[0] != c.shape[1] or not np.all(np.isfinite(k)):
            raise utils.MetricInputError(
                f"kl[{i}] must hold one finite value per latent ({c.shape[1]}), got shape {k.shape}"
            )
        kls.append(k)
    model_scores, pairwise = _compute_udr(codes, kls, correlation, kl_threshold, random_state)
    return UdrResult(
        score=float(np.median(model_scores)),
        model_scores=[float(s) for s in model_scores],
        pairwise=pairwise,
        num_informative=[int(np.sum(k > kl_threshold)) for k in kls],
    )


def _compute_udr(
    representations: list[np.ndarray],
    kl: list[np.ndarray],
    correlation: str = "spearman",
    kl_threshold: float = KL_THRESHOLD,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Each model's UDR and the ``(n, n)`` pair scores (NaN diagonal), from checked arrays."""
    masks = [k > kl_threshold for k in kl]
    reps = [_standardize(r) * m for r, m in zip(representations, masks, strict=True)]
    n = len(reps)
    pairwise = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if correlation == "lasso":
                matrix = lasso_matrix(reps[i], reps[j], random_state)
            else:
                matrix = spearman_matrix(reps[i], reps[j])
            pairwise[i, j] = relative_strength(matrix[masks[i]][:, masks[j]])
    # The library's model score: the median over the pairs where the model is the target.
    model_scores = np.array([np.median(np.delete(pairwise[:, i], i)) for i in range(n)])
    return model_scores, pairwise


def relative_strength(matrix: np.ndarray) -> float:
    """The pair score of a similarity matrix (rows: one model's latents, columns: the other's).

    Each column's ``max^2 / sum`` is 1 when one row carries it alone and ``1/k`` when ``k``
    rows share it equally; the score averages that over columns and over rows (0/0 is 0).
    An empty matrix (a model without informative latents) scores 0.
    """
    if matrix.size == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        by_column = np.nan_to_num(matrix.max(axis=0) ** 2 / matrix.sum(axis=0))
        by_row = np.nan_to_num(matrix.max(axis=1) ** 2 / matrix.sum(axis=1))
    return float((by_column.mean() + by_row.mean()) / 2)


def spearman_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|Spearman correlation|`` of every column of ``a`` (rows) with every column of ``b``."""
    ra, rb = _centered_unit(rankdata(a, axis=0)), _centered_unit(rankdata(b, axis=0))
    return np.abs(ra.T @ rb)


def lasso_matrix(a: np.ndarray, b: np.ndarray, random_state: int = 0) -> np.ndarray:
    """``|Lasso coefficients|`` of ``b``'s columns regressed on ``a``'s (rows: ``a``)."""
    model = Lasso(alpha=0.1, random_state=random_state).fit(a, b)
    return np.abs(np.atleast_2d(model.coef_)).T


def gaussian_kl(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """Each latent's mean KL(q(z|x) || N(0, I)) over the rows, in nats: UDR's ``kl`` input."""
    z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    return np.mean(0.5 * (z_mean**2 + np.exp(z_log_var) - z_log_var - 1.0), axis=0)


def _standardize(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _centered_unit(x: np.ndarray) -> np.ndarray:
    """Columns centred and scaled to unit norm, so ``u.T @ v`` is their Pearson correlation."""
    x = x - x.mean(axis=0)
    norm = np.linalg.norm(x, axis=0)
    return x / np.where(norm > 0, norm, 1.0)
