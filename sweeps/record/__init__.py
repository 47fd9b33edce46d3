"""The MLflow record of vaesweep: its schema and every query on it.

This module is the only place that knows how a sweep is written to MLflow: the tag names,
the statuses, how a sweep's parent run and its trial (child) runs are found, and how
structured values (the metrics left out of a trial and why) are written and read back.
Sweeps, reports and tests go through it (the package: this module, ``files``, ``registry``).

The record:

- one experiment ``vae-<dataset>``, of kind ``custom_model_development`` (the UI shows its
  training runs, not its GenAI pages); a ``vaesweep train`` run has the role ``train``;
- one parent run per sweep (role ``sweep``, tag ``vaesweep.sweep`` = its name, the digest of
  what it was started with, and once finished ``best_run_id``/``best_trial_id``/``best_value``);
- one child run per trial (role ``trial``, ``mlflow.parentRunId``, ``trial_id``, ``worker``,
  ``trial_status`` and a ``failure_reason`` when it did not finish; ``best`` = ``true`` on the
  sweep's best trial); replicates of a configuration are children too (role ``replicate``);
- the metrics a run left out: ``metrics_skipped.json`` (a dict metric -> reason, ``log_dict``)
  and one tag ``skipped.<metric>`` per metric, so the UI can filter on them;
- each trained run's inputs: its training set (context ``training``) and evaluation set
  (context ``evaluation``) as MLflow dataset inputs, and its output: the model, logged with
  MLflow's Keras flavor under the name ``model``;
- its files (``sweeps.record.files``): artifact paths (final figures under ``figures/``, apart
  from the image snapshots under ``images/``; the report as ``report.html`` on the parent run)
  and the array files' codec;
- the steering of a sweep (``sweeps.record.control``): ``stop_requested`` on the parent run,
  trials stopped early (``trial_status`` ``STOPPED``, ``stopped_epoch``);
- MLflow's context tags on every run (``mlflow.source.name``, ``mlflow.source.git.commit``, ...);
- the Model Registry (``sweeps.record.registry``): one registered model ``vae-<dataset>``; each
  finished sweep registers its best trial's model as a new version and moves the alias ``best``
  to it when its objective value is strictly better than that of the run behind the current
  ``best`` and both were evaluated alike.
"""

from dataclasses import dataclass

from mlflow.entities import RunTag
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from sweeps.record.context import context_tags
from sweeps.record.files import (  # noqa: F401 - re-exported: the record is read through this module
    EXPERIMENT_PREFIX,
    IMAGE_DIR,
    REPORT_FILE,
    dataset_of,
    datasets,
    decode_arrays,
    encode_arrays,
    image_path,
)
from vae.errors import ConfigError, SweepError

# Tag names ------------------------------------------------------------------------------
ROLE = "vaesweep.role"
SWEEP = "vaesweep.sweep"
PARENT = "mlflow.parentRunId"
TRIAL_ID = "trial_id"
TRIAL_STATUS = "trial_status"
FAILURE_REASON = "failure_reason"
WARNING = "warning"
WORKER = "worker"
BEST = "best"
SPACE_DIGEST = "space_digest"
CONFIG_DIGEST = "config_digest"
BEST_RUN_ID, BEST_TRIAL_ID, BEST_VALUE = "best_run_id", "best_trial_id", "best_value"
BEST_CONFIG_DIGEST = "best_config_digest"
SKIPPED_PREFIX = "skipped."
SKIPPED_FILE = "metrics_skipped.json"
# Artifacts the report reads: the evaluation codes and the per-image figures.
CODES_FILE = "latents/codes.npz"
PER_IMAGE_FILE = "eval/per_image.npz"
EXPERIMENT_KIND = "mlflow.experimentKind"  # an experiment tag: the UI opens its training view
DATASET_CONTEXT = MLFLOW_DATASET_CONTEXT  # an input tag: what a dataset was to the run
OBJECTIVE, OBJECTIVE_DIRECTION, OBJECTIVE_VALUE = "objective", "objective_direction", "objective_value"
# Params: the evaluation images' digest and the metric settings (``metric_<setting>``).
EVAL_DIGEST = "eval_digest"
VAL_DIGEST = "val_eval_digest"  # the validation images the figures a sweep chooses on were computed on
EVALUATED_EPOCH = "evaluated_epoch"  # the epoch whose weights a trial evaluated, logged and registered
METRIC_PARAM_PREFIX = "metric_"

