"""Pins every metric in vae.metrics to answers known from how its input was built.

Three kinds of codes recur: *disentangled* (each code is one factor plus tiny noise),
*random* (independent of the factors) and *entangled* (one code carries two factors as
their sum ``f0 + f1``). A metric must score them high, near its floor, and strictly
between.
"""

import numpy as np
import pytest

from vae.errors import VaeError
from vae.metrics import (
    beta_vae_score,
    dci,
    factor_vae_score,
    gaussian_total_correlation,
    linear_probe,
    mig,
    modularity,
    sap,
    utils,
)
from vae.metrics.inputs import MetricSettings, TrialInputs
from vae.metrics.registry import METRICS

NUM_VALUES = (4, 5, 6)
NUM_TRAIN, NUM_TEST = 1000, 400
FAST_DCI = {"n_estimators": 10}
SETTINGS = MetricSettings(dci_estimators=10)
# The registered metrics that read only codes and discrete factors (no sampler, no model):
# each is called through its registry entry, on inputs made of the codes.
CODE_METRICS = sorted(m.name for m in METRICS.values() if "factors" in m.needs and "sampler" not in m.needs)


def _registered(name, codes_train, factors_train, codes_test, factors_test):
    """The metric's registry ``compute`` on a training (fit) pair and an evaluation pair."""
    return METRICS[name].compute(TrialInputs.from_codes(codes_train, factors_train, codes_test, factors_test, SETTINGS))


def _factors(rng, num, num_values=NUM_VALUES):
    return np.stack([rng.randint(k, size=num) for k in num_values], axis=1)


def _disentangled(rng, factors):
    return factors + 0.01 * rng.randn(*factors.shape)


def _random(rng, factors):
    return rng.randn(factors.shape[0], factors.shape[1])


def _entangled(rng, factors):
    # Code 0 carries factors 0 and 1 together, code 1 is factor 2, code 2 is noise.
    codes = np.stack(
        [factors[:, 0] + factors[:, 1], factors[:, 2], rng.randn(len(factors))], axis=1
    )
    return codes + 0.01 * rng.randn(*codes.shape)


def _packed(rng, factors):
    # Like _entangled, but f0 * K + f1 keeps both factors recoverable from code 0.
    codes = _entangled(rng, factors)
    codes[:, 0] += factors[:, 0] * (NUM_VALUES[1] - 1)
    return codes


def _split(design, seed=0):
    """(codes_train, factors_train, codes_test, factors_test) for one kind of codes."""
    rng = np.random.RandomState(seed)
    factors_train, factors_test = _factors(rng, NUM_TRAIN), _factors(rng, NUM_TEST)
    return design(rng, factors_train), factors_train, design(rng, factors_test), factors_test


def _scores(name, design, seed=0):
    return _registered(name, *_split(design, seed))


# --- MIG -----------------------------------------------------------------------------


def test_mig_is_near_one_for_codes_equal_to_factors():
    codes, factors, _, _ = _split(_disentangled)
    assert mig(codes, factors)["mig"] > 0.95


def test_mig_is_near_zero_for_random_codes():
    codes, factors, _, _ = _split(_random)
    assert mig(codes, factors)["mig"] < 0.05


def test_mig_of_one_code_carrying_two_factors_lies_strictly_between():
    codes, factors, _, _ = _split(_entangled)
    # f0 + f1 leaves each factor partly unknown, and MIG charges that to both factors.
    assert 0.3 < mig(codes, factors)["mig"] < 0.9


def test_mig_cannot_see_two_factors_packed_invertibly_into_one_code():
    # MIG measures information, not axis alignment: with 20 bins for the 20 values of
    # f0 * 5 + f1, code 0 determines both factors and no other code knows either, so
    # this entangled code scores as well as a disentangled one.
    codes, factors, _, _ = _split(_packed)
    assert mig(codes, factors)["mig"] > 0.95


