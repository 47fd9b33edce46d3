"""The lifecycles of a distributed sweep's processes, built from the orchestrator's steps.

- the chief: prepare the sweep and open its parent run (creating the store and the
  experiment once, before any worker starts), serve the oracle, supervise the workers, and
  finish the sweep as a standalone one does;
- a worker: wait for the chief, join its parent run, take trials until the chief says stop;
- a local supervisor: N workers here for a chief elsewhere.
"""

import time

from sweeps import kt_adapter, record
from sweeps.config import SweepConfig
from sweeps.console import say
from sweeps.distributed.addresses import ENV_IP, connect_host, join_address, keras_tuner_env
from sweeps.distributed.oracle_chief import Chief
from sweeps.distributed.oracle_client import ChiefClient, wait_for_chief
from sweeps.distributed.supervisor import POLL_S, LocalWorker, describe_exit, stop_workers
from sweeps.orchestrator import Sweep, prepare
from vae.errors import ConfigError, SweepError


def require_name(config: SweepConfig) -> None:
    if not config.name:
        raise ConfigError("--chief needs --name, the name of the sweep to join (the chief prints it when it starts)")


def close_runs_of(sweep: Sweep, reason: str, worker: str | None = None) -> int:
    return record.close_running(sweep.client, sweep.experiment_id, sweep.parent_id, reason, worker)


def worker_command(config: SweepConfig, chief: str) -> list[str]:
    """The ``vaesweep sweep`` options of a worker of ``config``'s sweep (without its id)."""
    return [*config.to_argv(), "--chief", chief]


def run_chief(config: SweepConfig, host: str, port: int, n_workers: int) -> int:
    """Serve the oracle for ``n_workers`` local workers (none: workers join from elsewhere),
    then close the sweep like a single process."""
    chief = Chief(announce=n_workers == 0)
    port = chief.bind(host, port)  # a taken port fails here, before anything is created
    try:
        sweep = prepare(config)
        sweep.open_parent()
        with keras_tuner_env("chief", host, port):
            tuner = sweep.make_tuner()
            tuner.oracle.verbose = 0  # keras-tuner's trial tables; workers print one line per trial
            tuner.save()
    except BaseException:
        chief.stop()
        raise
    chief.oracle = tuner.oracle
    chief.on_give_up = lambda worker, trial, reason: close_runs_of(sweep, reason, worker)
    sweep.announce(f"; chief serving the oracle on {join_address(host, port)}")
    loopback = host.startswith("127.") or host in ("localhost", "::1")
    if n_workers == 0 or not loopback:
        target = "<this-host>" if host in ("0.0.0.0", "::", "") else host
        say(f"start workers with (keep port {port} on a private network: keras-tuner's gRPC has no authentication):"
            f"\n  vaesweep sweep {' '.join(worker_command(sweep.resolved, f'{target}:{port}'))} --worker-id <name>"
            + (f"\n(bound to {host}: only this machine can join; set {ENV_IP} to a private address for others)"
               if loopback else ""))
        if sweep.client.tracking_uri.startswith("sqlite") and not loopback:
            say("note: the MLflow store is a local SQLite file; workers on other machines need a tracking server "
                "(make server) and --tracking-uri http://<server>:5000 on every process")
    workers, status, start = [], record.FAILED, time.monotonic()
    try:
        chief.start()
        # Workers sharing one GPU each take a share of its memory (JAX and TensorFlow take it all).
        shares = sweep.resolved.replace(memory_fraction=config.memory_fraction or round(0.9 / max(n_workers, 1), 3))
        argv = worker_command(shares, join_address(connect_host(host), port))
        workers = [LocalWorker(f"worker-{i}", argv) for i in range(n_workers)]
        supervise(chief, workers)
        stop_workers(workers, grace=60)
        chief.stop()
        sweep.replicate(tuner)  # here, once every worker is done: the chief holds the oracle's trials
        status = sweep.finish(time.monotonic() - start)
        if chief.lost:
            say(f"{len(chief.lost)} trial(s) lost with their worker: {', '.join(chief.lost)} (KILLED in MLflow)")
    except KeyboardInterrupt:
        status = record.KILLED
        say(f"interrupted; finished trials are kept. Resume with the same command and --name {sweep.name} --resume")
        raise
    finally:
        stop_workers(workers, grace=30)
        chief.stop()
        left = close_runs_of(sweep, "its worker stopped without closing the run")
        if left:
            say(f"marked {left} trial run(s) left RUNNING by stopped workers as KILLED")
        record.close_sweep(sweep.client, sweep.parent_id, status)
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


def run_local_workers(config: SweepConfig, host: str, port: int, base: str) -> int:
    """``--workers N --chief HOST:PORT``: N workers here for a chief elsewhere."""
    require_name(config)
    if config.resume:
        say("note: --resume is for the chief; workers join whatever the chief runs")
    argv = worker_command(config.replace(resume=False), join_address(host, port))
    workers = [LocalWorker(f"{base}-{i}", argv) for i in range(config.workers)]
    try:
        while not all(w.exit_code() is not None for w in workers):
            time.sleep(POLL_S)
    finally:
        stop_workers(workers, grace=30)
    failed = [w for w in workers if w.proc.returncode != 0]
    if failed:
        try:  # the chief also closes them, once it notices
            sweep = prepare(config)
            sweep.join_parent()
            for worker in failed:
                close_runs_of(sweep, f"worker {worker.id} {describe_exit(worker.proc.returncode)}", worker.id)
        except Exception:  # noqa: BLE001 - the store may be out of reach; the error below says what failed
            pass
        raise SweepError(f"{len(failed)} of {len(workers)} workers failed: "
                         + "; ".join(f"{w.id} {describe_exit(w.proc.returncode)}" for w in failed))
    return 0


def run_worker(config: SweepConfig, host: str, port: int, worker_id: str) -> int:
    """Join the sweep that the chief at ``host:port`` runs and take trials until it says stop."""
    require_name(config)
    address = join_address(host, port)
    wait_for_chief(address)  # the chief creates the experiment and the parent run before it serves
    sweep = prepare(config, worker=worker_id)
    sweep.join_parent()
    say(f"worker {worker_id} joined sweep '{sweep.name}' (chief {address}, MLflow {sweep.client.tracking_uri})")
    with keras_tuner_env(worker_id, host, port):
        tuner = sweep.make_tuner()
        client = ChiefClient(kt_adapter.local_oracle(tuner), address)
        tuner.oracle = client
        try:
            sweep.search(tuner)
        except KeyboardInterrupt:
            if client.lost is None:
                raise
            for run in record.children(sweep.client, sweep.experiment_id, sweep.parent_id, status=record.KILLED):
                row = record.trial_row(run)  # it was recorded as "interrupted"
                if row.worker == worker_id and row.trial_id == client.last_trial_id:
                    record.set_failure_reason(sweep.client, run.info.run_id, client.lost)
            raise SweepError(client.lost) from None
        finally:
            client.close()
    say(f"worker {worker_id}: no trials left in sweep '{sweep.name}' after {tuner.trials_run} here")
    return 0
