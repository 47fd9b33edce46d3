"""Seed replicates of a sweep's top configurations, and the choice of the best by their mean.

The random seed moves a trained VAE's figures, its disentanglement scores above all, about as
much as the hyperparameters do (Locatello et al., ICML 2019): a ranking of single-seed trials
is largely a ranking of seeds. After the search, the ``top`` best configurations are trained
again with ``replicates - 1`` fresh seeds, each a child run (role ``replicate``) of the sweep;
every run of a configuration carries the digest of its hyperparameters (``config_digest``).

The search picked these configurations on their search trial's value, so that value is biased
upwards (the winner's curse): a configuration's mean and 95% interval (t distribution) come
from its fresh seeds only, the search trial shown apart. A seed that fails is counted, never
dropped silently. The sweep's best configuration is the one with the best fresh-seed mean, and
that mean is the figure the parent run records as the objective it chose by.
"""

import hashlib
import json
import math
from dataclasses import dataclass, field

import keras
import numpy as np

from sweeps import record, tracking
from sweeps.console import say
from sweeps.hypermodel import DEFAULT_BATCH_SIZE, build_configuration, fit_model
from sweeps.tracked_run import RunContext, RunFailed, TrackedRun, failure_text
from sweeps.tuner import best_of, trial_params
from vae.metrics.paired import mean_interval

DEFAULT_TOP = 3


