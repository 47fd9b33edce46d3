"""The steering commands against one store holding a finished and a running sweep, written
through the record as a sweep writes it (no training: these commands only read the record)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweeps import record, tracking
from sweeps.record import control
from vaesweep.cli import main

ROOT = Path(__file__).resolve().parents[2]


def make_sweep(client, experiment_id, name, trials, planned, finished):
    """A parent run and its trial runs: ``trials`` = [(status, objective value or None)]."""
    parent = record.create_sweep(client, experiment_id, name, "digest")
    tracking.log_params(client, parent, {"dataset": "mnist", "objective": "val_elbo", "objective_direction": "max",
                                         "max_trials": planned, "epochs": 2})
    for i, (status, value) in enumerate(trials):
        run = record.create_trial(client, experiment_id, parent, name, str(i), "conv", worker=f"w{i}")
        if value is not None:
            tracking.log_metrics(client, run, {record.objective_key("val_elbo"): value})
        if status == control.STOPPED:
            control.end_stopped(client, run, 1, "stopped early at epoch 1")
        elif status != record.RUNNING:
            record.end_run(client, run, status)
    if finished:
        tracking.log_metrics(client, parent, {"best_val_elbo_mean": -90.0, "best_val_elbo_ci_low": -92.5,
                                              "best_val_elbo_ci_high": -87.5})
        record.close_sweep(client, parent, record.FINISHED)
    return parent


@pytest.fixture
def two_sweeps(store, client):
    experiment = tracking.experiment_id(client, record.experiment_name("mnist"), record.experiment_tags())
    make_sweep(client, experiment, "done", [(record.FINISHED, -90.0), (record.FAILED, None)], 2, True)
    make_sweep(client, experiment, "live", [(record.FINISHED, -95.0), (control.STOPPED, -150.0),
                                            (record.RUNNING, None)], 4, False)
    return store


def test_sweeps_lists_each_sweep_with_status_trials_done_and_best_with_its_interval(two_sweeps, capsys):
    assert main(["sweeps", "--tracking-uri", two_sweeps]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["done"][1:4] == ["mnist", "finished", "2/2"]
    assert lines["done"][4:] == ["val_elbo", "-90.000", "[-92.500,", "-87.500]"]
    assert lines["live"][1:4] == ["mnist", "running", "2/4"]  # the stopped trial counts as done
    assert lines["live"][4:] == ["val_elbo", "-95.000"]  # the best finished trial so far


def test_status_shows_counts_running_trials_with_their_worker_and_an_eta(two_sweeps, capsys):
    assert main(["status", "live", "--tracking-uri", two_sweeps]) == 0
    out = capsys.readouterr().out
    assert "trials: 2/4 done (1 finished, 1 running, 1 stopped)" in out
    assert "running: trial 2 on worker w2" in out
    assert "ETA: " in out and "best: val_elbo -95.000" in out


def test_stop_tags_a_running_sweep_and_refuses_a_finished_one(two_sweeps, client, capsys):
    assert main(["stop", "live", "--tracking-uri", two_sweeps]) == 0
    assert "--name live --resume" in capsys.readouterr().out
    experiment = client.get_experiment_by_name("vae-mnist").experiment_id
    live = record.find_sweep(client, experiment, "live")
    assert control.stop_requested(client, live.info.run_id)
    assert main(["status", "live", "--tracking-uri", two_sweeps]) == 0
    assert "stopping" in capsys.readouterr().out
    control.clear_stop(client, live.info.run_id)  # what --resume does
    assert not control.stop_requested(client, live.info.run_id)
    assert main(["stop", "done", "--tracking-uri", two_sweeps]) == 2
    assert "is finished, not running" in capsys.readouterr().err


def test_an_unknown_sweep_name_is_one_line_naming_the_known_ones(two_sweeps, capsys):
    assert main(["status", "nope", "--tracking-uri", two_sweeps]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no sweep named 'nope'" in err and "live" in err


def test_dry_run_prints_the_resolved_space_trials_and_an_estimate_and_writes_nothing(two_sweeps, tmp_path, capsys):
    code = main(["sweep", "--dry-run", "--budget", "smoke", "--tuner", "random", "--tracking-uri", two_sweeps,
                 "--set", "budgets.smoke.epochs=3", "--set", "early_stopping.min_trials=1"])
    assert code == 0
    out = capsys.readouterr().out
    assert "trials: 2 x 3 epochs = 6 trial-epochs at most" in out
    assert "min_trials: 1" in out and "once 1 trials got as far" in out
    assert "estimated time:" in out
    assert not (tmp_path / "mlruns" / "tuner").exists()
    assert main(["sweeps", "--tracking-uri", two_sweeps]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # still the two sweeps


def test_a_set_override_is_checked_like_the_yaml(capsys):
    assert main(["sweep", "--dry-run", "--budget", "smoke", "--set", "budgets.smoke.epochs=0"]) == 2
    assert "'budgets.smoke.epochs' must be a positive integer, got 0" in capsys.readouterr().err
    assert main(["sweep", "--dry-run", "--set", "learning_rate"]) == 2
    assert "expects KEY=VALUE" in capsys.readouterr().err


def test_version_and_a_mistyped_dataset_answer_before_keras_is_imported():
    probe = ("import sys; from vaesweep.cli import main; code = main({argv}); "
             "print(code, any(m.split('.')[0] in ('keras', 'tensorflow', 'jax') for m in sys.modules))")
    for argv, expected in ((["--version"], "0 False"), (["sweep", "--dataset", "mnsit"], "2 False")):
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-c", probe.format(argv=argv)], cwd=ROOT, capture_output=True,
                              text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        assert done.stdout.strip().splitlines()[-1] == expected, done.stderr
        assert time.monotonic() - start < 5  # well under a second here; a loaded machine is slower
    assert "invalid choice: 'mnsit'" in done.stderr and done.stderr.count("\n") == 1
