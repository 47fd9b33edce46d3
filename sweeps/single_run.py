"""`vaesweep train`: one configuration, one tracked run (experiment ``vae-<dataset>``).

The run is created, fed and ended by ``sweeps.tracked_run`` as a sweep's trials are, so it
records the same things (params, dataset inputs, epoch metrics, image snapshots, system
metrics, the evaluation, a status tag).
"""

import dataclasses
import sys
import time

import keras

from sweeps import dataset_inputs, record, tracking
from sweeps.callbacks import default_image_every, final_logs
from sweeps.config import TrainConfig
from sweeps.console import say
from sweeps.evaluation import SETTINGS
from sweeps.hypermodel import compile_model, fit_model
from sweeps.tracked_run import RunContext, TrackedRun
from vae import runtime
from vae.data import load_dataset
from vae.errors import ConfigError, SweepError
from vae.models import build_model, dataset_context


def check_training(config: TrainConfig) -> None:
    """Reject impossible training values before any data is read or any run is created (the
    model's own hyperparameters are ``build_model``'s to check)."""
    if config.learning_rate is None or not config.learning_rate > 0:
        raise ConfigError(f"learning rate must be positive, got {config.learning_rate}; pass e.g. --learning-rate 1e-3")
    if config.batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {config.batch_size}")
    if config.epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {config.epochs}")


def metric_settings(config: TrainConfig):
    """The budget's metric settings with ``--iwae-samples`` and ``--eval-images`` applied."""
    changes = {"iwae_samples": config.iwae_samples, "eval_images": config.eval_images,
               "inception_weights": config.inception_weights}
    return dataclasses.replace(SETTINGS[config.budget], **{k: v for k, v in changes.items() if v is not None})


def train(config: TrainConfig) -> dict:
    """Train and track one model; returns the final test metrics."""
    check_training(config)
    settings = metric_settings(config)
    keras.utils.set_random_seed(config.seed)
    dataset = load_dataset(config.dataset, data_dir=config.data_dir, subset=config.subset, likelihood=config.likelihood)
    model = build_model(config.model, dataset.image_shape, dataset.likelihood, latent_dim=config.latent_dim,
                        beta=config.beta, depth=config.depth, seed=config.seed, **config.params,
                        **dataset_context(config.model, dataset))
    model.adapt(dataset.x_train)  # data-dependent initial values (the likelihood's scale)
    compile_model(model, config.learning_rate)
    model.training_inputs(dataset.x_val[:1], dataset.y_val[:1] if dataset.y_val is not None else None)
    for note in dataset.notes:  # after every check, so that a mistake stays one line
        say(note)

    client = tracking.connect(config.tracking_uri)
    context = RunContext(
        client=client, seed=config.seed, dataset=dataset, metric_settings=settings,
        experiment_id=tracking.experiment_id(client, record.experiment_name(config.dataset), record.experiment_tags()),
        params={"dataset": config.dataset, "seed": config.seed, "subset": config.subset,
                "likelihood": dataset.likelihood, "n_train": len(dataset.x_train),
                **{f"device_{k}": v for k, v in runtime.device_info().items()},
                **{f"version_{k}": v for k, v in tracking.versions().items()}},
        inputs=dataset_inputs.dataset_inputs(dataset, settings.eval_images, config.subset),
        image_every=config.image_every or default_image_every(config.epochs),
        system_metrics=config.system_metrics, collapse_kl=None, data_dir=config.data_dir)
    params = {"model": config.model, "latent_dim": config.latent_dim, "beta": model.beta,
              "learning_rate": config.learning_rate, "batch_size": config.batch_size, "depth": model.depth,
              "epochs": config.epochs, **config.params}
    say(f"training {config.model} on {config.dataset}: {len(dataset.x_train)} images, {config.epochs} epochs")
    start = time.monotonic()
    with TrackedRun(context, record.TRAIN, params, run_name=f"{config.model}-z{config.latent_dim}-b{model.beta:g}",
                    epochs=config.epochs, progress_prefix="") as run:
        tracking.log_text(client, run.run_id, "\n".join(dataset.notes), "data_notes.txt")
        history = fit_model(model, dataset, epochs=config.epochs, batch_size=config.batch_size,
                            callbacks=run.callbacks())
        if run.guard.failure:
            raise SweepError(f"training failed: {run.guard.failure}; try a smaller --learning-rate or --beta "
                             f"({tracking.run_url_hint(client, run.run_id)})")
        result = run.finish(model)
        if model.has_elbo and result.get("test_active_units") == 0:
            warning = "posterior collapse: no active latent unit; lower --beta or train longer"
            record.set_warning(client, run.run_id, warning)
            say(f"warning: {warning}")
        run.succeed()
    shown = {**{k: v for k, v in final_logs(history).items() if k in ("val_loss", "val_elbo")},
             **{k: v for k, v in result.items() if k in ("test_elbo", "test_nll", "test_bits_per_dim",
                                                                 "test_reconstruction_loss")}}
    units = f"  active_units {result['test_active_units']}/{config.latent_dim}" if "test_active_units" in result else ""
    print(f"done in {time.monotonic() - start:.0f}s: " + "  ".join(f"{k} {v:.2f}" for k, v in shown.items())
          + f"{units}\n{tracking.run_url_hint(client, run.run_id)}", file=sys.stdout)
    return result
