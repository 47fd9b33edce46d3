"""Keras Tuner tuners whose every trial is a nested MLflow run.

``TrackedTuner`` is a mixin for any Keras Tuner class: ``run_trial`` opens the trial's child
run in the record, trains through Keras Tuner with the tracking callbacks, then logs the
trial's figures and closes the run with its status, all through ``sweeps.tracked_run``. It is
handed what every trial shares (a ``RunContext``) and talks to the record, never back to the
sweep that made it.
"""

import sys
import time

from sweeps import kt_adapter, record
from sweeps.choices import TUNERS
from sweeps.console import say
from sweeps.process import RestartForMemory
from sweeps.record import control
from sweeps.tracked_run import RunContext, RunFailed, TrackedRun, failure_text

kt = kt_adapter.kt


class StopRequested(Exception):
    """``vaesweep stop`` asked this sweep to end; raised between two trials, once the tuner
    has saved its state, so that ``--resume`` continues where it ended."""


def trial_params(values: dict) -> dict:
    """A trial's hyperparameter values as MLflow params (``tuner/epochs`` -> ``tuner_epochs``)."""
    return {k.replace("tuner/", "tuner_"): v for k, v in values.items()}


def best_of(histories, objective: str, direction: str) -> float:
    """The best value of the objective over the epochs of a trial's histories."""
    values = [v for h in histories for v in h.history.get(objective, [])]
    if not values:
        raise kt.errors.FailedTrialError(f"objective '{objective}' was not logged")
    return min(values) if direction == "min" else max(values)


class TrackedTuner:
    """Mixin for a Keras Tuner class: each trial becomes a nested MLflow run."""

    def setup_tracking(self, context: RunContext, progress=None, restart_check=None):
        """``progress.trial_ended(...)`` is told of each trial; ``restart_check()`` true between
        two trials (with trials left) restarts the process for memory."""
        self.context, self.progress, self.restart_check = context, progress, restart_check
        self.trials_run = 0
        self.stopped_early: dict[str, int] = {}  # trial id -> the epoch early stopping ended it at

    def run_trial(self, trial, *args, **kwargs):
        c = self.context
        done = record.finished_trial(c.client, c.experiment_id, c.parent_id, trial.trial_id)
        if done is not None:  # finished in MLflow, killed before the tuner saved it
            say(f"trial {trial.trial_id} already finished in run {done.info.run_id}; not re-running it")
            return dict(done.data.metrics)
        values = dict(trial.hyperparameters.values)
        try:
            with TrackedRun(c, record.TRIAL, trial_params(values), trial_id=trial.trial_id,
                            model=values.get("model"), epochs=values.get("tuner/epochs", kwargs.get("epochs"))) as run:
                result = super().run_trial(trial, *args, callbacks=run.callbacks(), **kwargs)
                run.check()
                if run.stopped_epoch is not None:  # hopeless: not evaluated; the tuner counts what it reached
                    run.record_stopped(best_of(result, c.objective, c.direction))
                    self.stopped_early[trial.trial_id] = run.stopped_epoch
                    return result
                figures = run.finish(run.guard.model)
                if c.objective_is_trial_metric:  # computed once trained: Keras Tuner takes it as returned
                    if c.objective not in figures:
                        raise RunFailed(f"objective '{c.objective}' could not be computed for this trial")
                    result = {c.objective: figures[c.objective]}
                    run.record_objective(figures[c.objective])
                else:
                    run.record_objective(best_of(result, c.objective, c.direction))
                return result
        except (KeyboardInterrupt, SystemExit, kt.errors.FailedTrialError):
            raise
        except Exception as exc:  # recorded on the run with its reason; Keras Tuner counts a failed trial
            raise kt.errors.FailedTrialError(str(exc) if isinstance(exc, RunFailed) else failure_text(exc)) from exc

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
            if trial.trial_id in self.stopped_early:  # Keras Tuner completed it with the values it reached
                status = f"stopped early at epoch {self.stopped_early[trial.trial_id]}"
            self.progress.trial_ended(trial.trial_id, status, time.monotonic() - self.trial_started)
        # The tuner and the oracle have saved their state by now.
        # A worker's oracle is the chief's gRPC client, which cannot count the trials left: the
        # chief's own process decides when its sweep stops or restarts.
        remaining = getattr(self.oracle, "remaining_trials", None)
        trials_left = remaining is not None and (remaining() or 0) > 0
        if trials_left and control.stop_requested(self.context.client, self.context.parent_id):
            raise StopRequested
        if self.restart_check is not None and self.restart_check() and trials_left:
            raise RestartForMemory


# One tracked class per registered tuner name (``sweeps.choices.TUNERS``).
TUNER_CLASSES = {name: type(f"Tracked{cls}", (TrackedTuner, getattr(kt, cls)), {}) for name, cls in TUNERS.items()}


def make_tuner(name: str, hypermodel, objective: str, direction: str, *, directory: str, project: str, seed: int,
               max_trials: int, max_epochs: int, hyperband_factor: int, overwrite: bool):
    """A tracked Keras Tuner of kind ``name`` with the objective and ``overwrite`` stated."""
    common = dict(hypermodel=hypermodel, objective=kt.Objective(objective, direction=direction), directory=directory,
                  project_name=project, seed=seed + 1,  # keras-tuner reads seed 0 as "no seed"
                  overwrite=overwrite, max_consecutive_failed_trials=max_trials + 1)
    if name == "hyperband":
        tuner = TUNER_CLASSES[name](max_epochs=max_epochs, factor=hyperband_factor, hyperband_iterations=None, **common)
        tuner.oracle.max_trials = max_trials
        return tuner
    return TUNER_CLASSES[name](max_trials=max_trials, **common)
