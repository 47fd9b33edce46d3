"""Training one configuration with every epoch tracked: shared by `vaesweep train` and by
each sweep trial. The Keras callbacks here are the only code that sees both Keras and MLflow."""

import math
import sys
import time

import keras

from sweeps import record, tracking
from sweeps.console import format_seconds
from vae import images, runtime
from vae.data import eval_digest
from vae.metrics import registry
from vae.metrics import terms as evaluate


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


class Progress(keras.callbacks.Callback):
    """One line per epoch: losses, time and an ETA for the run."""

    def __init__(self, epochs: int, prefix: str = "", stream=None):
        super().__init__()
        self.epochs, self.prefix, self.stream = epochs, prefix, stream or sys.stderr
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:
            self.first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        elapsed = time.monotonic() - self.start
        done = epoch + 1 - self.first_epoch
        eta = elapsed / done * (self.epochs - epoch - 1)
        shown = "  ".join(
            f"{k} {float(logs[k]):.2f}" for k in ("loss", "val_loss", "val_reconstruction_loss", "val_kl_loss") if k in logs
        )
        print(f"{self.prefix}epoch {epoch + 1}/{self.epochs}  {shown}  {elapsed:.0f}s  ETA {format_seconds(eta)}",
              file=self.stream, flush=True)


def compile_model(model, learning_rate: float) -> None:
    # Steps per call and XLA as suit the backend and the model's family.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  **runtime.compile_options(supports_jit=model.supports_jit))


def tracked_callbacks(client, run_id, epochs: int | None = None, guard: "TrialGuard | None" = None,
                      progress_prefix: str | None = None, snapshots: ImageSnapshots | None = None) -> list:
    """The callbacks of a tracked fit: the MLflow epoch logger, the image snapshots and the
    guard when given and, when ``progress_prefix`` is given, one progress line per epoch."""
    callbacks = [EpochLogger(client, run_id)]
    if snapshots is not None:
        callbacks.append(snapshots)
    if guard is not None:
        callbacks.append(guard)
    if progress_prefix is not None:
        callbacks.append(Progress(epochs, progress_prefix))
    return callbacks


def fit_model(model, dataset, *, epochs, batch_size, initial_epoch=0, callbacks=()):
    """``model.fit`` on the dataset's training split, validated on its validation split."""
    return model.fit(
        model.training_inputs(dataset.x_train, dataset.y_train),
        validation_data=(model.training_inputs(dataset.x_val, dataset.y_val),),
        epochs=epochs,
        initial_epoch=initial_epoch,
        batch_size=batch_size,
        shuffle=True,
        callbacks=list(callbacks),
        verbose=0,
    )


def final_logs(history) -> dict:
    """The last epoch's values of a Keras History, as floats."""
    return {k: float(v[-1]) for k, v in history.history.items() if v} if history else {}


def finish_run(model, dataset, client, run_id, settings, seed: int = 0) -> dict:
    """Everything a trained model's run logs after training: a learned prior (VQ-VAE), the
    model (MLflow's Keras flavor), the family's test-set terms, the images, then the trial
    metrics the family and dataset support (``sweeps.evaluation``), what was left out and
    why, and the test codes for the report.

    The model is logged before the test-set pass, so that a reloaded model draws the same
    posterior samples as the logged ``test_reconstruction_loss`` did (its seed generator's
    state is saved with it).

    Returns:
        the logged test metrics (``test_reconstruction_loss``, ``test_elbo``, ``test_nll``, ...).
    """
    from sweeps.evaluation import npz, trial_metrics

    model.fit_prior(dataset.x_train, dataset.y_train)
    n = min(settings.eval_images, len(dataset.x_test))
    x_eval, y_eval = dataset.x_test[:n], None if dataset.y_test is None else dataset.y_test[:n]
    tracking.log_keras_model(client, run_id, model, model.training_inputs(x_eval[:2], None if y_eval is None else y_eval[:2]))
    # Trials are comparable only on the same images: say which ones (the digest) and how many.
    tracking.log_params(client, run_id, {"eval_digest": eval_digest(x_eval, y_eval)})
    result = evaluate.evaluate(model, x_eval, y_eval)
    kl_per_dim = result.pop("kl_per_dim", None)
    # The registry's metrics log their own figures (test_elbo with its standard error).
    result = {k: v for k, v in result.items() if registry.owner(k) is None}
    tracking.log_metrics(client, run_id, {**result, "eval_images": n}, step=0)
    for name, image in images.all_images(model, dataset.x_test, dataset.y_test, kl_per_dim, seed=seed).items():
        tracking.log_image(client, run_id, image, f"images/{name}.png")
    values, params, skipped, arrays = trial_metrics(model, dataset, settings, seed=seed)
    tracking.log_metrics(client, run_id, values, step=0)
    tracking.log_params(client, run_id, params)
    record.log_skipped(client, run_id, skipped)
    if "codes" in arrays:
        tracking.log_bytes(client, run_id, npz(arrays["codes"]), record.CODES_FILE)
    if arrays["per_image"]:
        tracking.log_bytes(client, run_id, npz(arrays["per_image"]), record.PER_IMAGE_FILE)
    return {**result, **values}
