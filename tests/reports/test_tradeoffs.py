"""The trade-off sections on the shared store (``main``: two objectives, replicates chosen by
UDR, too few trials for importances) and on a synthetic sweep in which only the learning rate
drives the objective."""

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from reports import render
from reports.data import load_sweep
from sweeps import record, tracking, tradeoffs
from sweeps.record import tradeoffs as names
from sweeps.space import parse_space


def test_report_shows_the_front_with_the_chosen_trial_starred(sweep, html):
    pareto = sweep.tradeoffs("pareto")
    group = pareto["groups"][0]
    assert [tuple(o) for o in pareto["objectives"]] == [("val_elbo", "max"), ("val_kl_loss", "min")]
    assert set(group["ranks"]) == set(sweep.finished().index)  # every finished trial is ranked
    assert 'alt="Pareto front"' in html
    chosen = sweep.chosen_run_id
    if chosen in group["front"]:
        assert f"{group['trial_ids'][chosen]} ★ chosen" in html
    else:
        assert "(it is not on the front)" in html
    for run_id in group["front"]:
        assert sweep.metric(run_id, names.PARETO_RANK) == 1


def test_each_replicated_configuration_logs_its_udr_and_the_parent_records_the_choice(sweep, html):
    scores = sweep.tradeoffs("udr")
    assert len(scores) == 1  # --replicate-top 1
    [(digest, result)] = scores.items()
    runs = [r for r in sweep.runs.values() if record.trial_row(r).config_digest == digest
            and r.info.status == record.FINISHED]
    assert len(runs) == 3 and result["seeds"] == 3
    for run in runs:
        assert run.data.metrics["udr"] == pytest.approx(result["udr"])
        assert run.data.metrics["udr_pair_min"] <= run.data.metrics["udr"] <= run.data.metrics["udr_pair_max"]
    assert sweep.selection == "udr" and sweep.tags[names.UDR_CONFIG_DIGEST] == digest
    assert sweep.metrics[names.CHOSEN_UDR] == pytest.approx(result["udr"])
    assert sweep.chosen_run_id == result["run_id"]
    assert "Agreement between seeds (UDR)" in html and "The sweep chose by UDR (starred)" in html


def test_too_few_trials_for_importances_is_said_in_one_line(sweep, html):
    for name in ("val_elbo", "val_kl_loss"):
        assert "importance needs at least 8" in sweep.tradeoffs("importance")[name]["reason"]
    assert "Importance not estimated: 3 trials with a finite objective; importance needs at least 8" in html


SPACE = {"dataset": "mnist", "objective": {"name": "val_elbo", "direction": "max"}, "models": {"mlp": {}},
         "hyperparameters": {"latent_dim": [2, 4, 8], "learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
                             "batch_size": [32, 64, 128]}}


def test_importances_rank_the_learning_rate_first_when_only_it_drives_the_objective(tmp_path, empty_store_template):
    import shutil

    shutil.copy(empty_store_template, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = tracking.experiment_id(client, record.experiment_name("mnist"), record.experiment_tags())
    parent = record.create_sweep(client, experiment, "synthetic", "digest")
    tracking.log_params(client, parent, {"objective": "val_elbo", "objective_direction": "max"})
    space = parse_space(SPACE, "mnist", "synthetic.yaml")
    rng = np.random.default_rng(0)
    for i in range(16):
        lr = float(10 ** rng.uniform(-4, -1))
        run = record.create_trial(client, experiment, parent, "synthetic", str(i), "mlp", "local")
        tracking.log_params(client, run, {"model": "mlp", "learning_rate": lr, "latent_dim": int(rng.choice([2, 4, 8])),
                                          "batch_size": int(rng.choice([32, 64, 128]))})
        tracking.log_metrics(client, run, {"best_val_elbo": -100.0 - 20.0 * np.log10(lr) ** 2 + rng.normal(0, 0.1)})
        record.end_run(client, run, record.FINISHED)
    finished = record.children(client, experiment, parent, record.FINISHED)
    result = tradeoffs.record_importance(client, parent, finished, space, resamples=8)["val_elbo"]
    assert result["reason"] is None and result["params"][0]["name"] == "learning_rate"
    assert result["params"][0]["importance"] > 0.8
    client.set_terminated(parent, record.FINISHED)
    sweep = load_sweep("mnist", "synthetic", uri)
    assert sweep.metrics[names.importance_key("val_elbo", "learning_rate")] == pytest.approx(result["params"][0]["importance"])
    html = render.render(sweep)
    assert 'alt="importances for val_elbo"' in html and "<tr><td>learning_rate</td>" in html
    assert html.index("<tr><td>learning_rate</td>") < html.index("<tr><td>latent_dim</td>")
