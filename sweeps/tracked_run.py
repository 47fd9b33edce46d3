"""One tracked run: a search trial, a seed replicate or a ``vaesweep train`` run.

All three are created, fed and ended here, so that they record the same things:

- the run itself, created through ``sweeps.record`` with its role and tags and a status tag;
- the fixed params of the context (dataset, seed, library versions, device) and the run's own;
- its dataset inputs (training and evaluation sets);
- the callbacks of its fit: per-epoch metrics, image snapshots (steps 0..epochs) and the guard
  against divergence and collapse;
- MLflow's system metrics while it trains and evaluates;
- for a search trial, per-epoch progress lines (unless quiet) and the median-stopping rule
  (``sweeps.early_stopping``) against the sweep's earlier trials, whose curves the context
  holds; a trial it stops ends as stopped at its epoch (``sweeps.record.control``), not failed;
- after training, everything ``sweeps.evaluation.finish_run`` logs (model, figures, images,
  trial metrics), the objective figure under ``record.objective_key`` and the final status:
  FINISHED, FAILED with a reason, or KILLED when interrupted.

Usage::

    with TrackedRun(context, record.TRIAL, params, trial_id="3", model="conv") as run:
        history = fit_model(model, dataset, ..., callbacks=run.callbacks())
        run.check()                      # the guard's failure, as RunFailed
        figures = run.finish(model)
        run.record_objective(value)
"""

import contextlib
import sys
from dataclasses import dataclass, field

from sweeps import dataset_inputs, record, tracking
from sweeps.callbacks import (
    ImageSnapshots,
    MedianStopping,
    RestoreBestEpoch,
    TrialGuard,
    tracked_callbacks,
)
from sweeps.early_stopping import EarlyStopping
from sweeps.evaluation import finish_run
from sweeps.record import control


class RunFailed(Exception):
    """A run that failed for a reason of its own (divergence, collapse, a missing objective)."""


