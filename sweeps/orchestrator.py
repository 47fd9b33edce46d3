"""`vaesweep sweep`: a Keras Tuner search where every trial is a nested MLflow run.

One parent run per sweep (experiment ``vae-<dataset>``), one child run per trial. The tuner's
own state lives in ``mlruns/tuner/<name>/``; with it and the parent run a sweep resumes after
Ctrl-C or a killed process without re-running a finished trial.
"""

import hashlib
import os
import signal
import sys
import time
import warnings

import keras
import keras_tuner as kt
from keras_tuner.src import config as kt_config

from sweeps import tracking
from sweeps.console import say
from sweeps.evaluation import SETTINGS
from sweeps.space import SearchSpace, load_space
from sweeps.training import (
    TrialGuard,
    compile_model,
    finish_tracked,
    fit_tracked,
    format_seconds,
    log_trial_metrics,
)
from vae import config
from vae.data import load_dataset
from vae.errors import ConfigError, SweepError
from vae.models import build_model

TUNER_DIR = "tuner"
# keras-tuner prints every failed trial's traceback when DEBUG is on (its default); a failed
# trial is a result here, reported in one line and recorded in MLflow with its reason.
kt_config.DEBUG = False
# Hyperband restores a trial's weights from an earlier trial's checkpoint into a fresh
# optimizer; Keras warns that the old optimizer state is skipped, which is what we want.
warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")


class VAEHyperModel(kt.HyperModel):
    """Builds a model from the search space; ``fit`` tunes ``batch_size`` and tracks epochs.

    ``context`` is set by the tuner before each trial: the MLflow client, the trial's run id
    and its guard, so that ``fit`` logs to the right run.
    """

    def __init__(self, space: SearchSpace, dataset, seed: int):
        super().__init__(name="vae")
        self.space, self.dataset, self.seed = space, dataset, seed
        self.context = None
        self.last_model = None

    def declare(self, hp):
        """Declare every hyperparameter of the space; returns the active values."""
        families = list(self.space.models)
        values = {"model": hp.Choice("model", families) if len(families) > 1 else hp.Fixed("model", families[0])}
        for name, param in self.space.shared.items():
            values[name] = declare_param(hp, param)
        for name, owners in self.space.family_params().items():
            param = self.space.models[owners[0]][name]
            with hp.conditional_scope("model", owners):
                value = declare_param(hp, param)
            if values["model"] in owners:
                values[name] = value
        return values

    def build(self, hp):
        values = self.declare(hp)
        extra = {k: v for k, v in values.items() if k not in ("model", "latent_dim", "depth", "learning_rate", "batch_size")}
        from sweeps.train import model_context

        model = build_model(values["model"], self.dataset.image_shape, self.dataset.likelihood,
                            latent_dim=values.get("latent_dim", 16), depth=values.get("depth"), seed=self.seed,
                            **extra, **model_context(values["model"], self.dataset))
        model.adapt(self.dataset.x_train)  # data-dependent initial values (a Gaussian's scale)
        compile_model(model, values.get("learning_rate", 1e-3))
        return model

    def fit(self, hp, model, *args, callbacks=(), epochs=1, initial_epoch=0, **kwargs):
        batch_size = hp.get("batch_size") if "batch_size" in hp.values else 64
        ctx = self.context
        self.last_model = model
        return fit_tracked(model, self.dataset, ctx["client"], ctx["run_id"], epochs=epochs, batch_size=batch_size,
                           initial_epoch=initial_epoch, callbacks=list(callbacks), guard=ctx["guard"],
                           progress_prefix=None)


def declare_param(hp, param):
    if param.choices is not None:
        if len(param.choices) == 1:
            return hp.Fixed(param.name, param.choices[0])
        return hp.Choice(param.name, param.choices)
    if isinstance(param.min, int) and isinstance(param.max, int) and (param.step is None or isinstance(param.step, int)):
        return hp.Int(param.name, param.min, param.max, step=param.step or 1, sampling=param.sampling)
    return hp.Float(param.name, float(param.min), float(param.max), step=param.step, sampling=param.sampling)


# TensorFlow keeps some memory of every model built and fit in a process, clear_session or
# not (keras-team/keras#17458, tensorflow#61791): tens of MB per trial here. A sweep whose
# memory has grown by more than this restarts its process between two trials and resumes.
RESTART_ENV = "VAESWEEP_RESTART_AFTER_MB"
DEFAULT_RESTART_MB = 2048


