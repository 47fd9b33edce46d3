"""The MLflow-native record of a sweep: image snapshots, dataset inputs, system metrics, the
model in MLflow's Keras flavor, the Model Registry's ``vae-<dataset>@best``, and the MLflow UI
serving the images. One tiny smoke sweep (2 mlp trials, 1 epoch) serves every test here."""

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from mlflow.entities import LoggedModelOutput
from mlflow.tracking import MlflowClient
from PIL import Image
from store_helpers import wait_for
from test_distributed import free_port

from sweeps import record, tracking
from sweeps.record import registry as model_registry
from vae.data import eval_digest, load_dataset
from vaesweep.cli import main

ROOT = Path(__file__).resolve().parents[2]
SPACE = """\
dataset: mnist
tuner: random
objective: {name: val_loss, direction: min}
models:
  mlp: {}
hyperparameters:
  latent_dim: [2, 4]
  learning_rate: [1.0e-3]
  batch_size: [64]
  depth: [1]
budgets:
  smoke: {max_trials: 2, epochs: 1, subset: 128}
failure: {collapse_kl: 0.01, collapse_after: 2}
"""


class Sweep:
    def __init__(self, root: Path, data_dir: Path, ui_port: int):
        self.root, self.data_dir, self.ui_port = root, data_dir, ui_port
        self.uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri)
        experiment = self.client.get_experiment_by_name("vae-mnist").experiment_id
        [self.parent] = record.sweep_runs(self.client, experiment)
        self.trials = record.children(self.client, experiment, self.parent.info.run_id, role=record.TRIAL)
        self.replicates = record.children(self.client, experiment, self.parent.info.run_id, role=record.REPLICATE)
        self.train_runs = record.search_all(self.client, [experiment], f"tags.`{record.ROLE}` = '{record.TRAIN}'")
        self.best = self.client.get_run(self.parent.data.tags[record.BEST_RUN_ID])


