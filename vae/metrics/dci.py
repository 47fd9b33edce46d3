"""Disentanglement, Completeness and Informativeness (DCI).

Based on "A Framework for the Quantitative Evaluation of Disentangled Representations"
(Eastwood & Williams, 2018, https://openreview.net/forum?id=By-7dz-AZ), computed as in
disentanglement_lib's ``dci.py``: one gradient-boosted tree classifier per factor gives
an importance matrix R[code, factor]; disentanglement is 1 - entropy of each code's row
(weighted by the code's share of importance), completeness is 1 - entropy of each
factor's column, informativeness is the classifiers' mean test accuracy.

Deviation, for cost: by default (``trees="hist"``) the boosted trees are scikit-learn's
``HistGradientBoostingClassifier`` shaped like disentanglement_lib's
``GradientBoostingClassifier()`` (same number of boosting stages and learning rate, trees of
depth 3, one sample per leaf allowed, no early stopping), and a code's importance is the
total loss reduction of the splits on it, the gain importance of XGBoost and LightGBM, which
is what ``GradientBoostingClassifier.feature_importances_`` (impurity decrease) also
measures. Histogram trees bin each code into 255 quantiles instead of trying every
threshold, which makes multiclass factors (dSprites' 40 orientations) much cheaper: the
``quick`` budget's DCI on 2,000 dSprites codes took 11 s of CPU instead of 33 s
(``benchmarks/metric_cost.py``). Scores agree
with the exact trees to within the classifiers' own variation; ``trees="exact"`` is
disentanglement_lib's classifier for comparison with published values.
"""

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from vae.metrics import utils


def dci(
    codes_train,
    factors_train,
    codes_test,
    factors_test,
    n_estimators: int = 100,
    max_train: int | None = 10000,
    random_state: int = 0,
    trees: str = "hist",
) -> dict[str, float]:
    """Computes the DCI disentanglement, completeness and informativeness scores.

    Args:
        codes_train: ``(num_train, num_codes)`` mean codes for fitting the classifiers.
        factors_train: ``(num_train, num_factors)`` discrete ground-truth factors.
        codes_test: ``(num_test, num_codes)`` mean codes for informativeness.
        factors_test: ``(num_test, num_factors)`` discrete ground-truth factors.
        n_estimators: boosting stages per classifier (100 is scikit-learn's default,
            which disentanglement_lib uses; lower it in tests for speed).
        max_train: if the training set has more rows, fit on this many drawn at random
            without replacement. Fitting costs about ``n_estimators * num_classes``
            trees per factor and grows linearly with the rows, so this keeps the
            metric usable on large evaluation sets; None uses every row.
        random_state: seed for the subsample and the trees' tie-breaking, so that the
            same inputs give the same scores.
        trees: ``"hist"`` (histogram gradient boosting, the default: see the module
            docstring) or ``"exact"`` (disentanglement_lib's ``GradientBoostingClassifier``).

    Returns:
        ``{"dci_disentanglement", "dci_completeness", "dci_informativeness"}``, each in
        [0, 1]. Informativeness is the mean test accuracy over factors.

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes or every factor constant.
            Constant factors (in the training set) are left out: a classifier cannot
            be fitted to a single class.
    """
    if trees not in _FIT:
        raise utils.MetricInputError(f"dci: trees must be one of {sorted(_FIT)}, got {trees!r}")
    codes_train, factors_train, codes_test, factors_test = utils.check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    keep = utils.varying_factors(factors_train, "dci")
    factors_train, factors_test = factors_train[:, keep], factors_test[:, keep]
    rng = np.random.RandomState(random_state)
    if max_train is not None and codes_train.shape[0] > max_train:
        rows = rng.choice(codes_train.shape[0], size=max_train, replace=False)
        codes_train, factors_train = codes_train[rows], factors_train[rows]
    importance, test_accuracy = _importance_gbt(
        codes_train, factors_train, codes_test, factors_test, _FIT[trees](n_estimators, rng)
    )
    return {
        "dci_disentanglement": _disentanglement(importance),
        "dci_completeness": _completeness(importance),
        "dci_informativeness": test_accuracy,
    }


