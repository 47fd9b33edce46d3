"""What a sweep records of its trade-offs once its trials are done (``sweeps.record.tradeoffs``
names each record): Pareto ranks over its objectives, the importance of each hyperparameter
for each objective, and the UDR of each replicated configuration.

A trial's value of an objective is the one the sweep chose on: the first objective's
``best_<name>`` (what the tuner saw); a trial metric's logged ``val_<name>``; another epoch
log's value at the epoch the trial evaluated (``evaluated_epoch``, else its last). An
objective that no finished trial logged (the sample Fréchet distance at the ``smoke`` budget,
which turns generation metrics off) is left out of the sort, and the record says why; a trial
that lacks a value of a kept objective is left out with its reason (``pareto_ranks``).
"""

import math

from mlflow.exceptions import MlflowException

from sweeps import record, tracking
from sweeps.console import say
from sweeps.record import tradeoffs as names
from sweeps.selection.importance import importance
from sweeps.selection.pareto import pareto_ranks
from vae.metrics.udr import gaussian_kl, udr

RESAMPLES = 50  # bootstrap resamples behind each importance's interval


def objective_value(client, run, name: str, first: str, trial_metric: bool) -> float | None:
    """The value of objective ``name`` a finished run was chosen on (see the module)."""
    metrics = run.data.metrics
    if name == first:
        return metrics.get(record.objective_key(name))
    epoch = run.data.params.get(record.EVALUATED_EPOCH)
    if trial_metric or epoch is None or name not in metrics:
        return metrics.get(name)
    at = {m.step: m.value for m in client.get_metric_history(run.info.run_id, name)}
    return at.get(int(epoch) - 1, metrics[name])


def trial_values(client, runs, space) -> dict[str, dict[str, float]]:
    """``{run_id: {objective: value}}`` of the runs, over every objective of the space."""
    objectives = space.all_objectives()
    trial_metrics = set(space.trial_metric_objectives())
    out = {}
    for run in runs:
        values = {n: objective_value(client, run, n, objectives[0][0], n in trial_metrics) for n, _ in objectives}
        out[run.info.run_id] = {n: v for n, v in values.items() if v is not None}
    return out


def record_pareto(client, parent_id: str, runs, space) -> dict:
    """Rank the finished trials of each evaluation set (``eval_digest``) and record the ranks,
    the front and what was left out; returns what ``PARETO_FILE`` holds."""
    values = trial_values(client, runs, space)
    objectives = list(space.all_objectives())
    unlogged = {n: "no finished trial logged it (this budget may leave its metric out)"
                for n, _ in objectives if not any(n in v for v in values.values())}
    kept = [(n, d) for n, d in objectives if n not in unlogged] or objectives[:1]
    groups: dict[str, list] = {}
    for run in runs:
        groups.setdefault(run.data.params.get(record.EVAL_DIGEST, ""), []).append(run)
    out = {"objectives": kept, "left_out_objectives": unlogged, "groups": []}
    for digest, members in sorted(groups.items(), key=lambda g: -len(g[1])):
        ranks = pareto_ranks({r.info.run_id: values[r.info.run_id] for r in members}, kept)
        trial_ids = {r.info.run_id: record.trial_row(r).trial_id for r in members}
        for run_id, rank in ranks.ranks.items():
            tracking.log_metrics(client, run_id, {names.PARETO_RANK: rank})
        out["groups"].append({"eval_digest": digest, "ranks": ranks.ranks, "trial_ids": trial_ids,
                              "values": {k: list(v) for k, v in ranks.values.items()}, "front": ranks.front,
                              "left_out": ranks.left_out})
    if out["groups"]:
        front = out["groups"][0]
        record.set_tags(client, parent_id, {names.PARETO_FRONT: ",".join(front["trial_ids"][r] for r in front["front"])})
    names.log_json(client, parent_id, out, names.PARETO_FILE)
    return out


def importance_space(space) -> dict[str, tuple]:
    """The space in ``sweeps.selection.importance``'s format: choices -> choice, int ranges ->
    int, float ranges -> float (log when ``sampling: log``); the family as a choice."""
    params = {**space.shared, **{n: p for family in space.models.values() for n, p in family.items()}}
    out = {"model": ("choice", list(space.models))}
    for name, p in params.items():
        if p.choices is not None:
            out[name] = ("choice", list(p.choices))
        elif all(float(v).is_integer() for v in (p.min, p.max, p.step or 1)) and p.sampling != "log":
            out[name] = ("int", int(p.min), int(p.max))
        else:
            out[name] = ("float", float(p.min), float(p.max), p.sampling == "log")
    return out


def _typed(text: str, spec: tuple):
    """A logged param string as the value its spec holds (``"64"`` -> 64 among ``[32, 64]``)."""
    if spec[0] == "choice":
        return next((v for v in spec[1] if str(v) == text or _same_number(v, text)), text)
    return int(float(text)) if spec[0] == "int" else float(text)


