"""The trial frame: one row per run of a sweep, from the record, best first."""

import math

import numpy as np
import pandas as pd

from sweeps import record
from vae.metrics import registry

FINISHED = record.FINISHED


def trial_frame(runs, objective_key: str, direction: str) -> pd.DataFrame:
    """One row per trial run, best first (see the module docstring for the columns)."""
    rows = []
    for run in runs:
        info, trial = run.info, record.trial_row(run)
        row = {
            "run_id": info.run_id,
            "trial_id": trial.trial_id,
            "run_name": info.run_name,
            "status": trial.status,
            "role": trial.role,
            "config_digest": trial.config_digest,
            "failure_reason": trial.failure_reason,
            "warning": trial.warning,
            "metrics_skipped": record.skipped(run),
            "best_tag": trial.best,
            "objective": run.data.metrics.get(objective_key, math.nan),
            "start_time": pd.to_datetime(info.start_time, unit="ms") if info.start_time else pd.NaT,
            "end_time": pd.to_datetime(info.end_time, unit="ms") if info.end_time else pd.NaT,
        }
        row.update({f"params.{k}": v for k, v in run.data.params.items()})
        row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
        rows.append(row)
    columns = ["run_id", "trial_id", "run_name", "status", "role", "config_digest", "failure_reason", "warning",
               "metrics_skipped", "best_tag", "objective", "start_time", "end_time"]
    frame = pd.DataFrame(rows, columns=None if rows else columns)
    if not rows:
        return frame.set_index("run_id")
    sign = 1.0 if direction == "min" else -1.0
    frame["_group"] = np.select([(frame["status"] == FINISHED) & frame["objective"].notna(), frame["status"] == FINISHED],
                                [0, 1], 2)
    frame["_score"] = sign * frame["objective"].fillna(0.0)
    frame["_trial"] = frame["trial_id"].map(trial_sort_key)
    frame = frame.sort_values(["_group", "_score", "_trial"], kind="stable").drop(columns=["_group", "_score", "_trial"])
    ranked = (frame["status"] == FINISHED) & frame["objective"].notna()
    frame["rank"] = pd.Series(range(1, int(ranked.sum()) + 1), index=frame.index[ranked])
    return frame.set_index("run_id")


def trial_sort_key(trial_id: str):
    return (0, int(trial_id), "") if str(trial_id).isdigit() else (1, 0, str(trial_id))


def covers(name: str, metric: str) -> bool:
    """Whether the skipped metric ``name`` (a registry name) stands for the logged ``metric``
    (``dci`` covers ``dci_completeness``; ``likelihood`` covers ``test_nll``)."""
    owner = registry.owner(metric)
    return name == metric or (owner is not None and owner.name == name)


def missing_reason(trial: pd.Series, metric: str) -> str:
    """Why a trial has no value for ``metric``, as the record tells it."""
    if trial["status"] != FINISHED:
        reason = trial.get("failure_reason")
        return f"trial {trial['status'].lower()}" + (f": {reason}" if isinstance(reason, str) and reason else "")
    skipped = trial.get("metrics_skipped")
    if isinstance(skipped, dict) and skipped:
        for name, reason in skipped.items():
            if covers(name, metric):
                return reason
        return "not logged, and the trial's record of skipped metrics does not name it"
    return "not logged, and the trial records no skipped metrics (it may predate this metric)"
