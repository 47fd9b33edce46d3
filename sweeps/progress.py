"""One line per finished trial: trials done out of planned, the best value so far, an ETA.

The counts come from the MLflow record, so a resumed sweep and the workers of a distributed
one count every trial of the sweep, not only this process's.
"""

import sys

from sweeps import record
from sweeps.console import format_seconds
from sweeps.record import control


class SweepProgress:
    """Prints progress for the sweep whose parent run is ``parent_id``."""

    def __init__(self, client, experiment_id: str, parent_id: str, max_trials: int, objective: str, direction: str,
                 stream=None):
        self.client, self.experiment_id, self.parent_id = client, experiment_id, parent_id
        self.max_trials, self.objective, self.direction = max_trials, objective, direction
        self.stream = stream or sys.stderr
        self.times: list[float] = []

    def best_value(self, runs) -> float | None:
        values = [r.data.metrics.get(record.objective_key(self.objective)) for r in runs]
        values = [v for v in values if v is not None]
        if not values:
            return None
        return min(values) if self.direction == "min" else max(values)

    def trial_ended(self, trial_id: str, status: str, seconds: float) -> None:
        self.times.append(seconds)
        finished = record.children(self.client, self.experiment_id, self.parent_id, status=record.FINISHED,
                                   role=record.TRIAL)
        failed = record.children(self.client, self.experiment_id, self.parent_id, status=record.FAILED,
                                 role=record.TRIAL)
        done = len(finished) + len(failed) + len(control.stopped_trials(self.client, self.experiment_id, self.parent_id))
        best = self.best_value(finished)
        remaining = max(self.max_trials - done, 0)
        eta = format_seconds(sum(self.times) / len(self.times) * remaining)
        best_text = f"{best:.3f}" if best is not None else "-"
        print(f"[{done}/{self.max_trials} trials] trial {trial_id} {status.lower()}  "
              f"best {self.objective} {best_text}  ETA {eta}", file=self.stream, flush=True)
