"""The best trials side by side: loss curves, KL per latent dimension and the image artifacts.

One row per kind of figure and one column per trial, so the same picture of each trial
lines up. Each plot has its own y axis: a collapsed trial's KL is orders of magnitude below
a healthy one's and would vanish on a shared axis.
"""

import math

from reports import data as d
from reports.figures import COLORS, figure, figure_uri, fmt, png_uri
from vae.metrics import registry

CURVES = [("reconstruction_loss", "reconstruction (nats)"), ("kl_loss", "KL (nats)")]


def build(sweep: d.Sweep) -> dict:
    """The best-trials block: ``trials`` (headers) and ``rows`` of figures, one cell per trial."""
    top = sweep.top(d.TOP)
    run_ids = list(top.index)
    headers = [_header(sweep, run_id, trial) for run_id, trial in top.iterrows()]
    histories = {run_id: {key: (sweep.history(run_id, key), sweep.history(run_id, f"val_{key}"))
                          for key, _ in CURVES} for run_id in run_ids}
    kl = {run_id: sweep.kl_dims(run_id) for run_id in run_ids}
    rows = [
        {"title": "Loss curves (train and validation)", "cells": [_curves(histories[r]) for r in run_ids]},
        {"title": "KL per latent dimension (last epoch, validation)", "cells": [_kl_bars(kl[r]) for r in run_ids]},
    ]
    # The images only some models log get a row when one of these trials has them.
    optional = {**d.CONDITIONAL_IMAGES, **d.MANIFOLD_IMAGES, **d.PIXEL_SCALE_IMAGES}
    images = dict(d.IMAGES)
    images.update({t: p for t, p in optional.items() if any(p in sweep.artifact_paths(r) for r in run_ids)})
    for title, path in images.items():
        cells = []
        for run_id in run_ids:
            content = sweep.artifact_bytes(run_id, path)
            if content is None and path in optional.values():
                cells.append({"note": _none(path, top.loc[run_id])})
            elif content is None:
                cells.append({"note": f"no {path} artifact in this run"})
            else:
                cells.append({"image": png_uri(content), "alt": f"{title}, trial {top.loc[run_id, 'trial_id']}",
                              "cls": "artifact"})
        rows.append({"title": title, "cells": cells})
    return {"trials": headers, "rows": rows, "count": len(run_ids), "asked": d.TOP, "objective_key": sweep.objective_key,
            "test_key": registry.reported_twin(sweep.objective)}



def _header(sweep, run_id, trial) -> dict:
    hypers = [(h, trial.get(f"params.{h}")) for h in sweep.hyperparameters() if h != "model"]
    return {
        "rank": int(trial["rank"]),
        "trial_id": trial["trial_id"],
        "run_id": run_id,
        "model": trial.get("params.model", "?"),
        "objective": fmt(trial["objective"]),
        "hypers": [(h, v) for h, v in hypers if isinstance(v, str)],
        "test_elbo": fmt(sweep.metric(run_id, "test_elbo")),
        "test_twin": fmt(sweep.metric(run_id, registry.reported_twin(sweep.objective))),
        "active_units": fmt(sweep.metric(run_id, "test_active_units")),
    }


def _none(path, trial) -> str:
    """Why a trial has none of an image that only some models log."""
    if path in d.CONDITIONAL_IMAGES.values():
        return "none: only conditional families (cvae) log conditional samples"
    if path in d.PIXEL_SCALE_IMAGES.values():
        return f"none: only per-pixel likelihoods log a scale image; this trial's is {trial.get('params.likelihood', '?')}"
    latent_dim = trial.get("params.latent_dim")
    if latent_dim != "2":
        return f"none: the manifold is drawn for 2-D codes only; this trial has latent_dim {latent_dim}"
    return f"no {path} artifact in this run (a grid code, or a run from before manifolds were logged)"


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def _curves(mine: dict) -> dict:
    if not any(len(series) for pair in mine.values() for series in pair):
        return {"note": "no per-epoch history was logged"}
    fig = figure(4.2, 2.6)
    axes = fig.subplots(1, len(CURVES))
    for ax, (key, label) in zip(axes, CURVES, strict=True):
        train, val = mine[key]
        if not len(train) and not len(val):
            ax.text(0.5, 0.5, f"{key} not logged\n(this family has no KL term)" if key == "kl_loss" else f"{key} not logged",
                    ha="center", va="center", transform=ax.transAxes, fontsize=8)
            ax.set_axis_off()
            continue
        for series, name, color in ((train, "train", COLORS[0]), (val, "val", COLORS[1])):
            if len(series):
                ax.plot(series.index + 1, series.values, marker="o", markersize=3, color=color, label=name)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        epochs = sorted(set(train.index) | set(val.index))
        if len(epochs) <= 10:  # one tick per epoch; a lone epoch would otherwise get 0.95..1.05
            ax.set_xticks([e + 1 for e in epochs])
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=7)
    return {"image": figure_uri(fig), "alt": "reconstruction and KL loss by epoch"}


def _kl_bars(mine) -> dict:
    if not mine:
        return {"note": "no kl_dim_<i> metrics: this family has no per-dimension KL"}
    fig = figure(4.2, 2.4)
    ax = fig.subplots()
    dims, values = zip(*mine, strict=True)
    ax.bar(dims, values, color=COLORS[0])
    ax.set_xlabel("latent dimension", fontsize=8)
    ax.set_ylabel("KL (nats)", fontsize=8)
    ax.set_title(f"total {fmt(sum(_finite(values)))} nats over {len(values)} dimensions", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return {"image": figure_uri(fig), "alt": "KL divergence of each latent dimension"}
