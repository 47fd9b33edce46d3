"""Paired comparison of trials scored on the same evaluation images.

Two trials evaluated on the same images differ by the mean of their per-image differences;
its standard error is far smaller than either trial's own (the images' difficulty cancels),
so the comparison is tight where unpaired error bars would overlap. A difference whose 95%
interval contains zero is a tie: the data do not rank the two.

Comparing m trials with the one whose mean came out best makes m - 1 statements about a best
that was itself chosen on these images; one 95% interval each overclaims on both counts.
:func:`compare_with_best` makes them simultaneous: Hsu's multiple comparisons with the best
(MCB; J. C. Hsu, "Constrained simultaneous confidence intervals for multiple comparisons with
the best", Annals of Statistics 12(3):1136-1144, 1984; Hsu, *Multiple Comparisons*, 1996,
ch. 4), whose intervals for each trial's gap to the best of the others hold together with
probability 95% and whose trials with a positive upper bound are a 95% confidence set for the
best. Paired differences are correlated in no known pattern, so the critical value is
Bonferroni's one-sided t quantile at 0.05 / (m - 1) (conservative) instead of the equal-
correlation multivariate t of the balanced case.

The noise these statements cover is the evaluation's: which images were drawn, for these
trained weights. Training the same configuration with another seed moves a trial by more
(seed noise); only seed replicates measure that.
"""

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054  # two-sided 95% quantile of the normal distribution


@dataclass(frozen=True)
class Difference:
    """``mean(other - reference)`` over shared images with its 95% interval."""

    name: str
    mean: float
    low: float
    high: float
    images: int

    @property
    def tie(self) -> bool:
        return self.low <= 0.0 <= self.high


def paired_difference(name: str, values: np.ndarray, reference: np.ndarray) -> Difference:
    """The per-image difference ``values - reference`` summarised (normal interval; the
    evaluation sets have hundreds of images or more).

    Raises:
        ValueError: the two arrays do not cover the same number of images.
    """
    values, reference = np.asarray(values, np.float64), np.asarray(reference, np.float64)
    if values.shape != reference.shape:
        raise ValueError(f"{name}: {values.shape[0]} images against {reference.shape[0]}; compare only trials "
                         "scored on the same evaluation set")
    diff = values - reference
    mean = float(np.mean(diff))
    half = Z95 * float(np.std(diff, ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else math.inf
    return Difference(name, mean, mean - half, mean + half, len(diff))


def compare_to_best(per_image: dict[str, np.ndarray], direction: str) -> tuple[str, list[Difference]]:
    """The run with the best mean and every run's paired difference to it, best first.

    Args:
        per_image: run name -> per-image values of one figure on the same images.
        direction: ``"max"`` when higher is better, else ``"min"``.
    """
    sign = 1.0 if direction == "max" else -1.0
    best = max(per_image, key=lambda name: sign * float(np.mean(per_image[name])))
    differences = [paired_difference(name, values, per_image[best]) for name, values in per_image.items()]
    return best, sorted(differences, key=lambda d: -sign * d.mean)


def mean_interval(values) -> tuple[float, float | None]:
    """The mean of ``values`` (one per seed) and half its 95% t interval; None for fewer than
    two values (few seeds: the normal 1.96 would be too narrow)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, None
    return mean, float(stats.t.ppf(0.975, len(values) - 1)) * float(values.std(ddof=1)) / math.sqrt(len(values))


@dataclass(frozen=True)
class Candidate:
    """One trial in a multiple comparison with the best.

    Attributes:
        name: the trial.
        difference: its unadjusted paired difference to the observed best (95%, one at a time).
        low, high: the simultaneous interval of its mean minus the best mean of the others, in
            the figure's units (for a figure where lower is better, a positive value is worse).
        possibly_best: whether it is in the confidence set for the best.
    """

    name: str
    difference: Difference
    low: float
    high: float
    possibly_best: bool


@dataclass(frozen=True)
class BestComparison:
    """Hsu's MCB over m trials (see the module docstring), best observed mean first."""

    direction: str
    best: str
    level: float
    critical: float  # the one-sided t quantile that replaced 1.96
    candidates: list[Candidate]

    def possibly_best(self) -> list[str]:
        return [c.name for c in self.candidates if c.possibly_best]


def compare_with_best(per_image: dict[str, np.ndarray], direction: str, level: float = 0.95) -> BestComparison:
    """Simultaneous comparisons of every trial with the best of the others (constrained MCB).

    Args:
        per_image: trial name -> per-image values of one figure on the same images (two or more
            trials, two or more images).
        direction: ``"max"`` when higher is better, else ``"min"``.
        level: the simultaneous confidence level.

    Raises:
        ValueError: fewer than two trials or images, or trials scored on different image counts.
    """
    names = list(per_image)
    shapes = sorted({np.shape(per_image[n]) for n in names})
    if len(names) < 2 or len(shapes) != 1 or len(shapes[0]) != 1 or shapes[0][0] < 2:
        raise ValueError(f"compare two or more trials on the same two or more images; got {len(names)} trials "
                         f"of shapes {shapes}")
    sign = 1.0 if direction == "max" else -1.0
    scores = sign * np.stack([np.asarray(per_image[n], np.float64) for n in names])  # higher is better
    m, n = scores.shape
    critical = float(stats.t.ppf(1.0 - (1.0 - level) / (m - 1), n - 1))
    best, unadjusted = compare_to_best(per_image, direction)
    by_name = {d.name: d for d in unadjusted}
    candidates = []
    for i, name in enumerate(names):
        diffs = np.delete(scores[i] - scores, i, axis=0)  # this trial minus each other, per image
        mean, se = diffs.mean(axis=1), diffs.std(axis=1, ddof=1) / math.sqrt(n)
        upper, lower = float(np.min(mean + critical * se)), float(np.min(mean - critical * se))
        high, low = max(0.0, upper), min(0.0, lower)  # Hsu's constrained bounds, higher-is-better
        if sign < 0:
            low, high = -high, -low
        candidates.append(Candidate(name, by_name[name], low, high, upper >= 0.0))
    order = {d.name: k for k, d in enumerate(unadjusted)}
    return BestComparison(direction, best, level, critical, sorted(candidates, key=lambda c: order[c.name]))


@dataclass(frozen=True)
class Selection:
    """The trials a paired comparison of ``figure`` can use, and why the others are left out."""

    figure: str
    values: dict[str, np.ndarray]
    excluded: dict[str, str]


def comparable(arrays: dict[str, dict | None], digests: dict[str, str | None], figure: str) -> Selection:
    """The trials that log per-image ``figure`` on the most common evaluation set; one figure
    only, never a stand-in for another.

    Args:
        arrays: trial name -> its per-image arrays (None when it logged none).
        digests: trial name -> the digest of its evaluation images.
        figure: the per-image figure to compare (the sweep's objective).
    """
    digest = Counter(digests.values()).most_common(1)[0][0] if digests else None
    values, excluded = {}, {}
    for name, found in arrays.items():
        if digests.get(name) != digest:
            excluded[name] = "scored on other evaluation images"
        elif not found or figure not in found:
            excluded[name] = f"logs no per-image {figure}"
        else:
            values[name] = found[figure]
    return Selection(figure, values, excluded)
