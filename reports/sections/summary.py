"""The sweep at a glance: what was searched, how, for how long, and how many trials ended how."""

import math

import pandas as pd

from reports import data as d
from reports.figures import MISSING, fmt, seconds


def build(sweep: d.Sweep) -> dict:
    """The summary block: a list of (label, value) facts, the trial tally and the versions."""
    params, trials = sweep.params, sweep.trials
    counts = trials["status"].value_counts()
    wall = sweep.metrics.get("wall_time_s")
    wall_note = ""
    if wall is None:  # killed or still running: the parent never logged its wall time
        start, end = sweep.run.info.start_time, sweep.run.info.end_time
        wall = (end - start) / 1000 if start and end else None
        wall_note = " (from the run's start and end; the sweep did not log wall_time_s)" if wall else ""
    best = sweep.best
    started = pd.to_datetime(sweep.run.info.start_time, unit="ms", utc=True) if sweep.run.info.start_time else None
    facts = [
        ("Sweep", sweep.name),
        ("Parent run", sweep.run_id),
        ("Status", sweep.status),
        ("Dataset", params.get("dataset", sweep.dataset)),
        ("Tuner", params.get("tuner", MISSING)),
        ("Budget", params.get("budget", MISSING)),
        ("Objective", f"{sweep.objective} ({_direction(sweep.direction)})"),
        ("Model families", params.get("models", MISSING).replace(",", ", ")),
        ("Max trials", params.get("max_trials", MISSING)),
        ("Epochs per trial", params.get("epochs", MISSING)),
        ("Training images", params.get("subset") if params.get("subset") not in (None, "None") else "all"),
        ("Seed", params.get("seed", MISSING)),
        ("Started", started.strftime("%Y-%m-%d %H:%M:%S UTC") if started is not None else MISSING),
        ("Wall time", seconds(wall) + wall_note),
        ("Best trial", f"trial {best['trial_id']} ({best.get('params.model', '?')}): "
                       f"{sweep.objective_key} = {fmt(best['objective'])}"),
        ("Tracking store", sweep.tracking_uri),
    ]
    statuses = (d.FINISHED, d.STOPPED, d.FAILED, d.KILLED, d.RUNNING)
    tally = [(status.lower(), int(counts.get(status, 0))) for status in statuses]
    durations = (trials["end_time"] - trials["start_time"]).dt.total_seconds()
    finished = durations[trials["status"] == d.FINISHED].dropna()
    return {
        "title": f"{params.get('dataset', sweep.dataset)} sweep {sweep.name}",
        "facts": facts,
        "tally": [(label, n) for label, n in tally if n or label in ("finished", "failed", "killed")],
        "total": len(trials),
        "mean_trial_time": seconds(float(finished.mean())) if len(finished) and not math.isnan(finished.mean()) else MISSING,
        "versions": sorted((k.removeprefix("version_"), v) for k, v in params.items() if k.startswith("version_")),
        "search_space": _text(sweep, "search_space.yaml"),
        "tracking_uri": sweep.tracking_uri,
    }


def _direction(direction: str) -> str:
    return {"min": "lower is better", "max": "higher is better"}.get(direction, direction)


def _text(sweep: d.Sweep, path: str) -> str | None:
    content = sweep.artifact_bytes(sweep.run_id, path)
    return content.decode("utf-8", errors="replace") if content is not None else None
