"""Noise-aware ranking: trials compared by paired differences on their shared evaluation images.

Used by the sweep's closing summary and by the report. Only trials scored on the same images
(the same ``eval_digest``) are compared; a trial whose 95% interval of the difference to the
best contains zero ties with it.
"""

from collections import Counter
from dataclasses import dataclass, field

from sweeps import record, tracking
from vae.metrics import registry
from vae.metrics.paired import Difference, compare_to_best

# Per-image figures that trials log (``eval/per_image.npz``), in order of preference.
PAIRED_FIGURES = ("test_nll", "test_elbo")


@dataclass
class Ranking:
    figure: str
    direction: str
    best: str  # run id
    differences: list[Difference]  # one per compared run (name = run id), best first
    excluded: dict[str, str] = field(default_factory=dict)  # run id -> why it is not compared

    def ties(self) -> list[str]:
        return [d.name for d in self.differences if d.tie]


def paired_ranking(client, runs) -> Ranking | None:
    """Compare finished runs on the first per-image figure they share, or None when fewer than
    two runs have one."""
    digests = Counter(r.data.params.get("eval_digest") for r in runs)
    digest = digests.most_common(1)[0][0] if runs else None
    excluded = {r.info.run_id: "scored on other evaluation images" for r in runs
                if r.data.params.get("eval_digest") != digest}
    arrays = {r.info.run_id: tracking.load_npz(client, r.info.run_id, record.PER_IMAGE_FILE) or {}
              for r in runs if r.info.run_id not in excluded}
    for figure in PAIRED_FIGURES:
        values = {run_id: a[figure] for run_id, a in arrays.items() if figure in a}
        if len(values) >= 2:
            direction = registry.column(figure).direction
            missing = {run_id: f"logs no per-image {figure}" for run_id in arrays if run_id not in values}
            best, differences = compare_to_best(values, direction)
            return Ranking(figure, direction, best, differences, {**excluded, **missing})
    return None


def describe(ranking: Ranking, names: dict[str, str]) -> list[str]:
    """Lines for a terminal: each trial's difference to the best with its interval, ties said."""
    lines = [f"paired differences to the best on {ranking.differences[0].images} shared images "
             f"({ranking.figure}, {'higher' if ranking.direction == 'max' else 'lower'} is better; 95% interval):"]
    for d in ranking.differences:
        verdict = "best" if d.name == ranking.best else ("tie with the best" if d.tie else "")
        lines.append(f"  {names.get(d.name, d.name):>12}  {d.mean:+9.3f}  [{d.low:+.3f}, {d.high:+.3f}]  {verdict}")
    return lines