def test_mig_counts_only_the_best_code_minus_the_runner_up():
    # Two exact copies of the same factor leave a gap of zero for that factor.
    rng = np.random.RandomState(0)
    factors = _factors(rng, NUM_TRAIN, (4, 4))
    codes = np.stack([factors[:, 0], factors[:, 0], factors[:, 1]], axis=1).astype(float)
    assert mig(codes, factors)["mig"] == pytest.approx(0.5, abs=0.02)


def test_mig_ignores_a_constant_factor_instead_of_returning_nan():
    codes, factors, _, _ = _split(_disentangled)
    with_constant = np.concatenate([factors, np.zeros((len(factors), 1), int)], axis=1)
    assert mig(codes, with_constant)["mig"] == pytest.approx(mig(codes, factors)["mig"])


# --- SAP -----------------------------------------------------------------------------


def test_sap_with_continuous_factors_is_near_one_for_codes_equal_to_factors():
    assert sap(*_split(_disentangled), continuous_factors=True)["sap"] > 0.95


def test_sap_with_continuous_factors_is_near_zero_for_random_codes():
    assert sap(*_split(_random), continuous_factors=True)["sap"] < 0.05


def test_sap_with_discrete_binary_factors_is_one_minus_chance_for_perfect_codes():
    # The best code predicts its factor perfectly; every other code only at chance (1/2),
    # so the gap that SAP averages is 1/2, not 1.
    rng = np.random.RandomState(0)
    factors_train, factors_test = (
        _factors(rng, NUM_TRAIN, (2, 2, 2)),
        _factors(rng, NUM_TEST, (2, 2, 2)),
    )
    score = sap(
        _disentangled(rng, factors_train),
        factors_train,
        _disentangled(rng, factors_test),
        factors_test,
    )["sap"]
    assert score == pytest.approx(0.5, abs=0.05)


def test_sap_with_discrete_factors_is_near_zero_for_random_codes():
    assert sap(*_split(_random))["sap"] < 0.05


@pytest.mark.parametrize("continuous", [False, True])
def test_sap_of_one_code_carrying_two_factors_lies_strictly_between(continuous):
    def score(design):
        return sap(*_split(design), continuous_factors=continuous)["sap"]

    assert score(_random) + 0.05 < score(_entangled) < score(_disentangled) - 0.05


# --- DCI -----------------------------------------------------------------------------


def test_dci_is_near_one_for_codes_equal_to_factors():
    scores = dci(*_split(_disentangled), **FAST_DCI)
    assert scores["dci_disentanglement"] > 0.95
    assert scores["dci_completeness"] > 0.95
    assert scores["dci_informativeness"] > 0.95


def test_dci_is_near_zero_for_random_codes():
    scores = dci(*_split(_random), **FAST_DCI)
    assert scores["dci_disentanglement"] < 0.1
    assert scores["dci_completeness"] < 0.1
    # Test accuracy of predicting a factor from noise is near chance (1/4 .. 1/6).
    assert scores["dci_informativeness"] < 0.3


def test_dci_of_one_code_carrying_two_factors_lies_strictly_between():
    scores = dci(*_split(_entangled), **FAST_DCI)
    assert 0.3 < scores["dci_disentanglement"] < 0.9
    # f0 + f1 leaves factors 0 and 1 partly unpredictable, so the trees also lean on
    # the noise code for them, which costs completeness too.
    assert 0.3 < scores["dci_completeness"] < 0.95
    assert 0.3 < scores["dci_informativeness"] < 0.9


def test_dci_of_two_factors_packed_invertibly_into_one_code_keeps_completeness():
    # Each factor still lives in a single code, so only disentanglement drops.
    scores = dci(*_split(_packed), **FAST_DCI)
    assert 0.3 < scores["dci_disentanglement"] < 0.9
    assert scores["dci_completeness"] > 0.95


