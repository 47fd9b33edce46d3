"""Shared fixtures: a small MNIST in the real IDX layout, written here, and throwaway MLflow
stores. Nothing outside the repository is read."""

import os
import shutil
from pathlib import Path

import pytest
from data_helpers import write_mnist

# Test runs last seconds: sample system metrics every second (the product default is 10 s).
os.environ.setdefault("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "1")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")



@pytest.fixture(scope="session")
def mnist_data(tmp_path_factory) -> Path:
    """A data folder whose ``mnist/`` holds a test split of 1,000 digit-like images (IDX, gzip)."""
    return write_mnist(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def empty_store_template(tmp_path_factory) -> Path:
    """An MLflow SQLite database created and migrated once; each store test copies it."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def store(tmp_path, monkeypatch, empty_store_template) -> str:
    """A fresh MLflow store under ``<tmp>/mlruns``; the working directory is ``<tmp>`` so the
    tuner state (``./mlruns/tuner``) lands there too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlruns").mkdir()
    shutil.copy(empty_store_template, tmp_path / "mlruns" / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture
def client(store):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=store)

