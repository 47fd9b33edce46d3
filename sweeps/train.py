"""`vaesweep train`: one configuration, one MLflow run (experiment ``vae-<dataset>``)."""

import sys
import time

from sweeps.console import say
from vae.errors import ConfigError, SweepError


def check_training_args(args) -> None:
    """Reject impossible values before any data is read or any run is created."""
    if args.learning_rate is None or not args.learning_rate > 0:
        raise ConfigError(f"learning rate must be positive, got {args.learning_rate}; pass e.g. --learning-rate 1e-3")
    if args.batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {args.batch_size}")
    if args.epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {args.epochs}")
    if args.latent_dim < 1:
        raise ConfigError(f"latent dimension must be at least 1, got {args.latent_dim}; pass --latent-dim 2 or more")
    if args.beta is not None and not args.beta >= 0:
        raise ConfigError(f"beta must be 0 or more, got {args.beta}; pass e.g. --beta 1")
    from vae.models import MODELS

    if args.model not in MODELS:
        raise ConfigError(f"unknown model '{args.model}'; choose one of {', '.join(MODELS)}")
    if getattr(args, "likelihood", None) is not None:
        from vae.likelihoods import get_likelihood

        get_likelihood(args.likelihood)


def metric_settings(args):
    """The budget's metric settings with ``--iwae-samples`` and ``--eval-images`` applied."""
    import dataclasses

    from sweeps.evaluation import SETTINGS

    changes = {"iwae_samples": args.iwae_samples, "eval_images": args.eval_images,
               "inception_weights": args.inception_weights}
    return dataclasses.replace(SETTINGS[args.budget], **{k: v for k, v in changes.items() if v is not None})


def train(args, extra_params: dict) -> dict:
    """Train and track one model; returns the final test metrics."""
    check_training_args(args)
    import keras

    from sweeps import inputs, record, tracking
    from sweeps.training import (
        ImageSnapshots,
        TrialGuard,
        compile_model,
        default_image_every,
        final_logs,
        finish_run,
        fit_model,
        tracked_callbacks,
    )
    from vae import runtime
    from vae.data import load_dataset
    from vae.models import build_model, dataset_context

    settings = metric_settings(args)

    keras.utils.set_random_seed(args.seed)
    dataset = load_dataset(args.dataset, data_dir=args.data_dir, subset=args.subset, seed=args.seed,
                           likelihood=getattr(args, "likelihood", None))
    model = build_model(args.model, dataset.image_shape, dataset.likelihood, latent_dim=args.latent_dim,
                        beta=args.beta, depth=args.depth, seed=args.seed, **extra_params, **dataset_context(args.model, dataset))
    model.adapt(dataset.x_train)  # data-dependent initial values (the likelihood's scale)
    compile_model(model, args.learning_rate)
    model.training_inputs(dataset.x_val[:1], dataset.y_val[:1] if dataset.y_val is not None else None)
    for note in dataset.notes:  # after every check, so that a mistake stays one line
        say(note)

    client = tracking.connect(args.tracking_uri)
    experiment = tracking.experiment_id(client, record.experiment_name(args.dataset), record.experiment_tags())
    run = client.create_run(experiment, run_name=f"{args.model}-z{args.latent_dim}-b{model.beta:g}",
                            tags=record.train_tags())
    run_id = run.info.run_id
    params = {
        "dataset": args.dataset, "model": args.model, "latent_dim": args.latent_dim, "beta": model.beta,
        "learning_rate": args.learning_rate, "batch_size": args.batch_size, "depth": model.depth,
        "epochs": args.epochs, "seed": args.seed, "subset": args.subset, "likelihood": dataset.likelihood,
        "n_train": len(dataset.x_train), **extra_params,
        **{f"device_{k}": v for k, v in runtime.device_info().items()},
    }
    tracking.log_params(client, run_id, {**params, **{f"version_{k}": v for k, v in tracking.versions().items()}})
    tracking.log_text(client, run_id, "\n".join(dataset.notes), "data_notes.txt")
    inputs.log_inputs(client, run_id, inputs.dataset_inputs(dataset, settings.eval_images, args.subset))
    say(f"training {args.model} on {args.dataset}: {len(dataset.x_train)} images, {args.epochs} epochs")
    start, status = time.monotonic(), record.FAILED
    try:
        guard = TrialGuard(collapse_kl=None)
        snapshots = ImageSnapshots(client, run_id, dataset, args.image_every or default_image_every(args.epochs), args.seed)
        with tracking.system_metrics(client, run_id, args.system_metrics):
            history = fit_model(model, dataset, epochs=args.epochs, batch_size=args.batch_size,
                                callbacks=tracked_callbacks(client, run_id, args.epochs, guard, progress_prefix="",
                                                            snapshots=snapshots))
            if guard.failure:
                record.set_failure_reason(client, run_id, guard.failure)
                raise SweepError(f"training failed: {guard.failure}; try a smaller --learning-rate or --beta "
                                 f"({tracking.run_url_hint(client, run_id)})")
            result = finish_run(model, dataset, client, run_id, settings, seed=args.seed)
        if model.has_elbo and result.get("active_units") == 0:
            warning = "posterior collapse: no active latent unit; lower --beta or train longer"
            record.set_warning(client, run_id, warning)
            say(f"warning: {warning}")
        status = record.FINISHED
    except KeyboardInterrupt:
        status = record.KILLED
        raise
    finally:
        client.set_terminated(run_id, status)
    shown = {**{k: v for k, v in final_logs(history).items() if k in ("val_loss", "val_elbo")},
             **{k: v for k, v in result.items() if k in ("test_elbo", "test_nll", "test_bits_per_dim", "test_reconstruction_loss")}}
    units = f"  active_units {result['active_units']}/{args.latent_dim}" if "active_units" in result else ""
    print(f"done in {time.monotonic() - start:.0f}s: " + "  ".join(f"{k} {v:.2f}" for k, v in shown.items())
          + f"{units}\n{tracking.run_url_hint(client, run_id)}", file=sys.stdout)
    return result
