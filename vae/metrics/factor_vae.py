"""The FactorVAE disentanglement metric.

Based on "Disentangling by Factorising" (Kim & Mnih, 2018,
https://arxiv.org/abs/1802.05983), computed as in disentanglement_lib's
``factor_vae.py``: codes are divided by their global standard deviation; for a batch
that shares one factor, the code dimension with the least normalised variance votes for
that factor; a majority-vote classifier maps each dimension to the factor it voted for
most, and its accuracy is the score.
"""

import numpy as np

from vae.metrics import utils


def factor_vae_score(ground_truth, representation_fn, random_state: np.random.RandomState, batch_size: int = 64,
                     num_train: int = 10000, num_eval: int = 5000, num_variance_estimate: int = 10000,
                     prune_threshold: float = 0.05) -> dict[str, float]:
    """Computes the FactorVAE metric's train and evaluation accuracies.

    Args:
        ground_truth, representation_fn, random_state: as for the other sampler metrics
            (see :func:`vae.metrics.beta_vae.beta_vae_score`).
        batch_size: observations sharing one factor per vote (at least 2).
        num_train: votes to build the majority-vote classifier from.
        num_eval: votes to evaluate it on.
        num_variance_estimate: observations used to estimate each code's global
            variance.
        prune_threshold: dimensions whose global standard deviation is below this are
            ignored as collapsed to a constant (0.05, disentanglement_lib's gin
            setting for this metric).

    Returns:
        ``{"factor_vae_accuracy_train", "factor_vae_accuracy_eval",
        "factor_vae_num_active_dims"}``; accuracies in [0, 1] (chance is about
        ``1 / num_factors``), all 0 when no dimension is active.

    Raises:
        MetricInputError: (a ``ValueError``) a size too small, or a representation_fn
            returning the wrong shape or NaN.
    """
    for name, value, minimum in [
        ("batch_size", batch_size, 2),
        ("num_train", num_train, 1),
        ("num_eval", num_eval, 1),
        ("num_variance_estimate", num_variance_estimate, 2),
    ]:
        if value < minimum:
            raise utils.MetricInputError(
                f"factor_vae_score: {name} must be >= {minimum}, got {value}"
            )
    global_variances = _global_variances(
        ground_truth, representation_fn, num_variance_estimate, random_state
    )
    active = np.sqrt(global_variances) >= prune_threshold
    if not active.any():
        return {
            "factor_vae_accuracy_train": 0.0,
            "factor_vae_accuracy_eval": 0.0,
            "factor_vae_num_active_dims": 0,
        }
    train_votes = _votes(
        ground_truth,
        representation_fn,
        batch_size,
        num_train,
        random_state,
        global_variances,
        active,
    )
    # Each dimension predicts the factor it voted for most in training.
    classifier = np.argmax(train_votes, axis=0)
    eval_votes = _votes(
        ground_truth,
        representation_fn,
        batch_size,
        num_eval,
        random_state,
        global_variances,
        active,
    )
    return {
        "factor_vae_accuracy_train": _majority_vote_accuracy(train_votes, classifier),
        "factor_vae_accuracy_eval": _majority_vote_accuracy(eval_votes, classifier),
        "factor_vae_num_active_dims": int(active.sum()),
    }


def _majority_vote_accuracy(votes: np.ndarray, classifier: np.ndarray) -> float:
    """Fraction of votes whose dimension's predicted factor is the true one."""
    dims = np.arange(votes.shape[1])
    return float(votes[classifier, dims].sum() / votes.sum())


def _global_variances(ground_truth, representation_fn, num, random_state):
    """Per-dimension variance (ddof=1) of codes of ``num`` random observations."""
    codes = []
    for start in range(0, num, utils.MAX_OBSERVATIONS_PER_CALL):
        n = min(utils.MAX_OBSERVATIONS_PER_CALL, num - start)
        factors = ground_truth.sample_factors(n, random_state)
        observations = ground_truth.sample_observations_from_factors(factors, random_state)
        codes.append(utils.check_representation(representation_fn(observations), n))
    return np.var(np.concatenate(codes), axis=0, ddof=1)


def _votes(
    ground_truth, representation_fn, batch_size, num_points, random_state, global_variances, active
):
    """``(num_factors, num_codes)`` counts of (shared factor, least-varying dim) votes."""
    votes = np.zeros((ground_truth.num_factors, global_variances.shape[0]), dtype=np.int64)
    active_dims = np.flatnonzero(active)
    step = utils.batches_per_call(batch_size)
    for start in range(0, num_points, step):
        n = min(step, num_points - start)
        shared = random_state.randint(ground_truth.num_factors, size=n)
        factors = ground_truth.sample_factors(n * batch_size, random_state)
        factors = factors.reshape(n, batch_size, -1)
        points = np.arange(n)
        factors[points, :, shared] = factors[points, 0, shared][:, None]
        observations = ground_truth.sample_observations_from_factors(
            factors.reshape(n * batch_size, -1), random_state
        )
        codes = utils.check_representation(representation_fn(observations), n * batch_size)
        local_variances = np.var(codes.reshape(n, batch_size, -1), axis=1, ddof=1)
        normalised = local_variances[:, active] / global_variances[active]
        # Map back from the active subset to the full dimension index, which
        # disentanglement_lib leaves undone (its votes land on the wrong column
        # whenever a dimension before the winner was pruned).
        winners = active_dims[np.argmin(normalised, axis=1)]
        np.add.at(votes, (shared, winners), 1)
    return votes


def compute(inputs) -> dict:
    """:func:`factor_vae_score` on the dataset's ground-truth sampler, from the evaluation seed."""
    s = inputs.settings
    return factor_vae_score(inputs.dataset.ground_truth, inputs.representation, inputs.sampler_rng(),
                            batch_size=s.sampler_batch, num_train=s.sampler_train, num_eval=s.sampler_eval,
                            num_variance_estimate=s.sampler_train)