def _same_number(value, text: str) -> bool:
    try:
        return not isinstance(value, str) and math.isclose(float(value), float(text))
    except ValueError:
        return False


def record_importance(client, parent_id: str, runs, space, resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """fANOVA importances of the hyperparameters for each objective, logged on the parent
    (or the one-line reason there are none); returns what ``IMPORTANCE_FILE`` holds."""
    spec = importance_space(space)
    params = {r.info.run_id: {k: _typed(v, spec[k]) for k, v in r.data.params.items() if k in spec} for r in runs}
    values = trial_values(client, runs, space)
    out = {}
    for name, _ in space.all_objectives():
        result = importance(params, {k: v[name] for k, v in values.items() if name in v}, spec,
                            resamples=resamples, seed=seed)
        out[name] = {"reason": result.reason, "left_out": result.left_out, "num_trials": result.num_trials,
                     "confidence": result.confidence, "resamples": result.resamples,
                     "params": [vars(p) for p in result.params]}
        metrics = {}
        for p in result.params:
            metrics.update({names.importance_key(name, p.name): p.importance,
                            names.importance_key(name, p.name, "low"): p.low,
                            names.importance_key(name, p.name, "high"): p.high})
        tracking.log_metrics(client, parent_id, metrics)
    names.log_json(client, parent_id, out, names.IMPORTANCE_FILE)
    return out


def record_udr(client, experiment_id: str, parent_id: str) -> dict:
    """UDR of each configuration with two or more finished seeds (its search trial and its
    replicates) whose codes of the same evaluation images carry log-variances; logged on each
    of its runs. Returns what ``UDR_FILE`` holds: ``{config_digest: {...}}``."""
    groups: dict[tuple, list] = {}
    for run in record.children(client, experiment_id, parent_id, record.FINISHED):
        digest = record.trial_row(run).config_digest
        if digest:
            groups.setdefault((digest, run.data.params.get(record.EVAL_DIGEST)), []).append(run)
    out = {}
    for (digest, _), runs in sorted(groups.items(), key=lambda g: -len(g[1])):
        if digest in out or len(runs) < 2:
            continue
        codes = [_codes(client, r.info.run_id) for r in runs]
        if any(c is None or names.CODE_LOG_VARS not in c for c in codes):
            continue  # no vector code, or a deterministic encoder: no KL to tell informative latents
        result = udr([c[names.CODE_MEANS] for c in codes],
                     [gaussian_kl(c[names.CODE_MEANS], c[names.CODE_LOG_VARS]) for c in codes])
        figures = result.as_metrics()
        for run in runs:
            tracking.log_metrics(client, run.info.run_id, figures)
        search = next((r for r in runs if record.role(r) == record.TRIAL), runs[0])
        out[digest] = {**figures, "pairs": [float(p) for p in result.pair_scores], "seeds": len(runs),
                       "run_id": search.info.run_id, "trial_id": record.trial_row(search).trial_id,
                       "model_scores": result.model_scores, "informative": result.num_informative}
    if out:
        names.log_json(client, parent_id, out, names.UDR_FILE)
    return out


def _codes(client, run_id: str) -> dict | None:
    try:
        return record.decode_arrays(tracking.artifact_bytes(client, run_id, record.CODES_FILE))
    except (OSError, MlflowException):
        return None


def choose_by_udr(client, parent_id: str, scores: dict) -> str | None:
    """The search trial's run id of the configuration with the highest UDR, recorded on the
    parent (``selection``, the configuration and its UDR); None without a replicated one."""
    record.set_tags(client, parent_id, {names.SELECTION: "udr"})
    if not scores:
        say("selection: udr, but no configuration has two finished seeds with codes; choosing by the objective")
        return None
    digest = max(scores, key=lambda d: (scores[d]["udr"], d))
    record.set_tags(client, parent_id, {names.UDR_CONFIG_DIGEST: digest, record.BEST_CONFIG_DIGEST: digest})
    tracking.log_metrics(client, parent_id, {names.CHOSEN_UDR: scores[digest]["udr"]})
    say(f"selection: udr chose configuration {digest} (UDR {scores[digest]['udr']:.3f} over "
        f"{scores[digest]['seeds']} seeds)")
    return scores[digest]["run_id"]


def record_tradeoffs(client, experiment_id: str, parent_id: str, finished, space) -> str | None:
    """Pareto ranks, importances and UDR of a finished search; returns the run chosen by UDR
    when the space selects by it (else None)."""
    record_pareto(client, parent_id, finished, space)
    record_importance(client, parent_id, finished, space)
    scores = record_udr(client, experiment_id, parent_id)
    if space.selection == "udr":
        return choose_by_udr(client, parent_id, scores)
    record.set_tags(client, parent_id, {names.SELECTION: space.selection})
    return None

