"""Worker processes on this machine: started as ``vaesweep sweep ... --chief``, their output
relayed line by line, their exits noticed, and stopped with a grace period."""

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

POLL_S = 0.5


class LocalWorker:
    """A ``vaesweep sweep --chief ...`` child process whose output is relayed as ``[id] line``."""

    def __init__(self, worker_id: str, argv: list[str]):
        self.id, self.reaped = worker_id, False
        self.tail = collections.deque(maxlen=3)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
        env.update(PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        self.proc = subprocess.Popen([sys.executable, "-m", "vaesweep", "sweep", *argv, "--worker-id", worker_id],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, env=env)
        self.relay = threading.Thread(target=self._relay, name=f"relay-{worker_id}", daemon=True)
        self.relay.start()

    def _relay(self):
        for line in self.proc.stdout:
            line = line.rstrip()
            if line:
                self.tail.append(line)
                print(f"[{self.id}] {line}", file=sys.stderr, flush=True)

    def exit_code(self) -> int | None:
        code = self.proc.poll()
        if code is not None:
            self.relay.join(timeout=5)  # its last words first
        return code


def stop_workers(workers: list, grace: float) -> None:
    """Wait ``grace`` seconds for the workers to exit, then interrupt (SIGTERM) and kill them."""
    deadline = time.monotonic() + grace
    for worker in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    for worker in workers:
        if worker.proc.poll() is None:
            worker.proc.terminate()
            try:
                worker.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
        worker.relay.join(timeout=5)


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"
