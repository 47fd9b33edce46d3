"""Disentanglement: which latent carries which ground-truth factor, and what β buys.

- For each of the best trials whose ``latents/codes.npz`` holds factors (dSprites, CelebA),
  the latent × factor mutual information (``vae.metrics.mi_matrix``: codes discretized into
  ``NUM_BINS`` equal-width bins, as MIG does), divided by each factor's entropy so that 1 means the
  latent determines the factor. Latents are sorted by the factor they know most about;
  inactive ones (validation KL or posterior-mean variance below a threshold) go last, grey.
- For a sweep over β, every disentanglement metric the trials logged (the registry's
  metrics that need factors or a ground-truth sampler) and the reconstruction loss against
  β: one point per configuration, the mean ± 95% t interval where seeds were replicated.
  Only runs trained for the budget's epochs are drawn (Hyperband's earlier rounds train for
  fewer, ``tuner_epochs``, and would put half-trained models beside trained ones), and the
  other hyperparameters that vary between the points are named: β is not all that differs.
"""

import numpy as np
import pandas as pd

from reports import data as d
from reports import stats
from reports.figures import COLORS, figure, figure_uri, fmt, panel_grid
from vae.metrics import mi_matrix, registry, utils

NUM_BINS = 20  # as MIG and modularity (MetricSettings.num_bins)
# Inactive: validation KL (nats; the trial guard's collapse threshold) or variance of the
# posterior mean (Burda et al.'s active-unit threshold) at most this.
INACTIVE = 0.01
MAX_LATENTS = 32  # heatmap rows; CelebA codes have up to 200 latents
RECONSTRUCTION = registry.Column("test_reconstruction_loss", "reconstruction loss (nats)", "min",
                                 "reconstruction term of the test loss, nats per image")
#: The trade-off's panels: every column of a metric that scores codes against ground truth.
TRADEOFF = [c for m in registry.METRICS.values() if {"factors", "sampler"} & set(m.needs)
            for c in m.logged_columns()] + [RECONSTRUCTION]


def build(sweep: d.Sweep) -> dict:
    """The disentanglement block: ``heatmaps`` (or ``heatmap_reason``) and the β trade-off."""
    heatmaps, reasons = [], []
    for run_id, trial in sweep.top(d.TOP).iterrows():
        view = _heatmap_of(sweep, run_id, trial)
        (heatmaps if "image" in view else reasons).append(view)
    return {"heatmaps": heatmaps, "heatmap_reason": None if heatmaps else _one_reason(reasons),
            "left_out": [v["note"] for v in reasons] if heatmaps else [],
            "tradeoff": tradeoff(stats.seed_runs(sweep), d.number(sweep.params.get("epochs")), sweep.hyperparameters()),
            "num_bins": NUM_BINS, "inactive": INACTIVE}


# The MI heatmap ----------------------------------------------------------------------------
def mi_view(codes, factors, kl=None, num_bins: int = NUM_BINS) -> dict:
    """The heatmap's numbers: MI over factor entropy, rows in display order and flagged.

    Args:
        codes: ``(n, num_codes)`` posterior means.
        factors: ``(n, num_factors)`` discrete factors.
        kl: ``(num_codes,)`` validation KL per latent, or None when not logged.
        num_bins: bins per latent, as MIG's.

    Returns:
        ``order`` (latent index of each row), ``mi`` (rows in that order, MI / H(factor),
        0 for a constant factor), ``inactive`` and ``best_factor`` (per row).
    """
    codes = np.asarray(codes, dtype=np.float64)
    mi = mi_matrix.mutual_information_matrix(codes, factors, num_bins)
    entropy = utils.discrete_entropy(np.asarray(factors))
    ratio = np.divide(mi, entropy, out=np.zeros_like(mi), where=entropy > 0)
    # Unused by either sign: a KL that stays at the prior, or a mean that does not move.
    activity = codes.var(axis=0) if kl is None else np.minimum(codes.var(axis=0), np.asarray(kl, np.float64))
    shown = mi_matrix.order_latents(ratio, activity, threshold=INACTIVE)
    order = shown["order"]
    return {"order": order, "mi": ratio[order], "inactive": ~shown["active"][order],
            "best_factor": shown["best_factor"][order]}


