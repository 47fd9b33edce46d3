"""One hyperparameter of a search space: a list of choices or a numeric range, checked.

``fail(key, problem)`` is the space parser's error reporter (one line naming file and key).
"""

import math
from dataclasses import dataclass

from vae.likelihoods import LIKELIHOODS

# name -> (lowest allowed value, whether the value must be an integer)
LIMITS = {"latent_dim": (1, True), "batch_size": (1, True), "depth": (1, True), "learning_rate": (0.0, False),
          "beta": (0.0, False)}


@dataclass
class Param:
    """One hyperparameter: a list of choices or a numeric range."""

    name: str
    choices: list | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"

    def values_span(self):
        return (min(self.choices), max(self.choices)) if self.choices else (self.min, self.max)

    def to_dict(self):
        if self.choices is not None:
            return list(self.choices)
        spec = {"min": self.min, "max": self.max}
        if self.step is not None:
            spec["step"] = self.step
        if self.sampling != "linear":
            spec["sampling"] = self.sampling
        return spec


def parse_likelihoods(spec, fail) -> Param:
    """The swept likelihoods: known names that all model one kind of images. A Bernoulli scores
    binarized images and the others 8-bit ones: their ELBOs bound different quantities, so no
    objective could rank them against each other."""
    key = "hyperparameters.likelihood"
    names = spec if isinstance(spec, list) else [spec]
    if not names or not all(isinstance(n, str) for n in names):
        fail(key, f"must be a list of likelihood names ({', '.join(LIKELIHOODS)}), got {spec!r}")
    for name in names:
        if name not in LIKELIHOODS:
            fail(key, f"names '{name}', which is not a likelihood; choose from {', '.join(LIKELIHOODS)}")
    kinds = {LIKELIHOODS[name].data for name in names}
    if len(kinds) > 1:
        fail(key, f"mixes likelihoods of binarized and 8-bit images ({', '.join(names)}): their ELBOs and test "
                  "NLLs bound -log p of different data and cannot be ranked together; sweep one kind")
    return Param("likelihood", choices=list(dict.fromkeys(names)))


def parse_param(key: str, name: str, spec, fail) -> Param:
    low, integer = LIMITS.get(name, (None, False))

    def check(value):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            fail(key, f"has the value {value!r}; use numbers")
        if integer and int(value) != value:
            fail(key, f"must be whole numbers, got {value}")
        if low is not None and (value < low or (low == 0.0 and name == "learning_rate" and value <= 0)):
            fail(key, f"has the impossible value {value}; it must be {'>' if name == 'learning_rate' else '>='} {low}")

    if isinstance(spec, list):
        if not spec:
            fail(key, "is an empty list; give at least one value")
        for value in spec:
            check(value)
        if integer:
            choices = [int(v) for v in spec]
        elif any(isinstance(v, float) for v in spec):
            choices = [float(v) for v in spec]  # keras-tuner wants one type per Choice
        else:
            choices = list(spec)
        return Param(name, choices=choices)
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        check(spec)
        return Param(name, choices=[spec])
    if isinstance(spec, dict):
        if set(spec) - {"min", "max", "step", "sampling"} or not {"min", "max"} <= set(spec):
            fail(key, "a range needs min and max (and optionally step, sampling)")
        for bound in ("min", "max"):
            check(spec[bound])
        if spec["min"] > spec["max"]:
            fail(key, f"is an impossible range: min {spec['min']} > max {spec['max']}; swap them")
        sampling = spec.get("sampling", "linear")
        if sampling not in ("linear", "log"):
            fail(key, f"sampling '{sampling}' is unknown; use linear or log")
        if sampling == "log" and spec["min"] <= 0:
            fail(key, "a log range needs min > 0")
        step = spec.get("step")
        if step is not None and (not isinstance(step, int | float) or step <= 0):
            fail(key, f"step must be positive, got {step}")
        return Param(name, min=spec["min"], max=spec["max"], step=step, sampling=sampling)
    fail(key, f"must be a list of values or a {{min, max}} range, got {spec!r}")

