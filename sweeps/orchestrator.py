"""`vaesweep sweep`: a Keras Tuner search where every trial is a nested MLflow run.

One parent run per sweep (experiment ``vae-<dataset>``), one child run per trial. The tuner's
own state lives in ``mlruns/tuner/<name>/``; with it and the parent run a sweep resumes after
Ctrl-C or a killed process without re-running a finished trial.

``prepare`` turns a ``SweepConfig`` into a ``Sweep``: its plan (``sweeps.plan``, pure), its
data, its store and its name. A ``Sweep`` offers the steps every role shares: open or join the
parent run, make the tracked tuner, search, replicate, finish. ``run_sweep`` only composes
them; ``sweeps.distributed`` builds the chief's and the workers' lifecycles from the same steps.
"""

import functools
import sys
import time
from dataclasses import dataclass

import keras

from sweeps import (
    console,
    dataset_inputs,
    kt_adapter,
    ranking,
    record,
    replicates,
    tracking,
    tradeoffs,
)
from sweeps.choices import EARLY_STOPPING_TUNERS
from sweeps.config import SweepConfig
from sweeps.hypermodel import VAEHyperModel
from sweeps.plan import SweepPlan, make_plan
from sweeps.process import MemoryWatch, RestartForMemory, restart
from sweeps.progress import SweepProgress
from sweeps.record import control
from sweeps.record import registry as model_registry
from sweeps.tracked_run import RunContext
from sweeps.tuner import StopRequested, make_tuner
from vae import runtime
from vae.data import eval_digest, load_dataset
from vae.errors import ConfigError, SweepError
from vae.metrics import registry
from vae.models import MODELS

TUNER_DIR = "tuner"


def check_objective(plan: SweepPlan, dataset) -> None:
    """A trial metric as objective must apply to this dataset too (the space checked the families)."""
    for name in plan.space.trial_metric_objectives():
        metric = registry.owner(name)
        reason = next(filter(None, (metric.unmet(MODELS[f], dataset) for f in plan.space.models)), None)
        if reason:
            raise ConfigError(f"{plan.space.source}: objective '{name}' cannot rank trials on "
                              f"{plan.dataset}: {reason}; pick another objective")


def choose_by(space) -> tuple[str, ...]:
    """The metrics each trial computes on the validation split too: those of its objectives
    that are trial metrics, and the per-image ELBO that the paired comparison of trials reads."""
    owners = [registry.owner(name).name for name in space.trial_metric_objectives()]
    return tuple(dict.fromkeys([*owners, "elbo"]))


def prepare(config: SweepConfig, worker: str = "local") -> "Sweep":
    """Plan, load the data, then connect to the store and name the sweep.

    The data is loaded and checked before the store is touched, so a mistake leaves it as it was.
    """
    plan = make_plan(config)
    dataset = load_dataset(plan.dataset, data_dir=config.data_dir, subset=plan.subset, likelihood=plan.space.likelihood)
    check_objective(plan, dataset)
    for note in dataset.notes:  # after every check, so that a mistake stays one line
        console.say(note)
    client = tracking.connect(config.tracking_uri)
    experiment_id = tracking.experiment_id(client, record.experiment_name(config.dataset), record.experiment_tags())
    name = config.name
    if not name and config.resume:
        latest = record.sweep_runs(client, experiment_id)
        if not latest:
            raise SweepError(f"no sweep of {config.dataset} to resume in {client.tracking_uri}; "
                             "start one without --resume")
        name = record.sweep_name(latest[0])
    return Sweep(plan, dataset, client, experiment_id, name or plan.default_name(), worker)


