"""Pareto ranks: known fronts, mixed directions, ties, left-out trials, and no dominated front."""

import numpy as np
import pytest

from sweeps.selection.pareto import dominates, pareto_ranks
from vae.errors import ConfigError

MIN_MIN = [("a", "min"), ("b", "min")]


def _trials(points, names=("a", "b")):
    return {f"t{i}": dict(zip(names, point, strict=True)) for i, point in enumerate(points)}


def test_two_objectives_give_the_known_fronts_and_ranks():
    # Front: (1,5) (2,3) (4,1); then (3,4) (5,2); then (5,5).
    points = [(1, 5), (2, 3), (4, 1), (3, 4), (5, 2), (5, 5)]
    result = pareto_ranks(_trials(points), MIN_MIN)
    assert result.ranks == {"t0": 1, "t1": 1, "t2": 1, "t3": 2, "t4": 2, "t5": 3}
    assert result.front == ["t0", "t1", "t2"]
    assert result.left_out == {}


def test_a_max_and_a_min_objective_mixed():
    # Maximize the ELBO, minimize the distance: t1 is best on both; t0 and t2 trade off.
    trials = {
        "t0": {"val_elbo": -90.0, "fid": 30.0},
        "t1": {"val_elbo": -80.0, "fid": 20.0},
        "t2": {"val_elbo": -100.0, "fid": 10.0},
        "t3": {"val_elbo": -95.0, "fid": 40.0},
    }
    result = pareto_ranks(trials, [("val_elbo", "max"), ("fid", "min")])
    assert result.ranks == {"t0": 2, "t1": 1, "t2": 1, "t3": 3}
    # Reading max as min would put t2 (lowest ELBO) alone first on the ELBO axis.
    flipped = pareto_ranks(trials, [("val_elbo", "min"), ("fid", "min")])
    assert flipped.ranks["t1"] == 2 and flipped.ranks["t2"] == 1


def test_three_objectives():
    points = [(1, 2, 3), (3, 2, 1), (2, 2, 2), (2, 3, 3), (4, 4, 4)]
    result = pareto_ranks(_trials(points, ("a", "b", "c")), [("a", "min"), ("b", "min"), ("c", "min")])
    # (2,3,3) is dominated by (1,2,3) and (2,2,2); (4,4,4) by every other trial.
    assert result.ranks == {"t0": 1, "t1": 1, "t2": 1, "t3": 2, "t4": 3}


def test_equal_trials_share_a_rank_and_do_not_dominate_each_other():
    points = [(1, 1), (1, 1), (2, 2), (2, 2)]
    result = pareto_ranks(_trials(points), MIN_MIN)
    assert result.ranks == {"t0": 1, "t1": 1, "t2": 2, "t3": 2}
    assert not dominates((1, 1), (1, 1), ["min", "min"])
    # Equal on one objective, better on the other: that is domination.
    assert dominates((1, 1), (1, 2), ["min", "min"])


def test_missing_and_non_finite_values_are_left_out_with_a_reason():
    trials = {
        "ok": {"a": 1.0, "b": 1.0},
        "missing": {"a": 0.0},
        "nan": {"a": float("nan"), "b": 0.0},
        "inf": {"a": 0.0, "b": float("-inf")},
        "none": {"a": None, "b": 0.0},
    }
    result = pareto_ranks(trials, MIN_MIN)
    assert result.ranks == {"ok": 1}
    assert result.left_out == {
        "missing": "no value for objective 'b'",
        "nan": "objective 'a' is nan (not finite)",
        "inf": "objective 'b' is -inf (not finite)",
        "none": "no value for objective 'a'",
    }


def test_front_for_plot_is_sorted_along_the_first_objective():
    points = [(4, 1), (1, 5), (3, 4), (2, 3)]
    result = pareto_ranks(_trials(points), MIN_MIN)
    assert result.front_for_plot() == [("t1", 1.0, 5.0), ("t3", 2.0, 3.0), ("t0", 4.0, 1.0)]
    three = pareto_ranks(_trials([(1, 2, 3)], ("a", "b", "c")), [("a", "min"), ("b", "min"), ("c", "max")])
    with pytest.raises(ConfigError, match="two objectives"):
        three.front_for_plot()


@pytest.mark.parametrize("objectives, match", [
    ([], "at least one"),
    ([("a", "up")], "'min' or 'max'"),
    ([("a", "min"), ("a", "max")], "twice"),
])
def test_bad_objectives_are_refused(objectives, match):
    with pytest.raises(ConfigError, match=match):
        pareto_ranks({"t0": {"a": 1.0}}, objectives)


def test_no_trial_of_the_front_is_dominated_and_every_later_trial_is():
    rng = np.random.default_rng(0)
    directions = ["max", "min", "min"]
    names = ("elbo", "fid", "time")
    # Integer values make ties frequent.
    trials = _trials(rng.integers(0, 6, size=(200, 3)).tolist(), names)
    result = pareto_ranks(trials, list(zip(names, directions, strict=True)))
    values = result.values
    for trial, rank in result.ranks.items():
        dominators = [other for other in values if dominates(values[other], values[trial], directions)]
        if rank == 1:
            assert dominators == []
        else:
            # Dominated by a member of the rank just above, and by none of its own rank or below.
            assert any(result.ranks[other] == rank - 1 for other in dominators)
            assert all(result.ranks[other] < rank for other in dominators)
