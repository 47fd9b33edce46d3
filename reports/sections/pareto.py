"""The Pareto front over the sweep's objectives: the finished trials no other finished trial
(evaluated on the same images) beats on every objective, with the chosen trial marked.

Two objectives give one figure (every ranked trial, the front joined as a staircase); more
give one panel per pair. The table lists the front's members with each value ± its standard
error where the run logged one (``<name>_se``).
"""

from itertools import combinations

from reports import data as d
from reports.figures import COLORS, figure_uri, fmt, panel_grid


def build(sweep: d.Sweep) -> dict:
    record = sweep.tradeoffs("pareto")
    if not record or not record["groups"]:
        return {"applies": False, "reason": "the sweep recorded no Pareto ranks (it predates them)"}
    objectives = [tuple(o) for o in record["objectives"]]
    group = record["groups"][0]  # the largest set of trials evaluated on the same images
    chosen = sweep.chosen_run_id
    rows = []
    for run_id in sorted(group["front"], key=lambda r: group["values"][r]):
        values = group["values"][run_id]
        cells = [_with_se(sweep, run_id, name, value) for (name, _), value in zip(objectives, values, strict=True)]
        rows.append({"trial_id": group["trial_ids"][run_id], "model": sweep.runs[run_id].data.params.get("model", "?"),
                     "cells": cells, "chosen": run_id == chosen})
    left_out = {**record["left_out_objectives"]}
    return {"applies": True, "objectives": [f"{n} ({'higher' if dr == 'max' else 'lower'} is better)"
                                            for n, dr in objectives],
            "rows": rows, "ranked": len(group["ranks"]), "groups": len(record["groups"]),
            "chosen_on_front": chosen in group["front"], "left_out_objectives": left_out,
            "left_out_trials": len(group["left_out"]),
            "image": _plot(group, objectives, chosen) if len(objectives) > 1 else None}


def _with_se(sweep, run_id, name, value) -> str:
    se = sweep.metric(run_id, f"{name}_se")
    return fmt(value) + (f" ± {fmt(se)}" if se is not None else "")


def _plot(group, objectives, chosen) -> str:
    pairs = list(combinations(range(len(objectives)), 2))
    fig, axes = panel_grid(len(pairs), 3.6, 2.8)
    front = set(group["front"])
    for ax, (i, j) in zip(axes, pairs, strict=True):
        points = {r: (v[i], v[j]) for r, v in group["values"].items()}
        rest = [p for r, p in points.items() if r not in front]
        if rest:
            ax.scatter(*zip(*rest, strict=True), s=18, color=COLORS[7], alpha=0.6, label="dominated")
        on = sorted(p for r, p in points.items() if r in front)
        ax.plot(*zip(*on, strict=True), marker="o", color=COLORS[0], label="front (rank 1)")
        if chosen in points:
            ax.scatter(*points[chosen], marker="*", s=200, facecolors="none", edgecolors="black", label="chosen")
        ax.set_xlabel(objectives[i][0], fontsize=8)
        ax.set_ylabel(objectives[j][0], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    return figure_uri(fig)