class RestartForMemory(Exception):
    """Raised between two trials when the process should be replaced by a resumed one."""


def resident_mb() -> float | None:
    """This process's resident memory in MB (Linux), else None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return None


class TrackedTuner:
    """Mixin for a Keras Tuner class: each trial becomes a nested MLflow run."""

    def setup_tracking(self, sweep):
        self.sweep = sweep
        self.trial_times = []

    def run_trial(self, trial, *args, **kwargs):
        sweep = self.sweep
        client, hypermodel = sweep.client, self.hypermodel
        done = sweep.finished_run_for(trial.trial_id)
        if done is not None:  # finished in MLflow, killed before the tuner saved it
            say(f"trial {trial.trial_id} already finished in run {done.info.run_id}; not re-running it")
            return {k: v for k, v in done.data.metrics.items()}
        values = dict(trial.hyperparameters.values)
        run = client.create_run(
            sweep.experiment_id,
            run_name=f"trial-{trial.trial_id}-{values.get('model')}",
            tags={tracking.TAG_PARENT: sweep.parent_id, tracking.TAG_ROLE: "trial", tracking.TAG_SWEEP: sweep.name,
                  "trial_id": trial.trial_id, "trial_status": "RUNNING", "worker": sweep.worker_id},
        )
        run_id = run.info.run_id
        params = {k.replace("tuner/", "tuner_"): v for k, v in values.items()}
        tracking.log_params(client, run_id, {**sweep.fixed_params(), **params,
                                             **{f"version_{k}": v for k, v in sweep.versions.items()}})
        guard = TrialGuard(sweep.space.collapse_kl, sweep.space.collapse_after, sweep.space.objective)
        hypermodel.context = {"client": client, "run_id": run_id, "guard": guard}
        status, reason = "FAILED", None
        try:
            result = super().run_trial(trial, *args, **kwargs)
            if guard.failure:
                reason = guard.failure
                raise kt.errors.FailedTrialError(reason)
            tracking.log_metrics(client, run_id, {f"best_{sweep.space.objective}": best_of(result, sweep.space)})
            finish_tracked(hypermodel.last_model, sweep.dataset, client, run_id, seed=sweep.seed)
            log_trial_metrics(hypermodel.last_model, sweep.dataset, client, run_id, sweep.metric_settings, sweep.seed)
            status = "FINISHED"
            return result
        except (KeyboardInterrupt, SystemExit):
            status, reason = "KILLED", "interrupted"
            raise
        except kt.errors.FailedTrialError:
            raise
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            raise kt.errors.FailedTrialError(reason) from exc
        finally:
            tags = {"trial_status": status}
            if reason:
                tags["failure_reason"] = reason
            tracking.set_tags(client, run_id, tags)
            client.set_terminated(run_id, status)
            hypermodel.context = None
            hypermodel.last_model = None

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
        self.trial_times.append(time.monotonic() - self.trial_started)
        self.sweep.report_progress(trial, self.trial_times)
        # Only a standalone sweep restarts (a worker's oracle is a gRPC client), and only with
        # trials left; the tuner and the oracle have saved their state by now.
        if self.sweep.memory_exceeded() and (self.oracle.remaining_trials() or 0) > 0:
            raise RestartForMemory


def best_of(histories, space) -> float:
    """The best value of the objective over the epochs of a trial's histories."""
    values = [v for h in histories for v in h.history.get(space.objective, [])]
    if not values:
        raise kt.errors.FailedTrialError(f"objective '{space.objective}' was not logged")
    return min(values) if space.direction == "min" else max(values)


class TrackedHyperband(TrackedTuner, kt.Hyperband):
    pass


class TrackedBayesian(TrackedTuner, kt.BayesianOptimization):
    pass


class TrackedRandom(TrackedTuner, kt.RandomSearch):
    pass


TUNER_CLASSES = {"hyperband": TrackedHyperband, "bayesian": TrackedBayesian, "random": TrackedRandom}


