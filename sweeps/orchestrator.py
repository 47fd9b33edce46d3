"""`vaesweep sweep`: a Keras Tuner search where every trial is a nested MLflow run.

One parent run per sweep (experiment ``vae-<dataset>``), one child run per trial. The tuner's
own state lives in ``mlruns/tuner/<name>/``; with it and the parent run a sweep resumes after
Ctrl-C or a killed process without re-running a finished trial.

A ``Sweep`` is prepared from a ``SweepConfig`` (space, budget, data, store, name) and offers
the steps every role shares: open or join the parent run, make the tracked tuner, finish.
``run_sweep`` is the standalone lifecycle; ``sweeps.distributed`` builds the chief's and the
workers' from the same steps.
"""

import dataclasses
import hashlib
import sys
import time
import warnings

import keras

from sweeps import inputs, ranking, record, replicates, tracking
from sweeps.config import SweepConfig
from sweeps.console import format_seconds, say
from sweeps.evaluation import SETTINGS
from sweeps.hypermodel import VAEHyperModel
from sweeps.process import MemoryWatch, RestartForMemory, restart
from sweeps.progress import SweepProgress
from sweeps.space import load_space
from sweeps.training import default_image_every
from sweeps.tuner import TrialSetup, make_tuner
from vae import config as paths
from vae import runtime
from vae.data import load_dataset
from vae.errors import ConfigError, SweepError
from vae.metrics import registry
from vae.models import MODELS

TUNER_DIR = "tuner"
# Hyperband restores a trial's weights from an earlier trial's checkpoint into a fresh
# optimizer; Keras warns that the old optimizer state is skipped, which is what we want.
warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")