def test_dci_completeness_of_one_factor_split_over_two_codes_lies_strictly_between():
    rng = np.random.RandomState(0)

    def codes_for(factors):
        # Factor 0 (8 values) needs both its coarse half and its parity to be known.
        codes = np.stack([factors[:, 0] // 2, factors[:, 0] % 2, factors[:, 1], factors[:, 2]], 1)
        return codes + 0.01 * rng.randn(*codes.shape)

    factors_train, factors_test = (
        _factors(rng, NUM_TRAIN, (8, 5, 6)),
        _factors(rng, NUM_TEST, (8, 5, 6)),
    )
    scores = dci(
        codes_for(factors_train), factors_train, codes_for(factors_test), factors_test, **FAST_DCI
    )
    assert 0.3 < scores["dci_completeness"] < 0.95
    assert scores["dci_disentanglement"] > 0.95


def test_dci_max_train_subsamples_the_training_rows_reproducibly():
    split = _split(_entangled)
    first = dci(*split, max_train=200, **FAST_DCI)
    assert first == dci(*split, max_train=200, **FAST_DCI)
    assert first != dci(*split, max_train=None, **FAST_DCI)


# --- Modularity ----------------------------------------------------------------------


def test_modularity_is_near_one_for_codes_equal_to_factors():
    codes, factors, _, _ = _split(_disentangled)
    assert modularity(codes, factors)["modularity"] > 0.99


def test_modularity_of_random_codes_sits_at_its_estimator_bias_floor():
    # Plug-in MI of independent variables is biased upwards in proportion to
    # (num_bins - 1) * (num_values - 1), so a random code's squared MI with factors of
    # 4, 5 and 6 values is about 9 : 16 : 25, giving 1 - (9 + 16) / (2 * 25) = 0.5, not 0.
    # One code's estimate is noisy (0.3 .. 0.6), so average over 30 of them.
    rng = np.random.RandomState(0)
    factors = _factors(rng, NUM_TRAIN)
    codes = rng.randn(NUM_TRAIN, 30)
    assert modularity(codes, factors)["modularity"] == pytest.approx(0.5, abs=0.1)


def test_modularity_of_one_code_carrying_two_factors_lies_strictly_between():
    def score(design):
        codes, factors, _, _ = _split(design)
        return modularity(codes, factors)["modularity"]

    assert score(_random) + 0.05 < score(_entangled) < score(_disentangled) - 0.05


def test_modularity_of_a_code_with_no_information_is_zero():
    from vae.metrics.modularity import _modularity_from_mi

    mi = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert _modularity_from_mi(mi) == pytest.approx(0.5)


# --- Shared properties of the array metrics -------------------------------------------


def test_the_code_metrics_are_read_from_the_registry():
    assert CODE_METRICS == ["dci", "mig", "modularity", "sap"]


@pytest.mark.parametrize("name", CODE_METRICS)
def test_array_metric_keys_are_prefixed_with_the_metric_name(name):
    scores = _scores(name, _disentangled)
    assert scores and all(key.startswith(name) for key in scores)
    assert all(isinstance(value, float) for value in scores.values())


def _permuted_scores(name, design):
    codes_train, factors_train, codes_test, factors_test = _split(design)
    order = [2, 0, 1]
    plain = _registered(name, codes_train, factors_train, codes_test, factors_test)
    permuted = _registered(name, codes_train[:, order], factors_train, codes_test[:, order], factors_test)
    return plain, permuted


@pytest.mark.parametrize(
    ("name", "design"),
    [
        (name, design)
        for name in ["mig", "modularity", "sap"]
        for design in [_disentangled, _entangled, _random]
    ]
    + [("dci", _disentangled)],
)
def test_array_metric_ignores_the_order_of_code_dimensions(name, design):
    plain, permuted = _permuted_scores(name, design)
    assert permuted == pytest.approx(plain, abs=1e-9)


@pytest.mark.parametrize("design", [_entangled, _random])
def test_dci_with_noise_codes_ignores_code_order_up_to_tree_tie_breaking(design):
    # When trees fit noise, small nodes often have two codes that cut them into the
    # same two sets; the tie goes to whichever code the (seeded) splitter visits first,
    # and permuting the codes changes that order. Scores move by a few thousandths.
    plain, permuted = _permuted_scores("dci", design)
    assert permuted == pytest.approx(plain, abs=0.02)


# Not SAP: its SVMs' fixed penalty C=0.01 makes discrete SAP depend on the codes' scale.
@pytest.mark.parametrize("name", ["dci", "mig", "modularity"])
def test_array_metric_ignores_the_scale_and_offset_of_codes(name):
    codes_train, factors_train, codes_test, factors_test = _split(_entangled)
    scale = np.array([3.0, 0.5, 7.0])
    plain = _registered(name, codes_train, factors_train, codes_test, factors_test)
    rescaled = _registered(name, codes_train * scale + 1.0, factors_train, codes_test * scale + 1.0, factors_test)
    assert rescaled == pytest.approx(plain, abs=1e-9)


# --- Bad input -------------------------------------------------------------------------


# Both pairs are spoilt: some metrics fit on the training pair, MIG and modularity read only
# the evaluation pair.
@pytest.mark.parametrize("name", CODE_METRICS)
def test_array_metric_rejects_one_dimensional_codes(name):
    codes_train, factors_train, codes_test, factors_test = _split(_disentangled)
    with pytest.raises(ValueError, match="2-D"):
        _registered(name, codes_train[:, 0], factors_train, codes_test[:, 0], factors_test)


@pytest.mark.parametrize("name", CODE_METRICS)
def test_array_metric_rejects_codes_and_factors_with_different_row_counts(name):
    codes_train, factors_train, codes_test, factors_test = _split(_disentangled)
    with pytest.raises(ValueError, match="rows"):
        _registered(name, codes_train[:-1], factors_train, codes_test[:-1], factors_test)


@pytest.mark.parametrize("name", CODE_METRICS)
def test_array_metric_rejects_nan_codes_with_an_error_the_cli_reports(name):
    codes_train, factors_train, codes_test, factors_test = _split(_disentangled)
    codes_train[3, 1] = codes_test[3, 1] = np.nan
    with pytest.raises(VaeError, match="NaN"):
        _registered(name, codes_train, factors_train, codes_test, factors_test)


def test_train_and_test_codes_must_have_the_same_columns():
    codes_train, factors_train, codes_test, factors_test = _split(_disentangled)
    with pytest.raises(ValueError, match="columns"):
        sap(codes_train, factors_train, codes_test[:, :2], factors_test)


def test_a_single_example_is_too_few():
    with pytest.raises(ValueError, match="at least 2"):
        mig(np.zeros((1, 3)), np.zeros((1, 2), int))


def test_mig_needs_two_code_dimensions():
    rng = np.random.RandomState(0)
    factors = _factors(rng, 100)
    with pytest.raises(ValueError, match="at least 2 code"):
        mig(factors[:, :1].astype(float), factors)


def test_every_factor_constant_is_rejected():
    with pytest.raises(ValueError, match="constant"):
        mig(np.random.RandomState(0).randn(50, 3), np.zeros((50, 2), int))


# --- Helpers ---------------------------------------------------------------------------


def test_discretize_puts_each_column_in_bins_of_its_own_range():
    codes = np.array([[0.0, 100.0], [0.5, 150.0], [1.0, 200.0]])
    np.testing.assert_array_equal(utils.discretize(codes, num_bins=2), [[1, 1], [2, 2], [2, 2]])


def test_discrete_entropy_of_a_uniform_factor_is_log_of_its_values():
    ys = np.tile(np.arange(4), 25)[:, None]
    assert utils.discrete_entropy(ys) == pytest.approx([np.log(4)])


def test_discrete_mutual_info_of_a_copy_is_its_entropy_and_of_a_constant_is_zero():
    ys = np.tile(np.arange(4), 25)[:, None]
    mus = np.stack([ys[:, 0], np.zeros(100, int)], axis=1)
    np.testing.assert_allclose(
        utils.discrete_mutual_info(mus, ys), [[np.log(4)], [0.0]], atol=1e-12
    )


# --- Gaussian total correlation ---------------------------------------------------------


def _codes_with_covariance(covariance, num=500, seed=0):
    """Samples whose empirical covariance (ddof=1) is exactly ``covariance``."""
    rng = np.random.RandomState(seed)
    x = rng.randn(num, len(covariance))
    x -= x.mean(axis=0)
    whitened = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    return whitened @ np.linalg.cholesky(covariance).T


def test_gaussian_total_correlation_matches_the_analytic_value_for_2x2_covariance():
    covariance = np.array([[4.0, 1.2], [1.2, 1.0]])
    expected = 0.5 * (np.log(4.0) + np.log(1.0) - np.log(4.0 * 1.0 - 1.2**2))
    tc = gaussian_total_correlation(_codes_with_covariance(covariance))
    # The sample covariance is exact here, so the plug-in value (corrected + bias) is.
    plug_in = tc["gaussian_total_correlation"] + tc["gaussian_total_correlation_bias"]
    assert plug_in == pytest.approx(expected, abs=1e-9)


def test_gaussian_total_correlation_of_independent_codes_is_near_zero():
    codes = np.random.RandomState(0).randn(5000, 6) * [1, 2, 3, 4, 5, 6]
    # Sampling noise alone gives about num_pairs / (2 * num) = 15 / 10000 nats.
    assert gaussian_total_correlation(codes)["gaussian_total_correlation"] < 0.01


def test_gaussian_total_correlation_of_strongly_correlated_codes_is_large():
    rng = np.random.RandomState(0)
    z = rng.randn(2000, 1)
    codes = np.concatenate([z, z + 0.1 * rng.randn(2000, 1)], axis=1)
    # rho^2 = 1 / 1.01, so TC = -0.5 * log(1 - rho^2) = 0.5 * log(101), about 2.3 nats.
    assert gaussian_total_correlation(codes)["gaussian_total_correlation"] == pytest.approx(
        0.5 * np.log(101), rel=0.1
    )


def test_gaussian_total_correlation_skips_collapsed_dimensions():
    covariance = np.array([[4.0, 1.2], [1.2, 1.0]])
    codes = _codes_with_covariance(covariance)
    with_collapsed = np.concatenate([codes, np.full((len(codes), 1), 0.3)], axis=1)
    assert gaussian_total_correlation(with_collapsed) == pytest.approx(
        gaussian_total_correlation(codes), abs=1e-12
    )


def test_gaussian_total_correlation_of_duplicated_codes_is_infinite():
    z = np.random.RandomState(0).randn(100, 1)
    tc = gaussian_total_correlation(np.concatenate([z, 2 * z], axis=1))
    assert tc["gaussian_total_correlation"] == np.inf


def test_gaussian_total_correlation_rejects_one_dimensional_codes():
    with pytest.raises(ValueError, match="2-D"):
        gaussian_total_correlation(np.zeros(10))


# --- Linear probe ----------------------------------------------------------------------


def test_linear_probe_decodes_a_label_written_linearly_into_the_codes():
    rng = np.random.RandomState(0)
    labels_train, labels_test = rng.randint(3, size=600), rng.randint(3, size=300)
    codes_train = rng.randn(600, 4) + 5.0 * np.eye(4)[labels_train]
    codes_test = rng.randn(300, 4) + 5.0 * np.eye(4)[labels_test]
    scores = linear_probe(codes_train, labels_train, codes_test, labels_test)
    assert scores["probe_accuracy"] > 0.95


def test_linear_probe_on_random_codes_scores_near_chance():
    rng = np.random.RandomState(0)
    labels_train, labels_test = rng.randint(4, size=600), rng.randint(4, size=2000)
    scores = linear_probe(rng.randn(600, 4), labels_train, rng.randn(2000, 4), labels_test)
    assert scores["probe_accuracy"] == pytest.approx(0.25, abs=0.05)


def test_linear_probe_rejects_labels_with_several_columns():
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="1-D"):
        linear_probe(rng.randn(10, 2), np.zeros((10, 2)), rng.randn(5, 2), np.zeros(5))


def test_linear_probe_names_labels_when_rows_do_not_match():
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="labels_train"):
        linear_probe(rng.randn(10, 2), np.arange(9) % 2, rng.randn(5, 2), np.arange(5) % 2)


