"""The chief's side: keras-tuner's oracle served over gRPC, and the trials of dead workers
given up (recorded FAILED in the oracle, never handed to another worker)."""

import socket
import time
from concurrent import futures

import grpc

from sweeps.console import say
from sweeps.distributed.addresses import ENV_IP, ENV_PORT, join_address
from sweeps.kt_adapter import (
    OracleServicer,
    TrialStatus,
    exit_chief,
    proto,
    service_grpc,
    synchronized,
)
from vae.errors import SweepError

LOST_AFTER_S = 120  # a worker silent this long has died: its trial is given up


class OracleService(OracleServicer):
    """keras-tuner's oracle service that also notes when each worker was last heard from and
    refuses reports about a trial it has given up."""

    def __init__(self, oracle, announce: bool = False):
        super().__init__(oracle)
        self.seen: dict[str, float] = {}  # tuner id -> time.monotonic() of its last request
        self.given_up: dict[str, str] = {}  # trial id -> why
        self.announce = announce

    def owner(self, trial_id: str) -> str | None:
        for tuner_id, trial in list(self.oracle.ongoing_trials.items()):
            if trial.trial_id == trial_id:
                return tuner_id
        return None

    def heard(self, trial_id: str, context) -> None:
        if trial_id in self.given_up:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          f"the chief gave up trial {trial_id}: {self.given_up[trial_id]}")
        tuner_id = self.owner(trial_id)
        if tuner_id is not None:
            self.seen[tuner_id] = time.monotonic()

    def CreateTrial(self, request, context):
        self.seen[request.tuner_id] = time.monotonic()
        response = super().CreateTrial(request, context)
        if self.announce and response.trial.status == proto().TrialStatus.RUNNING:
            say(f"trial {response.trial.trial_id} -> {request.tuner_id}")
        return response

    def GetTrial(self, request, context):  # also a worker's heartbeat
        self.heard(request.trial_id, context)
        return super().GetTrial(request, context)

    def UpdateTrial(self, request, context):
        self.heard(request.trial_id, context)
        return super().UpdateTrial(request, context)

    def EndTrial(self, request, context):
        self.heard(request.trial.trial_id, context)
        if self.announce:
            status = TrialStatus.from_proto(request.trial.status)
            say(f"trial {request.trial.trial_id} {(status or 'ended').lower()} ({self.owner(request.trial.trial_id)})")
        return super().EndTrial(request, context)


@synchronized
def _end_ongoing_trial(oracle, tuner_id: str, reason: str):
    """Forget worker ``tuner_id`` and end its trial as FAILED, under the oracle's lock."""
    oracle.tuner_ids.discard(tuner_id)
    trial = oracle.ongoing_trials.get(tuner_id)
    if trial is None:
        return None
    trial.status, trial.message = TrialStatus.FAILED, reason
    oracle.end_trial(trial)  # FAILED: no retry, so no other worker is given it
    return trial.trial_id


class Chief:
    """Serves ``oracle`` over gRPC and gives up the trials of workers that died.

    ``on_give_up(worker_id, trial_id, reason)`` records a given-up trial elsewhere (MLflow).
    """

    def __init__(self, oracle=None, on_give_up=None, lost_after_s: float = LOST_AFTER_S, announce: bool = False):
        self.oracle, self.on_give_up, self.lost_after_s, self.announce = oracle, on_give_up, lost_after_s, announce
        self.server = self.service = self.port = None
        self.lost: list[str] = []  # trial ids given up

    def bind(self, host: str, port: int) -> int:
        """Take ``host:port`` (port 0: a free one) before serving; returns the port."""
        address = join_address(host, port)
        problem = f"cannot serve the oracle on {address}: %s; pick another {ENV_PORT} / {ENV_IP}"
        try:  # first by hand: gRPC would log its own error lines before failing
            family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(sockaddr)
        except OSError as exc:
            raise SweepError(problem % str(exc.strerror or exc).lower()) from None
        # gRPC would share a taken port (SO_REUSEPORT) and two chiefs would split the workers.
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)])
        try:
            self.port = self.server.add_insecure_port(address)
        except RuntimeError:
            self.port = 0
        if not self.port:
            self.server = None
            raise SweepError(problem % "the port is taken")
        return self.port

    def start(self, host: str | None = None, port: int | None = None) -> int:
        """Serve ``self.oracle`` where ``bind`` said (or bind ``host:port`` now); returns the port."""
        if self.server is None:
            self.bind(host, port)
        self.service = OracleService(self.oracle, announce=self.announce)
        service_grpc().add_OracleServicer_to_server(self.service, self.server)
        self.server.start()
        return self.port

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=1).wait(5)
            self.server = None

    def done(self) -> bool:
        """keras-tuner's rule: every trial handed out and every worker told to stop."""
        return self.service.stop_triggered and exit_chief(self.oracle)

    def give_up(self, worker_id: str, reason: str) -> str | None:
        """The worker is gone: end its trial as FAILED, never hand it to another worker."""
        trial_id = _end_ongoing_trial(self.oracle, worker_id, reason)
        if trial_id is not None:
            self.service.given_up[trial_id] = reason
            self.lost.append(trial_id)
            say(f"{reason}: its trial {trial_id} is lost; the sweep goes on with the other workers")
        if self.on_give_up is not None:
            self.on_give_up(worker_id, trial_id, reason)
        return trial_id

    def check_silent_workers(self) -> None:
        """Give up every worker not heard from for ``lost_after_s``."""
        now = time.monotonic()
        for worker_id in set(self.oracle.tuner_ids) | set(self.oracle.ongoing_trials):
            last = self.service.seen.setdefault(worker_id, now)
            if now - last > self.lost_after_s:
                self.service.seen.pop(worker_id, None)
                self.give_up(worker_id, f"worker {worker_id} sent nothing for {self.lost_after_s:.0f} s")
