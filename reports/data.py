"""One sweep read out of MLflow: the parent run, its trials as a pandas frame, their metric
histories and artifacts. Every number in a report comes through here, unchanged.

The trial frame has one row per trial run, indexed by run id, best first, with the columns
``trial_id, run_name, status, role, config_digest, failure_reason, warning, metrics_skipped``
(a dict metric -> reason), ``best_tag, rank, objective, start_time, end_time`` and, as in ``mlflow.search_runs``, ``params.<name>`` (the
logged strings) and ``metrics.<name>`` (the latest value of each metric).
"""

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException

from reports.frame import covers, missing_reason, trial_frame  # noqa: F401 - read by the sections as d.*
from sweeps import record, tracking
from sweeps.record import control
from sweeps.record import tradeoffs as TR
from vae.errors import SweepError

#: Trial params that describe the run rather than a point of the search space.
NOT_HYPERPARAMETERS = {"dataset", "subset", "seed", "likelihood", "n_train", "sweep", "eval_digest", "val_eval_digest",
                       "evaluated_epoch"}
NOT_HYPERPARAMETER_PREFIXES = ("version_", "tuner_", "metric_", "device_")
#: Shown first, in this order; family extras (mmd_weight, ...) follow alphabetically.
HYPERPARAMETER_ORDER = ["model", "latent_dim", "beta", "learning_rate", "batch_size", "depth"]
#: The image artifacts a finished trial logs, by the title the report gives them.
IMAGES = {
    "Reconstructions (top: test images, bottom: reconstructions)": record.image_path("reconstructions"),
    "Samples from the prior": record.image_path("samples"),
    "Interpolations between test images": record.image_path("interpolations"),
    "Latent traversals (rows: dimensions by decreasing KL)": record.image_path("traversals"),
}
CONDITIONAL_IMAGES = {"Conditional samples (one row per label)": record.image_path("conditional_samples")}
MANIFOLD_IMAGES = {"Decoded 2-D latent space (z on a grid of prior quantiles)": record.image_path("manifold")}
PIXEL_SCALE_IMAGES = {
    "Per-pixel scale of p(x|z) (rows: test images, the decoder's mean, its standard deviation on a log scale "
    "from black = 1/2048 to white = 0.5: bright where the model hedges)": record.image_path("pixel_scales"),
}
CODES = record.CODES_FILE
# The record's statuses and roles, as the trial frame's ``status`` and ``role`` columns hold them.
FINISHED, FAILED, KILLED, RUNNING = record.FINISHED, record.FAILED, record.KILLED, record.RUNNING
STOPPED = control.STOPPED  # ended by early stopping at an epoch (its reason says which)
REPLICATE = record.REPLICATE
TOP = 3  # the best trials the sections show side by side


