"""Which trials could be the best: every finished trial against the best of the others, image
by image, with intervals that hold for all of them at once.

The comparison is made on the sweep's own objective, from each trial's per-image values of it
(``reports.data.Sweep.per_image``) on the shared evaluation images; a sweep whose objective has
no per-image values (a trial metric such as MIG) is not ranked on another figure instead: the
section says the comparison does not apply. The statistics are Hsu's multiple comparisons with
the best (``vae.metrics.paired.compare_with_best``): they account for the m trials compared and
for the best having been chosen on the same images, and they cover evaluation noise only, not
the seed-to-seed spread that the seed replicates measure.
"""

import numpy as np

from reports import data as d
from reports.figures import fmt
from vae.metrics import paired

TITLE = "Which trials could be the best (paired on the evaluation images, simultaneous intervals)"


def build(sweep: d.Sweep) -> dict:
    finished = sweep.finished()
    figure = sweep.objective
    arrays = {run_id: sweep.per_image(run_id) for run_id in finished.index}
    selection = paired.comparable(arrays, {r: finished.loc[r].get("params.eval_digest") for r in finished.index},
                                  figure)
    base = {"title": TITLE, "figure": figure}
    if len(selection.values) < 2:
        logged = sorted({key for found in arrays.values() if found for key in found})
        return {**base, "applies": False, "reason": _why_not(figure, len(selection.values), logged)}
    result = paired.compare_with_best(selection.values, sweep.direction)
    labels = {run_id: (finished.loc[run_id, "trial_id"], finished.loc[run_id].get("params.model", "?"))
              for run_id in selection.values}
    excluded = [f"trial {finished.loc[run_id, 'trial_id']}: {why}" for run_id, why in selection.excluded.items()]
    return {**base, "applies": True, "images": result.candidates[0].difference.images, "m": len(result.candidates),
            "better": "higher" if result.direction == "max" else "lower", "level": f"{result.level:.0%}",
            "critical": f"{result.critical:.2f}", "rows": rows(result, selection, labels),
            "possibly_best": len(result.possibly_best()), "excluded": excluded}


def rows(result: paired.BestComparison, selection: paired.Selection, labels: dict) -> list[dict]:
    """One row per trial, best observed mean first: its mean, the unadjusted difference to the
    best with its one-at-a-time 95% interval, the simultaneous interval and the verdict."""
    found = []
    for c in result.candidates:
        trial_id, model = labels.get(c.name, (c.name, "?"))
        diff = c.difference
        verdict = ("observed best" if c.name == result.best else
                   "could be the best" if c.possibly_best else "worse than the best")
        found.append({"trial_id": trial_id, "model": model, "value": fmt(float(np.mean(selection.values[c.name]))),
                      "difference": f"{diff.mean:+.3f}", "unadjusted": f"[{diff.low:+.3f}, {diff.high:+.3f}]",
                      "unadjusted_excludes_zero": not diff.tie and c.name != result.best,
                      "simultaneous": f"[{c.low:+.3f}, {c.high:+.3f}]", "verdict": verdict,
                      "cls": "best" if c.name == result.best else ("tie" if c.possibly_best else "worse")})
    return found


def _why_not(figure: str, count: int, logged: list[str]) -> str:
    if count == 1:
        return f"only one finished trial logs per-image {figure}, so there is nothing to compare it with"
    others = f" (they log per-image {', '.join(logged)}, which is not what the sweep chose by)" if logged else ""
    return (f"the sweep ranks by {figure}, and no finished trials log per-image values of it{others}; "
            f"ranking them on another figure would answer another question, so the comparison does not apply "
            f"to this objective")
