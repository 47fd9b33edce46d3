"""The Keras callbacks of a tracked run: epoch metrics, image snapshots, the failure guard and
progress lines. They are the only code that sees both Keras and MLflow while a model trains."""

import math
import sys
import time

import keras

from sweeps import tracking
from sweeps.console import format_seconds
from sweeps.early_stopping import EarlyStopping, should_stop
from vae import images


def epoch_metrics(logs: dict) -> dict:
    """The metrics of one epoch as logged to MLflow.

    ``kl_dim_<i>`` is the *validation* KL of dimension i: the training twin is dropped, the
    ``val_kl_dim_<i>`` value is renamed.
    """
    metrics = {}
    for key, value in logs.items():
        if key.startswith("val_kl_dim_"):
            metrics[key.removeprefix("val_")] = float(value)
        elif not key.startswith("kl_dim_"):
            metrics[key] = float(value)
    return metrics


class SharedCallback(keras.callbacks.Callback):
    """A callback that Keras Tuner's per-trial deep copy leaves as it is: the trial reads its
    state (a guard's failure, the trained model) after ``fit``."""

    def __deepcopy__(self, memo):
        return self


class EpochLogger(SharedCallback):
    """Logs each epoch's metrics to one MLflow run in one ``log_batch`` call (step = epoch)."""

    def __init__(self, client, run_id):
        super().__init__()
        self.client, self.run_id = client, run_id

    def on_epoch_end(self, epoch, logs=None):
        tracking.log_metrics(self.client, self.run_id, epoch_metrics(logs or {}), step=epoch)


SNAPSHOTS = 5  # image steps a run gets by default


def default_image_every(epochs: int) -> int:
    """Epochs between two image snapshots: about ``SNAPSHOTS`` per run (6 epochs: every epoch)."""
    return max(1, epochs // SNAPSHOTS)


class ImageSnapshots(SharedCallback):
    """Before training, every ``every`` epochs and after the last, logs the reconstructions of
    fixed inputs (the first test images) and the decodes of fixed prior draws (``seed``) as
    MLflow images (``key`` = ``reconstructions`` / ``samples``, ``step`` = epochs trained, so
    step 0 is the untrained model), which the UI compares across runs and over training. A
    VQ-VAE's prior is fitted after training: its samples during training come from the
    uniform prior."""

    FIXED_IMAGES = 10

    def __init__(self, client, run_id, dataset, every: int = 1, seed: int = 0):
        super().__init__()
        self.client, self.run_id, self.every, self.seed = client, run_id, every, seed
        self.x, self.y = dataset.x_test[: self.FIXED_IMAGES], dataset.y_test

        self.started = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self.started:  # the first epoch of this fit (Hyperband resumes at a later one)
            self.started = True
            self.snapshot(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.params.get("epochs"):
            self.snapshot(epoch + 1)

    def snapshot(self, step: int) -> None:
        figures = {"reconstructions": images.reconstructions(self.model, self.x, y=self.y),
                   "samples": images.samples(self.model, seed=self.seed, y=self.y)}
        for key, image in figures.items():
            self.client.log_image(self.run_id, image, key=key, step=step)


class RestoreBestEpoch(SharedCallback):
    """Keeps the weights of the epoch with the best ``objective`` (a Keras log such as
    ``val_elbo``) and puts them back when training ends, so that the model a sweep evaluates,
    logs and registers is the epoch its objective figure (the best epoch's) was chosen on.

    ``best_epoch`` (1-based) is left for the run to record; None when no epoch logged a finite
    objective (the weights are then left as trained).
    """

    def __init__(self, objective: str, direction: str):
        super().__init__()
        self.objective, self.sign = objective, (1.0 if direction == "max" else -1.0)
        self.best, self.best_epoch, self.weights = -math.inf, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective)
        if value is not None and math.isfinite(float(value)) and self.sign * float(value) > self.best:
            self.best, self.best_epoch, self.weights = self.sign * float(value), epoch + 1, self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.weights is not None:
            self.model.set_weights(self.weights)


class TrialGuard(SharedCallback):
    """Stops training whose loss is no longer finite or whose posterior collapsed.

    ``collapse_kl=None`` checks divergence only (a single training run reports collapse as a
    warning rather than stopping).

    Collapse means every latent dimension's validation KL is below ``collapse_kl`` nats
    after at least ``collapse_after`` epochs (early epochs of a healthy model can be low).
    The reason is left in ``failure`` for the caller to record; the model it watched stays
    in ``model`` once training is over.
    """

    def __init__(self, collapse_kl: float | None = 0.01, collapse_after: int = 2, objective: str = "val_loss"):
        super().__init__()
        self.collapse_kl, self.collapse_after, self.objective = collapse_kl, collapse_after, objective
        self.failure: str | None = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        bad = [k for k in ("loss", "val_loss", self.objective) if k in logs and not math.isfinite(float(logs[k]))]
        if bad:
            self.failure = f"diverged: {bad[0]} became {float(logs[bad[0]])} at epoch {epoch + 1}"
        else:
            kl = [float(v) for k, v in logs.items() if k.startswith("val_kl_dim_")]
            if kl and self.collapse_kl is not None and epoch + 1 >= self.collapse_after and max(kl) < self.collapse_kl:
                self.failure = (
                    f"posterior collapse: every latent dimension's KL < {self.collapse_kl} nats "
                    f"at epoch {epoch + 1}"
                )
        if self.failure:
            self.model.stop_training = True


class MedianStopping(SharedCallback):
    """Stops a trial's fit by :func:`should_stop` against ``peers`` (earlier trials' curves),
    the rule of ``sweeps.early_stopping``.

    ``stopped_epoch`` (1-based) is left for the run to record; None while not stopped. The
    curve is also kept (``curve``) for the tuner to hand to later trials.
    """

    def __init__(self, objective: str, direction: str, settings: EarlyStopping, peers=()):
        super().__init__()
        self.objective, self.direction, self.settings = objective, direction, settings
        self.peers = [list(p) for p in peers]
        self.curve: list[float | None] = []
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective)
        while len(self.curve) < epoch:  # Hyperband-style resumed fits start at a later epoch
            self.curve.append(None)
        self.curve.append(float(value) if value is not None else None)
        if should_stop(self.curve, self.peers, epoch + 1, self.direction, self.settings):
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True


