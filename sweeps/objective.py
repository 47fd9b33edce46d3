"""What a sweep ranks by: the objective of a search space, checked against its families
(which declare their logs, their directions and the weights of their own objective).

``fail(key, problem)`` is the space parser's error reporter (one line naming file and key).
"""

from vae.metrics import registry
from vae.models import MODELS

OBJECTIVE_KEYS = {"name", "direction", "accept_weighted"}
# Figures that bound a likelihood: a conditional family's bounds log p(x | y), another quantity.
BOUNDS = ("elbo", "nll")


def swept_weights(models: dict) -> list[str]:
    """``models.<family>.<weight>`` of each swept hyperparameter that weights a family's own
    objective or sets its capacity (the family's ``objective_weights``)."""
    return [f"models.{f}.{w}" for f, params in models.items() for w, p in params.items()
            if w in MODELS[f].objective_weights and len(set(p.choices or [p.min, p.max])) > 1]


def check_comparable(name: str, models: dict, accept_weighted: bool, fail) -> None:
    """Refuse an objective whose values mean different things for different trials.

    - a test-set figure: choosing on it selects on the images it is then reported on;
    - a likelihood bound over conditional and unconditional families (log p(x | y) against
      log p(x): the conditional family wins by construction);
    - a family's own weighted ``loss`` across families or a swept weight, and a reconstruction
      across a swept weight or capacity: the best achievable value moves with the weight (β,
      the MMD weight, the codebook size), so the ranking picks the weight, not the model;
      ``accept_weighted: true`` says the space means it.
    """
    if name.startswith("test_"):
        fail("objective", f"'{name}' is a test-set figure: choosing on it selects on the images it is reported on; "
                          f"rank by its validation twin val_{name.removeprefix('test_')}")
    base = name.removeprefix("val_")
    kinds = {MODELS[f].conditional for f in models}
    if any(b in base for b in BOUNDS) and len(kinds) > 1:
        conditional = ", ".join(f for f in models if MODELS[f].conditional)
        fail("objective", f"'{name}' bounds log p(x | y) for {conditional} but log p(x) for the others: not the same "
                          "quantity; sweep the conditional families in a space of their own (sweeps/conditional.yaml)")
    if accept_weighted or base not in ("loss", "reconstruction_loss"):
        return
    swept = swept_weights(models)
    if base == "loss" and (len(models) > 1 or swept):
        why = f"{len(models)} families" if len(models) > 1 else f"the swept {', '.join(swept)}"
        fail("objective", f"'{name}' is each family's own weighted objective and differs in scale across {why}; "
                          "rank by val_elbo (likelihood families), val_reconstruction_loss or a trial metric "
                          "such as val_nll or val_mig, or add accept_weighted: true to the objective")
    if base == "reconstruction_loss" and swept:
        fail("objective", f"'{name}' rewards the least regularised, highest-capacity model across the swept "
                          f"{', '.join(swept)}; fix them to one value each, or add accept_weighted: true")


def epoch_logs(models) -> set[str]:
    """The Keras logs (and their ``val_`` twins) that some family of ``models`` reports every
    epoch: an objective among them is read from the epoch logs, not computed after training."""
    names = {n for family in models for n in MODELS[family].logged_metric_names()}
    return names | {f"val_{n}" for n in names}


def is_trial_metric(name: str, models) -> bool:
    """Whether the objective ``name`` is computed once a trial is trained (``val_mig``) rather
    than logged by Keras every epoch (``val_elbo``, which the registry also computes per image)."""
    return registry.column(name) is not None and name not in epoch_logs(models)


def parse_objective(spec, models: dict, fail) -> tuple[str, str, bool]:
    """The objective's name, direction and ``accept_weighted``, checked against every family.

    A space ranks trials by one figure, so that figure must mean the same for every trial
    (``check_comparable``): a Keras log every family reports (``val_elbo``,
    ``val_reconstruction_loss``) or a trial metric of the registry that applies to every
    family (``val_mig``, ``val_nll``), computed on the validation split. A swept ``likelihood``
    leaves ``val_elbo``, ``val_reconstruction_loss`` and ``val_nll`` comparable: each is a bound
    on -log p of the same discrete images (the space refuses a mix of binarized and 8-bit
    likelihoods, see ``space.parse_likelihoods``).
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec or set(spec) - OBJECTIVE_KEYS:
        fail("objective", "must be a metric name or {name: ..., direction: min|max, accept_weighted: true}")
    name = spec["name"]
    check_comparable(name, models, bool(spec.get("accept_weighted")), fail)
    column = registry.column(name)
    if is_trial_metric(name, models):
        metric = registry.owner(name)
        for family in models:
            reason = metric.unmet_by_family(MODELS[family])
            if reason:
                fail("objective", f"'{name}' cannot rank '{family}': {reason}; rank by a figure every family reports")
        default = column.direction
    else:
        logged = epoch_logs(models)
        if name not in logged:
            choices = sorted(logged | {c.key for c in registry.columns("val")})
            fail("objective", f"names '{name}', which the models do not log; use one of {', '.join(choices)}")
        missing = [f for f in models if name.removeprefix("val_") not in MODELS[f].logged_metric_names()]
        if missing:
            fail("objective", f"'{name}' is not logged by {', '.join(missing)}; use one that every family logs, "
                              "such as val_reconstruction_loss")
        default = "max" if name.removeprefix("val_") in MODELS[next(iter(models))].maximized_logs else "min"
    direction = spec.get("direction", default)
    if direction not in ("min", "max"):
        fail("objective.direction", f"is '{direction}'; use min or max")
    return name, direction, bool(spec.get("accept_weighted", False))


def parse_objectives(raw: dict, models: dict, fail) -> tuple[str, str, bool, tuple]:
    """The first objective (name, direction, accept_weighted) and every objective as (name,
    direction): ``objectives:`` lists several, each checked by the rules of ``objective:``."""
    if "objectives" not in raw:
        name, direction, accept = parse_objective(raw.get("objective", "val_loss"), models, fail)
        return name, direction, accept, ()
    specs = raw["objectives"]
    if "objective" in raw:
        fail("objectives", "and 'objective' are both given; list the guiding objective first in 'objectives'")
    if not isinstance(specs, list) or not specs:
        fail("objectives", "must be a list of {name: ..., direction: min|max}, the first guiding the tuner")
    parsed = [parse_objective(spec, models, fail) for spec in specs]
    names = [p[0] for p in parsed]
    if len(set(names)) < len(names):
        fail("objectives", f"lists an objective twice ({', '.join(names)}); list each once")
    name, direction, accept = parsed[0]
    return name, direction, accept, tuple((n, d) for n, d, _ in parsed)

