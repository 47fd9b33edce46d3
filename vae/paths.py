"""Where the library finds data and caches preprocessed arrays (the MLflow store's paths are
``sweeps.tracking``'s: the library knows nothing of MLflow)."""

import os
from pathlib import Path

DATA_DIR_ENV = "VAE_DATA_DIR"
CACHE_DIR_ENV = "VAE_CACHE_DIR"


def data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Where local dataset files live: ``--data-dir``, else ``$VAE_DATA_DIR``, else None."""
    value = explicit or os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where preprocessed arrays are cached (``$VAE_CACHE_DIR`` or ``~/.cache/vaesweep``)."""
    value = os.environ.get(CACHE_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "vaesweep"
