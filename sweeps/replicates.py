"""Seed replicates of a sweep's top configurations, and the choice of the best by their mean.

The random seed moves a trained VAE's figures, its disentanglement scores above all, about as
much as the hyperparameters do (Locatello et al., ICML 2019): a ranking of single-seed trials
is largely a ranking of seeds. After the search, the ``top`` best configurations are trained
again with ``replicates - 1`` more seeds, each a child run (role ``replicate``) of the sweep;
every run of a configuration carries the digest of its hyperparameters (``config_digest``).
The sweep's best configuration is the one with the best mean over its seeds, recorded on the
parent run with its 95% interval (t distribution over the seeds).
"""

import hashlib
import json
import math
from dataclasses import dataclass

import keras
import numpy as np

from sweeps import inputs, record, tracking
from sweeps.console import say
from sweeps.hypermodel import build_configuration
from sweeps.training import TrialGuard, finish_run, fit_model, tracked_callbacks
from sweeps.tuner import best_of, failure_text, trial_params
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
    """One configuration's objective over its seeds."""

    digest: str
    run_id: str  # the search's trial of this configuration
    values: list[float]
    seeds: list[int]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def interval(self) -> tuple[float, float]:
        """The 95% interval of the mean over seeds (NaN bounds with one seed)."""
        mean, half = mean_interval(self.values)
        return (math.nan, math.nan) if half is None else (mean - half, mean + half)


def objective_value(sweep, history, figures: dict) -> float:
    """A run's objective: the trial metric, or the best epoch of the Keras log."""
    space = sweep.space
    if space.objective_is_trial_metric:
        if space.objective not in figures:
            raise ValueError(f"objective '{space.objective}' could not be computed")
        return figures[space.objective]
    return best_of([history], space.objective, space.direction)


def train_replicate(sweep, trial, values: dict, digest: str, seed: int) -> None:
    """Train one more seed of a trial's configuration as a child run of the sweep."""
    client, setup = sweep.client, sweep.trial_setup()
    run_id = record.create_trial(client, sweep.experiment_id, sweep.parent_id, sweep.name, f"{trial.trial_id}-s{seed}",
                                 values.get("model"), sweep.worker, role=record.REPLICATE,
                                 extra_tags={record.CONFIG_DIGEST: digest})
    tracking.log_params(client, run_id, {**setup.params, **trial_params(values), "seed": seed})
    inputs.log_inputs(client, run_id, setup.inputs)
    status, reason = record.FAILED, None
    try:
        keras.utils.set_random_seed(seed)
        model = build_configuration(values, sweep.dataset, seed)
        guard = TrialGuard(sweep.space.collapse_kl, sweep.space.collapse_after, sweep.space.objective)
        epochs = int(values.get("tuner/epochs", sweep.budget.epochs))
        history = fit_model(model, sweep.dataset, epochs=epochs, batch_size=values.get("batch_size", 64),
                            callbacks=tracked_callbacks(client, run_id, guard=guard))
        if guard.failure:
            reason = guard.failure
            return
        figures = finish_run(model, sweep.dataset, client, run_id, sweep.metric_settings, seed=seed)
        tracking.log_metrics(client, run_id, {f"best_{sweep.space.objective}": objective_value(sweep, history, figures)})
        status = record.FINISHED
    except (KeyboardInterrupt, SystemExit):
        status, reason = record.KILLED, record.INTERRUPTED
        raise
    except Exception as exc:  # a failed seed is a result, recorded with its reason
        reason = failure_text(exc)
    finally:
        record.end_run(client, run_id, status, reason)


def run_replicates(sweep, tuner, replicates: int, top: int) -> None:
    """Train ``replicates - 1`` more seeds of the ``top`` best finished trials (resumable: a
    seed with a finished run is not trained again)."""
    if replicates < 2:
        return
    key = f"best_{sweep.space.objective}"
    finished = [r for r in record.children(sweep.client, sweep.experiment_id, sweep.parent_id, record.FINISHED,
                                           role=record.TRIAL) if key in r.data.metrics]
    finished.sort(key=lambda r: r.data.metrics[key], reverse=sweep.space.direction == "max")
    chosen, seen = [], set()
    for run in finished:  # Hyperband trains one configuration in several trials: replicate it once
        values = tuner.oracle.trials[record.trial_row(run).trial_id].hyperparameters.values
        digest = config_digest(values)
        if digest not in seen:
            seen.add(digest)
            chosen.append((run, values, digest))
        if len(chosen) == top:
            break
    done = {(record.trial_row(r).config_digest, r.data.params.get("seed"))
            for r in record.children(sweep.client, sweep.experiment_id, sweep.parent_id, record.FINISHED,
                                     role=record.REPLICATE)}
    for rank, (run, values, digest) in enumerate(chosen, 1):
        record.set_tags(sweep.client, run.info.run_id, {record.CONFIG_DIGEST: digest})
        trial = record.trial_row(run)
        for k in range(1, replicates):
            seed = sweep.seed + k
            if (digest, str(seed)) in done:
                continue
            say(f"[replicate] configuration {rank}/{len(chosen)} (trial {trial.trial_id}), seed {seed} "
                f"({k}/{replicates - 1})")
            train_replicate(sweep, trial, values, digest, seed)


def summaries(sweep) -> list[Summary]:
    """Every replicated configuration's objective over its seeds, best mean first."""
    key = f"best_{sweep.space.objective}"
    runs = record.children(sweep.client, sweep.experiment_id, sweep.parent_id, record.FINISHED)
    groups: dict[str, Summary] = {}
    for run in runs:
        row = record.trial_row(run)
        if row.config_digest is None or key not in run.data.metrics:
            continue
        group = groups.setdefault(row.config_digest, Summary(row.config_digest, "", [], []))
        group.values.append(run.data.metrics[key])
        group.seeds.append(int(run.data.params.get("seed", sweep.seed)))
        if row.role == record.TRIAL:
            group.run_id = run.info.run_id
    found = [g for g in groups.values() if g.run_id and len(g.values) > 1]
    return sorted(found, key=lambda g: g.mean, reverse=sweep.space.direction == "max")


def record_choice(sweep, chosen: list[Summary]) -> Summary | None:
    """Log the best configuration by its mean over seeds on the parent run; print them all."""
    if not chosen:
        return None
    best = chosen[0]
    low, high = best.interval()
    key = f"best_{sweep.space.objective}"
    tracking.log_metrics(sweep.client, sweep.parent_id, {f"{key}_mean": best.mean, f"{key}_ci_low": low,
                                                         f"{key}_ci_high": high, "best_config_seeds": len(best.values)})
    record.set_tags(sweep.client, sweep.parent_id, {record.BEST_CONFIG_DIGEST: best.digest})
    print(f"configurations by mean {key} over seeds (95% interval):")
    for s in chosen:
        lo, hi = s.interval()
        seeds = ", ".join(f"{v:.3f}" for v in s.values)
        print(f"  {s.digest}  {s.mean:.3f}  [{lo:.3f}, {hi:.3f}]  seeds: {seeds}")
    return best