@dataclass
class Sweep:
    """One named sweep, prepared: its plan, data and MLflow experiment, and its parent run once
    opened or joined."""

    plan: SweepPlan
    dataset: object
    client: object
    experiment_id: str
    name: str
    worker: str = "local"
    parent_id: str | None = None
    resumed: bool = False
    joined: bool = False

    @property
    def config(self) -> SweepConfig:
        return self.plan.config

    @property
    def resolved(self) -> SweepConfig:
        """The configuration with everything decided here filled in (what a worker is given)."""
        return self.config.replace(name=self.name, tuner=self.plan.tuner, max_trials=self.plan.max_trials,
                                   tracking_uri=self.client.tracking_uri, resume=False)

    @functools.cached_property
    def dataset_inputs(self) -> list:
        """The MLflow dataset inputs every run of the sweep logs (digests of whole splits: once)."""
        return dataset_inputs.dataset_inputs(self.dataset, self.plan.metric_settings.eval_images, self.plan.subset)

    def identity(self) -> str:
        d = self.dataset
        return self.plan.identity((eval_digest(d.x_val, d.y_val), d.eval_digest))

    def open_parent(self) -> None:
        """Create the parent run, or reopen it (and close its interrupted trials) on resume."""
        create = not (self.config.resume and self.config.name)
        try:
            self.parent_id, self.resumed = record.open_sweep(self.client, self.experiment_id, self.name,
                                                             self.identity(), create=create)
        except SweepError:
            raise SweepError(f"no sweep named '{self.name}' to resume in {self.client.tracking_uri}; drop --resume "
                             "to start it") from None
        if self.resumed:
            record.reopen_sweep(self.client, self.parent_id)
            control.clear_stop(self.client, self.parent_id)
            closed = record.close_running(self.client, self.experiment_id, self.parent_id, record.INTERRUPTED)
            if closed:
                console.say(f"marked {closed} interrupted trial run(s) as KILLED")
            return
        tracking.log_params(self.client, self.parent_id, {
            **self.plan.parent_params(), **{f"version_{k}": v for k, v in tracking.versions().items()}})
        tracking.log_text(self.client, self.parent_id, self.plan.space.to_yaml(), "search_space.yaml")

    def join_parent(self) -> None:
        """Attach to the parent run that a distributed sweep's chief created (workers only)."""
        try:
            self.parent_id, _ = record.open_sweep(self.client, self.experiment_id, self.name, self.identity(),
                                                  create=False)
        except SweepError:
            raise SweepError(f"no sweep named '{self.name}' in {self.client.tracking_uri}; a worker joins a sweep "
                             "that its chief started: give the chief's --name and the same --tracking-uri (a "
                             "tracking server's http://... when the chief runs on another machine)") from None
        self.joined = True

    def run_context(self) -> RunContext:
        """What every trial and replicate of this sweep shares."""
        plan, space = self.plan, self.plan.space
        fixed = {"dataset": plan.dataset, "subset": plan.subset, "seed": plan.seed,
                 "likelihood": self.dataset.likelihood, "n_train": len(self.dataset.x_train), "sweep": self.name,
                 **{f"device_{k}": v for k, v in runtime.device_info().items()},
                 **{f"version_{k}": v for k, v in tracking.versions().items()}}
        return RunContext(
            client=self.client, experiment_id=self.experiment_id, dataset=self.dataset, seed=plan.seed,
            metric_settings=plan.metric_settings, params=fixed,
            inputs=self.dataset_inputs,
            image_every=plan.image_every, system_metrics=self.config.system_metrics, parent_id=self.parent_id,
            sweep=self.name, worker=self.worker, objective=space.objective, direction=space.direction,
            objective_is_trial_metric=space.objective_is_trial_metric, collapse_kl=space.collapse_kl,
            collapse_after=space.collapse_after, restore_best_epoch=True, choose_by=choose_by(space),
            data_dir=self.config.data_dir, progress=not self.config.quiet, early_stopping=self.early_stopping())

    def early_stopping(self):
        """The median-stopping rule of the space, for the tuners that train every trial fully and
        an objective logged every epoch; None otherwise."""
        space = self.plan.space
        on = (space.early_stopping.enabled and self.plan.tuner in EARLY_STOPPING_TUNERS
              and not space.objective_is_trial_metric)
        return space.early_stopping if on else None

    def make_tuner(self, restart_check=None):
        """The tracked tuner. A new sweep starts clean (``overwrite``, decided from the record,
        never silently); a resumed one or a worker (which shares the chief's folder: Hyperband
        reads other trials' checkpoints) reloads the tuner state."""
        plan = self.plan
        directory = tracking.mlruns_dir() / TUNER_DIR
        if self.resumed and not (directory / self.name).exists():
            raise SweepError(f"sweep '{self.name}' has an MLflow run but no tuner state in {directory / self.name}; "
                             "resume it on the machine that started it, or pass a new --name")
        kt_adapter.install()
        tuner = make_tuner(plan.tuner, VAEHyperModel(plan.space, self.dataset, plan.seed), plan.space.objective,
                           plan.space.direction, directory=str(directory), project=self.name, seed=plan.seed,
                           max_trials=plan.max_trials, max_epochs=plan.budget.epochs,
                           hyperband_factor=plan.budget.hyperband_factor, overwrite=not (self.resumed or self.joined))
        progress = SweepProgress(self.client, self.experiment_id, self.parent_id, plan.max_trials,
                                 plan.space.objective, plan.space.direction)
        context = self.run_context()
        if context.early_stopping is not None:  # a resumed sweep's earlier trials count too
            context.curves.extend(control.objective_curves(self.client, self.experiment_id, self.parent_id,
                                                           plan.space.objective))
        tuner.setup_tracking(context, progress, restart_check)
        return tuner

    def announce(self, extra: str = "") -> None:
        console.announce(self.plan, self.name, self.resumed, extra)

    def search(self, tuner) -> None:
        keras.utils.set_random_seed(self.plan.seed)
        tuner.search(epochs=self.plan.budget.epochs, verbose=0)

    def replicate(self, tuner) -> None:
        """More seeds of the top configurations (``--replicates``, else the budget's ``replicates``)."""
        trials = {trial_id: trial.hyperparameters.values for trial_id, trial in tuner.oracle.trials.items()}
        replicates.run_replicates(self.run_context(), trials, self.plan.replicates, self.plan.replicate_top,
                                  self.plan.budget.epochs)

    def finish(self, wall_time: float) -> str:
        """Record the counts and the best trial on the parent run; print the best trials."""
        client, space = self.client, self.plan.space
        finished = record.children(client, self.experiment_id, self.parent_id, record.FINISHED, role=record.TRIAL)
        failed = record.children(client, self.experiment_id, self.parent_id, record.FAILED, role=record.TRIAL)
        stopped = control.stopped_trials(client, self.experiment_id, self.parent_id)
        tracking.log_metrics(client, self.parent_id, {
            "trials_finished": len(finished), "trials_failed": len(failed), "trials_stopped": len(stopped),
            "wall_time_s": wall_time})
        if not finished:
            reasons = sorted({record.trial_row(r).failure_reason or "unknown" for r in failed})
            raise SweepError(f"every trial of sweep '{self.name}' failed ({len(failed)} trials; "
                             f"{'; '.join(reasons)[:300]}); lower the learning rate or widen the search space")
        key = record.objective_key(space.objective)
        ranked = sorted((r for r in finished if key in r.data.metrics), key=lambda r: r.data.metrics[key],
                        reverse=space.direction == "max")
        console.print_table(ranked[:5], key, console.table_params(space), registry.reported_twin(space.objective))
        selection, paired = ranking.paired_ranking(client, ranked, space.objective, space.direction)
        print("\n".join(ranking.describe(selection, paired, {r.info.run_id: f"trial {record.trial_row(r).trial_id}"
                                                              for r in ranked})))
        # With seed replicates the best configuration is the best fresh-seed mean, not the luckiest seed.
        context = self.run_context()
        summaries = replicates.summaries(context)
        by_mean = replicates.record_choice(context, summaries)
        best = next(r for r in ranked if r.info.run_id == by_mean.run_id) if by_mean else ranked[0]
        value = by_mean.mean if by_mean else best.data.metrics[key]
        by_udr = tradeoffs.record_tradeoffs(client, self.experiment_id, self.parent_id, finished, space)
        if by_udr is not None:  # selection: udr (recorded on the parent); its fresh-seed mean where known
            best = next(r for r in ranked if r.info.run_id == by_udr)
            value = next((s.mean for s in summaries if s.run_id == by_udr and s.values), best.data.metrics[key])
        record.record_best(client, self.parent_id, best, key)
        if by_mean is None or by_udr is not None:  # else record_choice logged the mean it chose by
            tracking.log_metrics(client, self.parent_id, {key: value})
        done = model_registry.register_best(client, space.dataset, best, key, space.direction, self.name, value)
        console.registered(done, model_registry.registered_model_name(space.dataset), key)
        console.summary(self, len(finished), len(failed), wall_time, len(stopped))
        return record.FINISHED


