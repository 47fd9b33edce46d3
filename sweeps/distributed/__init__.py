"""One sweep over several processes and machines: ``vaesweep sweep --workers N`` / ``--chief``.

This is Keras Tuner's own distributed mode: a chief process runs the oracle behind keras-tuner's
gRPC service and each worker asks it for trials (the ``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` variables mean what keras-tuner says).
Every process tracks into one MLflow store (a tracking server across machines); the chief
creates the store, the experiment and the parent run before any worker starts, and each worker
finds that parent by the sweep's name, so every trial is a child of it, tagged with its worker.

What keras-tuner leaves out and this package adds:

- the chief does not wait forever for a dead worker: a local worker whose process exits
  abnormally, or any worker silent for ``LOST_AFTER_S`` (workers send a heartbeat while they run a
  trial), loses its current trial (recorded FAILED in the oracle and KILLED in MLflow, never
  handed to another worker) and the sweep goes on with the others;
- workers wait for a chief that is not up yet, and stop with one line when it is gone: gRPC
  errors never surface as tracebacks.

keras-tuner's gRPC service has no authentication: the oracle's port belongs on a private network.

Modules: ``addresses`` (options, variables, ids), ``oracle_chief`` and ``oracle_client`` (the
two ends of the gRPC oracle), ``supervisor`` (local worker processes), ``roles`` (each
process's lifecycle).
"""

import os

from sweeps.config import SweepConfig
from sweeps.distributed.addresses import (
    ENV_IP,
    ENV_TUNER_ID,
    check_worker_id,
    chief_address_from_env,
    default_worker_id,
    is_chief_id,
    parse_address,
    worker_id_base,
)
from sweeps.distributed.roles import run_chief, run_local_workers, run_worker
from vae.errors import ConfigError


def is_distributed(config: SweepConfig) -> bool:
    """Whether this sweep runs as a chief or worker (Keras Tuner's variables count too)."""
    return bool(config.workers or config.chief or ENV_IP in os.environ)


def distributed_command(config: SweepConfig) -> int:
    """``vaesweep sweep`` as a chief, a worker, or a launcher of local workers.

    - ``--workers N``: chief here and N worker processes (the chief binds ``KERASTUNER_ORACLE_IP``
      and ``KERASTUNER_ORACLE_PORT`` when set, else a free port on 127.0.0.1);
    - ``--workers N --chief HOST:PORT``: N worker processes here for a chief elsewhere;
    - ``--chief HOST:PORT [--worker-id ID]``: this process is one worker;
    - no option, ``KERASTUNER_TUNER_ID=chief`` and the oracle variables: this process is a chief
      alone; any other ``KERASTUNER_TUNER_ID`` makes it a worker of that name.
    """
    env_id = os.environ.get(ENV_TUNER_ID)
    if config.chief:
        host, port = parse_address(config.chief, "--chief")
        if config.workers:
            return run_local_workers(config, host, port, worker_id_base(config.worker_id or env_id))
        return run_worker(config, host, port, check_worker_id(config.worker_id or env_id or default_worker_id()))
    if config.workers or (env_id and is_chief_id(env_id)):
        host, port = chief_address_from_env(required=not config.workers)
        if env_id and not is_chief_id(env_id):
            raise ConfigError(f"{ENV_TUNER_ID}={env_id} names a worker, but --workers starts a chief; "
                              f"unset it or use --chief HOST:PORT to join a chief elsewhere")
        return run_chief(config, host, port, config.workers or 0)
    if not env_id:
        raise ConfigError(f"{ENV_IP} is set but {ENV_TUNER_ID} is not: set it to 'chief' on the chief and to a "
                          "unique name on each worker (or use --workers N / --chief HOST:PORT)")
    host, port = chief_address_from_env(required=True)
    return run_worker(config, host, port, check_worker_id(config.worker_id or env_id))
