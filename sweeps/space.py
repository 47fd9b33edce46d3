"""Search spaces: one YAML file per dataset, checked before any training starts.

A file names the model families (each with its own extra hyperparameters), the shared
hyperparameters, the objective, the tuner and the budgets::

    dataset: mnist
    tuner: hyperband
    objective: {name: val_loss, direction: min}
    models:
      conv: {}
      beta: {beta: [0.1, 1, 4, 10]}
    hyperparameters:
      latent_dim: {min: 2, max: 20, step: 2}
      learning_rate: [1.0e-4, 1.0e-3, 1.0e-2]
      batch_size: [32, 64, 128]
      depth: [2, 3, 4]
    budgets:
      smoke: {max_trials: 2, epochs: 1, subset: 256}

A hyperparameter is a list of choices or a ``{min, max, step}`` range (``sampling: log``
for a log-uniform float range). ``likelihood`` is a list of names of
``vae.likelihoods.LIKELIHOODS`` that model the same images (all 8-bit, e.g. ``[gaussian,
gaussian_pixel, logistic]``), so that the ELBO and test NLL of every trial bound -log p of the
same data and the objective compares them; the sweep loads the data for the first one.

``early_stopping`` (random, Bayesian and grid search; Hyperband has its own rounds) stops a
trial whose best objective so far is worse than the median of the earlier trials' at the same
epoch: ``false`` turns it off, ``{warmup_epochs: 1, min_trials: 2}`` are the defaults
(``sweeps.early_stopping``). ``--set KEY=VALUE`` changes any key before the check
(``sweeps.overrides``).

``objectives:`` (a list of ``{name, direction}``, each checked as ``objective:`` is) ranks the
finished trials on several figures at once (Pareto ranks, ``sweeps.tradeoffs``); the first
guides Keras Tuner and is the space's ``objective``. ``selection: udr`` chooses the best among
the replicated configurations by their UDR instead of their fresh-seed mean.
"""

import inspect
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sweeps.choices import BUDGETS, TUNERS
from sweeps.early_stopping import EarlyStopping, parse_early_stopping
from sweeps.objective import is_trial_metric, parse_objectives
from sweeps.overrides import apply_overrides
from sweeps.params import Param, parse_likelihoods, parse_param
from vae.data import DATASETS
from vae.errors import ConfigError
from vae.models import MODELS

SPACE_DIR = Path(__file__).parent
SHARED = ("latent_dim", "learning_rate", "batch_size", "depth", "likelihood")
TOP_KEYS = {"dataset", "description", "tuner", "objective", "objectives", "selection", "models", "hyperparameters",
            "budgets", "failure", "early_stopping"}
SELECTIONS = ("mean", "udr")  # how the best replicated configuration is chosen
BUDGET_KEYS = {"max_trials", "epochs", "subset", "hyperband_factor", "replicates"}

FAILURE_KEYS = {"collapse_kl", "collapse_after"}


@dataclass
class Budget:
    max_trials: int
    epochs: int
    subset: int | None = None
    hyperband_factor: int = 3
    replicates: int = 1  # seeds per configuration for the top configurations after the search


@dataclass
class SearchSpace:
    """A checked search space; ``source`` names the file it came from."""

    dataset: str
    source: str
    tuner: str
    objective: str
    direction: str
    models: dict[str, dict[str, Param]]
    shared: dict[str, Param]
    budgets: dict[str, Budget]
    collapse_kl: float = 0.01
    collapse_after: int = 2
    accept_weighted: bool = False
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    raw: dict = field(default_factory=dict)
    # Every objective as (name, direction), the first the one above; one unless ``objectives:``.
    objectives: tuple[tuple[str, str], ...] = ()
    selection: str = "mean"

    def all_objectives(self) -> tuple[tuple[str, str], ...]:
        return self.objectives or ((self.objective, self.direction),)

    def trial_metric_objectives(self) -> list[str]:
        """The objectives computed once a trial is trained (``val_mig``), in order."""
        return [name for name, _ in self.all_objectives() if is_trial_metric(name, self.models)]

    @property
    def objective_is_trial_metric(self) -> bool:
        """Whether the objective is computed once a trial ends (a registry metric such as
        ``mig``) rather than logged by Keras every epoch (``val_elbo``)."""
        return is_trial_metric(self.objective, self.models)

    @property
    def likelihood(self) -> str | None:
        """The likelihood the sweep loads its data for (the first swept one), else None: the
        dataset's default."""
        param = self.shared.get("likelihood")
        return param.choices[0] if param is not None else None

    def family_params(self) -> dict[str, list[str]]:
        """Each family-specific hyperparameter name -> the families that use it."""
        owners: dict[str, list[str]] = {}
        for family, params in self.models.items():
            for name in params:
                owners.setdefault(name, []).append(family)
        return owners

    def to_yaml(self) -> str:
        """The fully resolved search space (what a sweep records as an artifact)."""
        resolved = {
            "dataset": self.dataset,
            "tuner": self.tuner,
            "objective": {"name": self.objective, "direction": self.direction,
                          **({"accept_weighted": True} if self.accept_weighted else {})},
            "models": {f: {n: p.to_dict() for n, p in ps.items()} for f, ps in self.models.items()},
            "hyperparameters": {n: p.to_dict() for n, p in self.shared.items()},
            "budgets": {b: vars(v) for b, v in self.budgets.items()},
            "failure": {"collapse_kl": self.collapse_kl, "collapse_after": self.collapse_after},
        }
        if self.early_stopping != EarlyStopping():  # the default is left out: older sweeps keep their digest
            resolved["early_stopping"] = vars(self.early_stopping) if self.early_stopping.enabled else False
        if len(self.all_objectives()) > 1:
            resolved["objectives"] = [{"name": n, "direction": d} for n, d in self.all_objectives()]
        if self.selection != "mean":
            resolved["selection"] = self.selection
        return yaml.safe_dump(resolved, sort_keys=False)


