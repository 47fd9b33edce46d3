"""Seeds and intervals, shared by the sections that report a figure with its uncertainty.

Runs (trials and their seed replicates) that share a ``config_digest`` are one configuration
trained with several seeds: its
figure is their mean with a 95% interval from the t distribution (few seeds: the normal
1.96 would be too narrow). A single run shows ``value ± 1.96·se`` where it logged the
standard error of the metric (``<metric>_se``, e.g. ``test_nll_se``), and otherwise says it
has no interval.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.data import FINISHED
from reports.figures import fmt
from vae.metrics.paired import mean_interval

Z95 = 1.96
NO_INTERVAL = "one seed, no interval"


@dataclass(frozen=True)
class Estimate:
    """One configuration's figure for one metric.

    Attributes:
        value: the mean over seeds, or the single run's value.
        half_width: half the 95% interval, or None when there is none.
        how: how the interval was made, as the report says it.
        run_ids: the runs (seeds) the value comes from, best first.
    """

    value: float
    half_width: float | None
    how: str
    run_ids: tuple[str, ...]

    @property
    def seeds(self) -> int:
        return len(self.run_ids)

    @property
    def text(self) -> str:
        return fmt(self.value) + ("" if self.half_width is None else f" ± {fmt(self.half_width)}")


def seed_runs(sweep) -> pd.DataFrame:
    """The sweep's trials and its seed replicates (``sweep.replicates``) in one frame, trials first."""
    replicates = getattr(sweep, "replicates", None)
    return pd.concat([sweep.trials, replicates]) if replicates is not None and len(replicates) else sweep.trials


def configurations(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """The finished trials of ``frame`` grouped into configurations, in frame order (best
    first): rows sharing a ``config_digest`` are one group, a row without one is its own."""
    finished = frame[frame["status"] == FINISHED]
    digests = finished.get("config_digest", pd.Series(index=finished.index, dtype=object))
    keys = [digest if isinstance(digest, str) and digest else run_id for run_id, digest in digests.items()]
    groups: dict[str, list[str]] = {}
    for run_id, key in zip(finished.index, keys, strict=True):
        groups.setdefault(key, []).append(run_id)
    return [finished.loc[run_ids] for run_ids in groups.values()]


def estimate(group: pd.DataFrame, key: str) -> Estimate | None:
    """The figure of one configuration (see :func:`configurations`) for metric ``key``, or
    None when none of its runs logged it. Several seeds give a t interval; a lone run gives
    ``± 1.96·se`` when ``<key>_se`` was logged."""
    column = f"metrics.{key}"
    if column not in group:
        return None
    values = pd.to_numeric(group[column], errors="coerce")
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    run_ids = tuple(values.index)
    if len(values) > 1:
        mean, half = mean_interval(values.to_numpy())
        return Estimate(mean, half, f"mean of {len(values)} seeds ± 95% t interval", run_ids)
    se = group.loc[run_ids[0]].get(f"metrics.{key}_se")
    if se is not None and np.isfinite(se):
        return Estimate(float(values.iloc[0]), Z95 * float(se), f"± 1.96·se ({key}_se logged)", run_ids)
    return Estimate(float(values.iloc[0]), None, NO_INTERVAL, run_ids)
