"""Separated Attribute Predictability (SAP).

Based on "Variational Inference of Disentangled Latent Concepts from Unlabeled
Observations" (Kumar et al., 2018, https://openreview.net/forum?id=H1kG7GZAW),
computed as in disentanglement_lib's ``sap_score.py``: score how well each single code
predicts each factor, then average over factors the gap between the two best codes.
"""

import numpy as np
from sklearn.svm import LinearSVC

from vae.metrics import utils


def sap(
    codes_train, factors_train, codes_test, factors_test, continuous_factors: bool = False
) -> dict[str, float]:
    """Computes the SAP score.

    Args:
        codes_train: ``(num_train, num_codes)`` mean codes, at least two columns.
        factors_train: ``(num_train, num_factors)`` ground-truth factors.
        codes_test: ``(num_test, num_codes)`` mean codes for scoring the classifiers.
        factors_test: ``(num_test, num_factors)`` ground-truth factors.
        continuous_factors: if True, score each (code, factor) pair by the squared
            correlation on the training set (the test set is then unused); if False,
            by the test accuracy of a balanced linear SVM (C=0.01) that predicts the
            factor from that code alone.

    Returns:
        ``{"sap": score}`` in [0, 1]: large when each factor is predicted well by one
        code and poorly by all others.

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes, fewer than two code columns,
            or every factor constant. Constant factors (in the training set) are left
            out: an SVM cannot be fitted to a single class.
    """
    codes_train, factors_train, codes_test, factors_test = utils.check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    utils.check_min_columns(codes_train, 2, "code", "sap")
    keep = utils.varying_factors(factors_train, "sap")
    score_matrix = _score_matrix(
        codes_train,
        factors_train[:, keep],
        codes_test,
        factors_test[:, keep],
        continuous_factors,
    )
    return {"sap": _mean_gap_top_two(score_matrix)}


def _score_matrix(codes, factors, codes_test, factors_test, continuous_factors):
    """``(num_codes, num_factors)`` predictability of each factor from each code."""
    scores = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            if continuous_factors:
                cov = np.cov(codes[:, i], factors[:, j].astype(np.float64), ddof=1)
                var_code, var_factor = cov[0, 0], cov[1, 1]
                # A collapsed code predicts nothing; avoid 0/0.
                if var_code > 1e-12:
                    scores[i, j] = cov[0, 1] ** 2 / (var_code * var_factor)
            else:
                classifier = LinearSVC(C=0.01, class_weight="balanced")
                classifier.fit(codes[:, i : i + 1], factors[:, j])
                predictions = classifier.predict(codes_test[:, i : i + 1])
                scores[i, j] = np.mean(predictions == factors_test[:, j])
    return scores


def _mean_gap_top_two(matrix: np.ndarray) -> float:
    """Mean over columns of the difference between the two largest entries."""
    sorted_matrix = np.sort(matrix, axis=0)
    return float(np.mean(sorted_matrix[-1] - sorted_matrix[-2]))


def compute(inputs) -> dict:
    """:func:`sap` fitted on the training codes, scored on the evaluation codes."""
    return sap(inputs.codes_fit, inputs.y_fit, inputs.codes_eval, inputs.y_eval)
