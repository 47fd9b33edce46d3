"""The beta-VAE disentanglement metric.

Based on "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
Framework" (Higgins et al., 2017, https://openreview.net/forum?id=Sy2fzU9gl), computed
as in disentanglement_lib's ``beta_vae.py`` (its scikit-learn variant): each point is
the mean absolute code difference over ``batch_size`` pairs of observations that share
one randomly chosen factor; a logistic regression must tell which factor was shared.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from vae.metrics import utils


def beta_vae_score(
    ground_truth,
    representation_fn,
    random_state: np.random.RandomState,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
) -> dict[str, float]:
    """Computes the beta-VAE metric's train and evaluation accuracies.

    Args:
        ground_truth: a ``GroundTruthData`` sampler (``num_factors``,
            ``sample_factors``, ``sample_observations_from_factors``), at least two
            factors.
        representation_fn: maps ``(n, ...)`` observations to ``(n, num_codes)`` mean
            codes.
        random_state: the only source of randomness, so a seed fixes the score.
        batch_size: observation pairs averaged into one point.
        num_train: points to fit the classifier on.
        num_eval: points to evaluate it on.

    Returns:
        ``{"beta_vae_accuracy_train", "beta_vae_accuracy_eval"}`` in [0, 1]; chance is
        about ``1 / num_factors``.

    Raises:
        MetricInputError: (a ``ValueError``) fewer than two factors, a non-positive
            size, or a representation_fn returning the wrong shape or NaN.
    """
    if ground_truth.num_factors < 2:
        raise utils.MetricInputError(
            f"beta_vae_score needs at least 2 factors, got {ground_truth.num_factors}"
        )
    for name, value in [
        ("batch_size", batch_size),
        ("num_train", num_train),
        ("num_eval", num_eval),
    ]:
        if value < 1:
            raise utils.MetricInputError(f"beta_vae_score: {name} must be >= 1, got {value}")
    train_points, train_labels = _generate_points(
        ground_truth, representation_fn, batch_size, num_train, random_state
    )
    # max_iter is raised from scikit-learn's 100 so that unscaled code differences
    # converge instead of warning; the model is otherwise disentanglement_lib's.
    model = LogisticRegression(random_state=random_state, max_iter=1000)
    model.fit(train_points, train_labels)
    eval_points, eval_labels = _generate_points(
        ground_truth, representation_fn, batch_size, num_eval, random_state
    )
    return {
        "beta_vae_accuracy_train": float(np.mean(model.predict(train_points) == train_labels)),
        "beta_vae_accuracy_eval": float(np.mean(model.predict(eval_points) == eval_labels)),
    }


def _generate_points(ground_truth, representation_fn, batch_size, num_points, random_state):
    """``(num_points, num_codes)`` features and the ``(num_points,)`` shared factor."""
    features, labels = [], []
    step = utils.batches_per_call(2 * batch_size)
    for start in range(0, num_points, step):
        n = min(step, num_points - start)
        shared = random_state.randint(ground_truth.num_factors, size=n)
        factors1 = ground_truth.sample_factors(n * batch_size, random_state)
        factors2 = ground_truth.sample_factors(n * batch_size, random_state)
        # Row r of both batches belongs to point r // batch_size; copy that point's
        # shared factor from the first batch into the second.
        rows = np.arange(n * batch_size)
        columns = np.repeat(shared, batch_size)
        factors2[rows, columns] = factors1[rows, columns]
        observations = ground_truth.sample_observations_from_factors(
            np.concatenate([factors1, factors2]), random_state
        )
        codes = utils.check_representation(representation_fn(observations), 2 * n * batch_size)
        codes1, codes2 = codes[: n * batch_size], codes[n * batch_size :]
        difference = np.abs(codes1 - codes2).reshape(n, batch_size, -1)
        features.append(difference.mean(axis=1))
        labels.append(shared)
    return np.concatenate(features), np.concatenate(labels)


def compute(inputs) -> dict:
    """:func:`beta_vae_score` on the dataset's ground-truth sampler, from the evaluation seed."""
    s = inputs.settings
    return beta_vae_score(inputs.dataset.ground_truth, inputs.representation, inputs.sampler_rng(),
                          batch_size=s.sampler_batch, num_train=s.sampler_train, num_eval=s.sampler_eval)
