"""Keras Tuner tuners whose every trial is a nested MLflow run.

``TrackedTuner`` is a mixin for any Keras Tuner class: ``run_trial`` opens the trial's child
run in the record, trains through Keras Tuner with the tracking callbacks, then logs the
trial's test figures and closes the run with its status. It is handed what every trial
shares (``TrialSetup``) and talks to the record, never back to the sweep that made it.
"""

import sys
import time
from dataclasses import dataclass, field

from sweeps import inputs, kt_adapter, record, tracking
from sweeps.console import say
from sweeps.process import RestartForMemory
from sweeps.training import ImageSnapshots, TrialGuard, finish_run, tracked_callbacks

kt = kt_adapter.kt


@dataclass
class TrialSetup:
    """What every trial of one sweep shares."""

    client: object
    experiment_id: str
    parent_id: str
    sweep: str
    worker: str
    dataset: object
    seed: int
    space: object  # sweeps.space.SearchSpace: objective and failure rules
    metric_settings: object
    params: dict = field(default_factory=dict)  # logged on every trial run beside its hyperparameters
    inputs: list = field(default_factory=list)  # the MLflow dataset inputs (sweeps.inputs)
    image_every: int = 1  # epochs between two image snapshots
    system_metrics: bool = True


def trial_params(values: dict) -> dict:
    """A trial's hyperparameter values as MLflow params (``tuner/epochs`` -> ``tuner_epochs``)."""
    return {k.replace("tuner/", "tuner_"): v for k, v in values.items()}


def best_of(histories, objective: str, direction: str) -> float:
    """The best value of the objective over the epochs of a trial's histories."""
    values = [v for h in histories for v in h.history.get(objective, [])]
    if not values:
        raise kt.errors.FailedTrialError(f"objective '{objective}' was not logged")
    return min(values) if direction == "min" else max(values)


def failure_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


class TrackedTuner:
    """Mixin for a Keras Tuner class: each trial becomes a nested MLflow run."""

    def setup_tracking(self, setup: TrialSetup, progress=None, restart_check=None):
        """``progress.trial_ended(...)`` is told of each trial; ``restart_check()`` true between
        two trials (with trials left) restarts the process for memory."""
        self.setup, self.progress, self.restart_check = setup, progress, restart_check
        self.trials_run = 0

    def run_trial(self, trial, *args, **kwargs):
        s = self.setup
        done = record.finished_trial(s.client, s.experiment_id, s.parent_id, trial.trial_id)
        if done is not None:  # finished in MLflow, killed before the tuner saved it
            say(f"trial {trial.trial_id} already finished in run {done.info.run_id}; not re-running it")
            return dict(done.data.metrics)
        values = dict(trial.hyperparameters.values)
        run_id = record.create_trial(s.client, s.experiment_id, s.parent_id, s.sweep, trial.trial_id,
                                     values.get("model"), s.worker)
        tracking.log_params(s.client, run_id, {**s.params, **trial_params(values)})
        inputs.log_inputs(s.client, run_id, s.inputs)
        guard = TrialGuard(s.space.collapse_kl, s.space.collapse_after, s.space.objective)
        snapshots = ImageSnapshots(s.client, run_id, s.dataset, s.image_every, s.seed)
        callbacks = tracked_callbacks(s.client, run_id, guard=guard, snapshots=snapshots)
        status, reason = record.FAILED, None
        try:
            with tracking.system_metrics(s.client, run_id, s.system_metrics):
                result = super().run_trial(trial, *args, callbacks=callbacks, **kwargs)
                if guard.failure:
                    reason = guard.failure
                    raise kt.errors.FailedTrialError(reason)
                figures = finish_run(guard.model, s.dataset, s.client, run_id, s.metric_settings, seed=s.seed)
            objective = s.space.objective
            if s.space.objective_is_trial_metric:  # computed once trained: Keras Tuner takes it as returned
                if objective not in figures:
                    raise kt.errors.FailedTrialError(f"objective '{objective}' could not be computed for this trial")
                result = {objective: figures[objective]}
                best = figures[objective]
            else:
                best = best_of(result, objective, s.space.direction)
            tracking.log_metrics(s.client, run_id, {f"best_{objective}": best})
            status = record.FINISHED
            return result
        except (KeyboardInterrupt, SystemExit):
            status, reason = record.KILLED, record.INTERRUPTED
            raise
        except kt.errors.FailedTrialError:
            raise
        except Exception as exc:
            reason = failure_text(exc)
            raise kt.errors.FailedTrialError(reason) from exc
        finally:
            record.end_run(s.client, run_id, status, reason)

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self.trial_started = time.monotonic()
        values = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
        shown = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        print(f"[trial {trial.trial_id}] {shown}", file=sys.stderr, flush=True)

    def on_trial_end(self, trial):
        if trial.message:  # keras-tuner keeps a whole traceback; the reason is its last line
            trial.message = f"trial {trial.trial_id} failed: " + trial.message.strip().splitlines()[-1].split(": ", 1)[-1]
        super().on_trial_end(trial)
        self.trials_run += 1
        if self.progress is not None:
            status = trial.status if isinstance(trial.status, str) else str(trial.status)
            self.progress.trial_ended(trial.trial_id, status, time.monotonic() - self.trial_started)
        # The tuner and the oracle have saved their state by now.
        if self.restart_check is not None and self.restart_check() and (self.oracle.remaining_trials() or 0) > 0:
            raise RestartForMemory


class TrackedHyperband(TrackedTuner, kt.Hyperband):
    pass


class TrackedBayesian(TrackedTuner, kt.BayesianOptimization):
    pass


class TrackedRandom(TrackedTuner, kt.RandomSearch):
    pass


TUNER_CLASSES = {"hyperband": TrackedHyperband, "bayesian": TrackedBayesian, "random": TrackedRandom}


def make_tuner(name: str, hypermodel, objective: str, direction: str, *, directory: str, project: str, seed: int,
               max_trials: int, max_epochs: int, hyperband_factor: int, overwrite: bool):
    """A tracked Keras Tuner of kind ``name`` with the objective and ``overwrite`` stated."""
    common = dict(hypermodel=hypermodel, objective=kt.Objective(objective, direction=direction), directory=directory,
                  project_name=project, seed=seed + 1,  # keras-tuner reads seed 0 as "no seed"
                  overwrite=overwrite, max_consecutive_failed_trials=max_trials + 1)
    if name == "hyperband":
        tuner = TrackedHyperband(max_epochs=max_epochs, factor=hyperband_factor, hyperband_iterations=None, **common)
        tuner.oracle.max_trials = max_trials
        return tuner
    return TUNER_CLASSES[name](max_trials=max_trials, **common)
