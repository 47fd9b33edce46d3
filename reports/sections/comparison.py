"""Which trials the data actually rank: paired differences to the best on the shared images.

Trials scored on the same evaluation images (one ``eval_digest``) are compared image by image
(``sweeps.ranking``); a difference whose 95% interval contains zero is shown as a tie with the
best, not as a lower rank.
"""

from reports import data as d
from reports.figures import fmt
from sweeps import ranking


def build(sweep: d.Sweep) -> dict:
    finished = sweep.finished()
    runs = [sweep.runs[run_id] for run_id in finished.index]
    result = ranking.paired_ranking(sweep.client, runs) if len(runs) >= 2 else None
    if result is None:
        return {"applies": False, "reason": "fewer than two finished trials log per-image figures on the same "
                                            "evaluation images (families without a likelihood bound log none)"}
    rows = []
    for diff in result.differences:
        trial = finished.loc[diff.name]
        verdict = "best" if diff.name == result.best else ("tie" if diff.tie else "worse")
        rows.append({"trial_id": trial["trial_id"], "model": trial.get("params.model", "?"),
                     "value": fmt(sweep.metric(diff.name, result.figure)), "difference": f"{diff.mean:+.3f}",
                     "interval": f"[{diff.low:+.3f}, {diff.high:+.3f}]", "verdict": verdict})
    excluded = [f"trial {finished.loc[run_id, 'trial_id']}: {why}" for run_id, why in result.excluded.items()]
    return {"applies": True, "figure": result.figure, "images": result.differences[0].images,
            "better": "higher" if result.direction == "max" else "lower", "rows": rows,
            "ties": len(result.ties()) - 1, "excluded": excluded}
