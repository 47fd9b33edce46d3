"""The worker's side: keras-tuner's client of the chief's oracle with bounded waits, one-line
errors and a heartbeat, and the wait for a chief that is not up yet."""

import _thread
import threading
import time

import grpc

from sweeps.console import format_seconds, say
from sweeps.kt_adapter import OracleClient, TrialStatus, kt, service, service_grpc
from vae.errors import SweepError

HEARTBEAT_S = 10  # how often a worker running a trial tells the chief it is alive
RPC_TIMEOUT_S = 30  # a chief that answers no request for this long is gone
CHIEF_WAIT_S = 600  # how long a worker started before its chief waits for it


class ChiefGone(SweepError, kt.errors.FatalError):
    """The chief cannot be reached or refused this worker; keras-tuner lets a FatalError through."""


class GuardedStub:
    """keras-tuner's gRPC stub with a bounded wait and one-line errors instead of gRPC's."""

    def __init__(self, stub, address: str, timeout_s: float):
        self.stub, self.address, self.timeout_s = stub, address, timeout_s

    def __getattr__(self, name):
        method = getattr(self.stub, name)

        def call(request, **_):
            try:
                return method(request, wait_for_ready=True, timeout=self.timeout_s)
            except grpc.RpcError as exc:
                raise chief_error(exc, self.address, self.timeout_s) from None

        return call


def chief_error(exc: grpc.RpcError, address: str, timeout_s: float) -> ChiefGone:
    code = exc.code() if hasattr(exc, "code") else None
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return ChiefGone(f"{exc.details()}; this worker stops (its trial counts as lost)")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ChiefGone(f"lost the chief at {address} (no answer for {timeout_s:.0f} s): it finished, stopped or is "
                         "unreachable; this worker stops, finished trials are in MLflow")
    lines = str((exc.details() if hasattr(exc, "details") else exc) or "").strip().splitlines()
    return ChiefGone(f"the chief at {address} failed: {lines[-1] if lines else code}")


class ChiefClient(OracleClient):
    """keras-tuner's client of the chief's oracle with bounded waits and a heartbeat.

    While a trial runs, a thread asks the chief for it every ``heartbeat_s`` so the chief knows
    this worker lives; if the chief is gone (or gave the trial up) the thread interrupts the
    trial and ``lost`` says why.
    """

    def __init__(self, oracle, address: str, heartbeat_s: float = HEARTBEAT_S, timeout_s: float = RPC_TIMEOUT_S):
        super().__init__(oracle)
        self.address, self.lost, self.trial_id, self.last_trial_id = address, None, None, None
        self.stub = GuardedStub(self.stub, address, timeout_s)
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(heartbeat_s,), name="heartbeat", daemon=True)
        self._thread.start()

    def create_trial(self, tuner_id):
        trial = super().create_trial(tuner_id)
        if trial.status == TrialStatus.IDLE:
            time.sleep(1)  # keras-tuner asks again at once; do not spin the chief
        elif trial.status == TrialStatus.RUNNING:
            with self._lock:
                self.trial_id = self.last_trial_id = trial.trial_id
        return trial

    def end_trial(self, trial):
        with self._lock:  # no heartbeat about a trial the chief has closed
            self.trial_id = None
        super().end_trial(trial)

    def _beat(self, interval: float) -> None:
        request = service().GetTrialRequest
        while not self._stop.wait(interval):
            with self._lock:
                if self.trial_id is None:
                    continue
                try:
                    self.stub.GetTrial(request(trial_id=self.trial_id))
                except ChiefGone as exc:
                    self.lost = str(exc)
                    _thread.interrupt_main()
                    return

    def close(self) -> None:
        self._stop.set()


def wait_for_chief(address: str, wait_s: float | None = None, retry_s: float = 5) -> None:
    """Return once the chief at ``address`` answers (a worker may start first); wait at most
    ``wait_s`` seconds (default ``CHIEF_WAIT_S``)."""
    wait_s = CHIEF_WAIT_S if wait_s is None else wait_s
    channel = grpc.insecure_channel(address)
    stub = service_grpc().OracleStub(channel)
    start = time.monotonic()
    next_note = start
    try:
        while True:
            remaining = start + wait_s - time.monotonic()
            try:
                stub.GetSpace(service().GetSpaceRequest(), wait_for_ready=True,
                              timeout=max(min(retry_s, remaining), 0.1))
                return
            except grpc.RpcError as exc:
                if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise chief_error(exc, address, retry_s) from None
            if time.monotonic() - start >= wait_s:
                raise SweepError(f"no chief answered at {address} for {format_seconds(wait_s)}; start the chief first "
                                 "(vaesweep sweep --workers N, or KERASTUNER_TUNER_ID=chief) and check HOST:PORT")
            if time.monotonic() >= next_note:
                say(f"waiting for the chief at {address} (not answering yet); retrying for up to "
                    f"{format_seconds(start + wait_s - time.monotonic())}")
                next_note = time.monotonic() + 30
    finally:
        channel.close()
