"""Paired differences on shared images: intervals, ties, the best run, and simultaneous
comparisons with the best (Hsu's MCB)."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from vae.metrics.paired import (
    comparable,
    compare_to_best,
    compare_with_best,
    mean_interval,
    paired_difference,
)


def test_a_shift_far_below_the_spread_of_images_is_resolved_by_pairing():
    rng = np.random.default_rng(0)
    difficulty = rng.normal(0, 30, 2000)  # images differ by far more than the trials do
    a, b = difficulty + rng.normal(0, 1, 2000), difficulty + 0.5 + rng.normal(0, 1, 2000)
    diff = paired_difference("b", b, a)
    assert diff.low > 0 and not diff.tie and diff.mean == pytest.approx(0.5, abs=0.1)


def test_identical_noise_levels_give_a_tie_and_the_best_mean_leads():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 10, 500)
    runs = {"x": base + rng.normal(0, 1, 500), "y": base + rng.normal(0, 1, 500), "z": base - 5}
    best, diffs = compare_to_best(runs, "max")
    assert best in ("x", "y") and diffs[0].name == best and diffs[0].mean == 0
    assert [d.name for d in diffs][-1] == "z" and not diffs[-1].tie
    assert next(d for d in diffs if d.name not in (best, "z")).tie


def test_different_image_counts_are_refused():
    with pytest.raises(ValueError, match="same evaluation set"):
        paired_difference("a", np.zeros(3), np.zeros(4))


def ten_trials(gap: float, rng_seed: int = 0, images: int = 500) -> dict[str, np.ndarray]:
    """Trial 0 leads the nine others by exactly ``gap`` on the mean; the images' difficulty is
    shared and each trial adds noise of sd 1 (exactly zero-mean, so the gaps are exact)."""
    rng = np.random.default_rng(rng_seed)
    difficulty = rng.normal(0, 20, images)
    trials = {}
    for k in range(10):
        noise = rng.normal(0, 1, images)
        trials[f"t{k}"] = difficulty + (noise - noise.mean()) - (gap if k else 0.0)
    return trials


def test_ten_trials_separated_one_at_a_time_are_not_distinguishable_simultaneously():
    trials = ten_trials(gap=0.14)
    best, unadjusted = compare_to_best(trials, "max")
    assert best == "t0"
    others = [d for d in unadjusted if d.name != best]
    # One at a time, each of the nine is "worse than the best": every 95% interval excludes 0.
    assert len(others) == 9 and all(d.high < 0 for d in others)
    assert all(d.mean == pytest.approx(-0.14) for d in others)
    result = compare_with_best(trials, "max")
    # Bonferroni's one-sided t quantile for 9 comparisons at 5%, 499 degrees of freedom.
    assert result.critical == pytest.approx(2.55, abs=0.01) and result.best == "t0"
    # Simultaneously, none of them is distinguishable from the best: all ten could be the best.
    assert sorted(result.possibly_best()) == sorted(trials)
    for c in result.candidates:
        assert c.low < 0 < c.high, c


def test_a_trial_far_behind_is_worse_than_the_best_even_simultaneously():
    trials = ten_trials(gap=0.14)
    trials["t9"] = trials["t9"] - 1.0  # 1.14 behind
    result = compare_with_best(trials, "max")
    far = next(c for c in result.candidates if c.name == "t9")
    assert not far.possibly_best and far.high == 0.0 and far.low < -1.0
    assert result.candidates[-1].name == "t9" and len(result.possibly_best()) == 9


def test_a_figure_where_lower_is_better_keeps_its_units_and_sign():
    higher = ten_trials(gap=0.14)
    higher["t9"] = higher["t9"] - 1.0
    lower = {name: -values for name, values in higher.items()}  # e.g. an NLL: the same trials, negated
    up, down = compare_with_best(higher, "max"), compare_with_best(lower, "min")
    assert down.best == up.best == "t0" and down.possibly_best() == up.possibly_best()
    for a, b in zip(up.candidates, down.candidates, strict=True):
        assert a.name == b.name and (b.low, b.high) == pytest.approx((-a.high, -a.low))
    far = next(c for c in down.candidates if c.name == "t9")
    assert far.low == 0.0 and far.high > 1.0  # lower is better: worse is a positive gap


def test_the_gap_bounds_match_a_hand_computation_for_two_trials():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 50), rng.normal(0.3, 1, 50)
    result = compare_with_best({"a": a, "b": b}, "max")
    diff = b - a
    half = scipy_stats.t.ppf(0.95, 49) * diff.std(ddof=1) / np.sqrt(50)  # one comparison: one-sided 95%
    bb = next(c for c in result.candidates if c.name == "b")
    assert bb.high == pytest.approx(max(0.0, diff.mean() + half)) and bb.low == pytest.approx(min(0.0, diff.mean() - half))


def test_only_trials_on_the_common_images_with_the_figure_are_compared():
    arrays = {"a": {"val_elbo": np.zeros(4)}, "b": {"test_nll": np.zeros(4)}, "c": None, "d": {"val_elbo": np.ones(4)}}
    selection = comparable(arrays, {"a": "x", "b": "x", "c": "x", "d": "y"}, "val_elbo")
    assert list(selection.values) == ["a"]
    assert selection.excluded == {"b": "logs no per-image val_elbo", "c": "logs no per-image val_elbo",
                                  "d": "scored on other evaluation images"}
def test_mean_interval_is_the_t_interval_worked_by_hand():
    # 1..5: mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445 -> 2.776445 * sqrt(2.5 / 5) = 1.963243.
    assert mean_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx((3.0, 1.963243), abs=1e-6)
    # Two seeds: t(0.975, 1) = 12.706205 times sd / sqrt 2 = 1: far wider than 1.96.
    assert mean_interval([2.0, 4.0]) == pytest.approx((3.0, 12.706205), abs=1e-6)
    # Three seeds 0.30, 0.33, 0.36: sd 0.03, t(0.975, 2) = 4.302653 -> 4.302653 * 0.03 / sqrt 3 = 0.074524.
    assert mean_interval([0.30, 0.33, 0.36]) == pytest.approx((0.33, 0.074524), abs=1e-6)
    assert mean_interval([0.5]) == (0.5, None)
