"""``vaesweep sweeps``, ``vaesweep status NAME`` and ``vaesweep stop NAME``: a store's sweeps
seen, and steered, from any terminal (the record is the only channel: ``sweeps.record.control``).
"""

import time

from sweeps import record, tracking
from sweeps.config import StoreQuery
from sweeps.console import format_seconds
from sweeps.record import control
from vae.errors import SweepError


def all_sweeps(client, dataset: str | None = None) -> list[tuple[str, str, object]]:
    """``(dataset, experiment_id, parent run)`` of every sweep in the store (of ``dataset``
    when given), newest first within each dataset."""
    found = []
    for name in [dataset] if dataset else record.datasets(client):
        experiment = client.get_experiment_by_name(record.experiment_name(name))
        if experiment is not None:
            found += [(name, experiment.experiment_id, run) for run in record.sweep_runs(client, experiment.experiment_id)]
    return found


def find(client, name: str, dataset: str | None = None) -> tuple[str, object]:
    """``(experiment_id, parent run)`` of the sweep called ``name``.

    Raises:
        SweepError: no sweep has that name (the message lists the known ones).
    """
    known = all_sweeps(client, dataset)
    for _, experiment_id, run in known:
        if record.sweep_name(run) == name:
            return experiment_id, run
    names = ", ".join(record.sweep_name(r) for _, _, r in known[:5]) or "none"
    raise SweepError(f"no sweep named '{name}' in {client.tracking_uri} (latest: {names}); see 'vaesweep sweeps'")


def best_text(state: control.SweepState) -> str:
    if state.best is None:
        return "-"
    interval = (f" [{state.best_low:.3f}, {state.best_high:.3f}]"
                if state.best_low is not None and state.best_high is not None else "")
    return f"{state.objective} {state.best:.3f}{interval}"


def status_word(state: control.SweepState) -> str:
    if state.status == record.RUNNING and state.stop_requested:
        return "stopping"
    return state.status.lower()


def eta_seconds(state: control.SweepState, now_ms: float) -> float | None:
    """The remaining trials times the mean done trial's time, less what the running ones did."""
    if state.planned is None or not state.durations_s:
        return None
    mean = sum(state.durations_s) / len(state.durations_s)
    remaining = max(state.planned - state.done, 0)
    return max(remaining * mean - sum((now_ms - r.start_ms) / 1000 for r in state.running), 0.0)


def sweeps_lines(client, dataset: str | None = None) -> list[str]:
    """One line per sweep: name, dataset, status, trials done/planned, best value and interval."""
    rows = [(record.sweep_name(run), name, control.sweep_state(client, experiment_id, run, name))
            for name, experiment_id, run in all_sweeps(client, dataset)]
    if not rows:
        return [f"no sweeps in {client.tracking_uri}"]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'name':<{width}}  {'dataset':<13}  {'status':<9}  {'trials':>7}  best"]
    for sweep, name, state in rows:
        trials = f"{state.done}/{state.planned if state.planned is not None else '?'}"
        lines.append(f"{sweep:<{width}}  {name:<13}  {status_word(state):<9}  {trials:>7}  {best_text(state)}")
    return lines


def status_lines(client, name: str, dataset: str | None = None, now: float | None = None) -> list[str]:
    """A sweep's progress: counts, best so far, running trials with their worker, an ETA."""
    experiment_id, parent = find(client, name, dataset)
    state = control.sweep_state(client, experiment_id, parent)
    now_ms = (time.time() if now is None else now) * 1000
    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(state.counts.items())) or "no trials yet"
    elapsed = ((state.end_ms or now_ms) - state.start_ms) / 1000
    lines = [f"sweep '{state.name}' ({state.dataset}): {status_word(state)}, parent run {state.parent_id}",
             f"trials: {state.done}/{state.planned if state.planned is not None else '?'} done ({counts})",
             f"best: {best_text(state)}", f"elapsed: {format_seconds(elapsed)}"]
    for row in state.running:
        lines.append(f"running: trial {row.trial_id} on worker {row.worker or '?'} "
                     f"for {format_seconds((now_ms - row.start_ms) / 1000)}")
    if state.status == record.RUNNING:
        eta = eta_seconds(state, now_ms)
        lines.append(f"ETA: {format_seconds(eta) if eta is not None else 'after the first trial ends'}")
    elif state.status == record.KILLED:
        lines.append(f"resume with: vaesweep sweep --dataset {state.dataset} --name {state.name} --resume")
    return lines


def stop(client, name: str, dataset: str | None = None) -> str:
    """Ask the running sweep ``name`` to stop after its running trials; returns what was done.

    Raises:
        SweepError: the sweep is not running.
    """
    experiment_id, parent = find(client, name, dataset)
    if parent.info.status != record.RUNNING:
        raise SweepError(f"sweep '{name}' is {parent.info.status.lower()}, not running; nothing to stop")
    control.request_stop(client, parent.info.run_id)
    return (f"asked sweep '{name}' to stop: its running trials finish, then it ends; continue it with "
            f"vaesweep sweep --dataset {record.dataset_of(client.get_experiment(experiment_id).name)} "
            f"--name {name} --resume")


def command(action: str, query: StoreQuery) -> int:
    """Run ``sweeps``, ``status`` or ``stop`` and print its lines on stdout."""
    if not tracking.store_exists(query.tracking_uri):
        raise SweepError(f"no MLflow store at {query.tracking_uri or tracking.default_tracking_uri()}; "
                         "pass --tracking-uri or run a sweep first")
    client = tracking.connect(query.tracking_uri)
    if action == "sweeps":
        lines = sweeps_lines(client, query.dataset)
    elif action == "status":
        lines = status_lines(client, query.name, query.dataset)
    else:
        lines = [stop(client, query.name, query.dataset)]
    print("\n".join(lines))
    return 0
