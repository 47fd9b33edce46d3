"""The Model Registry side of the record: one registered model ``vae-<dataset>``; each finished
sweep registers its best trial's model as a new version (tags ``vaesweep.sweep``,
``objective``, ``objective_direction``, ``objective_value``) and moves the alias ``best`` to it
when its objective value is strictly better than that of the run behind the current ``best``.
"""

from dataclasses import dataclass

from mlflow.exceptions import MlflowException

from sweeps.record import (
    BEST_ALIAS,
    EVAL_DIGEST,
    METRIC_PARAM_PREFIX,
    OBJECTIVE,
    OBJECTIVE_DIRECTION,
    OBJECTIVE_VALUE,
    SWEEP,
    experiment_name,
)


def registered_model_name(dataset: str) -> str:
    return experiment_name(dataset)


def logged_model_id(client, run_id: str) -> str | None:
    """The id of the model a run logged (its last model output), or None."""
    outputs = client.get_run(run_id).outputs
    return outputs.model_outputs[-1].model_id if outputs and outputs.model_outputs else None


def best_version(client, name: str):
    """The version of registered model ``name`` that the alias ``best`` points at, or None."""
    try:
        return client.get_model_version_by_alias(name, BEST_ALIAS)
    except MlflowException:  # no such model, or no alias yet
        return None


@dataclass(frozen=True)
class Registration:
    """What ``register_best`` did: the new version, whether ``best`` moved to it, the objective
    value of the version ``best`` pointed at before (None: none, or not comparable) and, when
    ``best`` stayed because the two were evaluated differently, why."""

    version: str
    promoted: bool
    previous: float | None
    incomparable: str | None = None


def evaluation_settings(run) -> dict:
    """What a run's figures depend on besides the model: its evaluation images and metric settings."""
    return {k: v for k, v in run.data.params.items() if k == EVAL_DIGEST or k.startswith(METRIC_PARAM_PREFIX)}


def register_best(client, dataset: str, run, key: str, direction: str, sweep: str,
                  value: float | None = None) -> Registration | None:
    """Register ``run``'s model as a new version of ``vae-<dataset>``; move ``best`` to it when
    its ``value`` (default: the run's ``key``) is strictly better (``direction``) than the run's
    behind the current ``best``.

    The alias moves only between runs evaluated alike (equal ``eval_digest`` and metric
    settings): a figure on other images or with another IWAE k is another quantity, so such a
    sweep adds a version and leaves ``best`` where it is. A current ``best`` whose run has no
    ``key`` (another objective) cannot be compared and is replaced. Returns None when the run
    logged no model.
    """
    model_id = logged_model_id(client, run.info.run_id)
    if model_id is None:
        return None
    name = registered_model_name(dataset)
    try:
        client.create_registered_model(name, description=f"VAEs trained on {dataset} by vaesweep sweeps")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    value = run.data.metrics[key] if value is None else value
    current = best_version(client, name)
    current_run = client.get_run(current.run_id) if current is not None else None
    previous = current_run.data.metrics.get(key) if current_run is not None else None
    incomparable = None
    if previous is not None and evaluation_settings(current_run) != evaluation_settings(run):
        incomparable = "evaluated on other images or with other metric settings"
    version = client.create_model_version(
        name, f"models:/{model_id}", run_id=run.info.run_id, model_id=model_id,
        tags={SWEEP: sweep, OBJECTIVE: key, OBJECTIVE_DIRECTION: direction, OBJECTIVE_VALUE: value})
    promoted = incomparable is None and (previous is None or (value < previous if direction == "min" else value > previous))
    if promoted:
        client.set_registered_model_alias(name, BEST_ALIAS, version.version)
    return Registration(version.version, promoted, previous, incomparable)
