"""One sweep over several processes and machines: ``vaesweep sweep --workers N`` / ``--chief``.

This is Keras Tuner's own distributed mode: a chief process runs the oracle behind keras-tuner's
gRPC service and each worker asks it for trials (the ``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` variables mean what keras-tuner says).
Every process tracks into one MLflow store (a tracking server across machines); the chief
creates the store, the experiment and the parent run before any worker starts, and each worker
finds that parent by the sweep's name, so every trial is a child of it, tagged with its worker.

What keras-tuner leaves out and this module adds:

- the chief does not wait forever for a dead worker: a local worker whose process exits
  abnormally, or any worker silent for ``LOST_AFTER_S`` (workers send a heartbeat while they run a
  trial), loses its current trial (recorded FAILED in the oracle and KILLED in MLflow, never
  handed to another worker) and the sweep goes on with the others;
- workers wait for a chief that is not up yet, and stop with one line when it is gone: gRPC
  errors never surface as tracebacks.

keras-tuner's gRPC service has no authentication: the oracle's port belongs on a private network.
"""

import _thread
import collections
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc
import keras
import keras_tuner as kt
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_client
from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief
from keras_tuner.src.engine import conditions
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.engine.oracle import synchronized

from sweeps import tracking
from sweeps.console import say
from sweeps.orchestrator import Sweep, _raise_interrupt
from sweeps.training import format_seconds
from vae.errors import ConfigError, SweepError

ENV_TUNER_ID, ENV_IP, ENV_PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
HEARTBEAT_S = 10  # how often a worker running a trial tells the chief it is alive
LOST_AFTER_S = 120  # a worker silent this long has died: its trial is given up
RPC_TIMEOUT_S = 30  # a chief that answers no request for this long is gone
CHIEF_WAIT_S = 600  # how long a worker started before its chief waits for it
POLL_S = 0.5
WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def _parent_to_proto(self):
    """keras-tuner 1.4.8's ``conditions.Parent.to_proto`` without the debug ``print`` it shipped
    with, which writes a condition value to stdout each time a trial crosses gRPC."""
    first = self.values[0]
    kind = ("string_value" if isinstance(first, str) else "boolean_value" if isinstance(first, bool)
            else "int_value" if isinstance(first, int) else "float_value")
    proto = protos.get_proto()
    values = [proto.Value(**{kind: v}) for v in self.values]
    return proto.Condition(parent=proto.Condition.Parent(name=self.name, values=values))


conditions.Parent.to_proto = _parent_to_proto


class ChiefGone(SweepError, kt.errors.FatalError):
    """The chief cannot be reached or refused this worker; keras-tuner lets a FatalError through."""


def distributed_command(args) -> int:
    """``vaesweep sweep`` as a chief, a worker, or a launcher of local workers (see the module doc).

    - ``--workers N``: chief here and N worker processes (the chief binds ``KERASTUNER_ORACLE_IP``
      and ``KERASTUNER_ORACLE_PORT`` when set, else a free port on 127.0.0.1);
    - ``--workers N --chief HOST:PORT``: N worker processes here for a chief elsewhere;
    - ``--chief HOST:PORT [--worker-id ID]``: this process is one worker;
    - no option, ``KERASTUNER_TUNER_ID=chief`` and the oracle variables: this process is a chief
      alone; any other ``KERASTUNER_TUNER_ID`` makes it a worker of that name.
    """
    if args.subset is not None and args.subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {args.subset}")
    env_id = os.environ.get(ENV_TUNER_ID)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.chief:
            host, port = parse_address(args.chief, "--chief")
            if args.workers:
                return run_local_workers(args, host, port, worker_id_base(args.worker_id or env_id))
            return run_worker(args, host, port, check_worker_id(args.worker_id or env_id or default_worker_id()))
        if args.workers or (env_id and is_chief_id(env_id)):
            host, port = chief_address_from_env(required=not args.workers)
            if env_id and not is_chief_id(env_id):
                raise ConfigError(f"{ENV_TUNER_ID}={env_id} names a worker, but --workers starts a chief; "
                                  f"unset it or use --chief HOST:PORT to join a chief elsewhere")
            return run_chief(args, host, port, args.workers or 0)
        if not env_id:
            raise ConfigError(f"{ENV_IP} is set but {ENV_TUNER_ID} is not: set it to 'chief' on the chief and to a "
                              "unique name on each worker (or use --workers N / --chief HOST:PORT)")
        host, port = chief_address_from_env(required=True)
        return run_worker(args, host, port, check_worker_id(args.worker_id or env_id))
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------- addresses and names


