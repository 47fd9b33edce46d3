"""Seed replicates: each replicated configuration's objective over its seeds, mean ± 95% interval.

The sweep chose its best configuration by this mean (``sweeps.replicates``); the table shows
every seed's value beside it, so the spread that the choice had to beat is in view.
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
    finished = runs[(runs["status"] == d.FINISHED) & runs["config_digest"].notna() & runs["objective"].notna()]
    chosen = sweep.chosen_config
    rows = []
    for digest, group in finished.groupby("config_digest"):
        searched = group[group["role"] != d.REPLICATE]
        first = searched.iloc[0] if len(searched) else group.iloc[0]
        mean, low, high = interval(group["objective"])
        seeds = sorted(zip(group.get("params.seed", ["?"] * len(group)), group["objective"], strict=True))
        rows.append({"digest": digest, "trial_id": first["trial_id"], "model": first.get("params.model", "?"),
                     "mean": mean, "text": f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]", "n": len(group),
                     "seeds": ", ".join(f"seed {s}: {fmt(v)}" for s, v in seeds), "chosen": digest == chosen})
    rows.sort(key=lambda r: r["mean"], reverse=sweep.direction == "max")
    return {"applies": True, "objective": sweep.objective_key, "rows": rows}