def default_path(dataset: str) -> Path:
    return SPACE_DIR / f"{dataset}.yaml"


def load_space(dataset: str, path: str | Path | None = None, overrides=()) -> SearchSpace:
    """Read and check a search space file (default ``sweeps/<dataset>.yaml``), with the
    ``(key, value)`` pairs of ``--set`` applied first.

    Raises:
        ConfigError: naming the file, the key and the fix.
    """
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset '{dataset}'; choose one of {', '.join(DATASETS)}")
    path = Path(path) if path else default_path(dataset)
    if not path.is_file():
        raise ConfigError(f"{path}: search space file not found; pass --config with an existing YAML file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where} ({getattr(exc, 'problem', exc)}); fix the syntax") from None
    return parse_space(apply_overrides(raw, overrides, str(path)), dataset, str(path))


def parse_space(raw, dataset: str, source: str) -> SearchSpace:
    """Check a parsed YAML mapping and build the SearchSpace (see the module docstring)."""
    def fail(key, problem):
        raise ConfigError(f"{source}: '{key}' {problem}")

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of keys (dataset, models, hyperparameters, ...)")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        fail(sorted(unknown)[0], f"is not a known key; use only {', '.join(sorted(TOP_KEYS))}")
    if raw.get("dataset", dataset) != dataset:
        fail("dataset", f"is '{raw['dataset']}' but the sweep is for '{dataset}'; use the file for {dataset}")
    tuner = raw.get("tuner", "hyperband")
    if tuner not in TUNERS:
        fail("tuner", f"is '{tuner}'; choose one of {', '.join(TUNERS)}")

    models_raw = raw.get("models")
    if not isinstance(models_raw, dict) or not models_raw:
        fail("models", "must map at least one model family to its hyperparameters, e.g. 'conv: {}'")
    models = {}
    for family, params in models_raw.items():
        if family not in MODELS:
            fail(f"models.{family}", f"is not a model family; choose from {', '.join(MODELS)}")
        params = params or {}
        if not isinstance(params, dict):
            fail(f"models.{family}", "must be a mapping of hyperparameters (or {})")
        accepted = set(inspect.signature(MODELS[family].__init__).parameters) - {
            "self", "image_shape", "likelihood", "latent_dim", "depth", "seed", "kwargs", *getattr(MODELS[family], "needs", ())}
        for name in params:
            if name not in accepted:
                fail(f"models.{family}.{name}", f"is not a hyperparameter of '{family}'; it takes {', '.join(sorted(accepted)) or 'none'}")
        models[family] = {name: parse_param(f"models.{family}.{name}", name, spec, fail) for name, spec in params.items()}

    shared_raw = raw.get("hyperparameters") or {}
    if not isinstance(shared_raw, dict):
        fail("hyperparameters", "must be a mapping")
    for name in shared_raw:
        if name not in SHARED:
            hint = " (it belongs under the families that use it, in 'models')" if name == "beta" else ""
            fail(f"hyperparameters.{name}", f"is not a shared hyperparameter{hint}; use {', '.join(SHARED)}")
    shared = {name: parse_likelihoods(spec, fail) if name == "likelihood" else
              parse_param(f"hyperparameters.{name}", name, spec, fail) for name, spec in shared_raw.items()}
    if "depth" in shared:
        lo, hi = shared["depth"].values_span()
        for family in models:
            flo, fhi = MODELS[family].depth_range
            if lo < flo or hi > fhi:
                fail("hyperparameters.depth", f"spans {lo}..{hi} but '{family}' takes depth {flo}..{fhi}; narrow the range")

    owners: dict[str, Param] = {}
    for family, params in models.items():
        for name, param in params.items():
            if name in owners and owners[name].to_dict() != param.to_dict():
                fail(f"models.{family}.{name}", "must list the same values in every family that uses it")
            owners[name] = param

    objective, direction, accept_weighted, objectives = parse_objectives(raw, models, fail)
    selection = raw.get("selection", "mean")
    if selection not in SELECTIONS:
        fail("selection", f"is '{selection}'; use {' or '.join(SELECTIONS)}")
    budgets = {}
    for name, spec in (raw.get("budgets") or {}).items():
        if name not in BUDGETS:
            fail(f"budgets.{name}", f"is not a budget; use {', '.join(BUDGETS)}")
        if not isinstance(spec, dict) or set(spec) - BUDGET_KEYS or not {"max_trials", "epochs"} <= set(spec):
            fail(f"budgets.{name}", f"must give max_trials and epochs (and optionally subset, hyperband_factor), got {spec}")
        for key in ("max_trials", "epochs", "subset", "replicates"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                fail(f"budgets.{name}.{key}", f"must be a positive integer, got {value}")
        budgets[name] = Budget(**spec)

    failure = raw.get("failure") or {}
    if not isinstance(failure, dict) or set(failure) - FAILURE_KEYS:
        fail("failure", f"takes only {', '.join(sorted(FAILURE_KEYS))}")
    early_stopping = parse_early_stopping(raw.get("early_stopping", True), fail)
    return SearchSpace(
        dataset=dataset, source=source, tuner=tuner, objective=objective, direction=direction, accept_weighted=accept_weighted,
        models=models, shared=shared, budgets=budgets,
        collapse_kl=float(failure.get("collapse_kl", 0.01)), collapse_after=int(failure.get("collapse_after", 2)),
        early_stopping=early_stopping, raw=raw, objectives=objectives, selection=selection,
    )