def parse_address(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} expects HOST:PORT (e.g. 10.0.0.5:8000), got '{text}'")
    return host.strip("[]"), int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def chief_address_from_env(required: bool) -> tuple[str, int]:
    """Where the chief serves the oracle: keras-tuner's variables, else a free port on 127.0.0.1."""
    host, port = os.environ.get(ENV_IP), os.environ.get(ENV_PORT)
    if required and not (host and port):
        raise ConfigError(f"a chief needs {ENV_IP} and {ENV_PORT} (the address it serves the oracle on), "
                          "or use --workers N to run the chief and its workers on this machine")
    if port is not None and not (port.isdigit() and 0 <= int(port) < 65536):
        raise ConfigError(f"{ENV_PORT} must be a port number, got '{port}'")
    return host or "127.0.0.1", int(port or 0)


def is_chief_id(tuner_id: str) -> bool:
    return "chief" in tuner_id  # keras-tuner's own test (distribute/utils.is_chief_oracle)


def check_worker_id(worker_id: str) -> str:
    if not WORKER_ID.match(worker_id):
        raise ConfigError(f"worker id '{worker_id}' must be letters, digits, '.', '_' or '-' (at most 63)")
    if is_chief_id(worker_id):
        raise ConfigError(f"worker id '{worker_id}' contains 'chief', which Keras Tuner reserves for the chief")
    return worker_id


def default_worker_id() -> str:
    return f"{worker_id_base(None)}-{os.getpid()}"


def worker_id_base(name: str | None) -> str:
    base = name or re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname().split(".")[0]) or "worker"
    return check_worker_id(base)


def connect_host(bind_host: str) -> str:
    return "127.0.0.1" if bind_host in ("0.0.0.0", "::", "") else bind_host


def worker_argv(args, sweep) -> list[str]:
    """The ``vaesweep sweep`` options that make a worker join ``sweep`` (all of them resolved)."""
    argv = ["--dataset", args.dataset, "--budget", sweep.budget_name, "--tuner", sweep.tuner_name,
            "--max-trials", str(sweep.max_trials), "--seed", str(sweep.seed), "--name", sweep.name,
            "--tracking-uri", sweep.client.tracking_uri]
    for option, value in (("--data-dir", args.data_dir), ("--subset", args.subset), ("--config", args.config)):
        if value is not None:
            argv += [option, str(value)]
    return argv


@contextlib.contextmanager
def keras_tuner_env(tuner_id: str, host: str, port: int):
    """Set keras-tuner's variables for this process while it builds and runs its tuner."""
    values = {ENV_TUNER_ID: tuner_id, ENV_IP: host, ENV_PORT: str(port)}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---------------------------------------------------------------- the chief


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
        if self.announce and response.trial.status == protos.get_proto().TrialStatus.RUNNING:
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
            status = trial_module.TrialStatus.from_proto(request.trial.status)
            say(f"trial {request.trial.trial_id} {(status or 'ended').lower()} ({self.owner(request.trial.trial_id)})")
        return super().EndTrial(request, context)


@synchronized
def _end_ongoing_trial(oracle, tuner_id: str, reason: str):
    """Forget worker ``tuner_id`` and end its trial as FAILED, under the oracle's lock."""
    oracle.tuner_ids.discard(tuner_id)
    trial = oracle.ongoing_trials.get(tuner_id)
    if trial is None:
        return None
    trial.status, trial.message = trial_module.TrialStatus.FAILED, reason
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
        protos.get_service_grpc().add_OracleServicer_to_server(self.service, self.server)
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


def close_running(sweep, reason: str, worker_id: str | None = None) -> int:
    """Mark the sweep's RUNNING trial runs (of one worker, or all) KILLED with ``reason``."""
    closed = 0
    for run in sweep.children(status="RUNNING"):
        if worker_id is None or run.data.tags.get("worker") == worker_id:
            tracking.set_tags(sweep.client, run.info.run_id, {"trial_status": "KILLED", "failure_reason": reason})
            sweep.client.set_terminated(run.info.run_id, "KILLED")
            closed += 1
    return closed


