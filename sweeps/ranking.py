"""Noise-aware ranking for the sweep's closing summary: which trials could be the best.

The finished trials are compared on per-image values of the sweep's own objective (logged in
the record's per-image file), on their shared evaluation images, with Hsu's multiple
comparisons with the best (``vae.metrics.paired``, which the report uses too). Trials that
log no per-image values of the objective (a trial metric such as MIG has none) are not ranked
here: the summary says so rather than ranking on another figure.
"""

from sweeps import record, tracking
from vae.metrics.paired import BestComparison, Selection, comparable, compare_with_best


def paired_ranking(client, runs, objective: str, direction: str) -> tuple[Selection, BestComparison | None]:
    """The runs' selection for ``objective`` and their comparison, None when fewer than two
    runs log per-image values of it."""
    ids = [r.info.run_id for r in runs]
    selection = comparable({i: tracking.load_npz(client, i, record.PER_IMAGE_FILE) for i in ids},
                           {r.info.run_id: r.data.params.get("eval_digest") for r in runs}, objective)
    if len(selection.values) < 2:
        return selection, None
    return selection, compare_with_best(selection.values, direction)


def describe(selection: Selection, result: BestComparison | None, names: dict[str, str]) -> list[str]:
    """Lines for a terminal: each trial's simultaneous interval and whether it could be the best."""
    if result is None:
        return [f"no paired comparison: fewer than two trials log per-image {selection.figure}"]
    images = result.candidates[0].difference.images
    lines = [f"{selection.figure} on {images} shared evaluation images, {len(result.candidates)} trials "
             f"({'higher' if result.direction == 'max' else 'lower'} is better); mean minus the best of the others, "
             f"simultaneous {result.level:.0%} (Hsu's MCB; evaluation noise only, not seed noise):"]
    for c in result.candidates:
        verdict = "could be the best" if c.possibly_best else "worse than the best"
        lines.append(f"  {names.get(c.name, c.name):>12}  [{c.low:+.3f}, {c.high:+.3f}]  {verdict}")
    return lines
