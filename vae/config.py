"""Paths and defaults in one place."""

import os
from pathlib import Path

DATA_DIR_ENV = "VAE_DATA_DIR"
CACHE_DIR_ENV = "VAE_CACHE_DIR"


def mlruns_dir() -> Path:
    """The local MLflow store's folder: ``./mlruns`` under the working directory."""
    return Path.cwd() / "mlruns"


def default_tracking_uri() -> str:
    """The embedded SQLite store, unless ``MLFLOW_TRACKING_URI`` says otherwise."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{mlruns_dir() / 'mlflow.db'}"


def data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Where local dataset files live: ``--data-dir``, else ``$VAE_DATA_DIR``, else None."""
    value = explicit or os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where preprocessed arrays are cached (``$VAE_CACHE_DIR`` or ``~/.cache/vaesweep``)."""
    value = os.environ.get(CACHE_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "vaesweep"
