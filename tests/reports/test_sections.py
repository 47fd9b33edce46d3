"""The sections' own computations: the latent projection, rate-distortion points, hyperparameter
plots and the metric columns left out, on the shared store or on small arrays."""

import numpy as np
import pytest

from reports.data import CODES
from reports.figures import fmt, seconds
from reports.sections import hyperparams, latent, rate_distortion, table

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")


def test_two_dimensional_codes_are_drawn_as_they_are():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    xy, method = latent.project(codes)
    np.testing.assert_array_equal(xy, codes)
    assert "as they are" in method


def test_larger_codes_go_through_pca_then_tsne():
    codes = np.random.default_rng(0).normal(size=(60, 64))
    xy, method = latent.project(codes)
    assert xy.shape == (60, 2) and np.isfinite(xy).all()
    assert method.startswith("PCA from 64 to 50 dimensions, then t-SNE of the 50-dimensional")
    xy, method = latent.project(np.random.default_rng(0).normal(size=(4, 64)))
    assert xy.shape == (4, 2) and method == "PCA from 64 to 4 dimensions, then PCA to 2 dimensions (too few points for t-SNE)"


def test_subsample_keeps_at_most_the_limit_the_same_way_every_time():
    keep = latent.subsample(5000, 1000)
    assert len(keep) == 1000 and len(set(keep)) == 1000 and keep.max() < 5000
    np.testing.assert_array_equal(keep, latent.subsample(5000, 1000))
    np.testing.assert_array_equal(latent.subsample(10, 1000), np.arange(10))


def test_factors_colour_one_panel_each_and_labels_one():
    factors = np.random.default_rng(0).integers(0, 3, size=(20, 3))
    colours, names = latent._colours({"codes": np.zeros((20, 2)), "factors": factors,
                                      "factor_names": np.array(["shape", "scale", "x"])}, 20)
    assert names == ["shape", "scale", "x"] and len(colours) == 3
    np.testing.assert_array_equal(colours[1], factors[:, 1])
    colours, names = latent._colours({"labels": np.arange(20) % 10}, 20)
    assert names == ["label"] and len(colours) == 1


def test_latent_view_of_the_best_trial_or_a_warning_why_not(sweep):
    best = sweep.best.name
    view = latent.build(sweep)
    assert view["run_id"] == best
    if CODES in sweep.artifact_paths(best):
        codes = sweep.codes(best)
        assert view["image"].startswith("data:image/png;base64,")
        assert view["points"] == min(len(codes["codes"]), latent.MAX_POINTS)
        assert view["dims"] == codes["codes"].shape[1] == int(sweep.trials.loc[best, "params.latent_dim"])
    else:
        assert CODES in view["warning"]
    failed = sweep.trials.index[sweep.trials["status"] == "FAILED"][0]
    assert f"no {CODES} artifact" in latent.view_for(sweep, failed)["warning"]


def test_rate_distortion_uses_each_finished_trials_test_values(sweep):
    found, left_out = rate_distortion.points(sweep)
    finished = sweep.finished()
    assert {p["run_id"] for p in found} == set(finished.index) and left_out == []
    for p in found:
        assert p["source"] == "test"
        assert p["distortion"] == sweep.runs[p["run_id"]].data.metrics["test_reconstruction_loss"]
        assert p["rate"] == sweep.runs[p["run_id"]].data.metrics["test_kl_loss"]
    assert rate_distortion.build(sweep)["image"].startswith("data:image/png;base64,")


def test_hyperparameters_that_varied_get_a_plot_and_the_rest_are_listed(sweep):
    block = hyperparams.build(sweep)
    varied = [p["name"] for p in block["plots"]]
    fixed = dict(block["fixed"])
    assert fixed == {"batch_size": "64", "depth": "2"}
    assert varied == ["model", "latent_dim", "beta", "learning_rate"]
    learning_rate = next(p for p in block["plots"] if p["name"] == "learning_rate")
    assert learning_rate["failed"] == int((sweep.trials["status"] == "FAILED").sum())


def test_metrics_no_trial_logged_are_listed_with_the_reason(sweep):
    block = table.build(sweep)
    shown = {c["key"] for c in block["columns"]}
    left = {key for group in block["left_out"] for key in group["keys"]}
    assert "test_mig" in left and "metrics.test_mig" not in shown  # MNIST has one label: no MIG
    assert left.isdisjoint({c.removeprefix("metrics.") for c in shown})
    mig = next(g for g in block["left_out"] if "test_mig" in g["keys"])
    assert "single label factor" in mig["reason"]


@pytest.mark.parametrize(("value", "text"), [
    (None, "—"), (float("nan"), "—"), (14.0, "14"), (-541.96099, "-541.96"), (0.53060, "0.5306"),
    (0.000111, "1.110e-04"), (25000000.5, "2.5000e+07"),
])
def test_numbers_are_shown_rounded_by_magnitude(value, text):
    assert fmt(value) == text


def test_durations_read_as_seconds_minutes_or_hours():
    assert [seconds(9.44), seconds(125), seconds(3725), seconds(None)] == ["9.4s", "2m05s", "1h02m", "—"]
