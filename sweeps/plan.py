"""What a sweep will do, as a frozen value: built from a ``SweepConfig`` and its search-space
file alone (no MLflow store, no data), so it is checked and unit-tested before anything runs.

A plan resolves the space, the budget, the tuner, the number of trials, the subset, the metric
settings, the image snapshots and the replicates. Its ``identity`` is what a resumed sweep or a
worker must match: the resolved space, the tuner, the budget, the trial count, the seed, the
subset, the metric settings and the digests of the validation and evaluation images (the data
source: rendered and official dSprites differ there).
"""

import dataclasses
import hashlib
import time
from dataclasses import dataclass

from sweeps.callbacks import default_image_every
from sweeps.config import SweepConfig
from sweeps.evaluation import SETTINGS
from sweeps.space import Budget, SearchSpace, load_space
from vae.errors import ConfigError
from vae.metrics.inputs import MetricSettings

DEFAULT_REPLICATE_TOP = 3


@dataclass(frozen=True)
class SweepPlan:
    config: SweepConfig
    space: SearchSpace
    budget: Budget
    tuner: str
    max_trials: int
    subset: int | None
    metric_settings: MetricSettings
    image_every: int
    replicates: int
    replicate_top: int

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def budget_name(self) -> str:
        return self.config.budget

    @property
    def dataset(self) -> str:
        return self.space.dataset

    def default_name(self, now: float | None = None) -> str:
        """``<dataset>-<tuner>-<budget>-<YYYYmmdd-HHMMSS>`` (local time ``now``)."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        return f"{self.dataset}-{self.tuner}-{self.budget_name}-{stamp}"

    def identity(self, data_digests: tuple[str, ...] = ()) -> str:
        """The digest that a resumed sweep or a joining worker must match (see the module)."""
        settings = dataclasses.asdict(self.metric_settings)
        key = "|".join(map(str, (self.space.to_yaml(), self.tuner, self.budget_name, self.max_trials, self.seed,
                                 self.subset, sorted(settings.items()), *data_digests)))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def parent_params(self) -> dict:
        """What the sweep's parent run records of its plan."""
        return {"dataset": self.dataset, "tuner": self.tuner, "budget": self.budget_name,
                "objective": self.space.objective, "objective_direction": self.space.direction,
                "max_trials": self.max_trials, "epochs": self.budget.epochs, "subset": self.subset,
                "seed": self.seed, "search_space_file": self.space.source, "models": ",".join(self.space.models),
                "replicates": self.replicates, "replicate_top": self.replicate_top, "selection": self.space.selection,
                **({"objectives": ",".join(f"{n}:{d}" for n, d in self.space.objectives)}
                   if len(self.space.objectives) > 1 else {})}


def make_plan(config: SweepConfig) -> SweepPlan:
    """Resolve ``config`` against its search space.

    Raises:
        ConfigError: the space file is wrong or lacks the budget.
    """
    space = load_space(config.dataset, config.space_file, config.overrides)
    if config.budget not in space.budgets:
        raise ConfigError(f"{space.source}: no '{config.budget}' budget; add budgets.{config.budget} or pick "
                          f"one of {', '.join(space.budgets) or 'none'}")
    budget = space.budgets[config.budget]
    return SweepPlan(
        config=config, space=space, budget=budget, tuner=config.tuner or space.tuner,
        max_trials=config.max_trials or budget.max_trials,
        subset=budget.subset if config.subset is None else config.subset,
        metric_settings=dataclasses.replace(SETTINGS[config.budget], inception_weights=config.inception_weights),
        image_every=config.image_every or default_image_every(budget.epochs),
        replicates=config.replicates or budget.replicates,
        replicate_top=config.replicate_top or DEFAULT_REPLICATE_TOP)