def _importance_gbt(codes_train, factors_train, codes_test, factors_test, fit):
    """``(num_codes, num_factors)`` importance matrix and the mean test accuracy."""
    importance = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    accuracies = []
    for j in range(factors_train.shape[1]):
        model, importance[:, j] = fit(codes_train, factors_train[:, j])
        accuracies.append(np.mean(model.predict(codes_test) == factors_test[:, j]))
    return importance, float(np.mean(accuracies))


def _exact(n_estimators, rng):
    """disentanglement_lib's classifier and its impurity-decrease importances."""

    def fit(codes, factor):
        model = GradientBoostingClassifier(n_estimators=n_estimators, random_state=rng).fit(codes, factor)
        return model, np.abs(model.feature_importances_)

    return fit


def _hist(n_estimators, rng):
    """Histogram trees of the same shape and their split-gain importances."""

    def fit(codes, factor):
        model = HistGradientBoostingClassifier(
            max_iter=n_estimators, learning_rate=0.1, max_depth=3, max_leaf_nodes=8,
            min_samples_leaf=1, l2_regularization=0.0, early_stopping=False, random_state=rng)
        # Equal-gain splits go to the lower column, so the columns are fitted in an order
        # set by their contents: the scores must not depend on how the codes are numbered.
        order = np.array(sorted(range(codes.shape[1]), key=lambda i: codes[:, i].tobytes()))
        # One thread: the trees are small, and OpenMP threads that spin while other
        # processes hold the cores (a sweep's workers) made fits 40x slower in testing.
        with threadpool_limits(1, user_api="openmp"):
            model.fit(codes[:, order], factor)
        gains = np.zeros(codes.shape[1])
        # The fitted trees are only reachable through this private attribute (stable since
        # scikit-learn 0.21); each node records its split feature and loss reduction.
        for stage in model._predictors:
            for tree in stage:
                splits = tree.nodes[tree.nodes["is_leaf"] == 0]
                np.add.at(gains, order[splits["feature_idx"]], splits["gain"])
        return _Reordered(model, order), gains / gains.sum() if gains.sum() > 0 else gains

    return fit


class _Reordered:
    """A classifier fitted on reordered columns, predicting from codes in their own order."""

    def __init__(self, model, order):
        self.model, self.order = model, order

    def predict(self, codes):
        return self.model.predict(codes[:, self.order])


_FIT = {"hist": _hist, "exact": _exact}


def _disentanglement(importance: np.ndarray) -> float:
    """Importance-weighted mean over codes of 1 - entropy of the code's factor weights."""
    per_code = _one_minus_entropy(importance.T)
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    code_weight = importance.sum(axis=1) / importance.sum()
    return float(np.sum(per_code * code_weight))


def _completeness(importance: np.ndarray) -> float:
    """Importance-weighted mean over factors of 1 - entropy of the factor's code weights."""
    per_factor = _one_minus_entropy(importance)
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    factor_weight = importance.sum(axis=0) / importance.sum()
    return float(np.sum(per_factor * factor_weight))


def _one_minus_entropy(weights: np.ndarray) -> np.ndarray:
    """1 - entropy of each column of ``weights``, normalised to [0, 1] by the row count.

    The 1e-11 keeps all-zero columns finite (they come out as uniform, scoring 0). A
    single row is trivially concentrated, scoring 1, where the log base of 1 would
    otherwise give 0/0.
    """
    if weights.shape[0] == 1:
        return np.ones(weights.shape[1])
    return 1.0 - scipy.stats.entropy(weights + 1e-11, base=weights.shape[0])


def compute(inputs) -> dict:
    """:func:`dci` fitted on the training codes, scored on the evaluation codes."""
    return dci(inputs.codes_fit, inputs.y_fit, inputs.codes_eval, inputs.y_eval,
               n_estimators=inputs.settings.dci_estimators)
