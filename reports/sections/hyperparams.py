"""How the objective depends on each hyperparameter: one small plot per hyperparameter.

Numbers are scattered (log axis when they span orders of magnitude), categories are drawn
as a strip with a fixed jitter. Failed trials are marked with a red x along the top edge,
so a value that makes training diverge shows up too. The best trial is starred.
"""

import numpy as np

from reports import data as d
from reports.figures import COLORS, figure, figure_uri, log_scale_fits

FAILED_COLOR = "#d62728"


def build(sweep: d.Sweep) -> dict:
    """The hyperparameter block: ``plots`` for the varied ones, ``fixed`` for the rest."""
    trials = sweep.trials
    ranked = trials[trials["rank"].notna()]
    failed = trials[trials["status"] != d.FINISHED]
    plots, fixed = [], []
    for name in sweep.hyperparameters():
        column = f"params.{name}"
        values = trials[column].dropna()
        if values.nunique() <= 1:
            fixed.append((name, values.iloc[0] if len(values) else "—"))
            continue
        ours = ranked[ranked[column].notna()]
        if not len(ours):
            continue
        plots.append({"name": name, "image": _plot(sweep, name, ours, failed[failed[column].notna()]),
                      "count": len(ours), "failed": int(failed[column].notna().sum())})
    return {"plots": plots, "fixed": fixed, "objective_key": sweep.objective_key}


def _plot(sweep, name, ours, failed) -> str:
    column = f"params.{name}"
    numbers = [d.number(v) for v in ours[column]] + [d.number(v) for v in failed[column]]
    numeric = all(v is not None for v in numbers)
    fig = figure(3.2, 2.5)
    ax = fig.subplots()
    if numeric:
        def position(values):
            return np.array([d.number(v) for v in values])
        if log_scale_fits(numbers):
            ax.set_xscale("log")
    else:
        categories = sorted(set(ours[column]) | set(failed[column]))
        index = {c: i for i, c in enumerate(categories)}

        def position(values):
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(values))
            return np.array([index[v] for v in values], dtype=float) + jitter
        ax.set_xticks(range(len(categories)), categories)
        ax.set_xlim(-0.6, len(categories) - 0.4)
    y = ours["objective"].to_numpy(dtype=float)
    x = position(list(ours[column]))
    ax.scatter(x, y, s=20, color=COLORS[0], alpha=0.8, label="finished")
    best = (ours["rank"] == 1).to_numpy()
    if best.any():
        ax.scatter(x[best], y[best], marker="*", s=160, facecolors="none", edgecolors="black", label="best")
    if log_scale_fits(list(y), ratio=10):  # one diverging trial must not flatten the rest
        ax.set_yscale("log")
    if len(failed):
        top = ax.get_ylim()[1]
        ax.scatter(position(list(failed[column])), [top] * len(failed), marker="x", s=30, color=FAILED_COLOR,
                   clip_on=False, label="failed")
        ax.set_ylim(top=top)
    ax.set_xlabel(name, fontsize=9)
    ax.set_ylabel(sweep.objective_key, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if len(failed) or best.any():
        ax.legend(fontsize=6, loc="best")
    return figure_uri(fig)
