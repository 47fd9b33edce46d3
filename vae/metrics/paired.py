"""Paired comparison of trials scored on the same evaluation images.

Two trials evaluated on the same images differ by the mean of their per-image differences;
its standard error is far smaller than either trial's own (the images' difficulty cancels),
so the comparison is tight where unpaired error bars would overlap. A difference whose 95%
interval contains zero is a tie: the data do not rank the two.
"""

import math
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
