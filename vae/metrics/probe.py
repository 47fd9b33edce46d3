"""Linear probe: how linearly decodable a single label is from the codes.

For datasets with one label and no factor sampler (MNIST digits, Fashion-MNIST classes),
the disentanglement metrics do not apply; test accuracy of a linear classifier on the
codes measures how much of the label the representation keeps, in an accessible form.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vae.metrics import utils


def linear_probe(codes_train, labels_train, codes_test, labels_test) -> dict[str, float]:
    """Fits logistic regression on standardised training codes; scores it on the test set.

    Args:
        codes_train: ``(num_train, num_codes)`` mean codes.
        labels_train: ``(num_train,)`` (or ``(num_train, 1)``) class labels, at least
            two distinct.
        codes_test: ``(num_test, num_codes)`` mean codes.
        labels_test: ``(num_test,)`` (or ``(num_test, 1)``) class labels.

    Returns:
        ``{"probe_accuracy": accuracy}`` on the test set, in [0, 1].

    Raises:
        MetricInputError: (a ``ValueError``) bad shapes, mismatched rows, labels with
            more than one column, or a single class in the training labels.
    """
    codes_train, labels_train, codes_test, labels_test = utils.check_train_test(
        codes_train,
        _as_column(labels_train, "labels_train"),
        codes_test,
        _as_column(labels_test, "labels_test"),
        factors_name="labels",
    )
    labels_train, labels_test = labels_train[:, 0], labels_test[:, 0]
    if np.unique(labels_train).size < 2:
        raise utils.MetricInputError("linear_probe needs at least two classes in labels_train")
    # Standardising makes the default L2 penalty treat every code dimension alike,
    # whatever scale the encoder gave it.
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(codes_train, labels_train)
    return {"probe_accuracy": float(np.mean(model.predict(codes_test) == labels_test))}


def _as_column(labels, name: str) -> np.ndarray:
    """Labels as an ``(n, 1)`` array; a 1-D vector is the usual form."""
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return labels[:, None]
    if labels.ndim == 2 and labels.shape[1] == 1:
        return labels
    raise utils.MetricInputError(
        f"{name} must be a 1-D array of class labels, got shape {labels.shape}"
    )


def compute(inputs) -> dict:
    """:func:`linear_probe` fitted on the training codes, scored on the evaluation codes."""
    return linear_probe(inputs.codes_fit, inputs.y_fit, inputs.codes_eval, inputs.y_eval)