@dataclass
class Sweep:
    """A sweep as the report sees it. Build one with :func:`load_sweep`."""

    client: tracking.Client
    tracking_uri: str
    dataset: str
    run: object  # the parent mlflow.entities.Run
    trials: pd.DataFrame
    runs: dict  # run id -> mlflow.entities.Run of every trial and replicate
    replicates: pd.DataFrame = field(default_factory=pd.DataFrame)  # seed replicates, as ``trials``
    _histories: dict = field(default_factory=dict, repr=False)
    _artifacts: dict = field(default_factory=dict, repr=False)

    # The parent run's record -------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.run.info.run_id

    def attach_report(self, path: Path) -> None:
        """Log the written report on the sweep's parent run, where the MLflow UI shows it."""
        tracking.log_bytes(self.client, self.run_id, path.read_bytes(), record.REPORT_FILE)

    @property
    def name(self) -> str:
        return record.sweep_name(self.run)

    @property
    def params(self) -> dict:
        return self.run.data.params

    @property
    def metrics(self) -> dict:
        return self.run.data.metrics

    @property
    def tags(self) -> dict:
        return self.run.data.tags

    @property
    def status(self) -> str:
        return self.run.info.status

    @property
    def objective(self) -> str:
        """The Keras log the tuner optimised (``val_loss``, ...)."""
        return self.params.get("objective", "val_loss")

    @property
    def chosen_config(self) -> str | None:
        """The ``config_digest`` of the configuration chosen by its mean over seeds, if any."""
        return self.tags.get(record.BEST_CONFIG_DIGEST)

    @property
    def chosen_run_id(self) -> str | None:  # the trial the sweep chose (its best, or by UDR)
        return self.tags.get(record.BEST_RUN_ID)

    def tradeoffs(self, kind: str) -> dict | None:
        """The sweep's record of ``pareto``, ``importance`` or ``udr`` (``sweeps.record.tradeoffs``)."""
        path = {"pareto": TR.PARETO_FILE, "importance": TR.IMPORTANCE_FILE, "udr": TR.UDR_FILE}[kind]
        return TR.read_json(self.artifact_bytes(self.run_id, path))

    @property
    def selection(self) -> str:  # how the sweep chose among replicated configurations: mean or udr
        return self.tags.get(TR.SELECTION, "mean")

    @property
    def direction(self) -> str:
        return self.params.get("objective_direction", "min")

    @property
    def objective_key(self) -> str:
        """The trial metric holding each trial's best objective value."""
        return record.objective_key(self.objective)

    # Trials ----------------------------------------------------------------------------
    def finished(self) -> pd.DataFrame:
        """The finished trials, best first."""
        return self.trials[self.trials["status"] == FINISHED]

    def top(self, n: int = TOP) -> pd.DataFrame:
        """The ``n`` best finished trials that have an objective value."""
        finished = self.finished()
        return finished[finished["objective"].notna()].head(n)

    @property
    def best(self) -> pd.Series:
        """The best finished trial (a row of :attr:`trials`)."""
        return self.finished().iloc[0]

    def hyperparameters(self) -> list[str]:
        """Names of the hyperparameters any trial logged, in display order."""
        names = [c.removeprefix("params.") for c in self.trials.columns if c.startswith("params.")]
        names = [n for n in names if n not in NOT_HYPERPARAMETERS and not n.startswith(NOT_HYPERPARAMETER_PREFIXES)]
        known = [n for n in HYPERPARAMETER_ORDER if n in names]
        return known + sorted(n for n in names if n not in known)

    def metric(self, run_id: str, key: str) -> float | None:
        """The latest value of a trial's metric, or None when it was not logged."""
        return self.runs[run_id].data.metrics.get(key)

    def kl_dims(self, run_id: str) -> list[tuple[int, float]]:
        """The latest ``kl_dim_<i>`` values of a run, by dimension index."""
        found = [(int(m.group(1)), value) for key, value in self.runs[run_id].data.metrics.items()
                 if (m := re.fullmatch(r"kl_dim_(\d+)", key))]
        return sorted(found)

    def history(self, run_id: str, key: str) -> pd.Series:
        """A metric's values by step (epoch); empty when never logged. Last value per step wins."""
        cache_key = (run_id, key)
        if cache_key not in self._histories:
            points = sorted(self.client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
            values = {m.step: m.value for m in points}
            self._histories[cache_key] = pd.Series(values, dtype=float, name=key)
        return self._histories[cache_key]

    # Artifacts -------------------------------------------------------------------------
    def artifact_paths(self, run_id: str) -> set[str]:
        """Every artifact file path of a run (``images/samples.png``, ...)."""
        if run_id not in self._artifacts:
            found, folders = set(), [None]
            while folders:
                folder = folders.pop()
                try:
                    entries = self.client.list_artifacts(run_id, folder)
                except (MlflowException, OSError):
                    entries = []
                for entry in entries:
                    (folders.append if entry.is_dir else found.add)(entry.path)
            self._artifacts[run_id] = found
        return self._artifacts[run_id]

    def artifact_bytes(self, run_id: str, path: str) -> bytes | None:
        """The content of one artifact, or None when the run has no such artifact."""
        if path not in self.artifact_paths(run_id):
            return None
        return tracking.artifact_bytes(self.client, run_id, path)

    def codes(self, run_id: str) -> dict | None:
        """The arrays of ``latents/codes.npz`` (``codes``, ``labels`` or ``factors``, ...)."""
        return self._npz(run_id, CODES)

    def per_image(self, run_id: str) -> dict | None:
        """Per-image figures on the evaluation set (``test_elbo``, ...), for paired comparisons."""
        return self._npz(run_id, record.PER_IMAGE_FILE)

    def _npz(self, run_id: str, path: str) -> dict | None:
        content = self.artifact_bytes(run_id, path)
        return None if content is None else record.decode_arrays(content)


# Loading -------------------------------------------------------------------------------
def load_sweep(dataset: str, sweep: str | None = None, tracking_uri: str | None = None) -> Sweep:
    """Read a sweep of ``dataset`` from the store.

    Args:
        dataset: the dataset name; its sweeps live in its experiment (``record.experiment_name``).
        sweep: a sweep name or its parent run id; None for the latest sweep (by start time).
        tracking_uri: the MLflow store (default: the project's ``mlruns/mlflow.db``).

    Raises:
        SweepError: the store or experiment is missing or empty, the sweep is unknown, or it
            has no finished trial.
    """
    uri = tracking_uri or tracking.default_tracking_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise SweepError(f"no MLflow store at {uri.removeprefix('sqlite:///')}; run a sweep first "
                         f"(make sweep DATASET={dataset}) or pass --tracking-uri")
    client = tracking.connect(uri)
    experiment = client.get_experiment_by_name(record.experiment_name(dataset))
    sweeps = record.sweep_runs(client, experiment.experiment_id) if experiment is not None else []
    if not sweeps:
        others = [name for name in record.datasets(client) if name != dataset]
        where = f"; it has sweeps of: {', '.join(others)}" if others else ""
        raise SweepError(f"no sweep of {dataset} in {uri}{where}; run one with: make sweep DATASET={dataset}")
    parent = _pick(client, sweeps, sweep, dataset, uri)
    children = record.children(client, experiment.experiment_id, parent.info.run_id)
    data = Sweep(client=client, tracking_uri=uri, dataset=dataset, run=parent,
                 trials=pd.DataFrame(), runs={r.info.run_id: r for r in children})
    trials = [r for r in children if record.role(r) != record.REPLICATE]
    data.trials = trial_frame(trials, data.objective_key, data.direction)
    data.replicates = trial_frame([r for r in children if record.role(r) == record.REPLICATE], data.objective_key,
                                  data.direction)
    if not len(data.finished()):
        raise SweepError(f"sweep '{data.name}' has no finished trial ({_tally(data.trials)}); "
                         "nothing to report: run it again, or pick another with --sweep")
    return data


def _pick(client, sweeps, wanted, dataset, uri):
    if wanted is None:
        return sweeps[0]
    for run in sweeps:  # matched here, not in a filter string, so any name needs no quoting
        if wanted in (run.info.run_id, record.sweep_name(run), run.info.run_name):
            return run
    hint = _elsewhere(client, wanted)
    if hint:
        raise SweepError(hint)
    names = [record.sweep_name(r) for r in sweeps]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    raise SweepError(f"no sweep '{wanted}' of {dataset} in {uri}; its sweeps, newest first: {shown}")


def _elsewhere(client, run_id) -> str | None:
    """What an unmatched ``--sweep`` that is a run id actually is, as a hint."""
    if not re.fullmatch(r"[0-9a-f]{32}", run_id):
        return None
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return None
    role, name, parent = record.describe_run(run)
    experiment = client.get_experiment(run.info.experiment_id).name
    if role == record.SWEEP_ROLE:
        dataset = record.dataset_of(experiment)
        return f"run {run_id} is a sweep of {dataset}; pass --dataset {dataset}"
    if role in (record.TRIAL, record.REPLICATE) and name:
        return f"run {run_id} is a trial of sweep '{name}', not a sweep; pass --sweep {parent}"
    return f"run {run_id} in {experiment} is not a sweep; pass a sweep name or its parent run id"


def _tally(trials: pd.DataFrame) -> str:
    if not len(trials):
        return "it has no trial runs yet"
    counts = trials["status"].value_counts()
    text = ", ".join(f"{n} {status.lower()}" for status, n in counts.items())
    reasons = sorted({r for r in trials["failure_reason"].dropna()})
    return text + (f": {'; '.join(reasons)}"[:300] if reasons else "")


# Interpreting the record -----------------------------------------------------------------
def number(text) -> float | None:
    """A logged param as a number, or None when it is not one (``"mlp"``)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