class Sweep:
    """One named sweep, prepared: its space, budget, data and MLflow experiment.

    The data is loaded before the store is touched, so a data mistake leaves it as it was.
    """

    def __init__(self, config: SweepConfig, worker: str = "local"):
        self.config, self.worker = config, worker
        self.space = load_space(config.dataset, config.space_file)
        self.tuner_name = config.tuner or self.space.tuner
        if config.budget not in self.space.budgets:
            raise ConfigError(f"{self.space.source}: no '{config.budget}' budget; add budgets.{config.budget} or pick "
                              f"one of {', '.join(self.space.budgets) or 'none'}")
        self.budget = self.space.budgets[config.budget]
        self.subset = self.budget.subset if config.subset is None else config.subset
        self.max_trials = config.max_trials or self.budget.max_trials
        self.metric_settings = dataclasses.replace(SETTINGS[config.budget], inception_weights=config.inception_weights)
        self.seed = config.seed
        self.dataset = load_dataset(self.space.dataset, data_dir=config.data_dir, subset=self.subset, seed=self.seed,
                                    likelihood=self.space.likelihood)
        self.check_objective()
        for note in self.dataset.notes:  # after every check, so that a mistake stays one line
            say(note)
        self.client = tracking.connect(config.tracking_uri)
        self.experiment_id = tracking.experiment_id(self.client, record.experiment_name(config.dataset),
                                                   record.experiment_tags())
        self.name = self.resolve_name()
        self.directory = paths.mlruns_dir() / TUNER_DIR
        self.versions = tracking.versions()
        self.parent_id, self.resumed, self.joined = None, False, False

    def check_objective(self) -> None:
        """A trial metric as objective must apply to this dataset too (the space checked the families)."""
        metric = registry.owner(self.space.objective)
        if metric is None:
            return
        reason = next(filter(None, (metric.unmet(MODELS[f], self.dataset) for f in self.space.models)), None)
        if reason:
            raise ConfigError(f"{self.space.source}: objective '{self.space.objective}' cannot rank trials on "
                              f"{self.space.dataset}: {reason}; pick another objective")

    @property
    def resolved(self) -> SweepConfig:
        """The configuration with everything decided here filled in (what a worker is given)."""
        return self.config.replace(name=self.name, tuner=self.tuner_name, max_trials=self.max_trials,
                                   tracking_uri=self.client.tracking_uri, resume=False)

    def resolve_name(self) -> str:
        if self.config.name:
            return self.config.name
        if self.config.resume:
            latest = record.sweep_runs(self.client, self.experiment_id)
            if not latest:
                raise SweepError(f"no sweep of {self.config.dataset} to resume in {self.client.tracking_uri}; "
                                 "start one without --resume")
            return record.sweep_name(latest[0])
        return f"{self.config.dataset}-{self.tuner_name}-{self.config.budget}-{time.strftime('%Y%m%d-%H%M%S')}"

    def space_digest(self) -> str:
        key = f"{self.space.to_yaml()}|{self.tuner_name}|{self.config.budget}|{self.max_trials}|{self.seed}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def open_parent(self) -> None:
        """Create the parent run, or reopen it (and close its interrupted trials) on resume."""
        parent = record.find_sweep(self.client, self.experiment_id, self.name)
        if parent is not None:
            if record.sweep_digest(parent) != self.space_digest():
                raise ConfigError(f"sweep '{self.name}' was started with another search space, tuner, budget or seed; "
                                  "pass a new --name to start a new sweep")
            self.parent_id, self.resumed = parent.info.run_id, True
            self.client.update_run(self.parent_id, status=record.RUNNING)
            closed = record.close_running(self.client, self.experiment_id, self.parent_id, record.INTERRUPTED)
            if closed:
                say(f"marked {closed} interrupted trial run(s) as KILLED")
            return
        if self.config.resume and self.config.name:
            raise SweepError(f"no sweep named '{self.name}' to resume in {self.client.tracking_uri}; drop --resume to start it")
        self.parent_id = record.create_sweep(self.client, self.experiment_id, self.name, self.space_digest())
        tracking.log_params(self.client, self.parent_id, {
            "dataset": self.space.dataset, "tuner": self.tuner_name, "budget": self.config.budget,
            "objective": self.space.objective, "objective_direction": self.space.direction,
            "max_trials": self.max_trials, "epochs": self.budget.epochs, "subset": self.subset,
            "seed": self.seed, "search_space_file": self.space.source, "models": ",".join(self.space.models),
            **{f"version_{k}": v for k, v in self.versions.items()},
        })
        tracking.log_text(self.client, self.parent_id, self.space.to_yaml(), "search_space.yaml")

    def join_parent(self) -> None:
        """Attach to the parent run that a distributed sweep's chief created (workers only)."""
        parent = record.find_sweep(self.client, self.experiment_id, self.name)
        if parent is None:
            raise SweepError(f"no sweep named '{self.name}' in {self.client.tracking_uri}; a worker joins a sweep that "
                             "its chief started: give the chief's --name and the same --tracking-uri (a tracking "
                             "server's http://... when the chief runs on another machine)")
        if record.sweep_digest(parent) != self.space_digest():
            raise ConfigError(f"sweep '{self.name}' was started with another search space, tuner, budget, "
                              "--max-trials or seed; start the worker with the chief's options")
        self.parent_id, self.joined = parent.info.run_id, True

    def trial_setup(self) -> TrialSetup:
        fixed = {"dataset": self.space.dataset, "subset": self.subset, "seed": self.seed,
                 "likelihood": self.dataset.likelihood, "n_train": len(self.dataset.x_train), "sweep": self.name}
        fixed.update({f"device_{k}": v for k, v in runtime.device_info().items()})
        return TrialSetup(client=self.client, experiment_id=self.experiment_id, parent_id=self.parent_id,
                          sweep=self.name, worker=self.worker, dataset=self.dataset, seed=self.seed, space=self.space,
                          metric_settings=self.metric_settings,
                          params={**fixed, **{f"version_{k}": v for k, v in self.versions.items()}},
                          inputs=inputs.dataset_inputs(self.dataset, self.metric_settings.eval_images, self.subset),
                          image_every=self.config.image_every or default_image_every(self.budget.epochs),
                          system_metrics=self.config.system_metrics)

    def progress(self) -> SweepProgress:
        return SweepProgress(self.client, self.experiment_id, self.parent_id, self.max_trials, self.space.objective,
                             self.space.direction)

    def make_tuner(self, restart_check=None):
        """The tracked tuner. A new sweep starts clean (``overwrite``, decided from the record,
        never silently); a resumed one or a worker (which shares the chief's folder: Hyperband
        reads other trials' checkpoints) reloads the tuner state."""
        project = self.directory / self.name
        if self.resumed and not project.exists():
            raise SweepError(f"sweep '{self.name}' has an MLflow run but no tuner state in {project}; "
                             "resume it on the machine that started it, or pass a new --name")
        tuner = make_tuner(self.tuner_name, VAEHyperModel(self.space, self.dataset, self.seed), self.space.objective,
                           self.space.direction, directory=str(self.directory), project=self.name, seed=self.seed,
                           max_trials=self.max_trials, max_epochs=self.budget.epochs,
                           hyperband_factor=self.budget.hyperband_factor, overwrite=not (self.resumed or self.joined))
        tuner.setup_tracking(self.trial_setup(), self.progress(), restart_check)
        return tuner

    def announce(self, extra: str = "") -> None:
        verb = "resuming" if self.resumed else "starting"
        say(f"{verb} sweep '{self.name}': {self.tuner_name}, budget {self.config.budget} ({self.max_trials} trials, "
            f"{self.budget.epochs} epochs), objective {self.space.objective} ({self.space.direction}){extra}")

    def search(self, tuner) -> None:
        keras.utils.set_random_seed(self.seed)
        tuner.search(epochs=self.budget.epochs, verbose=0)

    def replicate(self, tuner) -> None:
        """More seeds of the top configurations (``--replicates``, else the budget's ``replicates``)."""
        count = self.config.replicates or self.budget.replicates
        replicates.run_replicates(self, tuner, count, self.config.replicate_top or replicates.DEFAULT_TOP)

    def finish(self, wall_time: float) -> str:
        """Record the counts and the best trial on the parent run; print the best trials."""
        finished = record.children(self.client, self.experiment_id, self.parent_id, record.FINISHED, role=record.TRIAL)
        failed = record.children(self.client, self.experiment_id, self.parent_id, record.FAILED, role=record.TRIAL)
        tracking.log_metrics(self.client, self.parent_id, {
            "trials_finished": len(finished), "trials_failed": len(failed), "wall_time_s": wall_time})
        if not finished:
            reasons = sorted({record.trial_row(r).failure_reason or "unknown" for r in failed})
            raise SweepError(f"every trial of sweep '{self.name}' failed ({len(failed)} trials; "
                             f"{'; '.join(reasons)[:300]}); lower the learning rate or widen the search space")
        key = f"best_{self.space.objective}"
        ranked = sorted((r for r in finished if key in r.data.metrics), key=lambda r: r.data.metrics[key],
                        reverse=self.space.direction == "max")
        print_table(ranked[:5], key)
        paired = ranking.paired_ranking(self.client, ranked)
        if paired is not None:
            print("\n".join(ranking.describe(paired, {r.info.run_id: f"trial {record.trial_row(r).trial_id}"
                                                       for r in ranked})))
        # With seed replicates the best configuration is the best mean over seeds, not the luckiest seed.
        by_mean = replicates.record_choice(self, replicates.summaries(self))
        best = next(r for r in ranked if r.info.run_id == by_mean.run_id) if by_mean else ranked[0]
        record.record_best(self.client, self.parent_id, best, key)
        tracking.log_metrics(self.client, self.parent_id, {key: best.data.metrics[key]})
        self.register(best, key)
        print(f"sweep '{self.name}': {len(finished)} finished, {len(failed)} failed in {format_seconds(wall_time)}\n"
              f"parent run {self.parent_id} in {self.client.tracking_uri}\n"
              f"compare the trials with: make ui   (or: mlflow ui --backend-store-uri {self.client.tracking_uri})\n"
              f"write the report with:   make report DATASET={self.space.dataset}")
        return record.FINISHED


    def register(self, best, key: str) -> None:
        """Register the best trial's model; the alias ``best`` moves to it when it beats the
        current one on the same objective (``record.register_best``)."""
        done = record.register_best(self.client, self.space.dataset, best, key, self.space.direction, self.name)
        if done is None:
            return
        name = record.registered_model_name(self.space.dataset)
        before = "" if done.previous is None else f" ({key} {done.previous:.3f} before)"
        say(f"registered the best trial's model as {name} version {done.version}; "
            + (f"alias '{record.BEST_ALIAS}' moved to it{before}" if done.promoted
               else f"alias '{record.BEST_ALIAS}' stays on a better model{before}"))