def run_chief(args, host: str, port: int, n_workers: int) -> int:
    """Create the store, experiment and parent run, serve the oracle, run ``n_workers`` local
    workers (none: workers join from elsewhere), then close the sweep like a single process."""
    chief = Chief(announce=n_workers == 0)
    port = chief.bind(host, port)  # a taken port fails here, before anything is created
    try:
        sweep = Sweep(args)  # creates and migrates the store and the experiment once, before any worker
        sweep.load_data()
        sweep.open_parent()
        with keras_tuner_env("chief", host, port):
            tuner = sweep.make_tuner()
            tuner.oracle.verbose = 0  # keras-tuner's trial tables; workers print one line per trial
            tuner.save()
    except BaseException:
        chief.stop()
        raise
    chief.oracle = tuner.oracle
    chief.on_give_up = lambda worker, trial, reason: close_running(sweep, reason, worker)
    address = join_address(host, port)
    verb = "resuming" if sweep.resumed else "starting"
    say(f"{verb} sweep '{sweep.name}': {sweep.tuner_name}, budget {sweep.budget_name} ({sweep.max_trials} trials, "
        f"{sweep.budget.epochs} epochs); chief serving the oracle on {address}")
    loopback = host.startswith("127.") or host in ("localhost", "::1")
    if n_workers == 0 or not loopback:
        target = "<this-host>" if host in ("0.0.0.0", "::", "") else host
        say(f"start workers with (keep port {port} on a private network: keras-tuner's gRPC has no authentication):"
            f"\n  vaesweep sweep {' '.join(worker_argv(args, sweep))} --chief {target}:{port} --worker-id <name>"
            + (f"\n(bound to {host}: only this machine can join; set {ENV_IP} to a private address for others)"
               if loopback else ""))
        if sweep.client.tracking_uri.startswith("sqlite") and not loopback:
            say("note: the MLflow store is a local SQLite file; workers on other machines need a tracking server "
                "(make server) and --tracking-uri http://<server>:5000 on every process")
    workers, status, start = [], "FAILED", time.monotonic()
    try:
        chief.start()
        if n_workers:
            argv = [*worker_argv(args, sweep), "--chief", join_address(connect_host(host), port)]
            workers = [LocalWorker(f"worker-{i}", argv) for i in range(n_workers)]
        supervise(chief, workers)
        stop_workers(workers, grace=60)
        chief.stop()
        status = sweep.finish(time.monotonic() - start)
        if chief.lost:
            say(f"{len(chief.lost)} trial(s) lost with their worker: {', '.join(chief.lost)} (KILLED in MLflow)")
    except KeyboardInterrupt:
        status = "KILLED"
        print(f"interrupted; finished trials are kept. Resume with the same command and --name {sweep.name} "
              "--resume", file=sys.stderr)
        raise
    finally:
        stop_workers(workers, grace=30)
        chief.stop()
        left = close_running(sweep, "its worker stopped without closing the run")
        if left:
            say(f"marked {left} trial run(s) left RUNNING by stopped workers as KILLED")
        sweep.client.set_terminated(sweep.parent_id, status)
    return 0


def supervise(chief: Chief, workers: list) -> None:
    """Serve until the oracle is done, giving up the trials of workers that exit abnormally or
    fall silent. Raises SweepError when every local worker is gone before the sweep is done."""
    while not chief.done():
        time.sleep(POLL_S)
        for worker in workers:
            code = worker.exit_code()
            if code is not None and not worker.reaped:
                worker.reaped = True
                if code != 0:
                    chief.give_up(worker.id, f"worker {worker.id} {describe_exit(code)}")
        chief.check_silent_workers()
        others = set(chief.oracle.tuner_ids) | set(chief.oracle.ongoing_trials)  # workers from elsewhere
        if workers and all(w.reaped for w in workers) and not others and not chief.done():
            last = next((w for w in workers if w.tail), workers[0])
            words = f": [{last.id}] {last.tail[-1]}" if last.tail else ""
            raise SweepError(f"every worker exited before the sweep finished{words}")


# ---------------------------------------------------------------- local worker processes


