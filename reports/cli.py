"""`vaesweep report`: write the HTML report of a sweep and print its path.

The command line (``vaesweep/cli.py``) turns its arguments into a :class:`ReportConfig`;
nothing here reads an argument parser's namespace.
"""

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reports import render
from reports.data import load_sweep
from vae.errors import ConfigError


@dataclass(frozen=True)
class ReportConfig:
    """What a report is of and where it goes.

    Attributes:
        dataset: the dataset whose sweeps to read.
        sweep: a sweep name or its parent run id; None for the latest sweep of ``dataset``.
        out: the HTML file to write; None for :func:`default_path`.
        tracking_uri: the MLflow store; None for the project's default store.
    """

    dataset: str
    sweep: str | None = None
    out: Path | None = None
    tracking_uri: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.out) if self.out else default_path(self.dataset)


def default_path(dataset: str) -> Path:
    """Where ``make report DATASET=<dataset>`` writes: ``reports/<dataset>.html``."""
    return Path("reports") / f"{dataset}.html"


def report_command(config: ReportConfig) -> int:
    """Load the sweep (``config.sweep`` or the latest of ``config.dataset``), render, write.

    Prints the report's path on stdout and a one-line account on stderr.
    """
    start = time.monotonic()
    out = config.path
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as {out / (config.dataset + '.html')}")
    sweep = load_sweep(config.dataset, config.sweep, config.tracking_uri)
    try:
        path = render.write(sweep, out)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    sweep.attach_report(Path(path))
    print(path)
    print(f"report of sweep '{sweep.name}' ({len(sweep.trials)} trials, {len(sweep.finished())} finished) "
          f"written in {time.monotonic() - start:.1f}s", file=sys.stderr)
    return 0
