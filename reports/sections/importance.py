"""Which hyperparameters mattered: each objective's fANOVA importances (Optuna's estimator,
``sweeps.selection.importance``) as a ranked bar chart with their bootstrap intervals, or the
one line saying why there are none (too few trials, nothing varied)."""

from reports import data as d
from reports.figures import COLORS, figure, figure_uri, fmt


def build(sweep: d.Sweep) -> dict:
    record = sweep.tradeoffs("importance")
    if not record:
        return {"applies": False, "reason": "the sweep recorded no importances (it predates them)"}
    objectives = []
    for name, result in record.items():
        left_out = ", ".join(f"{p} ({why})" for p, why in sorted(result["left_out"].items()))
        entry = {"name": name, "reason": result["reason"], "left_out": left_out, "trials": result["num_trials"],
                 "resamples": result["resamples"], "confidence": round(100 * result["confidence"])}
        if not result["reason"]:
            entry["ranked"] = [(p["name"], fmt(p["importance"]), f"[{fmt(p['low'])}, {fmt(p['high'])}]")
                               for p in result["params"]]
            entry["image"] = _bars(name, result["params"])
        objectives.append(entry)
    return {"applies": True, "objectives": objectives}


def _bars(name: str, params: list[dict]) -> str:
    fig = figure(4.2, 0.5 + 0.35 * len(params))
    ax = fig.subplots()
    ranked = params[::-1]  # most important on top
    y = range(len(ranked))
    values = [p["importance"] for p in ranked]
    errors = [[max(v - p["low"], 0.0) for v, p in zip(values, ranked, strict=True)],
              [max(p["high"] - v, 0.0) for v, p in zip(values, ranked, strict=True)]]
    ax.barh(list(y), values, xerr=errors, color=COLORS[0], alpha=0.8, capsize=3)
    ax.set_yticks(list(y), [p["name"] for p in ranked])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"importance for {name} (fANOVA, share of variance)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    return figure_uri(fig)
