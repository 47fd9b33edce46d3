"""One real MLflow store shared by the report tests: two tiny MNIST sweeps run in-process.

- ``main``: 4 trials of mlp/beta for 1 epoch, ranked on the ELBO and the rate (KL), the top
  configuration replicated with 2 fresh seeds and chosen by UDR (the only one replicated); with seed 0 (the tuner's seed 1) the random
  tuner draws mlp, beta, mlp, then beta with a learning rate of 1e4, which diverges. Its name
  carries markup, to test escaping.
- ``failed``: started later, one trial, which diverges: the latest sweep has no finished trial.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from sweep_names import FAILED_NAME, MAIN_NAME

from sweeps import record
from vaesweep.cli import main

SPACE = """\
dataset: mnist
tuner: random
objectives:
  - {{name: val_elbo, direction: max}}
  - {{name: val_kl_loss, direction: min}}
selection: udr
models:
  mlp: {{}}
  beta: {{beta: [1, 4]}}
hyperparameters:
  latent_dim: [2, 4]
  learning_rate: {learning_rate}
  batch_size: [64]
  depth: [2]
budgets:
  smoke: {{max_trials: {trials}, epochs: 1, subset: 128}}
failure: {{collapse_kl: 0.01, collapse_after: 2}}
"""


@dataclass
class Store:
    root: Path
    uri: str
    client: MlflowClient
    main_id: str
    failed_id: str


def _sweep(root: Path, data_dir: Path, uri: str, name: str, learning_rate: str, trials: int) -> int:
    config = root / f"{name.split()[0]}.yaml"
    config.write_text(SPACE.format(learning_rate=learning_rate, trials=trials))
    return main(["sweep", "--dataset", "mnist", "--data-dir", str(data_dir), "--budget", "smoke", "--seed", "0",
                 "--replicates", "3", "--replicate-top", "1",
                 "--config", str(config), "--name", name, "--tracking-uri", uri])


@pytest.fixture(scope="session")
def store(tmp_path_factory, mnist_data) -> Store:
    root = tmp_path_factory.mktemp("report-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = Path.cwd()
    os.chdir(root)  # the tuner keeps its state in ./mlruns/tuner
    try:
        assert _sweep(root, mnist_data, uri, MAIN_NAME, "[1.0e-3, 1.0e+4]", 4) == 0
        assert _sweep(root, mnist_data, uri, FAILED_NAME, "[1.0e+4]", 1) == 2  # SweepError: every trial failed
    finally:
        os.chdir(previous)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("vae-mnist").experiment_id
    parents = {record.sweep_name(r): r.info.run_id for r in record.sweep_runs(client, experiment)}
    return Store(root=root, uri=uri, client=client, main_id=parents[MAIN_NAME], failed_id=parents[FAILED_NAME])


@pytest.fixture(scope="session")
def sweep(store):
    from reports.data import load_sweep

    return load_sweep("mnist", MAIN_NAME, store.uri)


@pytest.fixture(scope="session")
def html(sweep) -> str:
    from reports import render

    return render.render(sweep)
