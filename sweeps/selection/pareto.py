"""Pareto ranks of trials over several objectives (fast non-dominated sorting).

Deb, Pratap, Agarwal and Meyarivan, "A Fast and Elitist Multiobjective Genetic Algorithm:
NSGA-II" (IEEE TEC 2002), section III-A. Trial ``a`` dominates trial ``b`` when ``a`` is no
worse than ``b`` on every objective and strictly better on at least one, each in its own
direction. Rank 1 is the front (no finished trial dominates its members); rank ``k + 1``
holds the trials dominated only by trials of ranks up to ``k``. Trials with equal values on
every objective dominate neither one another, so they share a rank.

Trials are ``{trial_id: {objective_name: value}}`` and objectives a list of
``(name, direction)`` with direction ``"min"`` or ``"max"``. A trial that lacks an
objective, or whose value is not a finite number, cannot be compared and is left out with a
one-line reason instead of a rank.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vae.errors import ConfigError

DIRECTIONS = ("min", "max")


@dataclass(frozen=True)
class ParetoRanks:
    """The outcome of :func:`pareto_ranks`.

    Attributes:
        objectives: the ``(name, direction)`` pairs the trials were sorted on.
        ranks: ``trial_id -> rank`` (1 = on the front) for every comparable trial.
        values: ``trial_id -> (value per objective, in objective order)`` of the ranked trials.
        left_out: ``trial_id -> reason`` for the trials that could not be ranked.
    """

    objectives: tuple[tuple[str, str], ...]
    ranks: dict[str, int]
    values: dict[str, tuple[float, ...]]
    left_out: dict[str, str]

    @property
    def front(self) -> list[str]:
        """The rank-1 trial ids, in the order the trials were given."""
        return [trial for trial, rank in self.ranks.items() if rank == 1]

    def front_for_plot(self) -> list[tuple[str, float, float]]:
        """The front of a two-objective sort as ``(trial_id, x, y)`` sorted by ``x``, then ``y``.

        ``x`` is the first objective and ``y`` the second, in their own units and directions,
        so joining the points in this order draws the front's staircase left to right.

        Raises:
            ConfigError: the sort was not on exactly two objectives (plot pairs of them).
        """
        if len(self.objectives) != 2:
            raise ConfigError(
                f"a front is drawn for two objectives, these ranks have {len(self.objectives)}; "
                "sort each pair of objectives on its own to draw pairwise panels"
            )
        points = [(trial, *self.values[trial]) for trial in self.front]
        return sorted(points, key=lambda point: (point[1], point[2], point[0]))


def check_objectives(objectives: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The objectives as a tuple of ``(name, direction)`` pairs, checked.

    Raises:
        ConfigError: no objective, a direction other than ``min``/``max``, or a name twice.
    """
    objectives = tuple((str(name), str(direction)) for name, direction in objectives)
    if not objectives:
        raise ConfigError("a Pareto sort needs at least one objective as (name, 'min' or 'max')")
    names = [name for name, _ in objectives]
    for name, direction in objectives:
        if direction not in DIRECTIONS:
            raise ConfigError(f"objective '{name}' has direction '{direction}'; use 'min' or 'max'")
        if names.count(name) > 1:
            raise ConfigError(f"objective '{name}' is listed twice; list each objective once")
    return objectives


def pareto_ranks(
    trials: Mapping[str, Mapping[str, float]], objectives: Sequence[tuple[str, str]]
) -> ParetoRanks:
    """Sorts trials into Pareto ranks over the objectives.

    Args:
        trials: ``{trial_id: {objective_name: value}}``; other keys are ignored.
        objectives: ``[(name, "min" | "max"), ...]``.

    Returns:
        The ranks of the comparable trials and the reasons the others were left out.

    Raises:
        ConfigError: bad objectives (see :func:`check_objectives`).
    """
    objectives = check_objectives(objectives)
    kept, values, left_out = [], [], {}
    for trial, figures in trials.items():
        reason = _why_not_comparable(figures, objectives)
        if reason:
            left_out[str(trial)] = reason
            continue
        kept.append(str(trial))
        values.append(tuple(float(figures[name]) for name, _ in objectives))
    ranks = _non_dominated_ranks(np.array(values, dtype=float).reshape(len(kept), len(objectives)),
                                 [direction for _, direction in objectives])
    return ParetoRanks(
        objectives=objectives,
        ranks={trial: int(rank) for trial, rank in zip(kept, ranks, strict=True)},
        values=dict(zip(kept, values, strict=True)),
        left_out=left_out,
    )


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether values ``a`` dominate values ``b`` (no worse on all, better on one)."""
    signs = np.array([1.0 if d == "min" else -1.0 for d in directions])
    a, b = signs * np.asarray(a, dtype=float), signs * np.asarray(b, dtype=float)
    return bool(np.all(a <= b) and np.any(a < b))


def _why_not_comparable(figures: Mapping[str, float], objectives) -> str | None:
    for name, _ in objectives:
        if name not in figures or figures[name] is None:
            return f"no value for objective '{name}'"
        try:
            value = float(figures[name])
        except (TypeError, ValueError):
            return f"objective '{name}' is not a number ({figures[name]!r})"
        if not math.isfinite(value):
            return f"objective '{name}' is {value} (not finite)"
    return None


def _non_dominated_ranks(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Deb et al.'s fast non-dominated sort on an ``(n, m)`` array; ranks start at 1.

    The domination counts and sets of the paper are the column sums and rows of one boolean
    matrix, ``dominated[i, j]`` = trial i dominates trial j, which NumPy builds at once;
    the O(m n^2) cost is the paper's.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=int)
    # Every objective turned into one to minimize, so "no worse" is "<=".
    cost = values * np.array([1.0 if d == "min" else -1.0 for d in directions])
    no_worse = np.all(cost[:, None, :] <= cost[None, :, :], axis=2)
    better = np.any(cost[:, None, :] < cost[None, :, :], axis=2)
    dominated = no_worse & better
    count = dominated.sum(axis=0)  # how many trials dominate each trial
    ranks = np.zeros(n, dtype=int)
    current = np.flatnonzero(count == 0)
    rank = 1
    while current.size:
        ranks[current] = rank
        count = count - dominated[current].sum(axis=0)
        count[current] = -1  # already ranked: never picked again
        current = np.flatnonzero(count == 0)
        rank += 1
    return ranks
