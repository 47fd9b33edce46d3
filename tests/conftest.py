"""Shared fixtures: the real MNIST test split beside the project and throwaway MLflow stores."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.fail(f"{SHARED_DATA}/mnist is missing: the tests need ../shared/datasets beside the project")
    return SHARED_DATA


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
