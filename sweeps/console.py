"""What vaesweep tells its user while it works: progress and notes go to stderr, results to
stdout, so that ``vaesweep ... > results.txt`` keeps only the results."""

import sys

from sweeps import record


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``2h07m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def announce(plan, name: str, resumed: bool, extra: str = "") -> None:
    """The sweep's first line: what it runs and what it ranks by."""
    verb = "resuming" if resumed else "starting"
    say(f"{verb} sweep '{name}': {plan.tuner}, budget {plan.budget_name} ({plan.max_trials} trials, "
        f"{plan.budget.epochs} epochs), objective {plan.space.objective} ({plan.space.direction}){extra}")
    if plan.space.objective.removeprefix("val_") == "loss" and len(plan.space.models) > 1:
        say("note: 'loss' is each family's own objective (a β-weighted ELBO, WAE's MMD penalty, VQ-VAE's "
            "codebook loss); compare families on test_nll or reconstruction in the report")


def table_params(space) -> list[str]:
    """The hyperparameters a sweep's table shows: the model, the shared ones, then the families'."""
    return ["model", *space.shared, *[n for n in space.family_params() if n not in space.shared]]


def print_table(runs, key: str, names: list[str], test_key: str | None = None) -> None:
    """The best trials by ``key`` (a validation figure) with the test figure ``test_key``
    reported beside it and their hyperparameters, on stdout."""
    print(f"best trials by {key} (selected on validation; {test_key or 'no test figure'} reported beside it):")
    print("  " + "  ".join(f"{n[:13]:>13}" for n in ["trial", key, *([test_key] if test_key else []), *names]))
    for run in runs:
        p, m = run.data.params, run.data.metrics
        test = [f"{m[test_key]:.3f}" if test_key in m else "-"] if test_key else []
        cells = [record.trial_row(run).trial_id or "?", f"{m[key]:.3f}", *test, *(p.get(n, "-") for n in names)]
        print("  " + "  ".join(f"{str(c)[:13]:>13}" for c in cells))


def registered(done, name: str, key: str) -> None:
    """What registering the best trial's model did (``sweeps.record.registry.register_best``)."""
    if done is None:
        return
    before = "" if done.previous is None else f" ({key} {done.previous:.3f} before)"
    if done.incomparable:
        where = f"alias 'best' stays: its model was {done.incomparable}"
    elif done.promoted:
        where = f"alias 'best' moved to it{before}"
    else:
        where = f"alias 'best' stays on a better model{before}"
    say(f"registered the best trial's model as {name} version {done.version}; {where}")


def summary(sweep, finished: int, failed: int, wall_time: float, stopped: int = 0) -> None:
    """The closing lines: counts, where the record is and what to do next."""
    early = f", {stopped} stopped early" if stopped else ""
    print(f"sweep '{sweep.name}': {finished} finished{early}, {failed} failed in {format_seconds(wall_time)}\n"
          f"parent run {sweep.parent_id} in {sweep.client.tracking_uri}\n"
          f"compare the trials with: make ui   (or: mlflow ui --backend-store-uri {sweep.client.tracking_uri})\n"
          f"write the report with:   make report DATASET={sweep.plan.dataset}")
