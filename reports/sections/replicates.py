"""Seed replicates: each replicated configuration's objective over its fresh seeds, mean ± 95%
interval, with the search trial that picked it shown apart and the seeds that failed counted.

The search picked these configurations on their search trial's value, which is biased upwards
(the winner's curse); the sweep chose its best configuration by the fresh seeds' mean
(``sweeps.replicates``), and the table shows every fresh seed's value beside it, so the
spread that the choice had to beat is in view.
"""

import math

from reports import data as d
from reports import stats
from reports.figures import fmt


def interval(values) -> tuple[float, float, float]:
    """Mean and 95% t interval of the mean over seeds (NaN bounds with one seed)."""
    mean, half = stats.mean_interval(values)
    return (mean, math.nan, math.nan) if half is None else (mean, mean - half, mean + half)


def build(sweep: d.Sweep) -> dict:
    runs = stats.seed_runs(sweep)
    if not len(sweep.replicates) or "config_digest" not in runs:
        return {"applies": False, "reason": "no configuration was trained with several seeds (--replicates R, or "
                                            "replicates: in the budget)"}
    chosen = sweep.chosen_config
    rows = []
    for digest, group in runs[runs["config_digest"].notna()].groupby("config_digest"):
        searched = group[(group["role"] != d.REPLICATE) & (group["status"] == d.FINISHED)]
        if not len(searched):
            continue
        first = searched.iloc[0]
        fresh = group[group["role"] == d.REPLICATE]
        done = fresh[(fresh["status"] == d.FINISHED) & fresh["objective"].notna()]
        failed = len(fresh) - len(done) - int((fresh["status"] == d.RUNNING).sum())
        mean, low, high = interval(done["objective"]) if len(done) else (math.nan, math.nan, math.nan)
        seeds = sorted(zip(done.get("params.seed", ["?"] * len(done)), done["objective"], strict=True))
        rows.append({"digest": digest, "trial_id": first["trial_id"], "model": first.get("params.model", "?"),
                     "search": fmt(first["objective"]), "mean": mean, "n": len(done), "failed": failed,
                     "text": f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]" if len(done) else "no fresh seed finished",
                     "seeds": ", ".join(f"seed {s}: {fmt(v)}" for s, v in seeds), "chosen": digest == chosen})
    sign = -1.0 if sweep.direction == "max" else 1.0
    rows.sort(key=lambda r: (math.isnan(r["mean"]), sign * r["mean"] if not math.isnan(r["mean"]) else 0.0))
    return {"applies": True, "objective": sweep.objective_key, "rows": rows,
            "failed": sum(r["failed"] for r in rows)}