PROGRESS_LINES = 20  # at most about this many epoch lines per run: long budgets print every few epochs


class Progress(SharedCallback):  # shared: its stream cannot be deep-copied
    """One line per epoch (every ``epochs // PROGRESS_LINES`` epochs for long runs, and the
    last): losses, time and an ETA for the run."""

    def __init__(self, epochs: int, prefix: str = "", stream=None):
        super().__init__()
        self.epochs, self.prefix, self.stream = epochs, prefix, stream or sys.stderr
        self.every = max(1, (epochs or 1) // PROGRESS_LINES)
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:
            self.first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        logs = logs or {}
        elapsed = time.monotonic() - self.start
        done = epoch + 1 - self.first_epoch
        eta = elapsed / done * (self.epochs - epoch - 1)
        shown = "  ".join(
            f"{k} {float(logs[k]):.2f}" for k in ("loss", "val_loss", "val_reconstruction_loss", "val_kl_loss") if k in logs
        )
        print(f"{self.prefix}epoch {epoch + 1}/{self.epochs}  {shown}  {elapsed:.0f}s  ETA {format_seconds(eta)}",
              file=self.stream, flush=True)


def tracked_callbacks(client, run_id, epochs: int | None = None, guard: "TrialGuard | None" = None,
                      progress_prefix: str | None = None, snapshots: ImageSnapshots | None = None,
                      restore: RestoreBestEpoch | None = None) -> list:
    """The callbacks of a tracked fit: the MLflow epoch logger, the image snapshots, the guard
    and the best epoch's weights when given and, when ``progress_prefix`` is given, one
    progress line per epoch."""
    callbacks = [EpochLogger(client, run_id)]
    callbacks += [c for c in (snapshots, guard, restore) if c is not None]
    if progress_prefix is not None:
        callbacks.append(Progress(epochs, progress_prefix))
    return callbacks


def final_logs(history) -> dict:
    """The last epoch's values of a Keras History, as floats."""
    return {k: float(v[-1]) for k, v in history.history.items() if v} if history else {}
