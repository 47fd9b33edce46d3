"""One sweep over several processes: Keras Tuner's chief and workers, one MLflow store or server.

The end-to-end tests run real sweeps (smoke budget, random search, 4 trials, 2 workers); the
others exercise the chief's and the workers' failure handling on a tiny oracle, without training.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import keras_tuner as kt
import postgres_helpers
import pytest
from mlflow.tracking import MlflowClient
from store_helpers import all_runs, wait_for

from sweeps import record
from sweeps.distributed import addresses, oracle_chief, oracle_client
from vaesweep.cli import main

TRIAL_IDS = ["0", "1", "2", "3"]
EXE = Path(sys.executable).parent / "vaesweep"


def smoke_args(mnist_data, name, uri, *extra):
    return ["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--tuner", "random",
            "--max-trials", "4", "--name", name, "--tracking-uri", uri, "--workers", "2", *extra]


def sweep_runs(client):
    experiment = client.get_experiment_by_name("vae-mnist").experiment_id
    parents = record.sweep_runs(client, experiment)
    children = [c for p in parents for c in record.children(client, experiment, p.info.run_id, role=record.TRIAL)]
    return parents, children


def check_every_trial_finished_once(client, parent, children):
    assert parent.info.status == "FINISHED"
    assert all(c.data.tags[record.PARENT] == parent.info.run_id for c in children)
    assert sorted(c.data.tags[record.TRIAL_ID] for c in children) == TRIAL_IDS
    assert {c.info.status for c in children} == {"FINISHED"}
    for child in children:  # the epoch's metrics and the end-of-trial ones arrived (any model family)
        for name in ["loss", "val_loss"]:
            assert len(client.get_metric_history(child.info.run_id, name)) == 1, name
        assert "best_val_elbo" in child.data.metrics
    assert parent.data.metrics["trials_finished"] == 4
    best = max(children, key=lambda r: r.data.metrics["best_val_elbo"])
    assert parent.data.tags[record.BEST_RUN_ID] == best.info.run_id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def postgresql_uri():
    """A real PostgreSQL database on a loopback port, for this test only."""
    reason = postgres_helpers.missing()
    if reason:
        pytest.skip(reason)
    with postgres_helpers.postgres_server(free_port()) as uri:
        yield uri


def test_two_workers_log_through_a_tracking_server_on_postgresql(postgresql_uri, store, mnist_data, tmp_path):
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([str(EXE), "server", "--port", str(port), "--backend-store-uri", postgresql_uri,
                               "--workers", "2"], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    uri = f"http://127.0.0.1:{port}"

    def healthy():
        assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, 120, "the tracking server's /health")
        assert main(smoke_args(mnist_data, "served", uri)) == 0
        client = MlflowClient(tracking_uri=uri)
        [parent], children = sweep_runs(client)
        check_every_trial_finished_once(client, parent, children)
        assert {c.data.tags[record.WORKER] for c in children} == {"worker-0", "worker-1"}
        for child in children:  # uploaded through the server, stored where it keeps artifacts
            assert child.info.artifact_uri.startswith("mlflow-artifacts:")
            assert record.image_path("reconstructions") in {
                a.path for a in client.list_artifacts(child.info.run_id, record.IMAGE_DIR)}
        assert len(list((tmp_path / "mlruns" / "artifacts").rglob("reconstructions.png"))) == 4
        assert client.get_model_version_by_alias("vae-mnist", record.BEST_ALIAS).run_id == parent.data.tags[
            record.BEST_RUN_ID]
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone already when it failed to start
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    # the runs are rows of the PostgreSQL database
    from sweeps.server import database_uri

    assert len(all_runs(MlflowClient(tracking_uri=database_uri(postgresql_uri)))) == 5


def worker_pid(launcher_pid: int, worker_id: str) -> int:
    """The pid of the launcher's child process that runs ``--worker-id worker_id``."""
    for task in Path(f"/proc/{launcher_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"--worker-id" in argv and argv[argv.index(b"--worker-id") + 1] == worker_id.encode():
                return int(pid)
    pytest.fail(f"no process of worker {worker_id} under {launcher_pid}")


def test_a_worker_killed_mid_trial_loses_only_its_trial_and_the_sweep_completes(store, client, mnist_data, tmp_path):
    # A smoke trial runs for seconds (training, then its metrics and images): the worker is
    # killed as soon as its trial's run appears, well before the run ends.
    args = smoke_args(mnist_data, "killed", store)[1:]
    log = (tmp_path / "sweep.log").open("w")
    launcher = subprocess.Popen([str(EXE), "sweep", *args], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    victim = {}
    try:
        def a_trial_runs():
            experiment = client.get_experiment_by_name("vae-mnist")
            if experiment is not None:
                parents = record.sweep_runs(client, experiment.experiment_id)
                runs = [r for p in parents for r in record.children(client, experiment.experiment_id, p.info.run_id,
                                                                     status=record.RUNNING, role=record.TRIAL)]
                victim["run"] = runs[0] if runs else None
            assert launcher.poll() is None, (tmp_path / "sweep.log").read_text()[-3000:]
            return victim.get("run") is not None

        wait_for(a_trial_runs, 180, "a trial to start")
        worker = victim["run"].data.tags[record.WORKER]
        os.kill(worker_pid(launcher.pid, worker), signal.SIGKILL)
        assert launcher.wait(timeout=240) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        log.close()
    output = (tmp_path / "sweep.log").read_text()
    [parent], children = sweep_runs(client)
    assert parent.info.status == "FINISHED"
    assert not [c for c in children if c.info.status == "RUNNING"]
    [killed] = [c for c in children if c.info.status == "KILLED"]
    lost = victim["run"].data.tags[record.TRIAL_ID]
    assert killed.info.run_id == victim["run"].info.run_id
    assert killed.data.tags[record.FAILURE_REASON] == f"worker {worker} was killed by SIGKILL"
    finished = [c for c in children if c.info.status == "FINISHED"]
    # The lost trial went to no one else; every other planned trial finished exactly once.
    assert sorted(c.data.tags[record.TRIAL_ID] for c in finished) == [t for t in TRIAL_IDS if t != lost]
    # Both workers wrote the one SQLite store at once (lock retries), their output relayed by name.
    assert {c.data.tags[record.WORKER] for c in children} == {"worker-0", "worker-1"}
    assert "[worker-0]" in output and "[worker-1]" in output and "database is locked" not in output
    assert parent.data.metrics["trials_finished"] == 3
    assert f"its trial {lost} is lost" in output and "Traceback" not in output


# ------------------------------------------------ failure handling on a tiny oracle, no training


@pytest.fixture
def chief(tmp_path):
    hp = kt.HyperParameters()
    hp.Int("x", 0, 1000)
    oracle = kt.oracles.RandomSearchOracle(objective=kt.Objective("loss", "min"), max_trials=3, hyperparameters=hp,
                                           seed=1)
    oracle._set_project_dir(str(tmp_path), "tiny")
    chief = oracle_chief.Chief(oracle, lost_after_s=0.5)
    chief.port = chief.start("127.0.0.1", 0)
    yield chief
    chief.stop()


def client_of(chief, worker_id, **kwargs):
    with addresses.keras_tuner_env(worker_id, "127.0.0.1", chief.port):
        return oracle_client.ChiefClient(chief.oracle, f"127.0.0.1:{chief.port}", **kwargs)


def test_a_silent_worker_loses_its_trial_which_no_other_worker_gets(chief):
    silent = client_of(chief, "silent", heartbeat_s=60, timeout_s=5)
    trial = silent.create_trial("silent")
    time.sleep(0.7)
    chief.check_silent_workers()
    assert chief.oracle.trials[trial.trial_id].status == "FAILED"
    assert "silent" not in chief.oracle.tuner_ids and chief.lost == [trial.trial_id]
    with pytest.raises(oracle_client.ChiefGone, match=f"gave up trial {trial.trial_id}: worker silent sent nothing"):
        silent.update_trial(trial.trial_id, {"loss": 1.0})
    other = client_of(chief, "other", heartbeat_s=60, timeout_s=5)
    assert other.create_trial("other").trial_id != trial.trial_id
    silent.close()
    other.close()


def test_heartbeats_keep_a_worker_with_a_long_trial_alive(chief):
    busy = client_of(chief, "busy", heartbeat_s=0.1, timeout_s=5)
    trial = busy.create_trial("busy")
    for _ in range(8):
        time.sleep(0.15)
        chief.check_silent_workers()
    assert chief.lost == [] and chief.oracle.ongoing_trials["busy"].trial_id == trial.trial_id
    busy.close()


def test_a_worker_whose_chief_is_gone_stops_with_one_line(chief):
    worker = client_of(chief, "w", heartbeat_s=60, timeout_s=1)
    chief.stop()
    with pytest.raises(oracle_client.ChiefGone, match=r"lost the chief at 127\.0\.0\.1:\d+ \(no answer for 1 s\)"):
        worker.create_trial("w")
    worker.close()


def test_a_worker_started_before_its_chief_waits_and_then_joins(chief, capsys):
    port = chief.port
    chief.stop()
    later = threading.Timer(1.5, lambda: chief.start("127.0.0.1", port))
    later.start()
    oracle_client.wait_for_chief(f"127.0.0.1:{port}", wait_s=30, retry_s=0.5)
    later.join()
    assert f"waiting for the chief at 127.0.0.1:{port} (not answering yet)" in capsys.readouterr().err


def test_a_worker_without_a_chief_gives_up_with_one_line(store, monkeypatch, capsys):
    monkeypatch.setattr(oracle_client, "CHIEF_WAIT_S", 1)
    code = main(["sweep", "--dataset", "mnist", "--name", "nobody", "--tracking-uri", store,
                 "--chief", f"127.0.0.1:{free_port()}", "--worker-id", "w1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: no chief answered at 127.0.0.1:" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--chief", "nohost"], "--chief expects HOST:PORT"),
    (["--chief", "127.0.0.1:1", "--worker-id", "chief-2"], "reserves for the chief"),
    (["--chief", "127.0.0.1:1"], "--chief needs --name"),
])
def test_joining_options_are_checked_in_one_line(argv, message, store, capsys):
    assert main(["sweep", "--dataset", "mnist", "--tracking-uri", store, *argv]) == 2
    assert message in capsys.readouterr().err


def test_server_on_a_taken_port_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["server", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"error: port {port} on 127.0.0.1 is already in use" in err
    assert not (tmp_path / "mlruns" / "mlflow.db").exists()  # nothing created before the check


def test_a_chief_on_a_taken_port_is_a_one_line_error_before_any_run(store, client, monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
        assert main(["sweep", "--dataset", "mnist", "--tracking-uri", store, "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert f"error: cannot serve the oracle on 127.0.0.1:{port}: address already in use" in err
    assert client.get_experiment_by_name("vae-mnist") is None


def test_a_write_refused_by_a_locked_sqlite_store_is_retried_and_other_errors_are_not(monkeypatch):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, TEMPORARILY_UNAVAILABLE

    from sweeps import tracking

    monkeypatch.setattr(tracking.time, "sleep", lambda seconds: None)
    calls = []

    def write(outcomes):
        calls.append(1)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    locked = MlflowException("(sqlite3.OperationalError) database is locked", error_code=TEMPORARILY_UNAVAILABLE)
    assert tracking.retry_locked(write)([locked, locked, "logged"]) == "logged" and len(calls) == 3
    calls.clear()
    other = MlflowException("Run 'x' not found", error_code=RESOURCE_DOES_NOT_EXIST)
    with pytest.raises(MlflowException, match="not found"):
        tracking.retry_locked(write)([other, "never"])
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(MlflowException, match="locked"):
        tracking.retry_locked(write)([locked] * (tracking.LOCK_RETRIES + 1))
    assert len(calls) == tracking.LOCK_RETRIES + 1
