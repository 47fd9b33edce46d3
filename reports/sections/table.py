"""Every trial in one sortable table: hyperparameters, objective, likelihood and latent metrics.

Each cell carries the exact logged value in ``data-value`` (params as logged, metrics as
``repr(float)``) for sorting and for checking the report against MLflow; the text shows it
rounded. A missing value shows ``—`` with the reason in its tooltip.
"""

from reports import data as d
from reports.figures import MISSING, fmt
from vae.metrics import registry


def _column(c: registry.Column) -> tuple[str, str, str]:
    better = "higher" if c.direction == "max" else "lower"
    return c.key, c.label, f"{c.description} ({better} is better)"


#: Metric columns shown whether or not any trial has them: (key, label, tooltip).
CORE_METRICS = [_column(c) for m in registry.METRICS.values() if m.core for c in m.logged_columns()]
#: Shown only when at least one trial logged them; otherwise listed under the table.
EXTRA_METRICS = [_column(c) for m in registry.METRICS.values() if not m.core for c in m.logged_columns()]


def build(sweep: d.Sweep) -> dict:
    """The table block: ``columns``, ``rows`` (best first) and the metric columns left out."""
    trials = sweep.trials
    hypers = sweep.hyperparameters()
    logged = {c.removeprefix("metrics.") for c in trials.columns if c.startswith("metrics.")}
    present = [m for m in EXTRA_METRICS if m[0] in logged]
    absent = [m for m in EXTRA_METRICS if m[0] not in logged]
    objective_tip = (f"the best {sweep.objective} over the trial's epochs "
                     f"({'lower' if sweep.direction == 'min' else 'higher'} is better); the table starts sorted by it")
    columns = [
        {"key": "trial_id", "label": "trial", "kind": "number", "title": "Keras Tuner trial id"},
        {"key": "status", "label": "status", "kind": "text", "title": "how the trial ended; the tooltip gives the reason"},
        *({"key": f"params.{h}", "label": h, "kind": _param_kind(trials, h), "title": f"hyperparameter {h}"} for h in hypers),
        {"key": f"metrics.{sweep.objective_key}", "label": sweep.objective_key, "kind": "number", "title": objective_tip},
        *({"key": f"metrics.{k}", "label": label, "kind": "number", "title": tip} for k, label, tip in CORE_METRICS + present),
    ]
    rows = [_row(sweep, run_id, trial, columns) for run_id, trial in trials.iterrows()]
    finished = sweep.finished()
    by_reason = {}  # the same reason usually covers several metrics: say it once
    for key, _, _ in absent:
        reason = " / ".join(sorted({d.missing_reason(t, key) for _, t in finished.iterrows()}))
        by_reason.setdefault(reason, []).append(key)
    left_out = [{"keys": keys, "reason": reason} for reason, keys in by_reason.items()]
    return {"columns": columns, "rows": rows, "left_out": left_out, "objective_key": sweep.objective_key,
            "objective_sort": "ascending" if sweep.direction == "min" else "descending"}


def _param_kind(trials, name) -> str:
    values = trials.get(f"params.{name}")
    present = [v for v in values if isinstance(v, str)] if values is not None else []
    return "number" if present and all(d.number(v) is not None for v in present) else "text"


def _row(sweep, run_id, trial, columns) -> dict:
    cells = []
    for column in columns:
        key = column["key"]
        if key == "trial_id":
            cells.append({"text": trial["trial_id"], "value": trial["trial_id"], "title": f"run {run_id} ({trial['run_name']})"})
        elif key == "status":
            reason = trial["failure_reason"] if isinstance(trial["failure_reason"], str) else ""
            cells.append({"text": trial["status"].lower(), "value": trial["status"], "title": reason,
                          "cls": "status-" + trial["status"].lower()})
        elif key.startswith("params."):
            value = trial.get(key)
            if isinstance(value, str):
                cells.append({"text": value, "value": value, "title": ""})
            else:
                cells.append({"text": MISSING, "value": "", "title": f"{key.removeprefix('params.')} is not a "
                              f"hyperparameter of {trial.get('params.model', 'this family')}", "cls": "missing"})
        else:
            metric = key.removeprefix("metrics.")
            value = sweep.metric(run_id, metric)
            if value is None:
                cells.append({"text": MISSING, "value": "", "title": d.missing_reason(trial, metric), "cls": "missing"})
            else:
                cells.append({"text": fmt(value), "value": repr(float(value)), "title": f"{metric} = {value!r}"})
    classes = [f"status-{trial['status'].lower()}"] + (["best"] if trial.get("rank") == 1 else [])
    return {"run_id": run_id, "cells": cells, "cls": " ".join(classes)}
