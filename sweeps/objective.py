"""What a sweep ranks by: the objective of a search space, checked against its families.

``fail(key, problem)`` is the space parser's error reporter (one line naming file and key).
"""

from vae.metrics import registry

OBJECTIVE_KEYS = {"name", "direction", "accept_weighted"}
# Weights that change the scale of a family's own objective ``loss`` (reconstruction + ...).
WEIGHTS = ("beta", "mmd_weight", "commitment_cost")


def parse_objective(spec, models: dict, fail) -> tuple[str, str, bool]:
    """The objective's name, direction and ``accept_weighted``, checked against every family.

    A space ranks trials by one figure, so that figure must mean the same for every trial:
    a Keras log every family reports (``val_elbo``, ``val_reconstruction_loss``) or a trial
    metric of the registry that applies to every family (``mig``, ``test_nll``). A family's own
    ``loss`` adds a weighted term (β·KL, the MMD or VQ penalty): ranking by it across families,
    or across values of a swept weight, rewards the weight rather than the model (the best
    achievable value rises with β), so it is refused unless ``accept_weighted: true`` says so.
    A swept ``likelihood`` leaves ``val_elbo``, ``val_reconstruction_loss`` and ``test_nll``
    comparable: each is a bound on -log p of the same discrete images (the space refuses a mix
    of binarized and 8-bit likelihoods, see ``space.parse_likelihoods``).
    """
    from vae.models import MODELS

    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec or set(spec) - OBJECTIVE_KEYS:
        fail("objective", "must be a metric name or {name: ..., direction: min|max, accept_weighted: true}")
    name = spec["name"]
    column = registry.column(name)
    if column is not None:
        metric = registry.owner(name)
        for family in models:
            reason = metric.unmet_by_family(MODELS[family])
            if reason:
                fail("objective", f"'{name}' cannot rank '{family}': {reason}; rank by a figure every family reports")
        default = column.direction
    else:
        logged = set()
        for family in models:
            names = set(MODELS[family].logged_metric_names())
            logged |= names | {f"val_{n}" for n in names}
        if name not in logged:
            choices = sorted(logged | {c.key for c in registry.columns()})
            fail("objective", f"names '{name}', which the models do not log; use one of {', '.join(choices)}")
        missing = [f for f in models if name.removeprefix("val_") not in MODELS[f].logged_metric_names()]
        if missing:
            fail("objective", f"'{name}' is not logged by {', '.join(missing)}; use one that every family logs, "
                              "such as val_reconstruction_loss")
        default = "max" if "elbo" in name else "min"
        if name.removeprefix("val_") == "loss" and not spec.get("accept_weighted"):
            swept = [f"models.{f}.{w}" for f, params in models.items() for w, p in params.items()
                     if w in WEIGHTS and len(set(p.choices or [p.min, p.max])) > 1]
            if len(models) > 1 or swept:
                why = f"{len(models)} families" if len(models) > 1 else f"the swept {', '.join(swept)}"
                fail("objective", f"'{name}' is each family's own weighted objective and differs in scale across {why}; "
                                  "rank by val_elbo (likelihood families), val_reconstruction_loss or a trial metric "
                                  "such as test_nll or mig, or add accept_weighted: true to the objective")
    direction = spec.get("direction", default)
    if direction not in ("min", "max"):
        fail("objective.direction", f"is '{direction}'; use min or max")
    return name, direction, bool(spec.get("accept_weighted", False))