def configuration(values: dict) -> dict:
    """The hyperparameters that define a configuration (Keras Tuner's bookkeeping left out)."""
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def config_digest(values: dict) -> str:
    text = json.dumps(configuration(values), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Summary:
    """One configuration's objective: its search trial apart, then its fresh seeds."""

    digest: str
    run_id: str  # the search's trial of this configuration
    search_value: float
    values: list[float] = field(default_factory=list)  # fresh seeds that finished
    seeds: list[int] = field(default_factory=list)
    failed: int = 0  # fresh seeds that failed or were interrupted

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else math.nan

    def interval(self) -> tuple[float, float]:
        """The 95% interval of the fresh seeds' mean (NaN bounds with fewer than two)."""
        if len(self.values) < 2:
            return math.nan, math.nan
        mean, half = mean_interval(self.values)
        return (math.nan, math.nan) if half is None else (mean - half, mean + half)


def objective_value(context: RunContext, history, figures: dict) -> float:
    """A run's objective: the trial metric, or the best epoch of the Keras log."""
    if context.objective_is_trial_metric:
        if context.objective not in figures:
            raise RunFailed(f"objective '{context.objective}' could not be computed")
        return figures[context.objective]
    return best_of([history], context.objective, context.direction)


def train_replicate(context: RunContext, trial_id: str, values: dict, digest: str, seed: int, epochs: int) -> bool:
    """Train one more seed of a trial's configuration as a child run of the sweep; returns
    whether it finished (a failed seed is a result, recorded on its run with the reason)."""
    try:
        with TrackedRun(context, record.REPLICATE, {**trial_params(values), "seed": seed}, trial_id=f"{trial_id}-s{seed}",
                        model=values.get("model"), tags={record.CONFIG_DIGEST: digest}) as run:
            keras.utils.set_random_seed(seed)
            model = build_configuration(values, context.dataset, seed)
            history = fit_model(model, context.dataset, epochs=int(values.get("tuner/epochs", epochs)),
                                batch_size=values.get("batch_size", DEFAULT_BATCH_SIZE), callbacks=run.callbacks())
            run.check()
            run.record_objective(objective_value(context, history, run.finish(model)))
        return True
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - recorded FAILED with its reason by TrackedRun
        say(f"[replicate] seed {seed} of trial {trial_id} failed: {failure_text(exc)}")
        return False


def choose_top(context: RunContext, trials: dict[str, dict], top: int) -> list[tuple]:
    """The ``top`` best finished search trials as ``(run, values, digest)``, one per
    configuration (Hyperband trains one configuration in several trials)."""
    key = record.objective_key(context.objective)
    finished = [r for r in record.children(context.client, context.experiment_id, context.parent_id, record.FINISHED,
                                           role=record.TRIAL) if key in r.data.metrics]
    finished.sort(key=lambda r: r.data.metrics[key], reverse=context.direction == "max")
    chosen, seen = [], set()
    for run in finished:
        values = trials[record.trial_row(run).trial_id]
        digest = config_digest(values)
        if digest not in seen:
            seen.add(digest)
            chosen.append((run, values, digest))
        if len(chosen) == top:
            break
    return chosen


def run_replicates(context: RunContext, trials: dict[str, dict], replicates: int, top: int, epochs: int) -> None:
    """Train ``replicates - 1`` fresh seeds of the ``top`` best finished trials (resumable: a
    seed with a finished run is not trained again).

    Args:
        trials: trial id -> its hyperparameter values (the tuner's oracle's trials).
        epochs: the budget's epochs (a Hyperband trial's own ``tuner/epochs`` wins).
    """
    if replicates < 2:
        return
    chosen = choose_top(context, trials, top)
    done = {(record.trial_row(r).config_digest, r.data.params.get("seed"))
            for r in record.children(context.client, context.experiment_id, context.parent_id, record.FINISHED,
                                     role=record.REPLICATE)}
    for rank, (run, values, digest) in enumerate(chosen, 1):
        record.set_tags(context.client, run.info.run_id, {record.CONFIG_DIGEST: digest})
        trial_id = record.trial_row(run).trial_id
        for k in range(1, replicates):
            seed = context.seed + k
            if (digest, str(seed)) in done:
                continue
            say(f"[replicate] configuration {rank}/{len(chosen)} (trial {trial_id}), seed {seed} "
                f"({k}/{replicates - 1})")
            train_replicate(context, trial_id, values, digest, seed, epochs)


def summaries(context: RunContext) -> list[Summary]:
    """Every replicated configuration's fresh-seed figures, best mean first (configurations
    none of whose fresh seeds finished come last)."""
    key = record.objective_key(context.objective)
    runs = record.children(context.client, context.experiment_id, context.parent_id)
    rows = [(run, record.trial_row(run)) for run in runs]
    groups = {row.config_digest: Summary(row.config_digest, run.info.run_id, run.data.metrics.get(key, math.nan))
              for run, row in rows if row.role == record.TRIAL and row.config_digest and row.status == record.FINISHED}
    for run, row in rows:
        group = groups.get(row.config_digest)
        if group is None or row.role != record.REPLICATE or row.status == record.RUNNING:
            continue
        if row.status == record.FINISHED and key in run.data.metrics:
            group.values.append(run.data.metrics[key])
            group.seeds.append(int(run.data.params["seed"]))
        else:
            group.failed += 1
    found = [g for g in groups.values() if g.values or g.failed]
    sign = -1.0 if context.direction == "max" else 1.0
    return sorted(found, key=lambda g: (not g.values, sign * g.mean if g.values else 0.0))


def record_choice(context: RunContext, chosen: list[Summary]) -> Summary | None:
    """Log the best configuration by its fresh-seed mean on the parent run (the objective's
    own key holds that mean: the figure the choice used); print them all."""
    usable = [s for s in chosen if s.values]
    if not usable:
        return None
    best = usable[0]
    low, high = best.interval()
    keys = record.objective_summary_keys(context.objective)
    tracking.log_metrics(context.client, context.parent_id, {
        keys["mean"]: best.mean, keys["low"]: low, keys["high"]: high, keys["seeds"]: len(best.values),
        record.objective_key(context.objective): best.mean})
    record.set_tags(context.client, context.parent_id, {record.BEST_CONFIG_DIGEST: best.digest})
    print(f"configurations by mean {record.objective_key(context.objective)} over fresh seeds (95% interval; "
          "the search trial that chose them apart):")
    for s in chosen:
        lo, hi = s.interval()
        seeds = ", ".join(f"{v:.3f}" for v in s.values) or "none finished"
        failed = f", {s.failed} failed" if s.failed else ""
        print(f"  {s.digest}  {s.mean:.3f}  [{lo:.3f}, {hi:.3f}]  fresh seeds: {seeds}{failed}  "
              f"(search trial {s.search_value:.3f})")
    return best
