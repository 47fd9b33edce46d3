"""The record's files: artifact paths, the codec of the array files (``CODES_FILE``,
``PER_IMAGE_FILE``) and the experiments' names read back. ``sweeps.record`` re-exports every
name here: it stays the one place that knows the schema."""

import io

import numpy as np

# A run's final figures live apart from ``images/``, where MLflow keeps the keyed image
# snapshots of ``log_image(key=..., step=...)`` (stores written before: ``images/<name>.png``).
IMAGE_DIR = "figures"
EXPERIMENT_PREFIX = "vae-"
REPORT_FILE = "report.html"  # the sweep's HTML report, on its parent run (``vaesweep report``)


def image_path(name: str) -> str:
    """The artifact path of a run's final figure ``name`` (``figures/samples.png``)."""
    return f"{IMAGE_DIR}/{name}.png"


def dataset_of(experiment: str) -> str | None:
    """The dataset of experiment ``vae-<dataset>``; None for one vaesweep did not make."""
    return experiment.removeprefix(EXPERIMENT_PREFIX) if experiment.startswith(EXPERIMENT_PREFIX) else None


def datasets(client) -> list[str]:
    """The datasets that have an experiment in the store, alphabetically."""
    return sorted(d for e in client.search_experiments() if (d := dataset_of(e.name)) is not None)


def encode_arrays(arrays: dict) -> bytes:
    """An array file's content (``CODES_FILE``, ``PER_IMAGE_FILE``): a compressed ``.npz``."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def decode_arrays(content: bytes) -> dict:
    """The arrays of a file written by :func:`encode_arrays` (no pickled objects are read)."""
    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}
