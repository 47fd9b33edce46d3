"""The median-stopping rule, and a random search that stops its hopeless trial early."""

import pytest

from sweeps import record
from sweeps.early_stopping import EarlyStopping, should_stop
from sweeps.record import control
from vaesweep.cli import main

RULE = EarlyStopping(warmup_epochs=1, min_trials=2)


@pytest.mark.parametrize("direction, curve, stops", [
    ("max", [-500.0, -499.0], True),   # far below the peers' median at epoch 2
    ("max", [-500.0, -120.0], False),  # caught up
    ("min", [500.0, 499.0], True),     # the same, minimised
    ("min", [500.0, 120.0], False),
])
def test_a_trial_worse_than_the_median_of_its_peers_at_the_same_epoch_stops(direction, curve, stops):
    sign = 1 if direction == "max" else -1
    peers = [[sign * -200.0, sign * -150.0], [sign * -300.0, sign * -140.0], [sign * -600.0, sign * -590.0]]
    assert should_stop(curve, peers, 2, direction, RULE) is stops


def test_no_stop_during_the_warm_up_without_enough_peers_or_when_off():
    hopeless, peers = [-900.0, -900.0], [[-100.0, -90.0], [-110.0, -95.0]]
    assert not should_stop(hopeless, peers, 1, "max", RULE)  # warm-up
    assert not should_stop(hopeless, peers[:1], 2, "max", RULE)  # one peer, two needed
    assert not should_stop(hopeless, [[-100.0]], 2, "max", EarlyStopping(min_trials=1))  # no peer reached epoch 2
    assert not should_stop(hopeless, peers, 2, "max", EarlyStopping(enabled=False))
    assert should_stop([float("nan"), float("nan")], peers, 2, "max", RULE)  # nothing finite is hopeless


SPACE = ["--set", "models={mlp: {}}", "--set", "objectives=[{name: val_loss, direction: min}]",
         "--set", "hyperparameters={learning_rate: [1.0e-2, 1.0e-6], latent_dim: [2, 4], batch_size: [16]}",
         "--set", "budgets.smoke.epochs=3", "--set", "early_stopping.min_trials=1"]


def test_random_search_stops_the_configuration_that_cannot_learn_and_finishes_the_others(store, client, mnist_data,
                                                                                        capsys):
    # seed 0 draws learning rates 1e-6, 1e-2, 1e-6: the second 1e-6 trial has a peer that learns
    code = main(["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--tuner",
                 "random", "--max-trials", "3", "--subset", "128", "--no-system-metrics", "--quiet",
                 "--tracking-uri", store, "--name", "es", *SPACE])
    assert code == 0
    experiment = client.get_experiment_by_name("vae-mnist").experiment_id
    parent = record.find_sweep(client, experiment, "es")
    trials = {record.trial_row(r).trial_id: r for r in record.children(client, experiment, parent.info.run_id)}
    stopped = control.stopped_trials(client, experiment, parent.info.run_id)
    assert [r.data.params["learning_rate"] for r in stopped] == ["1e-06"]
    [run] = stopped
    assert run.info.status == record.KILLED and record.trial_row(run).status == control.STOPPED
    assert run.data.tags[control.STOPPED_EPOCH] == "2"
    assert "stopped early at epoch 2" in run.data.tags[record.FAILURE_REASON]
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2  # it trained 2 of 3 epochs
    assert "best_val_loss" in run.data.metrics  # the value the tuner counted
    finished = [r for r in trials.values() if r.info.status == record.FINISHED]
    assert len(finished) == 2 and parent.data.metrics["trials_stopped"] == 1
    assert "stopped early at epoch 2" in capsys.readouterr().err


def test_early_stopping_false_turns_the_rule_off_and_hyperband_keeps_its_own_rounds(capsys):
    base = ["sweep", "--dry-run", "--budget", "smoke", "--tuner"]
    assert main([*base, "random", *SPACE, "--set", "early_stopping=false"]) == 0
    assert "early stopping: off" in capsys.readouterr().out
    assert main([*base, "hyperband"]) == 0
    assert "early stopping: by hyperband's own rounds" in capsys.readouterr().out


def test_vaesweep_stop_from_another_thread_ends_the_sweep_after_its_trial_and_resume_finishes_it(
        store, client, mnist_data, capsys):
    import threading

    from store_helpers import wait_for

    argv = ["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--budget", "smoke", "--tuner", "random",
            "--max-trials", "3", "--subset", "128", "--no-system-metrics", "--quiet", "--tracking-uri", store,
            "--name", "steered", "--set", "models={mlp: {}}", "--set", "objectives=[{name: val_loss, direction: min}]"]

    def stop_after_first_trial():
        def first_done():
            experiment = client.get_experiment_by_name("vae-mnist")
            parent = experiment and record.find_sweep(client, experiment.experiment_id, "steered")
            return parent is not None and any(r.info.status != record.RUNNING for r in record.children(
                client, experiment.experiment_id, parent.info.run_id))
        wait_for(first_done, 120, "the first trial", interval=0.1)
        main(["stop", "steered", "--tracking-uri", store])

    thread = threading.Thread(target=stop_after_first_trial)
    thread.start()
    assert main(argv) == 0
    thread.join()
    experiment = client.get_experiment_by_name("vae-mnist").experiment_id
    parent = record.find_sweep(client, experiment, "steered")
    assert parent.info.status == record.KILLED
    assert len(record.children(client, experiment, parent.info.run_id)) < 3  # the running trial finished
    assert "stopped by 'vaesweep stop'" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    parent = record.find_sweep(client, experiment, "steered")
    assert parent.info.status == record.FINISHED and not control.stop_requested(client, parent.info.run_id)
    assert len(record.children(client, experiment, parent.info.run_id, record.FINISHED, record.TRIAL)) == 3