def print_table(runs, key):
    names = ["model", "latent_dim", "beta", "learning_rate", "batch_size", "depth"]
    print(f"best trials by {key}:")
    print("  " + "  ".join(f"{n:>13}" for n in ["trial", key[:13], *names]))
    for run in runs:
        p = run.data.params
        cells = [record.trial_row(run).trial_id or "?", f"{run.data.metrics[key]:.3f}", *(p.get(n, "-") for n in names)]
        print("  " + "  ".join(f"{str(c)[:13]:>13}" for c in cells))


def run_sweep(config: SweepConfig, restartable: bool = False) -> int:
    """The standalone lifecycle: prepare, open the parent run, search, finish.

    With ``restartable`` (the ``vaesweep`` command, never a caller in the same process), the
    process restarts itself between two trials (and resumes) when its memory has grown past
    the limit (see ``sweeps.process``).
    """
    watch = MemoryWatch()
    sweep = Sweep(config)
    sweep.open_parent()
    tuner = sweep.make_tuner(restart_check=watch.exceeded if restartable else None)
    sweep.announce()
    if sweep.space.objective.removeprefix("val_") == "loss" and len(sweep.space.models) > 1:
        say("note: 'loss' is each family's own objective (a β-weighted ELBO, WAE's MMD penalty, VQ-VAE's "
            "codebook loss); compare families on test_nll or reconstruction in the report")
    start, status = time.monotonic(), record.FAILED
    try:
        sweep.search(tuner)
        sweep.replicate(tuner)
        status = sweep.finish(time.monotonic() - start)
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
            sweep.client.set_terminated(sweep.parent_id, status)
    return 0
