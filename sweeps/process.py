"""The sweep's own process: SIGTERM as an interrupt, and a restart when memory has grown.

TensorFlow keeps some memory of every model built and fit in a process, clear_session or
not (keras-team/keras#17458, tensorflow#61791): tens of MB per trial here. A standalone
sweep whose memory has grown by more than ``$VAESWEEP_RESTART_AFTER_MB`` (default 2048)
replaces its process between two trials with the same sweep, resumed.
"""

import contextlib
import os
import signal
import sys

from sweeps.console import say

RESTART_ENV = "VAESWEEP_RESTART_AFTER_MB"
DEFAULT_RESTART_MB = 2048


class RestartForMemory(Exception):
    """Raised between two trials when the process should be replaced by a resumed one."""


def resident_mb() -> float | None:
    """This process's resident memory in MB (Linux), else None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return None


class MemoryWatch:
    """Whether this process has grown past the limit since it was created."""

    def __init__(self):
        self.start_mb = resident_mb()

    def grown_mb(self) -> float:
        now = resident_mb()
        return 0.0 if now is None or self.start_mb is None else now - self.start_mb

    def exceeded(self) -> bool:
        return self.grown_mb() > float(os.environ.get(RESTART_ENV, DEFAULT_RESTART_MB))


def restart(argv: list[str], name: str, grown_mb: float) -> None:
    """Replace this process with ``vaesweep sweep`` ``argv`` (options that resume sweep ``name``)."""
    say(f"memory grew by {grown_mb:.0f} MB over these trials (TensorFlow keeps some per model); "
        f"restarting the process to resume sweep '{name}' (set ${RESTART_ENV} to change the limit)")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "vaesweep", "sweep", *argv])


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM ends the work as Ctrl-C does (runs closed, state saved)."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
