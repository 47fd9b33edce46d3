"""``vaesweep sweep --dry-run``: what a sweep would do, printed before anything trains.

It prints the resolved search space (after ``--set``), the tuner, the number of trials and
epochs, and an estimate of the time: the trial-epochs of the plan times the seconds per
training image and epoch that earlier finished trials of the dataset took in the store (read
only when the store exists). It writes nothing: no run, no tuner folder, no store.
"""

import statistics

from sweeps import record
from sweeps.config import SweepConfig
from sweeps.console import format_seconds
from sweeps.plan import SweepPlan, make_plan

EARLIER_SWEEPS = 3  # the latest sweeps whose trials time the estimate


def trial_epochs(plan: SweepPlan) -> int:
    """Epochs the plan trains at most, all trials together (Hyperband trains fewer)."""
    return plan.max_trials * plan.budget.epochs


def seconds_per_image_epoch(config: SweepConfig) -> float | None:
    """The median over earlier finished trials of the dataset of seconds / (epochs x images)."""
    from sweeps import tracking

    if not tracking.store_exists(config.tracking_uri):
        return None
    client = tracking.connect(config.tracking_uri)
    experiment = client.get_experiment_by_name(record.experiment_name(config.dataset))
    if experiment is None:
        return None
    rates = []
    for parent in record.sweep_runs(client, experiment.experiment_id)[:EARLIER_SWEEPS]:
        epochs = int(parent.data.params.get("epochs", 0))
        for run in record.children(client, experiment.experiment_id, parent.info.run_id, record.FINISHED, record.TRIAL):
            images = int(run.data.params.get("n_train", 0))
            if epochs and images and run.info.end_time:
                rates.append((run.info.end_time - run.info.start_time) / 1000 / (epochs * images))
    return statistics.median(rates) if rates else None


def describe(plan: SweepPlan, rate: float | None) -> list[str]:
    """The lines ``--dry-run`` prints for ``plan``; ``rate``: seconds per image and epoch."""
    space = plan.space
    lines = [f"# search space {space.source} (resolved)", space.to_yaml().rstrip(), "",
             f"tuner: {plan.tuner}", f"objective: {space.objective} ({space.direction})",
             f"trials: {plan.max_trials} x {plan.budget.epochs} epochs = {trial_epochs(plan)} trial-epochs at most",
             f"training images: {plan.subset if plan.subset is not None else 'all'}",
             f"replicates: {plan.replicates} seed(s) for the top {plan.replicate_top} configurations",
             f"early stopping: {early_stopping_text(plan)}"]
    if rate is not None and plan.subset is not None:
        lines.append(f"estimated time: {format_seconds(rate * plan.subset * trial_epochs(plan))} of training "
                     "(from earlier trials of this dataset in the store; evaluation not included)")
    else:
        lines.append("estimated time: unknown (no earlier finished trial of this dataset in the store to time it)")
    return lines


def early_stopping_text(plan: SweepPlan) -> str:
    from sweeps.choices import EARLY_STOPPING_TUNERS

    rule = plan.space.early_stopping
    if plan.tuner not in EARLY_STOPPING_TUNERS:
        return f"by {plan.tuner}'s own rounds"
    if not rule.enabled:
        return "off"
    return f"median rule after {rule.warmup_epochs} warm-up epoch(s), once {rule.min_trials} trials got as far"


def dry_run(config: SweepConfig) -> int:
    """Print what ``config`` would run; returns the exit code."""
    plan = make_plan(config)
    rate = seconds_per_image_epoch(config)
    print("\n".join(describe(plan, rate)))
    return 0
