"""Training one configuration with every epoch tracked: shared by `vaesweep train` and by
each sweep trial. The Keras callbacks here are the only code that sees both Keras and MLflow."""

import math
import sys
import time

import keras

from sweeps import tracking
from vae import evaluate, images, runtime


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


class EpochLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics to one MLflow run in one ``log_batch`` call (step = epoch)."""

    def __init__(self, client, run_id):
        super().__init__()
        self.client, self.run_id = client, run_id

    def on_epoch_end(self, epoch, logs=None):
        tracking.log_metrics(self.client, self.run_id, epoch_metrics(logs or {}), step=epoch)


class TrialGuard(keras.callbacks.Callback):
    """Stops training whose loss is no longer finite or whose posterior collapsed.

    ``collapse_kl=None`` checks divergence only (a single training run reports collapse as a
    warning rather than stopping).

    Collapse means every latent dimension's validation KL is below ``collapse_kl`` nats
    after at least ``collapse_after`` epochs (early epochs of a healthy model can be low).
    The reason is left in ``failure`` for the caller to record.
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


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def compile_model(model, learning_rate: float) -> None:
    # Steps per call and XLA as suit the backend and the model's family.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  **runtime.compile_options(supports_jit=model.supports_jit))


def fit_tracked(model, dataset, client, run_id, *, epochs, batch_size, initial_epoch=0,
                callbacks=(), guard: TrialGuard | None = None, progress_prefix: str | None = ""):
    """``model.fit`` on the dataset with the MLflow epoch logger, the guard and progress."""
    callbacks = [EpochLogger(client, run_id), *callbacks]
    if guard is not None:
        callbacks.append(guard)
    if progress_prefix is not None:
        callbacks.append(Progress(epochs, progress_prefix))
    return model.fit(
        model.training_inputs(dataset.x_train, dataset.y_train),
        validation_data=(model.training_inputs(dataset.x_val, dataset.y_val),),
        epochs=epochs,
        initial_epoch=initial_epoch,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )


def finish_tracked(model, dataset, client, run_id, seed: int = 0) -> dict:
    """Fit a learned prior (VQ-VAE), then test-set evaluation, images and the model artifact
    of a trained model's run.

    Only the terms the family tracks are logged: no ``test_elbo``/``test_kl_loss`` for a family
    without an ELBO (``model.has_elbo`` False), no ``active_units`` for a grid of codes.

    Returns:
        the logged test metrics (``test_reconstruction_loss``, ``test_elbo``, ``active_units``, ...).
    """
    model.fit_prior(dataset.x_train, dataset.y_train)
    result = evaluate.evaluate(model, dataset.x_test, dataset.y_test)
    kl_per_dim = result.pop("kl_per_dim", None)
    tracking.log_metrics(client, run_id, result, step=0)
    for name, image in images.all_images(model, dataset.x_test, dataset.y_test, kl_per_dim, seed=seed).items():
        tracking.log_image(client, run_id, image, f"images/{name}.png")
    tracking.log_model(client, run_id, model)
    return result


def final_logs(history) -> dict:
    """The last epoch's values of a Keras History, as floats."""
    return {k: float(v[-1]) for k, v in history.history.items() if v} if history else {}


def log_trial_metrics(model, dataset, client, run_id, settings, seed: int = 0) -> dict:
    """Compute and log the likelihood / disentanglement metrics the run supports, their
    parameters, what was left out and why, and the test codes for the report."""
    from sweeps.evaluation import codes_npz, trial_metrics

    values, params, skipped, codes = trial_metrics(model, dataset, settings, seed=seed)
    tracking.log_metrics(client, run_id, values, step=0)
    tracking.log_params(client, run_id, params)
    if skipped:
        tracking.set_tags(client, run_id, {"metrics_skipped": "; ".join(skipped)[:4900]})
    if codes is not None:
        tracking.log_bytes(client, run_id, codes_npz(codes), "latents/codes.npz")
    return values