def _heatmap_of(sweep, run_id, trial) -> dict:
    who = f"trial {trial['trial_id']} ({trial.get('params.model', '?')})"
    try:
        arrays = sweep.codes(run_id)
    except (ValueError, OSError) as exc:
        return {"note": f"{who}: {d.CODES} could not be read ({exc})", "kind": "unreadable"}
    if arrays is None:
        return {"note": f"{who}: no {d.CODES} artifact (a grid code, or a run from before codes were logged)",
                "kind": "no codes"}
    factors = arrays.get("factors")
    if factors is None or factors.ndim != 2:
        what = "a single label" if "labels" in arrays else "no labels or factors"
        return {"note": f"{who}: {sweep.dataset} has {what}, so there are no ground-truth factors to "
                        "compare the latents with", "kind": "no factors"}
    kl = dict(sweep.kl_dims(run_id))
    codes = arrays["codes"]
    kl = np.array([kl[i] for i in range(codes.shape[1])]) if set(kl) >= set(range(codes.shape[1])) else None
    names = [str(n) for n in arrays.get("factor_names", [])] or [f"factor {j}" for j in range(factors.shape[1])]
    try:
        view = mi_view(codes, factors, kl)
    except ValueError as exc:  # MetricInputError: non-finite codes of a diverged model
        return {"note": f"{who}: {exc}", "kind": "unusable"}
    shown = min(len(view["order"]), MAX_LATENTS)
    return {"who": who, "run_id": run_id, "image": _draw_heatmap(view, names, shown),
            "latents": len(view["order"]), "shown": shown, "inactive": int(view["inactive"].sum()),
            "kl_source": "validation KL and code variance" if kl is not None else "code variance (no kl_dim_<i>)"}


def _one_reason(reasons: list[dict]) -> str:
    if not reasons:
        return "the sweep has no finished trial with an objective"
    kinds = {r["kind"] for r in reasons}
    if kinds == {"no factors"}:
        return reasons[0]["note"].split(": ", 1)[1]  # the same for every trial: say it once
    return "; ".join(r["note"] for r in reasons)


def _draw_heatmap(view, names, shown) -> str:
    mi, inactive = view["mi"][:shown], view["inactive"][:shown]
    fig = figure(1.6 + 0.55 * len(names), 1.2 + 0.28 * shown)
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_array(mi, np.repeat(inactive[:, None], mi.shape[1], axis=1)),
                      cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.imshow(np.where(inactive[:, None], 1.0, np.nan) * np.ones_like(mi), cmap="Greys", vmin=0, vmax=4,
              aspect="auto")  # inactive rows in light grey, under their values
    if mi.size <= 400:
        for (i, j), value in np.ndenumerate(mi):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                    color="#777777" if inactive[i] else ("black" if value > 0.6 else "white"))
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    labels = [f"z{i}" + (" (inactive)" if off else "") for i, off in zip(view["order"][:shown], inactive, strict=True)]
    ax.set_yticks(range(shown), labels, fontsize=7)
    for tick, off in zip(ax.get_yticklabels(), inactive, strict=True):
        tick.set_color("#999999" if off else "black")
    fig.colorbar(image, ax=ax, label="MI / H(factor)", shrink=0.8)
    return figure_uri(fig)


# The β trade-off -----------------------------------------------------------------------------
def beta_values(trials, finished: bool = True) -> list[float]:
    """The distinct β of the (finished) trials that logged one."""
    trials = trials[trials["status"] == d.FINISHED] if finished else trials
    values = (d.number(v) for v in trials.get("params.beta", []))
    return sorted({v for v in values if v is not None})


def _not_swept(trials, betas) -> str:
    """Why there is no trade-off: what β the runs (trials and replicates) had, and which had none."""
    shown = [f"every finished trial has β = {fmt(betas[0])}" if betas else "no finished trial logged a β"]
    others = [fmt(b) for b in beta_values(trials, finished=False) if b not in betas]
    if others:
        shown.append(f"β = {', '.join(others)} only in trials that did not finish")
    finished = trials[trials["status"] == d.FINISHED]
    without = finished[[d.number(v) is None for v in finished.get("params.beta", [None] * len(finished))]]
    for model, n in without.get("params.model", pd.Series(dtype=object)).value_counts(sort=False).items():
        shown.append(f"{n} {model} run{'s' if n > 1 else ''} {'have' if n > 1 else 'has'} no β")
    return f"β was not swept ({'; '.join(shown)}), so there is no trade-off to draw"