def failure_text(exc: BaseException) -> str:
    """The first line of an exception, as a run's ``failure_reason``."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


@dataclass
class RunContext:
    """What every run of one sweep (or one ``vaesweep train`` command) shares.

    ``parent_id`` and ``sweep`` are None for a ``train`` run; ``collapse_kl`` None checks
    divergence only (a single run reports collapse as a warning instead of stopping).
    """

    client: object
    experiment_id: str
    dataset: object
    seed: int
    metric_settings: object
    params: dict = field(default_factory=dict)  # logged on every run beside its own params
    inputs: list = field(default_factory=list)  # MLflow dataset inputs (sweeps.dataset_inputs)
    image_every: int = 1  # epochs between two image snapshots
    system_metrics: bool = True
    parent_id: str | None = None
    sweep: str | None = None
    worker: str = "local"
    objective: str = "val_loss"
    direction: str = "min"
    objective_is_trial_metric: bool = False  # computed after training (``mig``) rather than per epoch
    collapse_kl: float | None = 0.01
    collapse_after: int = 2
    # A sweep evaluates the epoch it chose: the best epoch of a per-epoch objective (a train run,
    # which chooses nothing, and a trial metric, computed once trained, keep the last epoch).
    restore_best_epoch: bool = False
    choose_by: tuple[str, ...] = ()  # metrics computed on the validation split too (what a sweep chooses on)
    data_dir: str | None = None
    progress: bool = False  # one line per epoch (or per few epochs) inside each trial
    early_stopping: EarlyStopping | None = None  # the rule for search trials; None: off
    curves: list = field(default_factory=list)  # earlier trials' objective per epoch (the tuner adds each)


class TrackedRun:
    """A context manager around one MLflow run; see the module docstring."""

    def __init__(self, context: RunContext, role: str, params: dict, *, run_name: str | None = None,
                 trial_id: str | None = None, model: str | None = None, tags: dict | None = None,
                 epochs: int | None = None, progress_prefix: str | None = None):
        """``run_name`` names a ``train`` run; a sweep's child runs are named by ``record``
        from their role, ``trial_id`` and ``model``."""
        self.context, self.role, self.run_name, self.params = context, role, run_name, params
        self.trial_id, self.model, self.tags = trial_id, model, tags or {}
        self.epochs, self.progress_prefix = epochs, progress_prefix
        if progress_prefix is None and context.progress and role == record.TRIAL:
            self.progress_prefix = f"[trial {trial_id}] "
        self.stopper = (MedianStopping(context.objective, context.direction, context.early_stopping, context.curves)
                        if context.early_stopping is not None and role == record.TRIAL else None)
        self.run_id: str | None = None
        self.finished = False
        self.reason: str | None = None
        self.stopped = False
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "TrackedRun":
        c = self.context
        if c.parent_id is None:
            self.run_id = record.create_train_run(c.client, c.experiment_id, self.run_name)
        else:
            self.run_id = record.create_trial(c.client, c.experiment_id, c.parent_id, c.sweep, self.trial_id,
                                              self.model, c.worker, role=self.role, extra_tags=self.tags)
        try:
            tracking.log_params(c.client, self.run_id, {**c.params, **self.params})
            dataset_inputs.log_inputs(c.client, self.run_id, c.inputs)
            self.guard = TrialGuard(c.collapse_kl, c.collapse_after, c.objective)
            self.snapshots = ImageSnapshots(c.client, self.run_id, c.dataset, c.image_every, c.seed)
            self.restore = (RestoreBestEpoch(c.objective, c.direction)
                            if c.restore_best_epoch and not c.objective_is_trial_metric else None)
            self._stack.enter_context(tracking.system_metrics(c.client, self.run_id, c.system_metrics))
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def callbacks(self) -> list:
        """The callbacks of this run's fit (a fresh list; the callbacks themselves are shared)."""
        stopper = [self.stopper] if self.stopper is not None else []
        return tracked_callbacks(self.context.client, self.run_id, self.epochs, self.guard, self.progress_prefix,
                                 self.snapshots, self.restore) + stopper

    @property
    def stopped_epoch(self) -> int | None:
        """The epoch early stopping ended this trial at; None when it ran its budget."""
        return self.stopper.stopped_epoch if self.stopper is not None else None

    def record_stopped(self, value: float) -> None:
        """Log the value a stopped trial reached (Keras Tuner counts it too) and end it as stopped."""
        tracking.log_metrics(self.context.client, self.run_id, {record.objective_key(self.context.objective): value})
        self.stopped = True

    def check(self) -> None:
        """Raise ``RunFailed`` with the guard's reason when the fit was stopped by it."""
        if self.guard.failure:
            raise RunFailed(self.guard.failure)

    def finish(self, model) -> dict:
        """Evaluate and log the trained model (``sweeps.evaluation.finish_run``), at its best
        epoch when the context restores it (``evaluated_epoch`` says which); returns its figures."""
        c = self.context
        if self.restore is not None and self.restore.best_epoch is not None:
            tracking.log_params(c.client, self.run_id, {record.EVALUATED_EPOCH: self.restore.best_epoch})
        return finish_run(model, c.dataset, c.client, self.run_id, c.metric_settings, seed=c.seed,
                          choose_by=c.choose_by, data_dir=c.data_dir)

    def record_objective(self, value: float) -> None:
        """Log the run's objective figure and mark the run as finished."""
        tracking.log_metrics(self.context.client, self.run_id, {record.objective_key(self.context.objective): value})
        self.finished = True

    def succeed(self) -> None:
        """Mark a run without an objective (a ``train`` run) as finished."""
        self.finished = True

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._stack.close()  # the system-metrics thread stops before the run ends
        if exc_type is None and self.finished and not self.stopped:
            status, reason = record.FINISHED, None
        elif exc_type is not None and issubclass(exc_type, KeyboardInterrupt | SystemExit):
            status, reason = record.KILLED, record.INTERRUPTED
        else:
            status = record.FAILED
            reason = self.guard_reason() or (str(exc) if isinstance(exc, RunFailed) else
                                             failure_text(exc) if exc is not None else "ended before finishing")
        if exc_type is None and self.stopped:
            self.reason = (f"stopped early at epoch {self.stopped_epoch}: {self.context.objective} below the median "
                           "of the earlier trials at that epoch")
            control.end_stopped(self.context.client, self.run_id, self.stopped_epoch, self.reason)
            self.add_curve()
            return False
        self.reason = reason
        if self.run_id is not None:
            record.end_run(self.context.client, self.run_id, status, reason)
        if status == record.FINISHED:
            self.add_curve()
        return False

    def add_curve(self) -> None:
        """Hand this trial's objective per epoch to the trials after it."""
        if self.stopper is not None and self.stopper.curve:
            self.context.curves.append(list(self.stopper.curve))

    def guard_reason(self) -> str | None:
        guard = getattr(self, "guard", None)
        return guard.failure if guard is not None else None
