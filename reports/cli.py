"""`vaesweep report`: write the HTML report of a sweep and print its path."""

import sys
import time
from pathlib import Path

from reports import render
from reports.data import load_sweep
from vae.errors import ConfigError


def default_path(dataset: str) -> Path:
    """Where ``make report DATASET=<dataset>`` writes: ``reports/<dataset>.html``."""
    return Path("reports") / f"{dataset}.html"


def report_command(args) -> int:
    """Load the sweep (``args.sweep`` or the latest of ``args.dataset``), render, write.

    Prints the report's path on stdout and a one-line account on stderr.
    """
    start = time.monotonic()
    out = Path(args.out) if args.out else default_path(args.dataset)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as {out / (args.dataset + '.html')}")
    sweep = load_sweep(args.dataset, args.sweep, args.tracking_uri)
    try:
        path = render.write(sweep, out)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    print(path)
    print(f"report of sweep '{sweep.name}' ({len(sweep.trials)} trials, {len(sweep.finished())} finished) "
          f"written in {time.monotonic() - start:.1f}s", file=sys.stderr)
    return 0
