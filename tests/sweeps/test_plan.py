"""A sweep's plan is a pure value: built from its configuration and space file alone."""

import dataclasses

import pytest

from sweeps.config import SweepConfig
from sweeps.plan import DEFAULT_REPLICATE_TOP, make_plan
from sweeps.space import default_path
from vae.errors import ConfigError


def test_a_plan_resolves_the_budget_tuner_and_replicates_without_a_store_or_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = make_plan(SweepConfig(dataset="mnist", budget="smoke", seed=3))
    assert (plan.tuner, plan.max_trials, plan.budget.epochs, plan.subset) == ("hyperband", 2, 1, 256)
    assert plan.metric_settings.eval_images == 64 and plan.image_every == 1
    assert (plan.replicates, plan.replicate_top) == (1, DEFAULT_REPLICATE_TOP)
    assert plan.parent_params()["objective"] == "val_elbo"
    assert plan.default_name(0).startswith("mnist-hyperband-smoke-19")
    assert not (tmp_path / "mlruns").exists()  # nothing written
    options = make_plan(SweepConfig(dataset="mnist", budget="full", tuner="random", max_trials=5, subset=100,
                                    replicates=2, replicate_top=1, image_every=3))
    assert (options.tuner, options.max_trials, options.subset, options.replicates, options.replicate_top,
            options.image_every) == ("random", 5, 100, 2, 1, 3)


def test_the_identity_changes_with_everything_a_resumed_sweep_or_worker_must_share():
    base = make_plan(SweepConfig(dataset="mnist", budget="smoke"))
    same = make_plan(SweepConfig(dataset="mnist", budget="smoke", name="other", resume=True, workers=2))
    assert base.identity(("val", "eval")) == same.identity(("val", "eval"))  # role options are not identity
    changed = [make_plan(SweepConfig(dataset="mnist", budget="smoke", **change)) for change in
               ({"seed": 1}, {"subset": 128}, {"max_trials": 3}, {"tuner": "random"},
                {"space_file": str(default_path("conditional"))}, {"inception_weights": "weights.h5"})]
    identities = {p.identity(("val", "eval")) for p in changed} | {base.identity(("val", "eval"))}
    assert len(identities) == len(changed) + 1
    # the data: other validation or evaluation images (a rendered and the official dSprites) differ
    assert base.identity(("val", "eval")) != base.identity(("val", "other eval"))
    assert dataclasses.is_dataclass(base) and base.__dataclass_params__.frozen


def test_a_missing_budget_is_refused_in_one_line(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(default_path("mnist").read_text().split("budgets:")[0] + "budgets:\n  smoke: {max_trials: 1, epochs: 1}\n")
    with pytest.raises(ConfigError, match="no 'quick' budget; add budgets.quick"):
        make_plan(SweepConfig(dataset="mnist", budget="quick", space_file=str(space)))