# --- Sampled metrics: beta-VAE and FactorVAE ---------------------------------------------


class ToyGroundTruth:
    """Factors written as pixel values into the first row of a tiny image."""

    def __init__(self, factors_num_values=NUM_VALUES):
        self.factors_num_values = list(factors_num_values)
        self.num_factors = len(self.factors_num_values)

    def sample_factors(self, num, random_state):
        return np.stack(
            [random_state.randint(k, size=num) for k in self.factors_num_values], axis=1
        )

    def sample_observations_from_factors(self, factors, random_state):
        observations = np.zeros((len(factors), 4, 8, 1), np.float32)
        observations[:, 0, : self.num_factors, 0] = factors
        return observations


def _read_factors(observations):
    return observations[:, 0, : len(NUM_VALUES), 0].astype(np.float64)


def _random_representation(seed=1, dims=5):
    rng = np.random.RandomState(seed)
    return lambda observations: rng.randn(len(observations), dims)


SAMPLED = {"batch_size": 16, "num_train": 300, "num_eval": 300}


def test_beta_vae_score_is_near_one_when_the_codes_are_the_factors():
    scores = beta_vae_score(ToyGroundTruth(), _read_factors, np.random.RandomState(0), **SAMPLED)
    assert scores["beta_vae_accuracy_train"] > 0.9
    assert scores["beta_vae_accuracy_eval"] > 0.9


