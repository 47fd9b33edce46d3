"""Which hyperparameters mattered: functional ANOVA importances with bootstrap intervals.

The estimator is Optuna's :class:`optuna.importance.FanovaImportanceEvaluator` (Hutter, Hoos
and Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance", ICML
2014): a random forest predicts the objective from the hyperparameters, and a parameter's
importance is the fraction of the forest's variance its main effect explains. It is read
through :func:`optuna.importance.get_param_importances`, which normalizes the importances of
the assessed parameters to sum to 1. The trials are copied into an in-memory Optuna study
(``optuna.create_study`` + ``study.add_trial(optuna.trial.create_trial(...))``); nothing
is optimized and nothing is stored.

The search space is ``{name: spec}`` with one of these specs per hyperparameter:

- ``("float", low, high, log)``: a float range, ``log`` True for log-uniform sampling
  (``("float", low, high)`` means ``log=False``);
- ``("int", low, high)``: an integer range (an optional fourth item ``log``);
- ``("choice", [values])``: a categorical choice (model families, batch sizes, ...).

**Conditional hyperparameters.** Optuna's fANOVA assesses only the parameters present in
every trial it is given (its documentation: evaluators other than PED-ANOVA "assess only
parameters that are present in all of the completed trials and therefore exclude
conditional parameters"). This module does the same and says so: a parameter absent from
some trials (β outside the ``beta`` family) is listed in ``left_out`` with the count of
trials that have it. To assess it, call :func:`importance` on the trials of the families that
have it (their trials all carry it).

**Uncertainty.** Each importance is also computed on ``resamples`` bootstrap resamples of the
trials (drawn with a fixed seed, and the forest seeded per resample); the result gives their
mean, standard deviation and central percentile interval.

**Too few trials.** A forest on a handful of trials explains noise. Fewer than
``max(8, assessed parameters + 2)`` trials with a finite objective value give a one-line
``reason`` and no numbers.

Importances do not depend on the objective's direction: the variance of ``-y`` is that of
``y``, so no direction is asked for.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from vae.errors import ConfigError

MIN_TRIALS = 8


@dataclass(frozen=True)
class ParamImportance:
    """One hyperparameter's importance: the estimate on all trials and its bootstrap spread."""

    name: str
    importance: float
    mean: float
    std: float
    low: float
    high: float


@dataclass(frozen=True)
class ImportanceResult:
    """The outcome of :func:`importance`.

    Attributes:
        params: the assessed parameters, most important first; empty when ``reason`` is set.
        reason: one line saying why no importances were estimated, else None.
        left_out: ``parameter -> why it was not assessed`` (conditional or constant).
        trials_left_out: ``trial_id -> why the trial was not used``.
        num_trials: the trials the estimate used.
        resamples: the bootstrap resamples behind ``mean``/``std``/``low``/``high``.
        confidence: the coverage of the ``[low, high]`` percentile interval.
    """

    params: list[ParamImportance]
    reason: str | None
    left_out: dict[str, str] = field(default_factory=dict)
    trials_left_out: dict[str, str] = field(default_factory=dict)
    num_trials: int = 0
    resamples: int = 0
    confidence: float = 0.95


