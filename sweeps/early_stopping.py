"""Early stopping across trials for random, Bayesian and grid search: the median-stopping rule.

A trial is stopped at the end of epoch ``e`` (1-based, after ``warmup_epochs``) when its best
objective value so far is worse, in the objective's direction, than the median of the best
values that the earlier trials of the sweep had reached by epoch ``e``, once at least
``min_trials`` of them got that far (Golovin et al., "Google Vizier", 2017; Optuna's
``MedianPruner``). The trial then ends as *stopped at epoch e*, not failed: Keras Tuner counts
it with the values it reached, and the record keeps it apart (``sweeps.record.STOPPED``).

The rule is a pure function (:func:`should_stop`), imported before anything heavy;
``sweeps.callbacks.MedianStopping`` is its Keras callback, fed the earlier trials' curves (the
objective per epoch) by the tuner.
"""

import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class EarlyStopping:
    """The rule's settings (``early_stopping:`` in a search space)."""

    enabled: bool = True
    warmup_epochs: int = 1
    min_trials: int = 2


def parse_early_stopping(spec, fail) -> EarlyStopping:
    """``true``/``false`` or a mapping of :class:`EarlyStopping`'s settings; ``fail(key, problem)``
    raises the search space's error."""
    if isinstance(spec, bool):
        return EarlyStopping(enabled=spec)
    keys = {"warmup_epochs", "min_trials"}
    if not isinstance(spec, dict) or set(spec) - keys:
        fail("early_stopping", f"must be true, false or a mapping of {', '.join(sorted(keys))}, got {spec!r}")
    for key, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "warmup_epochs" else 1):
            kind = "non-negative" if key == "warmup_epochs" else "positive"
            fail(f"early_stopping.{key}", f"must be a {kind} integer, got {value!r}")
    return EarlyStopping(True, **spec)


def best_so_far(curve, epoch: int, sign: float) -> float | None:
    """The best finite value of ``curve`` over its first ``epoch`` epochs, times ``sign``
    (+1 to maximise); None when it has none."""
    values = [sign * v for v in curve[:epoch] if v is not None and math.isfinite(v)]
    return max(values) if values else None


def should_stop(curve, peers, epoch: int, direction: str, settings: EarlyStopping) -> bool:
    """Whether a trial whose objective per epoch is ``curve`` stops at the end of ``epoch``.

    Args:
        curve: this trial's objective values, epoch 1 first.
        peers: the earlier trials' curves.
        epoch: epochs trained (1-based).
        direction: ``min`` or ``max``.
        settings: the warm-up and the number of earlier trials needed.
    """
    if not settings.enabled or epoch <= settings.warmup_epochs:
        return False
    sign = 1.0 if direction == "max" else -1.0
    mine = best_so_far(curve, epoch, sign)
    others = [b for p in peers if len(p) >= epoch and (b := best_so_far(p, epoch, sign)) is not None]
    if len(others) < settings.min_trials:
        return False
    return mine is None or mine < statistics.median(others)
