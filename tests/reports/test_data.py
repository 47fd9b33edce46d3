"""Reading a sweep out of MLflow: which sweep, which trials in which order, exact values."""

import math

import pytest
from sweep_names import FAILED_NAME, MAIN_NAME

from reports import data as d
from sweeps import record
from vae.errors import SweepError

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")


def test_latest_sweep_without_a_finished_trial_is_refused_in_one_line(store):
    with pytest.raises(SweepError) as error:
        d.load_sweep("mnist", None, store.uri)  # the latest sweep is the one whose only trial diverged
    message = str(error.value)
    assert f"sweep '{FAILED_NAME}' has no finished trial" in message
    assert "1 failed" in message and "diverged" in message and "\n" not in message


def test_a_sweep_is_found_by_name_and_by_parent_run_id(store):
    by_name = d.load_sweep("mnist", MAIN_NAME, store.uri)
    by_id = d.load_sweep("mnist", store.main_id, store.uri)
    assert by_name.run_id == by_id.run_id == store.main_id
    assert by_name.name == MAIN_NAME
    assert set(by_name.trials.index) == set(by_id.trials.index)


def test_unknown_sweep_lists_the_known_ones_newest_first(store):
    with pytest.raises(SweepError, match="no sweep 'nope' of mnist") as error:
        d.load_sweep("mnist", "nope", store.uri)
    message = str(error.value)
    assert message.index(FAILED_NAME) < message.index(MAIN_NAME)


def test_a_trial_run_id_is_answered_with_its_sweep(store, sweep):
    trial_id = sweep.best.name
    with pytest.raises(SweepError, match=f"is a trial of sweep '.*', not a sweep; pass --sweep {store.main_id}"):
        d.load_sweep("mnist", trial_id, store.uri)


def test_missing_store_and_dataset_without_sweeps_are_user_errors(store, tmp_path):
    with pytest.raises(SweepError, match="no MLflow store at"):
        d.load_sweep("mnist", None, f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()  # a report must not create a store
    with pytest.raises(SweepError, match="no sweep of fashion_mnist .*it has sweeps of: mnist"):
        d.load_sweep("fashion_mnist", None, store.uri)


def test_trials_are_best_first_with_the_values_mlflow_holds(store, sweep):
    runs = {r.info.run_id: r for r in record.children(store.client, sweep.run.info.experiment_id, store.main_id,
                                                      role=record.TRIAL)}
    trials = sweep.trials
    assert set(trials.index) == set(runs)
    for run_id, trial in trials.iterrows():
        run = runs[run_id]
        assert trial["status"] == run.data.tags[record.TRIAL_STATUS] == run.info.status
        assert trial["trial_id"] == run.data.tags[record.TRIAL_ID]
        for key, value in run.data.metrics.items():
            assert trial[f"metrics.{key}"] == value or math.isnan(value) and math.isnan(trial[f"metrics.{key}"])
        for key, value in run.data.params.items():
            assert trial[f"params.{key}"] == value
    finished = trials[trials["status"] == "FINISHED"]
    assert list(finished["objective"]) == sorted((runs[r].data.metrics["best_val_elbo"] for r in finished.index),
                                                 reverse=True)
    assert list(finished["rank"]) == list(range(1, len(finished) + 1))
    failed = trials[trials["status"] == "FAILED"]
    assert len(failed) >= 1 and failed["rank"].isna().all()
    assert list(trials["status"]).index("FAILED") == len(finished)  # failed trials come after
    assert sweep.best.name == sweep.tags[record.BEST_RUN_ID]


def test_history_is_the_logged_series_by_epoch(store, sweep):
    run_id = sweep.best.name
    logged = store.client.get_metric_history(run_id, "val_loss")
    series = sweep.history(run_id, "val_loss")
    assert list(series.index) == [m.step for m in logged]
    assert list(series.values) == [m.value for m in logged]
    assert sweep.history(run_id, "no_such_metric").empty


def test_hyperparameters_exclude_run_description_and_follow_display_order(sweep):
    assert sweep.hyperparameters() == ["model", "latent_dim", "beta", "learning_rate", "batch_size", "depth"]


def test_a_skipped_metric_covers_every_column_its_registry_entry_logs():
    assert d.covers("dci", "dci_completeness") and d.covers("beta_vae_score", "beta_vae_accuracy_eval")
    assert d.covers("likelihood", "test_nll") and d.covers("likelihood", "test_bits_per_dim")
    assert d.covers("test_nll", "test_nll") and not d.covers("sap", "sample_loss") and not d.covers("mig", "sap")