def start_ui(root: Path, port: int) -> subprocess.Popen:
    """What ``make ui`` runs, on the store under ``root``."""
    return subprocess.Popen([sys.executable, "-m", "mlflow", "ui", "--backend-store-uri",
                             f"sqlite:///{root / 'mlruns' / 'mlflow.db'}", "--default-artifact-root",
                             str(root / "mlruns" / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, mnist_data, empty_store_template):
    root = tmp_path_factory.mktemp("records")
    (root / "mlruns").mkdir()
    shutil.copy(empty_store_template, root / "mlruns" / "mlflow.db")
    (root / "space.yaml").write_text(SPACE)
    port = free_port()
    ui = start_ui(root, port)  # it starts up while the sweep trains
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(root)  # the tuner keeps its state in ./mlruns/tuner
            assert main(["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke",
                         "--config", str(root / "space.yaml"), "--name", "records", "--replicates", "2",
                         "--replicate-top", "1", "--tracking-uri", f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"]) == 0
            assert main(["train", "--dataset", "mnist", "--data-dir", str(mnist_data), "--subset", "128",
                         "--model", "mlp", "--latent-dim", "2", "--epochs", "1", "--budget", "smoke",
                         "--tracking-uri", f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"]) == 0
        yield Sweep(root, mnist_data, port)
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)


def snapshot_files(client, run_id: str) -> list[str]:
    """The files of the images logged with a key (``images/<key>+step+<n>+...``)."""
    return [a.path for a in client.list_artifacts(run_id, "images") if "+step+" in a.path]


def has_image_snapshots(client, run) -> bool:
    steps = {f.split("+step+")[1].split("+")[0] for f in snapshot_files(client, run.info.run_id)}
    return {"0", "1"} <= steps


def has_system_metrics(client, run) -> bool:
    return len(client.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")) >= 1


def has_dataset_inputs(client, run) -> bool:
    contexts = {d.tags[0].value for d in run.inputs.dataset_inputs}
    return contexts == {record.TRAINING_CONTEXT, record.EVALUATION_CONTEXT}


def has_status_tag(client, run) -> bool:
    return run.data.tags.get(record.TRIAL_STATUS) == record.FINISHED == run.info.status


def has_model_and_figures(client, run) -> bool:
    return model_registry.logged_model_id(client, run.info.run_id) is not None and "test_elbo" in run.data.metrics


# What every tracked run records, whatever made it (sweeps.tracked_run).
RECORDED = {"image snapshots with steps": has_image_snapshots, "system metrics": has_system_metrics,
            "dataset inputs": has_dataset_inputs, "status tag": has_status_tag,
            "model and test figures": has_model_and_figures}


@pytest.mark.parametrize("kind", ["trials", "replicates", "train_runs"])
def test_trials_replicates_and_train_runs_record_the_same_things(sweep, kind):
    runs = getattr(sweep, kind)
    assert runs, f"the sweep made no {kind}"
    for run in runs:
        missing = [what for what, check in RECORDED.items() if not check(sweep.client, run)]
        assert not missing, f"{kind} run {run.info.run_id} lacks {missing}"


def test_every_trial_logs_image_snapshots_beside_the_final_figures(sweep):
    for trial in sweep.trials:
        assert trial.data.tags["mlflow.loggedImages"] == "True"
        files = snapshot_files(sweep.client, trial.info.run_id)
        # One epoch: steps 0 (untrained) and 1 of each key, each a PNG and the UI's compressed copy.
        assert sorted(f.split("+")[0] for f in files if f.endswith(".png")) == ["images/reconstructions"] * 2 + [
            "images/samples"] * 2
        assert sorted(f.split("+step+")[1].split("+")[0] for f in files) == ["0"] * 4 + ["1"] * 4
        # the final figures are apart from the snapshots (MLflow keeps those under images/)
        assert {record.image_path("reconstructions"), record.image_path("samples")} <= {
            a.path for a in sweep.client.list_artifacts(trial.info.run_id, record.IMAGE_DIR)}


def test_every_trial_records_its_training_and_evaluation_sets_as_dataset_inputs(sweep):
    data = load_dataset("mnist", data_dir=sweep.data_dir, subset=128)
    for trial in sweep.trials:
        inputs = {d.tags[0].value: d.dataset for d in trial.inputs.dataset_inputs}
        assert set(inputs) == {"training", "evaluation"}
        assert inputs["training"].name == "mnist-train"
        assert inputs["training"].digest == eval_digest(data.x_train, data.y_train)
        assert json.loads(inputs["training"].profile)["images"] == 128
        # the evaluation set is the one every metric of the run was computed on
        assert inputs["evaluation"].digest == trial.data.params["eval_digest"]
        assert json.loads(inputs["evaluation"].profile)["images"] == int(trial.data.metrics["eval_images"])


def test_every_trial_logs_system_metrics_while_it_runs(sweep):
    for trial in sweep.trials:
        cpu = sweep.client.get_metric_history(trial.info.run_id, "system/cpu_utilization_percentage")
        assert len(cpu) >= 1 and all(0 <= m.value <= 100 for m in cpu)
        assert trial.data.metrics["system/system_memory_usage_megabytes"] > 0


def test_the_sweeps_best_trial_is_registered_as_vae_mnist_at_best(sweep):
    version = sweep.client.get_model_version_by_alias("vae-mnist", "best")
    assert version.run_id == sweep.best.info.run_id
    assert version.source == f"models:/{model_registry.logged_model_id(sweep.client, sweep.best.info.run_id)}"
    assert version.tags[record.OBJECTIVE] == "best_val_loss" and version.tags[record.SWEEP] == "records"
    # the figure the choice used: with replicates, the fresh seeds' mean the parent records
    assert float(version.tags[record.OBJECTIVE_VALUE]) == sweep.parent.data.metrics["best_val_loss"]
    model = sweep.client.get_logged_model(version.source.removeprefix("models:/"))
    assert model.experiment_id == sweep.parent.info.experiment_id  # not MLflow's default experiment


def test_the_best_model_reloads_in_a_fresh_process_with_the_logged_reconstruction_loss(sweep):
    # The reconstruction term draws one posterior sample per image: equal up to that noise.
    script = ("import json, sys, mlflow, mlflow.keras\n"
              "import vae.models  # registers the vaesweep Keras classes\n"
              "from vae.metrics import terms as evaluate\n"
              "from vae.data import load_dataset\n"
              "mlflow.set_tracking_uri(sys.argv[1])\n"
              "model = mlflow.keras.load_model('models:/vae-mnist@best')\n"
              "x = load_dataset('mnist', data_dir=sys.argv[2], subset=128).x_test[: int(sys.argv[3])]\n"
              "print(json.dumps(evaluate.evaluate(model, x)['test_reconstruction_loss']))\n")
    n = int(sweep.best.data.metrics["eval_images"])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script, sweep.uri, str(sweep.data_dir), str(n)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=sweep.root)
    assert done.returncode == 0, done.stderr[-2000:]
    reloaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert reloaded == pytest.approx(sweep.best.data.metrics["test_reconstruction_loss"], rel=0.01)


def test_a_later_better_model_takes_the_alias_and_a_worse_one_does_not(sweep):
    client, name = sweep.client, "vae-mnist"
    first = client.get_model_version_by_alias(name, "best")
    worse = max(sweep.trials, key=lambda r: r.data.metrics["best_val_loss"])
    done = model_registry.register_best(client, "mnist", worse, "best_val_loss", "min", "later")
    assert not done.promoted and client.get_model_version_by_alias(name, "best").version == first.version
    model_id = first.source.removeprefix("models:/")
    value = sweep.best.data.metrics["best_val_loss"] - 1

    def later_run(settings):  # a run of a later sweep whose model (the same one, here) scored lower
        run_id = record.create_run(client, sweep.parent.info.experiment_id, record.TRAIN, "later")
        client.log_outputs(run_id, [LoggedModelOutput(model_id, step=0)])
        client.log_metric(run_id, "best_val_loss", value)
        tracking.log_params(client, run_id, settings)
        return client.get_run(run_id)

    # evaluated on other images: another quantity, so the alias stays where it is
    elsewhere = later_run({**model_registry.evaluation_settings(sweep.best), record.EVAL_DIGEST: "0" * 16})
    done = model_registry.register_best(client, "mnist", elsewhere, "best_val_loss", "min", "later")
    assert not done.promoted and done.incomparable
    assert client.get_model_version_by_alias(name, "best").version == first.version
    better = later_run(model_registry.evaluation_settings(sweep.best))
    done = model_registry.register_best(client, "mnist", better, "best_val_loss", "min", "later")
    assert done.promoted and done.previous == sweep.best.data.metrics["best_val_loss"]
    assert client.get_model_version_by_alias(name, "best").run_id == better.info.run_id
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
    assert versions == [1, 2, 3, 4]  # every registration is kept
    client.set_registered_model_alias(name, "best", first.version)  # as the sweep left it
    for run in (elsewhere, better):
        client.delete_run(run.info.run_id)


def test_the_mlflow_ui_serves_the_image_snapshots_of_two_runs(sweep):
    base = f"http://127.0.0.1:{sweep.ui_port}"

    def get(path):
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return response.read()

    def up():
        try:
            return get("/health") == b"OK"
        except OSError:
            return False

    wait_for(up, 60, "the MLflow UI's /health")
    # the UI opens the experiment on its training runs, not on its GenAI pages
    experiment = sweep.client.get_experiment(sweep.parent.info.experiment_id)
    assert experiment.tags[record.EXPERIMENT_KIND] == "custom_model_development"
    for trial in sweep.trials[:2]:  # the requests of the run-comparison view's image grid
        run_id = trial.info.run_id
        listing = json.loads(get(f"/ajax-api/2.0/mlflow/artifacts/list?run_id={run_id}&path=images"))
        files = [f["path"] for f in listing["files"] if "+step+" in f["path"]]
        assert len(files) == 8  # steps 0 and 1 of two keys, each a PNG and a compressed copy
        png = next(f for f in files if f.startswith("images/reconstructions") and f.endswith(".png"))
        image = Image.open(BytesIO(get(f"/get-artifact?path={urllib.parse.quote(png)}&run_uuid={run_id}")))
        assert image.size == (10 * 30 + 2, 2 * 30 + 2)  # two rows of the first ten test images
        assert np.asarray(image).std() > 0