class LocalWorker:
    """A ``vaesweep sweep --chief ...`` child process whose output is relayed as ``[id] line``."""

    def __init__(self, worker_id: str, argv: list[str]):
        self.id, self.reaped = worker_id, False
        self.tail = collections.deque(maxlen=3)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
        env.update(PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        self.proc = subprocess.Popen([sys.executable, "-m", "sweeps.cli", "sweep", *argv, "--worker-id", worker_id],
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


def run_local_workers(args, host: str, port: int, base: str) -> int:
    """``--workers N --chief HOST:PORT``: N workers here for a chief elsewhere."""
    if not args.name:
        raise ConfigError("--chief needs --name, the name of the sweep to join (the chief prints it when it starts)")
    if args.resume:
        say("note: --resume is for the chief; workers join whatever the chief runs")
    argv = ["--dataset", args.dataset, "--budget", args.budget, "--seed", str(args.seed), "--name", args.name,
            "--chief", join_address(host, port)]
    for option, value in (("--data-dir", args.data_dir), ("--subset", args.subset), ("--config", args.config),
                          ("--tuner", args.tuner), ("--max-trials", args.max_trials),
                          ("--tracking-uri", args.tracking_uri)):
        if value is not None:
            argv += [option, str(value)]
    workers = [LocalWorker(f"{base}-{i}", argv) for i in range(args.workers)]
    try:
        while not all(w.exit_code() is not None for w in workers):
            time.sleep(POLL_S)
    finally:
        stop_workers(workers, grace=30)
    failed = [w for w in workers if w.proc.returncode != 0]
    if failed:
        sweep = None
        with contextlib.suppress(Exception):  # the chief also closes them, once it notices
            sweep = Sweep(args)
            sweep.join_parent()
        for worker in failed:
            if sweep is not None:
                close_running(sweep, f"worker {worker.id} {describe_exit(worker.proc.returncode)}", worker.id)
        raise SweepError(f"{len(failed)} of {len(workers)} workers failed: "
                         + "; ".join(f"{w.id} {describe_exit(w.proc.returncode)}" for w in failed))
    return 0


# ---------------------------------------------------------------- a worker


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


class ChiefClient(oracle_client.OracleClient):
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
        if trial.status == trial_module.TrialStatus.IDLE:
            time.sleep(1)  # keras-tuner asks again at once; do not spin the chief
        elif trial.status == trial_module.TrialStatus.RUNNING:
            with self._lock:
                self.trial_id = self.last_trial_id = trial.trial_id
        return trial

    def end_trial(self, trial):
        with self._lock:  # no heartbeat about a trial the chief has closed
            self.trial_id = None
        super().end_trial(trial)

    def _beat(self, interval: float) -> None:
        request = protos.get_service().GetTrialRequest
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
    stub = protos.get_service_grpc().OracleStub(channel)
    start = time.monotonic()
    next_note = start
    try:
        while True:
            remaining = start + wait_s - time.monotonic()
            try:
                stub.GetSpace(protos.get_service().GetSpaceRequest(), wait_for_ready=True,
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


def run_worker(args, host: str, port: int, worker_id: str) -> int:
    """Join the sweep that the chief at ``host:port`` runs and take trials until it says stop."""
    if not args.name:
        raise ConfigError("--chief needs --name, the name of the sweep to join (the chief prints it when it starts)")
    address = join_address(host, port)
    wait_for_chief(address)  # the chief creates the experiment and the parent run before it serves
    args.worker_id = worker_id
    sweep = Sweep(args)
    sweep.load_data()
    sweep.join_parent()
    say(f"worker {worker_id} joined sweep '{sweep.name}' (chief {address}, MLflow {sweep.client.tracking_uri})")
    with keras_tuner_env(worker_id, host, port):
        tuner = sweep.make_tuner()
        client = ChiefClient(tuner.oracle._oracle, address)
        tuner.oracle = client
        keras.utils.set_random_seed(sweep.seed)
        try:
            tuner.search(epochs=sweep.budget.epochs, verbose=0)
        except KeyboardInterrupt:
            if client.lost is None:
                raise
            for run in sweep.children(status="KILLED"):  # it was recorded as "interrupted"
                tags = run.data.tags
                if tags.get("worker") == worker_id and tags.get("trial_id") == client.last_trial_id:
                    tracking.set_tags(sweep.client, run.info.run_id, {"failure_reason": client.lost})
            raise SweepError(client.lost) from None
        finally:
            client.close()
    say(f"worker {worker_id}: no trials left in sweep '{sweep.name}' after {len(tuner.trial_times)} here")
    return 0