def test_beta_vae_score_of_random_codes_is_near_chance():
    scores = beta_vae_score(
        ToyGroundTruth(), _random_representation(), np.random.RandomState(0), **SAMPLED
    )
    assert scores["beta_vae_accuracy_eval"] == pytest.approx(1 / 3, abs=0.1)


def test_beta_vae_score_is_reproducible_from_the_random_state():
    def run():
        return beta_vae_score(
            ToyGroundTruth(),
            _read_factors,
            np.random.RandomState(7),
            batch_size=4,
            num_train=50,
            num_eval=50,
        )

    assert run() == run()


def test_beta_vae_score_rejects_a_representation_with_the_wrong_row_count():
    with pytest.raises(ValueError, match="representation_fn returned"):
        beta_vae_score(
            ToyGroundTruth(),
            lambda obs: _read_factors(obs)[:-1],
            np.random.RandomState(0),
            **SAMPLED,
        )


def test_factor_vae_score_is_near_one_when_the_codes_are_the_factors():
    scores = factor_vae_score(
        ToyGroundTruth(),
        _read_factors,
        np.random.RandomState(0),
        num_variance_estimate=1000,
        **SAMPLED,
    )
    assert scores["factor_vae_accuracy_train"] > 0.9
    assert scores["factor_vae_accuracy_eval"] > 0.9
    assert scores["factor_vae_num_active_dims"] == 3


