"""fANOVA importances: the one parameter that drives the objective comes first, with an
interval above the others'; conditional parameters and too few trials are said, not guessed."""

import numpy as np
import pytest

from sweeps.selection.importance import importance
from vae.errors import ConfigError

SPACE = {
    "learning_rate": ("float", 1e-4, 1e-2, True),
    "latent_dim": ("int", 2, 32),
    "batch_size": ("choice", [32, 64, 128]),
    "model": ("choice", ["conv", "beta"]),
    "beta": ("float", 1.0, 16.0, False),
}


def _trials(num, seed=0, sign=1.0):
    """Trials whose objective depends on the learning rate only (the rest is drawn at random)."""
    rng = np.random.default_rng(seed)
    params, values = {}, {}
    for i in range(num):
        lr = float(10 ** rng.uniform(-4, -2))
        trial = {"learning_rate": lr, "latent_dim": int(rng.integers(2, 33)),
                 "batch_size": int(rng.choice([32, 64, 128])), "model": str(rng.choice(["conv", "beta"])),
                 "tuner/epochs": 2}
        if trial["model"] == "beta":
            trial["beta"] = float(rng.uniform(1, 16))
        params[f"t{i}"] = trial
        # An ELBO-like figure peaking at lr = 1e-3, plus a little noise.
        values[f"t{i}"] = sign * (-90.0 - 20.0 * (np.log10(lr) + 3.0) ** 2 + rng.normal(0, 0.2))
    return params, values


def test_the_learning_rate_that_drives_the_objective_ranks_first_with_a_separate_interval():
    params, values = _trials(40)
    result = importance(params, values, SPACE, resamples=20, seed=0, n_trees=32)
    assert result.reason is None
    names = [p.name for p in result.params]
    assert names[0] == "learning_rate"
    lr, others = result.params[0], result.params[1:]
    assert lr.importance > 0.7
    assert lr.low > max(p.high for p in others)
    assert lr.low <= lr.mean <= lr.high and lr.std > 0
    assert sum(p.importance for p in result.params) == pytest.approx(1.0)
    assert result.num_trials == 40 and result.resamples == 20


def test_importances_do_not_depend_on_the_direction():
    params, values = _trials(30, seed=1)
    negated = {trial: -value for trial, value in values.items()}
    a = importance(params, values, SPACE, resamples=3, seed=0)
    b = importance(params, negated, SPACE, resamples=3, seed=0)
    assert [(p.name, round(p.importance, 6)) for p in a.params] == [
        (p.name, round(p.importance, 6)) for p in b.params]


def test_a_conditional_parameter_is_left_out_and_said_so():
    params, values = _trials(20, seed=2)
    result = importance(params, values, SPACE, resamples=0)
    assert "beta" not in [p.name for p in result.params]
    assert result.left_out["beta"].startswith("conditional: present in ")
    # On the beta family's trials alone, beta is present everywhere and assessed.
    beta_trials = {t: p for t, p in params.items() if p["model"] == "beta"}
    family = importance(beta_trials, values, SPACE, resamples=0)
    assert "beta" in [p.name for p in family.params]
    assert family.left_out == {"model": "constant in these trials"}


def test_too_few_trials_give_one_line_reason_and_no_numbers():
    params, values = _trials(7)
    result = importance(params, values, SPACE)
    assert result.params == []
    assert result.reason == "7 trials with a finite objective; importance needs at least 8 (max(8, 4 parameters + 2))"
    assert "\n" not in result.reason


def test_trials_without_a_finite_value_are_not_counted():
    params, values = _trials(9, seed=3)
    values["t0"] = float("nan")
    del values["t1"]
    result = importance(params, values, SPACE, resamples=0)
    assert result.trials_left_out == {"t0": "objective value is nan", "t1": "objective value is None"}
    assert result.reason.startswith("7 trials")


def test_a_bad_space_spec_or_a_value_outside_it_is_refused():
    params, values = _trials(10, seed=4)
    with pytest.raises(ConfigError, match="'latent_dim'"):
        importance(params, values, {**SPACE, "latent_dim": ("int", 2)})
    with pytest.raises(ConfigError, match="do not fit the space"):
        importance(params, values, {**SPACE, "learning_rate": ("float", 1e-3, 1e-2, True)}, resamples=0)
