"""Rate against distortion of every finished trial: KL (nats) over reconstruction loss (nats).

Test-set values where the trial logged them, else the last epoch's validation values; the
marker says which. One colour per model family; the best trial is starred.
"""

import math

from reports import data as d
from reports.figures import COLORS, figure, figure_uri, log_scale_fits

SOURCES = {
    "test": ("test_reconstruction_loss", "test_kl_loss"),
    "last-epoch validation": ("val_reconstruction_loss", "val_kl_loss"),
}


def points(sweep: d.Sweep) -> tuple[list[dict], list[str]]:
    """One point per finished trial with both values, and a note per trial left out."""
    found, left_out = [], []
    for run_id, trial in sweep.finished().iterrows():
        for source, (x_key, y_key) in SOURCES.items():
            x, y = sweep.metric(run_id, x_key), sweep.metric(run_id, y_key)
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                found.append({"run_id": run_id, "trial_id": trial["trial_id"], "model": trial.get("params.model", "?"),
                              "distortion": x, "rate": y, "source": source, "best": trial.get("rank") == 1})
                break
        else:
            left_out.append(f"trial {trial['trial_id']} ({trial.get('params.model', '?')}): no reconstruction/KL "
                            "values (a family without a KL term logs none)")
    return found, left_out


def build(sweep: d.Sweep) -> dict:
    """The rate-distortion block: the plot, which values it uses and who is left out."""
    found, left_out = points(sweep)
    if not found:
        return {"image": None, "left_out": left_out, "sources": []}
    fig = figure(6.4, 4.2)
    ax = fig.subplots()
    models = sorted({p["model"] for p in found})
    for i, model in enumerate(models):
        for source, marker in (("test", "o"), ("last-epoch validation", "s")):
            group = [p for p in found if p["model"] == model and p["source"] == source]
            if group:
                colour = COLORS[i % len(COLORS)]
                ax.scatter([p["distortion"] for p in group], [p["rate"] for p in group], marker=marker, s=36,
                           color=colour if source == "test" else "none", edgecolors=colour,
                           label=model if source == "test" else f"{model} (val)")
    for p in found:
        ax.annotate(p["trial_id"], (p["distortion"], p["rate"]), textcoords="offset points", xytext=(4, 3), fontsize=7)
        if p["best"]:
            ax.scatter([p["distortion"]], [p["rate"]], marker="*", s=220, facecolors="none", edgecolors="black",
                       linewidths=1.2, label="best trial")
    rates = [p["rate"] for p in found]
    if log_scale_fits(rates):
        ax.set_yscale("log")
    else:
        positive = [r for r in rates if r > 0]
        if len(positive) < len(rates) and log_scale_fits(positive):  # a zero KL among large ones
            ax.set_yscale("symlog", linthresh=min(positive))
    if log_scale_fits([p["distortion"] for p in found], ratio=10):  # a trial that learned nothing
        ax.set_xscale("log")
    ax.margins(0.08)
    ax.set_xlabel("distortion: reconstruction loss (nats per image)", fontsize=9)
    ax.set_ylabel("rate: KL (nats per image)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    sources = sorted({p["source"] for p in found})
    return {"image": figure_uri(fig), "left_out": left_out, "sources": sources, "count": len(found),
            "log_axes": [name for name, scale in (("rate", ax.get_yscale()), ("distortion", ax.get_xscale()))
                         if scale != "linear"]}
