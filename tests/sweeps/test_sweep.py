"""Sweeps end to end: Keras Tuner trials as nested MLflow runs, failure, interrupt and resume."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from store_helpers import wait_for

from sweeps import record
from sweeps.record import tradeoffs
from sweeps.selection.pareto import dominates
from sweeps.space import default_path
from vae.models import MODELS
from vaesweep.cli import main


def sweep_runs(client, dataset="mnist"):
    experiment = client.get_experiment_by_name(record.experiment_name(dataset)).experiment_id
    parents = record.sweep_runs(client, experiment)
    children = [c for p in parents for c in record.children(client, experiment, p.info.run_id, role=record.TRIAL)]
    return parents, children


def check_finished_trial(client, run, parent_id, objective="val_elbo"):
    assert run.data.tags[record.PARENT] == parent_id
    assert run.data.tags[record.TRIAL_STATUS] == "FINISHED"
    for key in ["model", "latent_dim", "learning_rate", "batch_size", "depth", "dataset", "version_keras_tuner"]:
        assert key in run.data.params, key
    family = MODELS[run.data.params["model"]]
    latent_dim = int(run.data.params["latent_dim"])
    epochs = len(client.get_metric_history(run.info.run_id, "val_loss"))
    assert epochs >= 1
    logged = list(family.logged_metric_names())
    per_dim = [f"kl_dim_{i}" for i in range(latent_dim)] if family.has_elbo else []
    for name in logged + [f"val_{n}" for n in logged] + per_dim:
        assert len(client.get_metric_history(run.info.run_id, name)) == epochs, name
    assert f"best_{objective}" in run.data.metrics
    if family.has_elbo:
        assert {"test_elbo", "test_active_units", "test_gaussian_total_correlation"} <= set(run.data.metrics)
    else:
        assert "test_elbo" not in run.data.metrics and "elbo" not in run.data.metrics
    manifold = ("manifold",) if family.code_kind == "vector" and latent_dim == 2 else ()  # a 2-D code's map
    images = {record.image_path(n) for n in (*family.figures, *manifold)}
    final = {a.path for a in client.list_artifacts(run.info.run_id, record.IMAGE_DIR)}
    assert final == images  # beside them, the MLflow images of each step (tests/sweeps/test_records.py)


@pytest.mark.parametrize("tuner", ["hyperband", "bayesian"])  # random: the report and distributed tests
def test_smoke_sweep_records_one_parent_and_a_finished_child_run_per_trial(tuner, store, client, mnist_data, capsys):
    code = main(["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke",
                 "--tuner", tuner, "--tracking-uri", store])
    assert code == 0
    [parent], children = sweep_runs(client)
    assert parent.info.status == "FINISHED"
    assert parent.data.params["tuner"] == tuner and parent.data.params["budget"] == "smoke"
    assert parent.data.params["objective"] == "val_elbo"
    # the resolved space, and the selection files (Pareto front, importances) of sweeps.tradeoffs
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["search_space.yaml", "selection"]
    finished = [c for c in children if c.info.status == "FINISHED"]
    assert len(finished) == len(children) == 2
    for child in finished:
        check_finished_trial(client, child, parent.info.run_id)
        assert "test_mig" not in child.data.metrics  # MNIST: a single label factor
        # chosen on the best epoch's val_elbo: that epoch is the model evaluated and registered
        history = [m.value for m in client.get_metric_history(child.info.run_id, "val_elbo")]
        assert int(child.data.params["evaluated_epoch"]) == 1 + history.index(max(history))
        assert child.data.metrics["best_val_elbo"] == max(history)
        if child.data.params["model"] != "vqvae":
            assert "test_probe_accuracy" in child.data.metrics
            assert "single label" in record.skipped(child)["mig"]
    best = max(finished, key=lambda r: r.data.metrics["best_val_elbo"])
    assert parent.data.tags[record.BEST_RUN_ID] == best.info.run_id
    assert best.data.tags.get(record.BEST) == "true"
    assert client.get_model_version_by_alias("vae-mnist", record.BEST_ALIAS).run_id == best.info.run_id
    assert parent.data.metrics["trials_finished"] == 2
    out = capsys.readouterr()
    assert "make ui" in out.out and "[2/2 trials]" in out.err and "ETA" in out.err


def test_dsprites_smoke_sweep_chooses_on_validation_mig_and_reports_test_mig(store, client):
    assert main(["sweep", "--dataset", "dsprites", "--budget", "smoke", "--tuner", "random", "--tracking-uri", store]) == 0
    [parent], children = sweep_runs(client, "dsprites")
    finished = [c for c in children if c.info.status == "FINISHED"]
    assert finished, [c.data.tags.get(record.FAILURE_REASON) for c in children]
    assert parent.data.params["objective"] == "val_mig" and parent.data.params["objective_direction"] == "max"
    best = max(finished, key=lambda r: r.data.metrics["val_mig"])
    assert parent.data.tags[record.BEST_RUN_ID] == best.info.run_id and best.data.tags[record.BEST] == "true"
    # Keras Tuner's score of each trial is the figure it was chosen by: its validation MIG
    scores = {}
    for path in Path("mlruns", "tuner", record.sweep_name(parent)).glob("trial_*/trial.json"):
        trial = json.loads(path.read_text())
        scores[trial["trial_id"]] = trial["score"]
    for child in finished:
        check_finished_trial(client, child, parent.info.run_id, objective="val_mig")
        assert child.data.metrics["best_val_mig"] == child.data.metrics["val_mig"]
        assert scores[child.data.tags[record.TRIAL_ID]] == pytest.approx(child.data.metrics["val_mig"])
        assert child.data.params["val_eval_digest"] != child.data.params["eval_digest"]
        for name in ["test_mig", "test_sap", "test_dci_disentanglement", "test_modularity",
                     "test_beta_vae_accuracy_eval", "test_factor_vae_accuracy_eval"]:
            assert name in child.data.metrics, name
        has_bound = MODELS[child.data.params["model"]].has_elbo
        assert ("test_nll" in child.data.metrics) == has_bound
        assert ("test_bits_per_dim" in child.data.metrics) == has_bound
        assert child.data.params["metric_num_bins"] == "20"
    # Pareto ranks over the shipped space's two objectives: no front member is dominated
    values = {c.info.run_id: [c.data.metrics["best_val_mig"], c.data.metrics["val_elbo"]] for c in finished}
    ranks = {c.info.run_id: c.data.metrics[tradeoffs.PARETO_RANK] for c in finished}
    front = [r for r, rank in ranks.items() if rank == 1]
    assert front and all(not dominates(values[o], values[f], ["max", "max"]) for f in front for o in values)
    assert all(any(dominates(values[o], values[r], ["max", "max"]) for o in values) for r in ranks if ranks[r] > 1)
    by_id = {c.info.run_id: c.data.tags[record.TRIAL_ID] for c in finished}
    assert sorted(parent.data.tags[tradeoffs.PARETO_FRONT].split(",")) == sorted(by_id[r] for r in front)


def test_every_trial_diverging_is_recorded_as_failed_with_a_clear_message(store, client, mnist_data, tmp_path, capsys):
    space = yaml.safe_load(default_path("mnist").read_text())
    space["hyperparameters"]["learning_rate"] = [1.0e4]
    config = tmp_path / "diverge.yaml"
    config.write_text(yaml.safe_dump(space))
    code = main(["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--tuner", "random",
                 "--config", str(config), "--tracking-uri", store])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: every trial of sweep" in err and "diverged" in err and "Traceback" not in err
    [parent], children = sweep_runs(client)
    assert parent.info.status == "FAILED"
    assert len(children) == 2
    for child in children:
        assert child.info.status == "FAILED"
        assert child.data.tags[record.FAILURE_REASON].startswith("diverged:")


def test_sigkill_during_second_trial_then_resume_finishes_the_planned_trials_once(store, client, mnist_data, tmp_path):
    args = ["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--max-trials", "3",
            "--name", "killed", "--tracking-uri", store]
    exe = Path(sys.executable).parent / "vaesweep"
    # A slower second trial gives the test time to kill it mid-trial: more images, same smoke budget.
    proc = subprocess.Popen([str(exe), *args, "--subset", "2000"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        def second_trial_running():
            experiment = client.get_experiment_by_name("vae-mnist")
            if experiment is None:
                return False
            return any(record.trial_row(r).trial_id == "1" and r.info.status == "RUNNING"
                       for p in record.sweep_runs(client, experiment.experiment_id)
                       for r in record.children(client, experiment.experiment_id, p.info.run_id))

        wait_for(second_trial_running, 240, "the second trial to start")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, children = sweep_runs(client)
    assert any(c.info.status == "RUNNING" for c in children)
    finished_before = {c.data.tags[record.TRIAL_ID] for c in children if c.info.status == "FINISHED"}
    assert finished_before == {"0"}

    assert main([*args, "--subset", "2000", "--resume"]) == 0
    [parent], children = sweep_runs(client)
    assert parent.info.status == "FINISHED"
    finished = [c for c in children if c.info.status == "FINISHED"]
    assert sorted(c.data.tags[record.TRIAL_ID] for c in finished) == ["0", "1", "2"]
    assert not [c for c in children if c.info.status == "RUNNING"]
    killed = [c for c in children if c.info.status == "KILLED"]
    assert [c.data.tags[record.TRIAL_ID] for c in killed] == ["1"]
    assert all(c.data.tags[record.PARENT] == parent.info.run_id for c in children)


def test_resuming_a_finished_sweep_runs_no_trial_again(store, client, mnist_data, capsys):
    args = ["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--tuner", "random",
            "--name", "again", "--tracking-uri", store]
    assert main(args) == 0
    assert main(args) == 0  # the same name continues the same sweep
    parents, children = sweep_runs(client)
    assert len(parents) == 1 and len(children) == 2
    assert "resuming sweep 'again'" in capsys.readouterr().err


def test_resume_of_an_unknown_sweep_is_a_clear_error(store, mnist_data, capsys):
    code = main(["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--name", "nope",
                 "--resume", "--tracking-uri", store])
    assert code == 2
    assert "no sweep named 'nope' to resume" in capsys.readouterr().err


def test_missing_data_fails_in_one_line_before_the_store_is_touched(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    code = main(["sweep", "--dataset", "celeba", "--data-dir", str(tmp_path / "empty"), "--budget", "smoke"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: celeba") and "list_attr_celeba.txt" in err[0]
    assert not (tmp_path / "mlruns").exists()


def test_a_sweep_over_its_memory_limit_restarts_its_process_and_resumes(store, client, mnist_data, tmp_path):
    exe = Path(sys.executable).parent / "vaesweep"
    args = ["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--tuner", "random",
            "--max-trials", "2", "--name", "restarts", "--tracking-uri", store]
    env = {**os.environ, "VAESWEEP_RESTART_AFTER_MB": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([str(exe), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.count("restarting the process to resume sweep 'restarts'") == 1
    [parent], children = sweep_runs(client)
    assert parent.info.status == "FINISHED"
    assert sorted(c.data.tags[record.TRIAL_ID] for c in children if c.info.status == "FINISHED") == ["0", "1"]
    assert len(children) == 2
