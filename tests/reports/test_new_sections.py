"""The disentanglement and expected-results sections on small arrays and frames: the MI
heatmap's order and greying, seeds as intervals, the family × dataset grouping, and the
latent view's PCA fallback."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from reports import stats
from reports.sections import disentanglement, expected_results

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")


def _frame(rows):
    """A trial frame as ``reports.data.trial_frame`` makes it, from dicts of the columns used."""
    defaults = {"status": "FINISHED", "config_digest": None, "metrics_skipped": {}, "failure_reason": None}
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    return frame.set_index("run_id")


def test_a_latent_that_copies_factor_0_is_sorted_first_and_peaks_there():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 4, size=(500, 2))
    codes = np.column_stack([rng.normal(size=500),  # noise
                             factors[:, 1] + rng.normal(scale=0.05, size=500),  # knows factor 1
                             factors[:, 0].astype(float)])  # a copy of factor 0
    view = disentanglement.mi_view(codes, factors)
    assert view["order"][0] == 2
    assert list(view["best_factor"]) == sorted(view["best_factor"])  # grouped by factor
    assert view["mi"][0].argmax() == 0 and view["mi"][0, 0] == pytest.approx(1.0)
    row = list(view["order"]).index(1)
    assert view["best_factor"][row] == 1 and view["mi"][row, 1] > 0.9
    assert not view["inactive"].any()
    image = disentanglement._draw_heatmap(view, ["shape", "scale"], shown=3)
    assert image.startswith("data:image/png;base64,")


def test_a_constant_latent_or_one_without_kl_is_flagged_inactive_and_sorted_last():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 3, size=(300, 1))
    codes = np.column_stack([np.full(300, 0.5), factors[:, 0] + rng.normal(scale=0.1, size=300),
                             rng.normal(size=300)])
    view = disentanglement.mi_view(codes, factors)
    assert list(view["order"]) == [1, 2, 0] and list(view["inactive"]) == [False, False, True]
    view = disentanglement.mi_view(codes, factors, kl=np.array([1.0, 2.0, 0.001]))  # z2: no KL, so unused
    assert view["order"][0] == 1 and list(view["inactive"]) == [False, True, True]


def test_two_seeds_of_one_configuration_are_one_point_with_a_t_interval():
    frame = _frame([
        {"run_id": "a", "trial_id": "1", "config_digest": "c1", "params.beta": "4", "params.model": "beta",
         "metrics.test_mig": 0.30},
        {"run_id": "b", "trial_id": "1", "config_digest": "c1", "params.beta": "4", "params.model": "beta",
         "metrics.test_mig": 0.40},
        {"run_id": "c", "trial_id": "2", "config_digest": "c2", "params.beta": "1", "params.model": "beta",
         "metrics.test_mig": 0.10},
        {"run_id": "d", "trial_id": "3", "status": "FAILED", "params.beta": "10", "params.model": "beta"},
    ])
    points = sorted(disentanglement.tradeoff_points(frame, "test_mig"), key=lambda p: p["beta"])
    assert [(p["beta"], p["seeds"]) for p in points] == [(1.0, 1), (4.0, 2)]
    assert points[0]["half_width"] is None
    assert points[1]["value"] == pytest.approx(0.35)
    # two values 0.3 and 0.4: s.e. 0.05, t(0.975, 1) = 12.706
    assert points[1]["half_width"] == pytest.approx(scipy_stats.t.ppf(0.975, 1) * 0.05)
    block = disentanglement.tradeoff(frame)
    assert block["image"].startswith("data:image/png;base64,") and block["replicated"]
    assert block["metrics"] == ["MIG"] and "test_reconstruction_loss" in block["absent"]



def test_the_tradeoff_draws_only_final_round_trials_and_names_what_else_varies():
    frame = _frame([  # Hyperband, 6 epochs: trials 1-2 ran a 2-epoch round, 3-4 the final round
        {"run_id": "a", "trial_id": "1", "params.tuner_epochs": "2", "params.beta": "1", "params.model": "beta",
         "params.latent_dim": "4", "metrics.test_mig": 0.05},
        {"run_id": "b", "trial_id": "2", "params.tuner_epochs": "2", "params.beta": "16", "params.model": "beta",
         "params.latent_dim": "8", "metrics.test_mig": 0.02},
        {"run_id": "c", "trial_id": "3", "params.tuner_epochs": "6", "params.beta": "4", "params.model": "beta",
         "params.latent_dim": "4", "params.learning_rate": "0.001", "metrics.test_mig": 0.30},
        {"run_id": "d", "trial_id": "4", "params.tuner_epochs": "6", "params.beta": "8", "params.model": "beta",
         "params.latent_dim": "10", "params.learning_rate": "0.001", "metrics.test_mig": 0.40},
    ])
    kept, short = disentanglement.final_round(frame, 6.0)
    assert list(kept.index) == ["c", "d"] and short == 2
    block = disentanglement.tradeoff(frame, 6.0, ["model", "latent_dim", "beta", "learning_rate"])
    assert block["betas"] == ["4", "8"] and block["left_out_rounds"] == 2 and block["epochs"] == "6"
    assert block["varying"] == ["latent_dim (4, 10)"]  # numeric order; learning_rate is the same in both
    # Without a budget (or without Hyperband's tuner_epochs) every run is drawn.
    assert disentanglement.tradeoff(frame)["betas"] == ["1", "4", "8", "16"]

def test_the_tradeoff_says_why_when_beta_was_not_swept():
    frame = _frame([{"run_id": r, "trial_id": r, "params.beta": "1.0", "metrics.test_mig": 0.2} for r in "ab"])
    block = disentanglement.tradeoff(frame)
    assert block["image"] is None and block["reason"].startswith("β was not swept (every finished trial has β = 1)")
    frame = _frame([{"run_id": "a", "trial_id": "1", "params.model": "mlp"},
                    {"run_id": "b", "trial_id": "2", "params.model": "beta", "params.beta": "4", "status": "FAILED"}])
    assert disentanglement.tradeoff(frame)["reason"] == ("β was not swept (no finished trial logged a β; β = 4 only in "
                                                        "trials that did not finish; 1 mlp run has no β), so there is "
                                                        "no trade-off to draw")


def test_a_single_run_uses_its_logged_standard_error_or_says_it_has_no_interval():
    frame = _frame([{"run_id": "a", "trial_id": "1", "metrics.test_nll": 90.0, "metrics.test_nll_se": 0.5,
                     "metrics.test_reconstruction_loss": 80.0}])
    [group] = stats.configurations(frame)
    nll = stats.estimate(group, "test_nll")
    assert (nll.value, nll.half_width, nll.text) == (90.0, pytest.approx(0.98), "90 ± 0.9800")
    rec = stats.estimate(group, "test_reconstruction_loss")
    assert rec.half_width is None and rec.how == stats.NO_INTERVAL and rec.text == "80"
    assert stats.estimate(group, "sample_recall") is None


def test_expected_results_are_grouped_by_family_and_dataset_and_keep_the_best_configuration():
    frame = _frame([
        {"run_id": "a", "trial_id": "1", "params.model": "beta", "params.dataset": "dsprites", "config_digest": "x",
         "metrics.test_reconstruction_loss": 50.0},
        {"run_id": "b", "trial_id": "1", "params.model": "beta", "params.dataset": "dsprites", "config_digest": "x",
         "metrics.test_reconstruction_loss": 52.0},
        {"run_id": "c", "trial_id": "2", "params.model": "beta", "params.dataset": "dsprites",
         "metrics.test_reconstruction_loss": 60.0},
        {"run_id": "d", "trial_id": "3", "params.model": "conv", "params.dataset": "dsprites",
         "metrics.test_reconstruction_loss": 40.0, "metrics.sample_precision": 0.7},
        {"run_id": "e", "trial_id": "4", "params.model": "conv", "params.dataset": "dsprites",
         "metrics.sample_precision": 0.9, "metrics.test_reconstruction_loss": 45.0},
    ])
    groups = expected_results.groups(frame, "dsprites")
    assert [(m, ds, list(t.index)) for m, ds, t in groups] == [("beta", "dsprites", ["a", "b", "c"]),
                                                                ("conv", "dsprites", ["d", "e"])]
    beta = expected_results.best_estimate(groups[0][2], "test_reconstruction_loss", "min")
    assert beta.run_ids == ("a", "b") and beta.value == 51.0 and beta.half_width > 0
    conv = groups[1][2]
    assert expected_results.best_estimate(conv, "test_reconstruction_loss", "min").run_ids == ("d",)
    assert expected_results.best_estimate(conv, "sample_precision", "max").value == 0.9
    assert expected_results.best_estimate(conv, "sample_recall", "max") is None


def test_many_points_fall_back_to_pca_and_say_so():
    from reports.sections import latent

    codes = np.random.default_rng(0).normal(size=(latent.TSNE_MAX_POINTS + 1, 5))
    xy, method = latent.project(codes)
    assert xy.shape == (len(codes), 2)
    assert method == (f"PCA of the 5-dimensional posterior means to 2 dimensions (the quick alternative to t-SNE, "
                      f"used above {latent.TSNE_MAX_POINTS} points)")
    assert latent.project(codes[:50], method="pca")[1] == "PCA of the 5-dimensional posterior means to 2 dimensions"
    np.testing.assert_array_equal(latent.project(codes[:50, :2])[0], codes[:50, :2])  # 2-D: as they are