def importance(
    params: Mapping[str, Mapping[str, object]],
    values: Mapping[str, float],
    space: Mapping[str, tuple],
    *,
    resamples: int = 50,
    confidence: float = 0.95,
    seed: int = 0,
    n_trees: int = 64,
) -> ImportanceResult:
    """The fANOVA importance of each hyperparameter for one objective.

    Args:
        params: ``{trial_id: {hyperparameter: value}}`` of the finished trials.
        values: ``{trial_id: objective value}``; trials missing here, or with a non-finite
            value, are left out (``trials_left_out`` says which and why).
        space: ``{hyperparameter: spec}`` (see the module docstring); trial parameters not
            in it (Keras Tuner's own ``tuner/...`` entries) are ignored.
        resamples: bootstrap resamples of the trials for the interval (0: none).
        confidence: coverage of the percentile interval.
        seed: seeds the resampling and the forests, so a result is reproducible.
        n_trees: trees of the fANOVA forest.

    Returns:
        Importances sorted from most to least important, or a ``reason`` when there are too
        few trials or no parameter that varies.

    Raises:
        ConfigError: a malformed space spec, or a trial value outside its declared range.
    """
    distributions = {name: _distribution(name, spec) for name, spec in space.items()}
    trials, trials_left_out = {}, {}
    for trial, figure in params.items():
        value = values.get(trial)
        if value is None or not math.isfinite(float(value)):
            trials_left_out[str(trial)] = f"objective value is {value}"
            continue
        trials[str(trial)] = ({k: v for k, v in figure.items() if k in distributions}, float(value))
    assessed, left_out = _assessed_params(trials, distributions)
    result = {"left_out": left_out, "trials_left_out": trials_left_out, "num_trials": len(trials),
              "confidence": confidence}
    needed = max(MIN_TRIALS, len(assessed) + 2)
    if not assessed:
        return ImportanceResult([], "no hyperparameter varies across every trial, so none can be assessed",
                                **result)
    if len(trials) < needed:
        return ImportanceResult(
            [], f"{len(trials)} trials with a finite objective; importance needs at least {needed} "
            f"(max({MIN_TRIALS}, {len(assessed)} parameters + 2))", **result)
    rows = [(trial_params, value) for trial_params, value in trials.values()]
    point = _fanova(rows, assessed, distributions, seed, n_trees)
    rng = np.random.default_rng(seed)
    boot = np.zeros((resamples, len(assessed)))
    for b in range(resamples):
        sample = [rows[i] for i in rng.integers(0, len(rows), len(rows))]
        estimate = _fanova(sample, assessed, distributions, seed + 1 + b, n_trees)
        boot[b] = [estimate[name] for name in assessed]
    tail = 100 * (1 - confidence) / 2
    out = []
    for j, name in enumerate(assessed):
        column = boot[:, j] if resamples else np.array([point[name]])
        out.append(ParamImportance(
            name=name, importance=point[name], mean=float(column.mean()),
            std=float(column.std(ddof=1)) if len(column) > 1 else 0.0,
            low=float(np.percentile(column, tail)), high=float(np.percentile(column, 100 - tail))))
    out.sort(key=lambda p: (-p.importance, p.name))
    return ImportanceResult(out, None, resamples=resamples, **result)


def _distribution(name: str, spec):
    from optuna import distributions as d

    kind = spec[0] if isinstance(spec, list | tuple) and spec else None
    try:
        if kind == "float" and len(spec) in (3, 4):
            return d.FloatDistribution(float(spec[1]), float(spec[2]), log=bool(spec[3]) if len(spec) == 4 else False)
        if kind == "int" and len(spec) in (3, 4):
            return d.IntDistribution(int(spec[1]), int(spec[2]), log=bool(spec[3]) if len(spec) == 4 else False)
        if kind == "choice" and len(spec) == 2 and len(spec[1]) >= 1:
            return d.CategoricalDistribution(list(spec[1]))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"hyperparameter '{name}': bad spec {spec!r} ({error})") from error
    raise ConfigError(
        f"hyperparameter '{name}': spec {spec!r} is not ('float', low, high, log), "
        "('int', low, high) or ('choice', [values])"
    )


def _assessed_params(trials, distributions) -> tuple[list[str], dict[str, str]]:
    """The parameters fANOVA can assess on these trials, and why the others are not."""
    assessed, left_out = [], {}
    for name, dist in distributions.items():
        present = [trial_params[name] for trial_params, _ in trials.values() if name in trial_params]
        if len(present) < len(trials):
            left_out[name] = (f"conditional: present in {len(present)} of {len(trials)} trials; "
                              "assess it on the trials that have it")
        elif dist.single() or len({repr(v) for v in present}) < 2:
            left_out[name] = "constant in these trials"
        else:
            assessed.append(name)
    return sorted(assessed), left_out


def _fanova(rows, assessed, distributions, seed: int, n_trees: int) -> dict[str, float]:
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created" per resample
    try:
        study = optuna.create_study(direction="minimize")
        for trial_params, value in rows:
            picked = {name: trial_params[name] for name in assessed}
            try:
                study.add_trial(optuna.trial.create_trial(
                    params=picked, distributions={name: distributions[name] for name in assessed}, value=value))
            except ValueError as error:
                raise ConfigError(f"a trial's hyperparameters {picked} do not fit the space ({error}); "
                                  "pass the space the sweep ran with") from error
        evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=n_trees, seed=seed)
        result = optuna.importance.get_param_importances(study, evaluator=evaluator, params=assessed)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return {name: float(result.get(name, 0.0)) for name in assessed}
