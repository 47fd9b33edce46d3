"""The record of steering a sweep: stopping it from another process, trials stopped early, and
what ``vaesweep sweeps`` / ``vaesweep status`` read of a sweep.

- ``stop_requested`` on a parent run (``vaesweep stop NAME``): the sweep's process reads it
  between trials and ends after the running trial; ``--resume`` clears it and continues;
- a trial stopped by early stopping ends with MLflow status KILLED (it is not a finished trial:
  no figures, not ranked), ``trial_status`` ``STOPPED``, ``stopped_epoch`` = the epochs it
  trained and its reason in ``failure_reason``;
- a sweep's progress counts its trial runs by their ``trial_status``.
"""

from dataclasses import dataclass

from sweeps import record

STOP_REQUESTED = "stop_requested"
STOPPED = "STOPPED"
STOPPED_EPOCH = "stopped_epoch"
STOPPED_BY_USER = "stopped by vaesweep stop"
# trial statuses that count as done (a trial run in no other state will not run again)
DONE = (record.FINISHED, record.FAILED, STOPPED)


def request_stop(client, parent_id: str) -> None:
    record.set_tags(client, parent_id, {STOP_REQUESTED: "true"})


def stop_requested(client, parent_id: str) -> bool:
    return client.get_run(parent_id).data.tags.get(STOP_REQUESTED) == "true"


def clear_stop(client, parent_id: str) -> None:
    """Forget a stop request (a resumed sweep runs again)."""
    if stop_requested(client, parent_id):
        client.delete_tag(parent_id, STOP_REQUESTED)


def end_stopped(client, run_id: str, epoch: int, reason: str) -> None:
    """Close a trial run that early stopping ended after ``epoch`` epochs."""
    record.set_tags(client, run_id, {STOPPED_EPOCH: epoch, record.TRIAL_STATUS: STOPPED, record.FAILURE_REASON: reason})
    client.set_terminated(run_id, record.KILLED)  # not FINISHED: queries for finished trials skip it


def stopped_trials(client, experiment_id: str, parent_id: str) -> list:
    """The sweep's trial runs that early stopping ended."""
    return [r for r in record.children(client, experiment_id, parent_id, record.KILLED, record.TRIAL)
            if r.data.tags.get(record.TRIAL_STATUS) == STOPPED]


def objective_curves(client, experiment_id: str, parent_id: str, objective: str) -> list[list[float]]:
    """The objective per epoch (epoch 1 first) of the sweep's finished and stopped trials: what
    early stopping compares a resumed sweep's next trials with."""
    runs = record.children(client, experiment_id, parent_id, record.FINISHED, record.TRIAL)
    runs += stopped_trials(client, experiment_id, parent_id)
    curves = []
    for run in runs:
        history = sorted(client.get_metric_history(run.info.run_id, objective), key=lambda m: m.step)
        if history:
            curves.append([m.value for m in history])
    return curves


@dataclass(frozen=True)
class RunningTrial:
    trial_id: str
    worker: str | None
    start_ms: int


@dataclass(frozen=True)
class SweepState:
    """What ``vaesweep sweeps`` and ``vaesweep status`` show of one sweep."""

    name: str
    parent_id: str
    dataset: str | None
    status: str  # the parent run's MLflow status
    stop_requested: bool
    planned: int | None
    epochs: int | None
    objective: str | None
    direction: str | None
    counts: dict  # trial status -> number of trial runs
    best: float | None
    best_low: float | None
    best_high: float | None
    running: list  # RunningTrial of each running trial
    start_ms: int
    end_ms: int | None
    durations_s: list  # the done trials' wall times

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in DONE)


def sweep_state(client, experiment_id: str, parent, dataset: str | None = None) -> SweepState:
    """The state of the sweep whose parent run is ``parent`` (one query for its trials)."""
    params, metrics, info = parent.data.params, parent.data.metrics, parent.info
    objective = params.get("objective")
    trials = record.children(client, experiment_id, info.run_id, role=record.TRIAL)
    rows = [(record.trial_row(r), r) for r in trials]
    counts: dict[str, int] = {}
    for row, _ in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    durations = [(r.info.end_time - r.info.start_time) / 1000 for row, r in rows
                 if row.status in DONE and r.info.end_time]
    best = summary_low = summary_high = None
    if objective:
        key = record.objective_key(objective)
        summary = record.objective_summary_keys(objective)
        best = metrics.get(summary["mean"], metrics.get(key))
        summary_low, summary_high = metrics.get(summary["low"]), metrics.get(summary["high"])
        if best is None:  # still running: the best finished trial so far
            values = [r.data.metrics[key] for row, r in rows if row.status == record.FINISHED and key in r.data.metrics]
            if values:
                best = max(values) if params.get("objective_direction") == "max" else min(values)
    planned = params.get("max_trials")
    return SweepState(
        name=record.sweep_name(parent), parent_id=info.run_id, dataset=dataset or params.get("dataset"),
        status=info.status, stop_requested=parent.data.tags.get(STOP_REQUESTED) == "true",
        planned=int(planned) if planned else None, epochs=int(params["epochs"]) if params.get("epochs") else None,
        objective=objective, direction=params.get("objective_direction"), counts=counts, best=best,
        best_low=summary_low, best_high=summary_high,
        running=[RunningTrial(row.trial_id, row.worker, r.info.start_time) for row, r in rows
                 if row.status == record.RUNNING and r.info.status == record.RUNNING],
        start_ms=info.start_time, end_ms=info.end_time, durations_s=durations)
