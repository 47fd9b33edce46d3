"""`vaesweep server`: an MLflow tracking server that several sweep workers log to.

Workers on any machine reach it with ``MLFLOW_TRACKING_URI=http://HOST:PORT`` (or
``--tracking-uri``); the server writes the database and stores the artifacts it is sent under
``mlruns/artifacts``. The store is created or migrated here, once, before the server starts:
several processes creating one SQLite database at the same moment corrupt it.
"""

import errno
import os
import socket
import subprocess
import sys

from sweeps import tracking
from sweeps.config import ServerConfig
from sweeps.console import say
from vae.errors import ConfigError

DATABASE_WORKERS = 4  # MLflow's default


def default_backend_uri() -> str:
    return f"sqlite:///{tracking.mlruns_dir() / 'mlflow.db'}"


def check_port_free(host: str, port: int) -> None:
    """Fail in one line when ``host:port`` is taken, before MLflow fails in many."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot bind the server to '{host}': {exc.strerror}; pass an address of this machine "
                          "with --host (default 127.0.0.1)") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server will: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is already in use (another MLflow server?); stop it or pick "
                                  f"another port: vaesweep server --port {port + 1} (make server PORT={port + 1})") from None
            raise ConfigError(f"cannot bind the server to {host}:{port}: {exc.strerror}") from None


def database_uri(uri: str) -> str:
    """``uri`` with the PostgreSQL driver that is installed named: SQLAlchemy 2.1 reads a plain
    ``postgresql://`` as psycopg 3, while the ``postgres`` extra installs psycopg2."""
    scheme, rest = uri.split("://", 1)
    if scheme not in ("postgresql", "postgres"):
        return uri
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        raise ConfigError("a postgresql:// store needs psycopg2: pip install -e '.[postgres]'") from None
    return f"postgresql+psycopg2://{rest}"


def migrate(uri: str) -> None:
    """Create the store's tables, or bring an older schema up to this MLflow's."""
    try:
        tracking.connect(uri).search_experiments(max_results=1)
        return
    except Exception as exc:  # noqa: BLE001 - any failure to open the store ends in one line
        message = str(exc)
        if "out-of-date database schema" not in message:
            first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
            raise ConfigError(f"cannot open the MLflow store {uri}: {first[:300]}") from None
    say(f"migrating {uri} to this MLflow's schema (mlflow db upgrade)")
    done = subprocess.run([sys.executable, "-m", "mlflow", "db", "upgrade", uri], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ConfigError(f"cannot migrate the MLflow store {uri}: {last[:300]}")


def server_command(config: ServerConfig) -> int:
    """Migrate the store, then replace this process with ``mlflow server``."""
    uri = config.backend_store_uri or default_backend_uri()
    if "://" not in uri or uri.split("://")[0] in ("file", "http", "https"):
        raise ConfigError(f"--backend-store-uri must be a database URI (sqlite:///path/mlflow.db, "
                          f"postgresql://user@host/db, ...), got '{uri}'")
    if config.workers is not None and config.workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {config.workers}")
    if not 0 < config.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {config.port}")
    check_port_free(config.host, config.port)
    uri = database_uri(uri)
    migrate(uri)
    artifacts = tracking.mlruns_dir() / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri,
               "--artifacts-destination", str(artifacts), "--serve-artifacts",
               "--host", config.host, "--port", str(config.port)]
    # A SQLite file takes one writer at a time anyway; a database server takes several.
    command += ["--workers", str(config.workers or (1 if uri.startswith("sqlite") else DATABASE_WORKERS))]
    url_host = f"[{config.host}]" if ":" in config.host else config.host
    say(f"MLflow tracking server on http://{url_host}:{config.port}  (store {uri}, artifacts {artifacts})\n"
        f"point every sweep process at it: MLFLOW_TRACKING_URI=http://{url_host}:{config.port} "
        f"(or --tracking-uri){'' if config.host.startswith('127.') else '; it has no authentication: private network only'}")
    # MLflow's job runners (GenAI scorers; seven processes) serve nothing a sweep logs.
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)
    return 0  # not reached
