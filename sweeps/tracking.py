"""Everything vaesweep writes to MLflow goes through here (explicit run ids, no global
active run, so nested trial runs and resumed sweeps never log into the wrong run)."""

import functools
import io
import logging
import random
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from PIL import Image

from vae import config, runtime

TAG_ROLE = "vaesweep.role"  # "train" | "sweep" | "trial"
TAG_SWEEP = "vaesweep.sweep"
TAG_PARENT = "mlflow.parentRunId"
MAX_BATCH = 900  # MLflow accepts up to 1000 metrics per log_batch call
# Several processes writing one SQLite store: MLflow already waits 20 s for the lock (its
# sessions set ``PRAGMA busy_timeout``); past that, a write is retried this many more times.
LOCK_RETRIES = 5


def is_locked(exc: Exception) -> bool:
    """Whether ``exc`` is SQLite's "database is locked", which MLflow reports as
    TEMPORARILY_UNAVAILABLE (a tracking server answers 503 and its client retries by itself)."""
    return (isinstance(exc, MlflowException) and exc.error_code == "TEMPORARILY_UNAVAILABLE"
            and "locked" in str(exc).lower())


def retry_locked(method):
    """Wrap a client method so that a write refused by a locked SQLite store is tried again.

    A refused write was rolled back by MLflow, so trying it again cannot log anything twice.
    """
    @functools.wraps(method)
    def call(*args, **kwargs):
        for attempt in range(LOCK_RETRIES + 1):
            try:
                return method(*args, **kwargs)
            except MlflowException as exc:
                if attempt == LOCK_RETRIES or not is_locked(exc):
                    raise
                time.sleep(min(2**attempt, 10) * random.uniform(0.5, 1.0))

    return call


class Client(MlflowClient):
    """An ``MlflowClient`` whose writes outlast another process holding a SQLite store's lock."""


for _name in ("create_experiment", "create_run", "update_run", "set_terminated", "log_batch", "log_metric",
              "log_param", "set_tag", "log_artifact", "log_text"):
    setattr(Client, _name, retry_locked(getattr(MlflowClient, _name)))


class _RetriedLockErrors(logging.Filter):
    """MLflow logs a traceback for every "database is locked" before raising it; the write is
    retried here, so that traceback would only alarm."""

    def filter(self, record):
        return "database is locked" not in record.getMessage()


logging.getLogger("mlflow.store.db.utils").addFilter(_RetriedLockErrors())


def connect(tracking_uri: str | None = None) -> Client:
    """A client on ``tracking_uri`` (default: the embedded SQLite store under ./mlruns)."""
    uri = tracking_uri or config.default_tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    return Client(tracking_uri=uri)


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created on first use.

    With the embedded SQLite store the artifacts go beside the database (``mlruns/artifacts``)
    whatever the working directory; a tracking server chooses its own artifact location.
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    uri = client.tracking_uri
    if uri.startswith("sqlite:///"):
        location = (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException as exc:  # another process created it in the meantime
        experiment = client.get_experiment_by_name(name)
        if exc.error_code != "RESOURCE_ALREADY_EXISTS" or experiment is None:
            raise
        return experiment.experiment_id


def versions() -> dict[str, str]:
    """Versions of the libraries that shape a result: the backend's (tensorflow, jax, ... where
    installed, read without importing them) and the sweep's own."""
    return runtime.library_versions("keras_tuner", "mlflow")


def log_params(client: MlflowClient, run_id: str, params: dict) -> None:
    """Log params (values as strings) in one call."""
    client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])


def set_tags(client: MlflowClient, run_id: str, tags: dict) -> None:
    client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


def log_metrics(client: MlflowClient, run_id: str, metrics: dict, step: int = 0) -> None:
    """Log many metrics at one step in as few calls as MLflow allows (one per 900)."""
    now = int(time.time() * 1000)
    items = [Metric(k, float(v), now, step) for k, v in metrics.items()]
    for start in range(0, len(items), MAX_BATCH):
        client.log_batch(run_id, metrics=items[start : start + MAX_BATCH])


def log_image(client: MlflowClient, run_id: str, image: np.ndarray, path: str) -> None:
    """Log a uint8 image array as a PNG artifact at ``path`` (e.g. ``images/samples.png``)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / Path(path).name
        file.write_bytes(buffer.getvalue())
        client.log_artifact(run_id, str(file), artifact_path=str(Path(path).parent))


def log_text(client: MlflowClient, run_id: str, text: str, path: str) -> None:
    client.log_text(run_id, text, path)


def log_model(client: MlflowClient, run_id: str, model) -> None:
    """Save the trained Keras model as ``model/model.keras``."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "model.keras"
        model.save(file)
        client.log_artifact(run_id, str(file), artifact_path="model")


def run_url_hint(client: MlflowClient, run_id: str) -> str:
    """Where a user finds a run: the store and the command that opens the UI on it."""
    uri = client.tracking_uri
    if uri.startswith("http"):
        return f"{uri}/#/experiments/{client.get_run(run_id).info.experiment_id}/runs/{run_id}"
    return f"run {run_id} in {uri} (open it with: make ui)"


def log_bytes(client: MlflowClient, run_id: str, data: bytes, path: str) -> None:
    """Log raw bytes as the artifact ``path`` (e.g. ``latents/codes.npz``)."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / Path(path).name
        file.write_bytes(data)
        parent = str(Path(path).parent)
        client.log_artifact(run_id, str(file), artifact_path=None if parent == "." else parent)
