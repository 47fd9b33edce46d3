"""What a reader must know before trusting the numbers: an unfinished sweep, posterior
collapse, failed trials and why, trial warnings, metrics that were not computed and why,
and artifacts the report looked for and did not find."""

from collections import defaultdict

import pandas as pd

from reports import data as d
from reports.frame import trial_sort_key
from vae.metrics import registry


def build(sweep: d.Sweep) -> dict:
    """The warnings block: ``items``, each a ``level``, a ``title`` and its ``lines``."""
    items = [
        _unfinished(sweep),
        _collapse(sweep),
        _failed(sweep),
        _trial_warnings(sweep),
        _skipped_metrics(sweep),
        _missing_artifacts(sweep),
    ]
    items = [item for item in items if item and item["lines"]]
    return {"items": items, "count": sum(len(i["lines"]) for i in items)}


def _who(trial: pd.Series) -> str:
    model = trial.get("params.model")
    return f"trial {trial['trial_id']}" + (f" ({model})" if isinstance(model, str) else "")


def _unfinished(sweep):
    lines = []
    if sweep.status != d.FINISHED:
        lines.append(f"The sweep's parent run is {sweep.status}: this report shows the {len(sweep.trials)} trials "
                     "recorded so far" + (" (resume it with vaesweep sweep --resume)" if sweep.status != d.RUNNING else ""))
    running = sweep.trials[sweep.trials["status"] == d.RUNNING]
    lines += [f"{_who(t)} is still running (run {run_id})" for run_id, t in running.iterrows()]
    return {"level": "warn", "title": "Unfinished sweep", "lines": lines}


def _collapse(sweep):
    lines = []
    for run_id, trial in sweep.trials.iterrows():
        reason = trial["failure_reason"] if isinstance(trial["failure_reason"], str) else ""
        warning = trial["warning"] if isinstance(trial["warning"], str) else ""
        au = sweep.metric(run_id, "test_active_units")
        if trial["status"] == d.FINISHED and au == 0:
            dims = sum(1 for k in sweep.runs[run_id].data.metrics if k.startswith("kl_dim_"))
            kl = sweep.metric(run_id, "test_kl_loss")
            rank = f", rank {int(trial['rank'])}" if pd.notna(trial.get("rank")) else ""
            lines.append(f"{_who(trial)}{rank}: 0 active units of {dims or '?'} latent dimensions"
                         + (f", test KL {kl:.3g} nats" if kl is not None else ""))
        elif reason.startswith("posterior collapse"):
            lines.append(f"{_who(trial)} was stopped: {reason}")
        elif "collapse" in warning.lower():
            lines.append(f"{_who(trial)}: {warning}")
    best = sweep.best
    if sweep.metric(best.name, "test_active_units") == 0:
        lines.insert(0, f"The best trial by {sweep.objective_key} ({_who(best)}) has a collapsed posterior: its "
                        "decoder ignores the latent code, so its good objective says nothing about the latent space")
    return {"level": "danger", "title": "Posterior collapse", "lines": lines}


def _failed(sweep):
    trials = sweep.trials[sweep.trials["status"].isin([d.FAILED, d.KILLED])]
    lines = []
    for _, trial in trials.iterrows():
        hypers = ", ".join(f"{h}={trial[f'params.{h}']}" for h in sweep.hyperparameters()
                           if h != "model" and isinstance(trial.get(f"params.{h}"), str))
        reason = trial["failure_reason"] if isinstance(trial["failure_reason"], str) else "no reason recorded"
        lines.append(f"{_who(trial)} {trial['status'].lower()}: {reason}" + (f" [{hypers}]" if hypers else ""))
    return {"level": "danger", "title": "Failed and killed trials", "lines": lines}


def _trial_warnings(sweep):
    lines = [f"{_who(t)}: {t['warning']}" for _, t in sweep.trials.iterrows()
             if isinstance(t["warning"], str) and t["warning"] and "collapse" not in t["warning"].lower()]
    return {"level": "warn", "title": "Trial warnings", "lines": lines}


def _skipped_metrics(sweep):
    finished = sweep.finished()
    explained = defaultdict(list)  # "names: reason" -> trial ids
    unexplained = defaultdict(lambda: defaultdict(list))  # reason -> metric -> trial ids
    for run_id, trial in finished.iterrows():
        reasons = trial["metrics_skipped"] if isinstance(trial["metrics_skipped"], dict) else {}
        grouped = defaultdict(list)
        for name, reason in reasons.items():
            grouped[reason].append(name)
        for reason, names in grouped.items():
            explained[f"{', '.join(names)}: {reason}"].append(trial["trial_id"])
        for key in (c.key for c in registry.columns()):
            if sweep.metric(run_id, key) is None and not any(d.covers(n, key) for n in reasons):
                unexplained[d.missing_reason(trial, key)][key].append(trial["trial_id"])
    lines = [f"{text} ({_trials(ids, len(finished))})" for text, ids in explained.items()]
    for reason, metrics in unexplained.items():
        by_trials = defaultdict(list)
        for key, ids in metrics.items():
            by_trials[tuple(ids)].append(key)
        lines += [f"{', '.join(keys)}: {reason} ({_trials(list(ids), len(finished))})" for ids, keys in by_trials.items()]
    return {"level": "info", "title": "Metrics not computed", "lines": lines}


def _missing_artifacts(sweep):
    lines = []
    best_id = sweep.best.name
    for run_id, trial in sweep.top(d.TOP).iterrows():
        paths = sweep.artifact_paths(run_id)
        missing = [p for p in d.IMAGES.values() if p not in paths]
        if run_id == best_id and d.CODES not in paths:
            missing.append(f"{d.CODES} (so the latent-space view is left out)")
        if missing:
            lines.append(f"{_who(trial)}: no {', '.join(missing)}")
    return {"level": "info", "title": "Missing artifacts", "lines": lines}


def _trials(ids, finished: int) -> str:
    if len(ids) == finished and finished > 1:
        return f"all {finished} finished trials"
    return ("trial " if len(ids) == 1 else "trials ") + ", ".join(sorted(ids, key=trial_sort_key))
