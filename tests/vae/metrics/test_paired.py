"""Paired differences on shared images: intervals, ties and the best run."""

import numpy as np
import pytest

from vae.metrics.paired import compare_to_best, mean_interval, paired_difference


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


def test_mean_interval_is_the_t_interval_worked_by_hand():
    # 1..5: mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445 -> 2.776445 * sqrt(2.5 / 5) = 1.963243.
    assert mean_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx((3.0, 1.963243), abs=1e-6)
    # Two seeds: t(0.975, 1) = 12.706205 times sd / sqrt 2 = 1: far wider than 1.96.
    assert mean_interval([2.0, 4.0]) == pytest.approx((3.0, 12.706205), abs=1e-6)
    # Three seeds 0.30, 0.33, 0.36: sd 0.03, t(0.975, 2) = 4.302653 -> 4.302653 * 0.03 / sqrt 3 = 0.074524.
    assert mean_interval([0.30, 0.33, 0.36]) == pytest.approx((0.33, 0.074524), abs=1e-6)
    assert mean_interval([0.5]) == (0.5, None)