def test_factor_vae_score_of_random_codes_is_near_chance():
    scores = factor_vae_score(
        ToyGroundTruth(),
        _random_representation(),
        np.random.RandomState(0),
        num_variance_estimate=1000,
        **SAMPLED,
    )
    assert scores["factor_vae_accuracy_eval"] == pytest.approx(1 / 3, abs=0.1)


def test_factor_vae_score_prunes_collapsed_dimensions_and_votes_on_the_right_ones():
    def with_collapsed(observations):
        factors = _read_factors(observations)
        # A collapsed dimension in front shifts every live dimension's index by one.
        return np.concatenate([np.full((len(factors), 1), 0.5), factors[:, ::-1]], axis=1)

    scores = factor_vae_score(
        ToyGroundTruth(),
        with_collapsed,
        np.random.RandomState(0),
        num_variance_estimate=1000,
        **SAMPLED,
    )
    assert scores["factor_vae_num_active_dims"] == 3
    assert scores["factor_vae_accuracy_eval"] > 0.9


def test_factor_vae_score_is_zero_when_every_dimension_has_collapsed():
    scores = factor_vae_score(
        ToyGroundTruth(),
        lambda obs: np.zeros((len(obs), 4)),
        np.random.RandomState(0),
        num_variance_estimate=100,
        **SAMPLED,
    )
    assert scores == {
        "factor_vae_accuracy_train": 0.0,
        "factor_vae_accuracy_eval": 0.0,
        "factor_vae_num_active_dims": 0,
    }