def run_sweep(config: SweepConfig, restartable: bool = False) -> int:
    """The standalone lifecycle: prepare, open the parent run, search, replicate, finish.

    With ``restartable`` (the ``vaesweep`` command, never a caller in the same process), the
    process restarts itself between two trials (and resumes) when its memory has grown past
    the limit (see ``sweeps.process``).
    """
    watch = MemoryWatch()
    sweep = prepare(config)
    sweep.open_parent()
    tuner = sweep.make_tuner(restart_check=watch.exceeded if restartable else None)
    sweep.announce()
    start, status = time.monotonic(), record.FAILED
    try:
        sweep.search(tuner)
        sweep.replicate(tuner)
        status = sweep.finish(time.monotonic() - start)
    except StopRequested:
        status = record.KILLED
        print(f"stopped by 'vaesweep stop'; finished trials are kept. Resume with: vaesweep sweep --dataset "
              f"{config.dataset} --name {sweep.name} --resume", file=sys.stderr)
    except RestartForMemory:
        status = None
        restart(config.replace(name=sweep.name, resume=True).to_argv(), sweep.name, watch.grown_mb())
    except KeyboardInterrupt:
        status = record.KILLED
        print(f"interrupted; finished trials are kept. Resume with: vaesweep sweep --dataset {config.dataset} "
              f"--name {sweep.name} --resume", file=sys.stderr)
        raise
    finally:
        if status is not None:
            record.close_sweep(sweep.client, sweep.parent_id, status)
    return 0