class Sweep:
    """One named sweep: its data, tuner, MLflow parent run and progress."""

    def __init__(self, args):
        self.space = load_space(args.dataset, args.config)
        self.tuner_name = args.tuner or self.space.tuner
        if args.budget not in self.space.budgets:
            raise ConfigError(f"{self.space.source}: no '{args.budget}' budget; add budgets.{args.budget} or pick one of "
                              f"{', '.join(self.space.budgets) or 'none'}")
        self.budget_name, self.budget = args.budget, self.space.budgets[args.budget]
        self.max_trials = args.max_trials or self.budget.max_trials
        self.metric_settings = SETTINGS[self.budget_name]
        self.seed, self.args = args.seed, args
        self.dataset = None
        self.load_data()  # before the store is touched: a data mistake must leave it as it was
        self.client = tracking.connect(args.tracking_uri)
        self.experiment_id = tracking.experiment_id(self.client, f"vae-{args.dataset}")
        self.name = self.resolve_name(args)
        self.directory = config.mlruns_dir() / TUNER_DIR
        self.worker_id = getattr(args, "worker_id", None) or "local"
        self.versions = tracking.versions()
        self.resumed = False
        self.start_mb = None  # set by run(): the memory a standalone sweep started with
        self.joined = False  # a worker of a distributed sweep: the parent run belongs to the chief

    def resolve_name(self, args) -> str:
        if args.name:
            return args.name
        if args.resume:
            latest = self.latest_sweep()
            if latest is None:
                raise SweepError(f"no sweep of {args.dataset} to resume in {self.client.tracking_uri}; start one without --resume")
            return latest.data.tags[tracking.TAG_SWEEP]
        return f"{args.dataset}-{self.tuner_name}-{self.budget_name}-{time.strftime('%Y%m%d-%H%M%S')}"

    def latest_sweep(self):
        runs = self.client.search_runs([self.experiment_id], f"tags.`{tracking.TAG_ROLE}` = 'sweep'",
                                       order_by=["attributes.start_time DESC"], max_results=1)
        return runs[0] if runs else None

    def space_digest(self) -> str:
        key = f"{self.space.to_yaml()}|{self.tuner_name}|{self.budget_name}|{self.max_trials}|{self.seed}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def find_parent(self):
        runs = self.client.search_runs([self.experiment_id],
                                       f"tags.`{tracking.TAG_ROLE}` = 'sweep' and tags.`{tracking.TAG_SWEEP}` = '{self.name}'")
        return runs[0] if runs else None

    def fixed_params(self) -> dict:
        return {"dataset": self.space.dataset, "subset": self.budget.subset, "seed": self.seed,
                "likelihood": self.dataset.likelihood, "n_train": len(self.dataset.x_train), "sweep": self.name}

    def finished_run_for(self, trial_id):
        runs = self.client.search_runs(
            [self.experiment_id],
            f"tags.`{tracking.TAG_PARENT}` = '{self.parent_id}' and tags.trial_id = '{trial_id}' "
            "and attributes.status = 'FINISHED'", max_results=1)
        return runs[0] if runs else None

    def open_parent(self):
        """Create the parent run, or reopen it (and close its interrupted trials) on resume."""
        parent = self.find_parent()
        if parent is not None:
            if parent.data.tags.get("space_digest") != self.space_digest():
                raise ConfigError(f"sweep '{self.name}' was started with another search space, tuner, budget or seed; "
                                  "pass a new --name to start a new sweep")
            self.parent_id, self.resumed = parent.info.run_id, True
            self.client.update_run(self.parent_id, status="RUNNING")
            for run in self.children(status="RUNNING"):
                tracking.set_tags(self.client, run.info.run_id, {"trial_status": "KILLED", "failure_reason": "interrupted"})
                self.client.set_terminated(run.info.run_id, "KILLED")
                say(f"marked interrupted trial run {run.info.run_id} as KILLED")
            return
        if self.args.resume and self.args.name:
            raise SweepError(f"no sweep named '{self.name}' to resume in {self.client.tracking_uri}; drop --resume to start it")
        run = self.client.create_run(self.experiment_id, run_name=self.name,
                                     tags={tracking.TAG_ROLE: "sweep", tracking.TAG_SWEEP: self.name,
                                           "space_digest": self.space_digest()})
        self.parent_id = run.info.run_id
        tracking.log_params(self.client, self.parent_id, {
            "dataset": self.space.dataset, "tuner": self.tuner_name, "budget": self.budget_name,
            "objective": self.space.objective, "objective_direction": self.space.direction,
            "max_trials": self.max_trials, "epochs": self.budget.epochs, "subset": self.budget.subset,
            "seed": self.seed, "search_space_file": self.space.source, "models": ",".join(self.space.models),
            **{f"version_{k}": v for k, v in self.versions.items()},
        })
        tracking.log_text(self.client, self.parent_id, self.space.to_yaml(), "search_space.yaml")

    def join_parent(self):
        """Attach to the parent run that a distributed sweep's chief created (workers only)."""
        parent = self.find_parent()
        if parent is None:
            raise SweepError(f"no sweep named '{self.name}' in {self.client.tracking_uri}; a worker joins a sweep that "
                             "its chief started: give the chief's --name and the same --tracking-uri (a tracking "
                             "server's http://... when the chief runs on another machine)")
        if parent.data.tags.get("space_digest") != self.space_digest():
            raise ConfigError(f"sweep '{self.name}' was started with another search space, tuner, budget, "
                              "--max-trials or seed; start the worker with the chief's options")
        self.parent_id, self.joined = parent.info.run_id, True

    def children(self, status=None):
        query = f"tags.`{tracking.TAG_PARENT}` = '{self.parent_id}'"
        if status:
            query += f" and attributes.status = '{status}'"
        return self.client.search_runs([self.experiment_id], query, max_results=5000)

    def make_tuner(self):
        objective = kt.Objective(self.space.objective, direction=self.space.direction)
        project = self.directory / self.name
        if self.resumed and not project.exists():
            raise SweepError(f"sweep '{self.name}' has an MLflow run but no tuner state in {project}; "
                             "resume it on the machine that started it, or pass a new --name")
        common = dict(hypermodel=VAEHyperModel(self.space, self.dataset, self.seed), objective=objective,
                      directory=str(self.directory), project_name=self.name,
                      seed=self.seed + 1,  # keras-tuner reads seed 0 as "no seed"
                      # Decided from the MLflow record, never silently: a new sweep starts clean.
                      # A worker shares the chief's folder (hyperband reads other trials' checkpoints).
                      overwrite=not (self.resumed or self.joined),
                      max_consecutive_failed_trials=self.max_trials + 1)
        if self.tuner_name == "hyperband":
            tuner = TrackedHyperband(max_epochs=self.budget.epochs, factor=self.budget.hyperband_factor,
                                     hyperband_iterations=None, **common)
            tuner.oracle.max_trials = self.max_trials
        else:
            tuner = TUNER_CLASSES[self.tuner_name](max_trials=self.max_trials, **common)
        tuner.setup_tracking(self)
        return tuner

    def report_progress(self, trial, times):
        finished = self.children(status="FINISHED")
        failed = [r for r in self.children(status="FAILED")]
        done = len(finished) + len(failed)
        best = self.best_value(finished)
        remaining = max(self.max_trials - done, 0)
        eta = format_seconds(sum(times) / len(times) * remaining) if times else "?"
        status = trial.status if isinstance(trial.status, str) else str(trial.status)
        best_text = f"{best:.3f}" if best is not None else "-"
        print(f"[{done}/{self.max_trials} trials] trial {trial.trial_id} {status.lower()}  "
              f"best {self.space.objective} {best_text}  ETA {eta}", file=sys.stderr, flush=True)

    def best_value(self, runs):
        values = [r.data.metrics.get(f"best_{self.space.objective}") for r in runs]
        values = [v for v in values if v is not None]
        if not values:
            return None
        return min(values) if self.space.direction == "min" else max(values)

    def load_data(self):
        if self.dataset is not None:
            return
        subset = self.budget.subset if self.args.subset is None else self.args.subset
        self.dataset = load_dataset(self.space.dataset, data_dir=self.args.data_dir, subset=subset, seed=self.seed)
        self.budget.subset = subset
        for note in self.dataset.notes:
            say(note)

    def memory_exceeded(self) -> bool:
        """Whether a standalone sweep should restart its process before the next trial."""
        if self.start_mb is None or self.joined:
            return False
        now = resident_mb()
        return now is not None and now - self.start_mb > float(os.environ.get(RESTART_ENV, DEFAULT_RESTART_MB))

    def restart(self):
        """Replace this process with the same sweep, resumed (only the memory is new)."""
        grown = resident_mb() - self.start_mb
        say(f"memory grew by {grown:.0f} MB over these trials (TensorFlow keeps some per model); "
            f"restarting the process to resume sweep '{self.name}' (set ${RESTART_ENV} to change the limit)")
        argv = [*self.args.argv, "--name", self.name, "--resume"]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "sweeps.cli", *argv])

    def run(self):
        self.start_mb = resident_mb() if getattr(self.args, "argv", None) is not None else None
        self.load_data()
        self.open_parent()
        tuner = self.make_tuner()
        verb = "resuming" if self.resumed else "starting"
        say(f"{verb} sweep '{self.name}': {self.tuner_name}, budget {self.budget_name} "
                 f"({self.max_trials} trials, {self.budget.epochs} epochs), objective {self.space.objective} "
                 f"({self.space.direction})")
        if self.space.objective.removeprefix("val_") == "loss" and len(self.space.models) > 1:
            say("note: 'loss' is each family's own objective (a β-weighted ELBO, WAE's MMD penalty, VQ-VAE's "
                "codebook loss); compare families on test_nll or reconstruction in the report")
        start = time.monotonic()
        keras.utils.set_random_seed(self.seed)
        status = "FAILED"
        try:
            tuner.search(epochs=self.budget.epochs, verbose=0)
            status = self.finish(time.monotonic() - start)
        except RestartForMemory:
            status = None
            self.restart()
        except KeyboardInterrupt:
            status = "KILLED"
            print(f"interrupted; finished trials are kept. Resume with: vaesweep sweep --dataset {self.space.dataset} "
                  f"--name {self.name} --resume", file=sys.stderr)
            raise
        finally:
            if status is not None:
                self.client.set_terminated(self.parent_id, status)
        return 0

    def finish(self, wall_time) -> str:
        finished, failed = self.children(status="FINISHED"), self.children(status="FAILED")
        tracking.log_metrics(self.client, self.parent_id, {
            "trials_finished": len(finished), "trials_failed": len(failed), "wall_time_s": wall_time})
        if not finished:
            reasons = sorted({r.data.tags.get("failure_reason", "unknown") for r in failed})
            raise SweepError(f"every trial of sweep '{self.name}' failed ({len(failed)} trials; "
                             f"{'; '.join(reasons)[:300]}); lower the learning rate or widen the search space")
        key = f"best_{self.space.objective}"
        ranked = sorted((r for r in finished if key in r.data.metrics), key=lambda r: r.data.metrics[key],
                        reverse=self.space.direction == "max")
        best = ranked[0]
        tracking.set_tags(self.client, self.parent_id, {
            "best_run_id": best.info.run_id, "best_trial_id": best.data.tags.get("trial_id"),
            "best_value": best.data.metrics[key]})
        tracking.set_tags(self.client, best.info.run_id, {"best": "true"})
        tracking.log_metrics(self.client, self.parent_id, {key: best.data.metrics[key]})
        print_table(ranked[:5], key, self.space)
        print(f"sweep '{self.name}': {len(finished)} finished, {len(failed)} failed in {format_seconds(wall_time)}\n"
              f"parent run {self.parent_id} in {self.client.tracking_uri}\n"
              f"compare the trials with: make ui   (or: mlflow ui --backend-store-uri {self.client.tracking_uri})\n"
              f"write the report with:   make report DATASET={self.space.dataset}")
        return "FINISHED"


def print_table(runs, key, space):
    names = ["model", "latent_dim", "beta", "learning_rate", "batch_size", "depth"]
    print(f"best trials by {key}:")
    print("  " + "  ".join(f"{n:>13}" for n in ["trial", key[:13], *names]))
    for run in runs:
        p = run.data.params
        cells = [run.data.tags.get("trial_id", "?"), f"{run.data.metrics[key]:.3f}", *(p.get(n, "-") for n in names)]
        print("  " + "  ".join(f"{str(c)[:13]:>13}" for c in cells))


def sweep_command(args) -> int:
    # Keras Tuner's own variables (KERASTUNER_ORACLE_IP, ...) also make a process a chief or worker.
    if args.workers or args.chief or "KERASTUNER_ORACLE_IP" in os.environ:
        from sweeps.distributed import distributed_command

        return distributed_command(args)
    if args.subset is not None and args.subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {args.subset}")
    sweep = Sweep(args)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return sweep.run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt
