"""The datasets a run trained and was evaluated on, as MLflow dataset inputs.

Each run records two inputs: the training set (context ``training``) and the evaluation set
(context ``evaluation``: the test images every metric of the run is computed on). They are
metadata only (a ``MetaDataset``): a name, a digest, a schema and a profile with the split
sizes; no array is copied into the store. The digests are ``vae.data.eval_digest`` of the
arrays, so equal digests mean the same images, and the evaluation digest is the run's
``eval_digest`` param.
"""

import json

import numpy as np
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.types import Schema, TensorSpec

from sweeps import record
from vae.data import DATASETS, eval_digest


class ArrayMetaDataset(MetaDataset):
    """A ``MetaDataset`` with a profile (the UI shows it beside the schema)."""

    def __init__(self, source, name: str, digest: str, schema: Schema, profile: dict):
        super().__init__(source, name=name, digest=digest, schema=schema)
        self._profile = profile

    @property
    def profile(self) -> dict:
        return self._profile

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "profile": json.dumps(self._profile)}


def describe(dataset, x: np.ndarray, y: np.ndarray | None, split: str, subset: int | None) -> ArrayMetaDataset:
    """One split of ``dataset`` as metadata: ``<dataset>-<split>``, its digest, shape and sizes."""
    source = CodeDatasetSource({"loader": DATASETS.get(dataset.name, dataset.name), "subset": subset})
    schema = Schema([TensorSpec(np.dtype(x.dtype), (-1, *x.shape[1:]), "images")])
    profile = {"images": len(x), "train": len(dataset.x_train), "val": len(dataset.x_val), "test": len(dataset.x_test),
               "likelihood": dataset.likelihood}
    return ArrayMetaDataset(source, f"{dataset.name}-{split}", eval_digest(x, y), schema, profile)


def dataset_inputs(dataset, eval_images: int, subset: int | None = None) -> list[DatasetInput]:
    """The training set and the evaluation set (the first ``eval_images`` test images) of a run."""
    n = min(eval_images, len(dataset.x_test))
    y_eval = None if dataset.y_test is None else dataset.y_test[:n]
    splits = ((describe(dataset, dataset.x_train, dataset.y_train, "train", subset), record.TRAINING_CONTEXT),
              (describe(dataset, dataset.x_test[:n], y_eval, "eval", subset), record.EVALUATION_CONTEXT))
    return [DatasetInput(entity(d), tags=[InputTag(record.DATASET_CONTEXT, context)]) for d, context in splits]


def entity(dataset: ArrayMetaDataset) -> Dataset:
    """The dataset as the public ``mlflow.entities.Dataset`` that ``MlflowClient.log_inputs``
    takes (what MLflow's private ``Dataset._to_mlflow_entity`` builds, from ``to_dict``)."""
    fields = dataset.to_dict()
    return Dataset(name=fields["name"], digest=fields["digest"], source_type=fields["source_type"],
                   source=fields["source"], schema=fields.get("schema"), profile=fields.get("profile"))


def log_inputs(client, run_id: str, inputs: list[DatasetInput]) -> None:
    client.log_inputs(run_id, datasets=inputs)
