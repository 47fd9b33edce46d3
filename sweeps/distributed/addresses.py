"""Addresses and names of a distributed sweep: HOST:PORT options, Keras Tuner's variables
(``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``) and worker ids."""

import contextlib
import os
import re
import socket

from vae.errors import ConfigError

ENV_TUNER_ID, ENV_IP, ENV_PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


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