def tradeoff_points(trials, key: str) -> list[dict]:
    """One point per configuration with a numeric β and a value of ``key``: ``beta``,
    ``model``, ``value``, ``half_width`` (None without seeds), ``seeds``, ``how``."""
    found = []
    for group in stats.configurations(trials):
        first = group.iloc[0]
        beta = d.number(first.get("params.beta"))
        est = stats.estimate(group, key)
        if beta is not None and est is not None:
            found.append({"beta": beta, "model": first.get("params.model", "?"), "value": est.value,
                          "half_width": est.half_width, "seeds": est.seeds, "how": est.how})
    return found


def final_round(trials, epochs: float | None) -> tuple[pd.DataFrame, int]:
    """The runs trained for the budget's ``epochs`` and how many finished ones are left out
    (a Hyperband round's ``tuner_epochs`` below it); runs without ``tuner_epochs`` are kept."""
    if epochs is None or "params.tuner_epochs" not in trials:
        return trials, 0
    rounds = trials["params.tuner_epochs"].map(d.number)
    short = rounds.notna() & (rounds < epochs)
    return trials[~short], int((short & (trials["status"] == d.FINISHED)).sum())


def varying(trials, hyperparameters) -> list[str]:
    """``name (value, ...)`` of each hyperparameter other than β and the family that takes more
    than one value among the finished runs with a β."""
    finished = trials[(trials["status"] == d.FINISHED)]
    finished = finished[[d.number(v) is not None for v in finished.get("params.beta", [None] * len(finished))]]
    found = []
    for name in hyperparameters:
        column = finished.get(f"params.{name}")
        if name in ("beta", "model") or column is None:
            continue
        values = sorted({str(v) for v in column.dropna()}, key=lambda v: (d.number(v) is None, d.number(v) or 0, v))
        if len(values) > 1:
            found.append(f"{name} ({', '.join(values[:6])}{', ...' if len(values) > 6 else ''})")
    return found


def tradeoff(trials, epochs: float | None = None, hyperparameters=()) -> dict:
    """The trade-off figure of the runs trained for ``epochs``, or ``reason`` when β was not swept."""
    trials, short = final_round(trials, epochs)
    rounds = {"left_out_rounds": short, "epochs": fmt(epochs) if epochs is not None else None}
    betas = beta_values(trials)
    if len(betas) < 2:
        return {**rounds, "image": None, "reason": _not_swept(trials, betas)}
    panels = [(c, tradeoff_points(trials, c.key)) for c in TRADEOFF]
    present = [(c, p) for c, p in panels if p]
    absent = [c.key for c, p in panels if not p]
    replicated = any(p["seeds"] > 1 for _, points in present for p in points)
    log = betas[0] > 0  # β = 0 (a plain autoencoder) has no place on a log axis
    return {**rounds, "varying": varying(trials, hyperparameters),
            "image": _draw_tradeoff(present, log) if present else None, "betas": [fmt(b) for b in betas], "log": log,
            "metrics": [c.label for c, _ in present], "absent": absent, "replicated": replicated,
            "reason": None if present else "no finished trial logged a reconstruction loss or a disentanglement metric"}


def _draw_tradeoff(present, log: bool) -> str:
    fig, axes = panel_grid(len(present), 3.4, 2.7)
    models = sorted({p["model"] for _, points in present for p in points})
    for ax, (column, points) in zip(axes, present, strict=True):
        for i, model in enumerate(models):
            mine = [p for p in points if p["model"] == model]
            if mine:
                ax.errorbar([p["beta"] for p in mine], [p["value"] for p in mine], fmt="o", markersize=4,
                            yerr=[p["half_width"] or 0.0 for p in mine], capsize=3, color=COLORS[i % len(COLORS)],
                            label=model)
        if log:
            ax.set_xscale("log")
            ax.minorticks_off()
        betas = sorted({p["beta"] for p in points})
        ax.set_xticks(betas, [fmt(b) for b in betas])  # the swept values, not powers of ten
        better = "higher" if column.direction == "max" else "lower"
        ax.set_title(f"{column.label} ({better} is better)", fontsize=9)
        ax.set_xlabel("β", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    return figure_uri(fig)
