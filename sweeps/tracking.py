"""MLflow I/O: the client, experiments and logging helpers (explicit run ids, no global
active run, so nested trial runs and resumed sweeps never log into the wrong run).

What the record means (tag names, roles, statuses, queries) lives in ``sweeps.record``."""

import contextlib
import functools
import io
import logging
import os
import random
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from PIL import Image

from sweeps import record
from vae import runtime

MAX_BATCH = 900  # MLflow accepts up to 1000 metrics per log_batch call
# Several processes writing one SQLite store: MLflow already waits 20 s for the lock (its
# sessions set ``PRAGMA busy_timeout``); past that, a write is retried this many more times.
LOCK_RETRIES = 5
SYSTEM_METRICS_S = 10.0  # MLflow's default: about 360 rows per metric per trial-hour


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


# Every write of the client: creating, updating, terminating and logging.
WRITES = ("create_", "update_", "set_", "log_")
for _name in [n for n in vars(MlflowClient) if n.startswith(WRITES) and callable(getattr(MlflowClient, n))]:
    setattr(Client, _name, retry_locked(getattr(MlflowClient, _name)))


class _RetriedLockErrors(logging.Filter):
    """MLflow logs a traceback for every "database is locked" before raising it; the write is
    retried here, so that traceback would only alarm."""

    def filter(self, record):
        return "database is locked" not in record.getMessage()


logging.getLogger("mlflow.store.db.utils").addFilter(_RetriedLockErrors())


def mlruns_dir() -> Path:
    """The local MLflow store's folder: ``./mlruns`` under the working directory (the tuner's
    state lives in its ``tuner/`` folder)."""
    return Path.cwd() / "mlruns"


def default_tracking_uri() -> str:
    """The embedded SQLite store, unless ``MLFLOW_TRACKING_URI`` says otherwise."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{mlruns_dir() / 'mlflow.db'}"


def store_exists(tracking_uri: str | None = None) -> bool:
    """Whether the store holds anything to read (a SQLite file that is absent would be created)."""
    uri = tracking_uri or default_tracking_uri()
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).is_file()


def connect(tracking_uri: str | None = None) -> Client:
    """A client on ``tracking_uri`` (default: the embedded SQLite store under ./mlruns)."""
    uri = tracking_uri or default_tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    return Client(tracking_uri=uri)


def experiment_id(client: MlflowClient, name: str, tags: dict | None = None) -> str:
    """The id of experiment ``name``, created on first use (with ``tags``).

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
        return client.create_experiment(name, artifact_location=location, tags=tags)
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


def log_keras_model(client: MlflowClient, run_id: str, model, inputs) -> str:
    """Log the trained model with MLflow's Keras flavor as the run's model output.

    The logged model is created in the run's experiment first (MLflow would otherwise file it
    under the default experiment when no run is active), then ``Model.log`` saves it as
    ``mlflow.keras.log_model`` does, linked to ``run_id``. The signature is inferred from
    ``inputs`` (a batch as the model takes it) and the model's outputs on it; a model that takes
    several arrays (``(images, conditions)``) gets none, as a Keras-flavor signature describes
    one tensor. No input example: MLflow's Keras flavor writes it before creating the model
    folder and fails (open MLflow issue https://github.com/mlflow/mlflow/issues/16183).
    Loading needs ``vae.models`` imported (the classes are registered with Keras on import),
    which the model's metadata says.

    Returns:
        the model's URI, ``models:/<model_id>``.
    """
    import keras
    import mlflow.keras
    import tensorflow as tf
    from mlflow.models import Model, infer_signature

    run = client.get_run(run_id)
    logged = client.create_logged_model(run.info.experiment_id, name=record.MODEL_NAME, source_run_id=run_id,
                                        params=dict(run.data.params))
    signature = None
    if isinstance(inputs, np.ndarray):
        outputs = keras.tree.map_structure(keras.ops.convert_to_numpy, model(inputs, training=False))
        signature = infer_signature(inputs, outputs)
    requirements = [f"keras=={keras.__version__}", f"tensorflow=={tf.__version__}", f"numpy=={np.__version__}"]
    info = Model.log(artifact_path=None, name=record.MODEL_NAME, flavor=mlflow.keras, model=model, run_id=run_id,
                     model_id=logged.model_id, signature=signature, pip_requirements=requirements,
                     metadata={"import_before_loading": "vae.models"})
    return info.model_uri


@contextlib.contextmanager
def system_metrics(client: MlflowClient, run_id: str, enabled: bool = True, interval_s: float = SYSTEM_METRICS_S):
    """Log MLflow's system metrics (``system/cpu_utilization_percentage``, memory, GPU when
    present, ...) to ``run_id`` while the block runs: the first sample at once, then one every
    ``interval_s`` seconds (``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL`` overrides it)."""
    if not enabled:
        yield
        return
    # Not a public module: the public way, mlflow.start_run(log_system_metrics=True), needs the
    # fluent active run, and vaesweep's runs are client runs (several per process, one per trial).
    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

    logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)  # two lines per run otherwise
    monitor = SystemMetricsMonitor(run_id, sampling_interval=interval_s, tracking_uri=client.tracking_uri)
    monitor.start()
    try:
        yield
    finally:
        monitor.finish()


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


def artifact_bytes(client: MlflowClient, run_id: str, path: str) -> bytes:
    """The content of the artifact ``path`` of a run (raises MlflowException/OSError when absent)."""
    with tempfile.TemporaryDirectory() as tmp:
        return Path(client.download_artifacts(run_id, path, tmp)).read_bytes()


def load_npz(client: MlflowClient, run_id: str, path: str) -> dict[str, np.ndarray] | None:
    """The arrays of an ``.npz`` artifact, or None when the run has none at ``path``."""
    try:
        content = artifact_bytes(client, run_id, path)
    except (MlflowException, OSError):
        return None
    return record.decode_arrays(content)