# Values ---------------------------------------------------------------------------------
TRAIN, SWEEP_ROLE, TRIAL, REPLICATE = "train", "sweep", "trial", "replicate"
FINISHED, FAILED, KILLED, RUNNING = "FINISHED", "FAILED", "KILLED", "RUNNING"
INTERRUPTED = "interrupted"
TRAINING_CONTEXT, EVALUATION_CONTEXT = "training", "evaluation"
MODEL_NAME = "model"  # the logged model's name in a run
BEST_ALIAS = "best"
MAX_RESULTS = 1000


def experiment_name(dataset: str) -> str:
    return f"{EXPERIMENT_PREFIX}{dataset}"


def experiment_tags() -> dict:
    """The tags of an experiment vaesweep creates: model training, not GenAI, for the UI."""
    return {EXPERIMENT_KIND: "custom_model_development"}


def search_all(client, experiment_ids, query: str = "", order_by=None) -> list:
    """Every run matching ``query``, page by page."""
    runs, token = [], None
    while True:
        page = client.search_runs(experiment_ids, query, max_results=MAX_RESULTS, order_by=order_by, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def set_tags(client, run_id: str, tags: dict) -> None:
    client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


# Sweeps ---------------------------------------------------------------------------------
def sweep_runs(client, experiment_id: str) -> list:
    """The experiment's sweep (parent) runs, newest first."""
    return search_all(client, [experiment_id], f"tags.`{ROLE}` = '{SWEEP_ROLE}'", order_by=["attributes.start_time DESC"])


def sweep_name(run) -> str:
    return run.data.tags.get(SWEEP) or run.info.run_name


def find_sweep(client, experiment_id: str, name: str):
    """The parent run of the sweep called ``name``, or None (matched here: no quoting)."""
    return next((r for r in sweep_runs(client, experiment_id) if r.data.tags.get(SWEEP) == name), None)


def create_run(client, experiment_id: str, role: str, run_name: str, tags: dict | None = None) -> str:
    """A RUNNING run of ``role`` (every run vaesweep makes is created here); returns its id."""
    run = client.create_run(experiment_id, run_name=run_name, tags={**context_tags(), ROLE: role, **(tags or {})})
    return run.info.run_id



def create_sweep(client, experiment_id: str, name: str, digest: str) -> str:
    return create_run(client, experiment_id, SWEEP_ROLE, name, {SWEEP: name, SPACE_DIGEST: digest})


def open_sweep(client, experiment_id: str, name: str, digest: str, *, create: bool) -> tuple[str, bool]:
    """The parent run of sweep ``name``: reopened when it exists (RUNNING again), else created
    when ``create``. Returns ``(parent_id, reopened)``.

    Raises:
        ConfigError: the sweep exists but was started with another plan (``digest``).
        SweepError: it does not exist and ``create`` is false.
    """
    parent = find_sweep(client, experiment_id, name)
    if parent is None:
        if not create:
            raise SweepError(f"no sweep named '{name}' in {client.tracking_uri}")
        return create_sweep(client, experiment_id, name, digest), False
    if sweep_digest(parent) != digest:
        raise ConfigError(f"sweep '{name}' was started with another search space, tuner, budget, --max-trials, seed, "
                          "subset, data or metric settings; give the options it was started with, or a new --name")
    return parent.info.run_id, True


def reopen_sweep(client, parent_id: str) -> None:
    """Mark a resumed sweep's parent run RUNNING again."""
    client.update_run(parent_id, status=RUNNING)


def close_sweep(client, parent_id: str, status: str) -> None:
    client.set_terminated(parent_id, status)


def sweep_digest(run) -> str | None:
    return run.data.tags.get(SPACE_DIGEST)


def describe_run(run) -> tuple[str | None, str | None, str | None]:
    """``(role, sweep name, parent run id)`` of any run, for hints about a mistaken id."""
    tags = run.data.tags
    return tags.get(ROLE), tags.get(SWEEP), tags.get(PARENT)


def objective_key(objective: str) -> str:
    """The metric a finished run logs its objective figure under (``best_val_elbo``): the one
    figure the tuner, the replicate choice, the registry alias and the report rank by."""
    return f"best_{objective}"


def objective_summary_keys(objective: str) -> dict[str, str]:
    """The parent run's metrics of the chosen configuration's mean over seeds and its interval."""
    key = objective_key(objective)
    return {"mean": f"{key}_mean", "low": f"{key}_ci_low", "high": f"{key}_ci_high", "seeds": "best_config_seeds"}


def record_best(client, parent_id: str, best, key: str) -> None:
    """Tag the sweep's best trial and name it on the parent run."""
    set_tags(client, parent_id, {BEST_RUN_ID: best.info.run_id, BEST_TRIAL_ID: best.data.tags.get(TRIAL_ID),
                                 BEST_VALUE: best.data.metrics[key]})
    set_tags(client, best.info.run_id, {BEST: "true"})


# Trials ---------------------------------------------------------------------------------
def children(client, experiment_id: str, parent_id: str, status: str | None = None, role: str | None = None) -> list:
    """The parent's child runs (of one MLflow status and one role, when given)."""
    query = f"tags.`{PARENT}` = '{parent_id}'"
    if status:
        query += f" and attributes.status = '{status}'"
    if role:
        query += f" and tags.`{ROLE}` = '{role}'"
    return search_all(client, [experiment_id], query)


def finished_trial(client, experiment_id: str, parent_id: str, trial_id: str):
    """The finished run of trial ``trial_id``, or None (a process killed after finishing it)."""
    runs = client.search_runs([experiment_id], f"tags.`{PARENT}` = '{parent_id}' and tags.`{TRIAL_ID}` = '{trial_id}' "
                              f"and attributes.status = '{FINISHED}'", max_results=1)
    return runs[0] if runs else None


def create_trial(client, experiment_id: str, parent_id: str, sweep: str, trial_id: str, model: str,
                 worker: str, role: str = TRIAL, extra_tags: dict | None = None) -> str:
    """A RUNNING child run for one trial (or replicate) of a sweep; returns its id."""
    return create_run(client, experiment_id, role, f"{role}-{trial_id}-{model}",
                      {PARENT: parent_id, SWEEP: sweep, TRIAL_ID: trial_id, TRIAL_STATUS: RUNNING, WORKER: worker,
                       **(extra_tags or {})})


def create_train_run(client, experiment_id: str, run_name: str) -> str:
    """A RUNNING ``vaesweep train`` run (no sweep, no parent); returns its id."""
    return create_run(client, experiment_id, TRAIN, run_name, {TRIAL_STATUS: RUNNING})


def end_run(client, run_id: str, status: str, reason: str | None = None) -> None:
    """Close a run with ``status`` and, when it did not finish, why."""
    tags = {TRIAL_STATUS: status}
    if reason:
        tags[FAILURE_REASON] = reason
    set_tags(client, run_id, tags)
    client.set_terminated(run_id, status)


def set_failure_reason(client, run_id: str, reason: str) -> None:
    set_tags(client, run_id, {FAILURE_REASON: reason})


def set_warning(client, run_id: str, warning: str) -> None:
    set_tags(client, run_id, {WARNING: warning})


def close_running(client, experiment_id: str, parent_id: str, reason: str, worker: str | None = None) -> int:
    """Mark the parent's RUNNING child runs (of one worker, or all) KILLED with ``reason``."""
    closed = 0
    for run in children(client, experiment_id, parent_id, status=RUNNING):
        if worker is None or run.data.tags.get(WORKER) == worker:
            end_run(client, run.info.run_id, KILLED, reason)
            closed += 1
    return closed


@dataclass(frozen=True)
class TrialRow:
    """What the record says of one child run, as plain values."""

    trial_id: str
    status: str
    role: str
    failure_reason: str | None
    warning: str | None
    best: bool
    worker: str | None
    config_digest: str | None


def trial_row(run) -> TrialRow:
    """The record's view of a child run; a process that died before tagging shows MLflow's status."""
    tags, info = run.data.tags, run.info
    status = tags.get(TRIAL_STATUS) or info.status
    if status == RUNNING and info.status != RUNNING:
        status = info.status
    return TrialRow(trial_id=tags.get(TRIAL_ID, ""), status=status, role=tags.get(ROLE, TRIAL),
                    failure_reason=tags.get(FAILURE_REASON), warning=tags.get(WARNING), best=tags.get(BEST) == "true",
                    worker=tags.get(WORKER), config_digest=tags.get(CONFIG_DIGEST))


# Metrics left out -----------------------------------------------------------------------
def log_skipped(client, run_id: str, skipped: dict[str, str]) -> None:
    """Record the metrics a run left out, ``{metric: reason}``, as a dict artifact and one tag
    per metric (tag values are cut at MLflow's limit; the artifact keeps the whole reason)."""
    if not skipped:
        return
    client.log_dict(run_id, dict(sorted(skipped.items())), SKIPPED_FILE)
    set_tags(client, run_id, {f"{SKIPPED_PREFIX}{name}": reason[:4900] for name, reason in skipped.items()})


def skipped(run) -> dict[str, str]:
    """``{metric: reason}`` of the metrics a run left out, from its tags."""
    return {k.removeprefix(SKIPPED_PREFIX): v for k, v in run.data.tags.items() if k.startswith(SKIPPED_PREFIX)}


def role(run) -> str | None:
    return run.data.tags.get(ROLE)
