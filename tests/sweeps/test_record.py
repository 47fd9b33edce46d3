"""The MLflow record's schema: structured skip reasons, trial rows and the parent/child queries."""

import json
from pathlib import Path

from sweeps import record, tracking


def test_skipped_metrics_are_a_dict_in_an_artifact_and_one_tag_each(client):
    experiment = tracking.experiment_id(client, record.experiment_name("mnist"))
    run_id = record.create_run(client, experiment, record.TRAIN, "skips")
    reasons = {"mig": "mnist has a single label factor; probe_accuracy reported instead",
               "likelihood": "wae has no likelihood bound: " + "x" * 6000}
    record.log_skipped(client, run_id, reasons)
    run = client.get_run(run_id)
    logged = json.loads(Path(client.download_artifacts(run_id, record.SKIPPED_FILE)).read_text())
    assert logged == reasons
    tagged = record.skipped(run)
    assert tagged["mig"] == reasons["mig"]  # a semicolon inside a reason stays inside it
    assert reasons["likelihood"].startswith(tagged["likelihood"]) and len(tagged["likelihood"]) == 4900


def test_trials_are_found_under_their_sweep_and_closed_with_a_reason(client):
    experiment = tracking.experiment_id(client, record.experiment_name("mnist"))
    parent = record.create_sweep(client, experiment, "s1", digest="abc")
    other = record.create_sweep(client, experiment, "s2", digest="def")
    first = record.create_trial(client, experiment, parent, "s1", "0", "conv", "w1")
    record.create_trial(client, experiment, parent, "s1", "1", "mlp", "w2")
    record.create_trial(client, experiment, other, "s2", "0", "mlp", "w1")
    record.end_run(client, first, record.FINISHED)
    assert record.find_sweep(client, experiment, "s1").info.run_id == parent
    assert record.sweep_digest(record.find_sweep(client, experiment, "s2")) == "def"
    assert record.finished_trial(client, experiment, parent, "0").info.run_id == first
    assert record.finished_trial(client, experiment, parent, "1") is None
    assert record.close_running(client, experiment, parent, "worker w2 was lost", worker="w2") == 1
    rows = sorted((record.trial_row(r) for r in record.children(client, experiment, parent)), key=lambda r: r.trial_id)
    assert [(r.trial_id, r.status, r.worker, r.failure_reason) for r in rows] == [
        ("0", "FINISHED", "w1", None), ("1", "KILLED", "w2", "worker w2 was lost")]
    assert [record.sweep_name(r) for r in record.sweep_runs(client, experiment)] == ["s2", "s1"]


def test_every_run_carries_mlflows_source_and_git_commit_tags(client):
    import subprocess
    from pathlib import Path

    from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT, MLFLOW_SOURCE_NAME, MLFLOW_SOURCE_TYPE

    experiment = client.create_experiment("vae-mnist")
    run = client.get_run(record.create_train_run(client, experiment, "one"))
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(record.__file__).parent, capture_output=True,
                          text=True).stdout.strip()
    assert run.data.tags[MLFLOW_GIT_COMMIT] == head
    assert run.data.tags[MLFLOW_SOURCE_NAME] and run.data.tags[MLFLOW_SOURCE_TYPE] == "LOCAL"
    assert run.data.tags[record.ROLE] == record.TRAIN
