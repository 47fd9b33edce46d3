"""The likelihoods of 8-bit images side by side: test NLL and bits/dim after the same training.

Trains the conv VAE once per likelihood on MNIST's grey (not binarized) 8-bit images, the
same images, epochs and seed for each, and prints the importance-weighted test NLL (nats per
image) and bits per dimension with their standard errors over the test images, the paired
difference to the first likelihood (same images, so its standard error is that of the
per-image differences), the first epoch's reconstruction and KL terms (does the
reconstruction dominate from the start?), the last epoch's validation KL (a collapsed
posterior shows as a KL near 0) and seconds per epoch. ``--speed`` adds a speed check:
training steps per second on CelebA-sized (64x64x3) synthetic batches.

    VAE_DATA_DIR=/work/shared/datasets .venv/bin/python benchmarks/likelihoods.py \
        [--epochs 3] [--train-images 4000] [--iwae-samples 20] [--eval-images 200] \
        [--likelihoods gaussian,gaussian_pixel,logistic,logistic_mix] [--speed] [--no-adapt]

The defaults run in a few minutes on two CPU cores: three likelihoods (the mixture, twice as
slow per epoch, only when named), 4,000 training images (``--train-images 0``: all of the
split) and -IWAE_20 on 200 test images. With only MNIST's test split on disk the loader cuts
it into 8,000 / 1,000 / 1,000 images; every likelihood trains on the same images. ``--no-adapt``
skips the data-dependent start of the scales (``VAE.adapt``), to measure it.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from sweeps.hypermodel import compile_model, fit_model  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.metrics.likelihood import bits_per_dim, importance_weighted_nll, standard_error  # noqa: E402
from vae.models import build_model  # noqa: E402

DEFAULT = ("gaussian", "gaussian_pixel", "logistic")


def train(dataset, likelihood: str, args):
    keras.utils.set_random_seed(args.seed)
    model = build_model("conv", dataset.image_shape, likelihood, latent_dim=args.latent_dim, depth=args.depth,
                        seed=args.seed)
    if not args.no_adapt:
        model.adapt(dataset.x_train)
    compile_model(model, args.learning_rate)
    start = time.monotonic()
    history = fit_model(model, dataset, epochs=args.epochs, batch_size=64).history
    return model, history, (time.monotonic() - start) / args.epochs


def celeba_speed(likelihood: str, steps: int = 20, batch: int = 64) -> float:
    """Training steps per second of the depth-4 conv VAE on random 64x64x3 8-bit batches."""
    x = (np.random.default_rng(0).integers(0, 256, (steps * batch, 64, 64, 3)) / 255.0).astype("float32")
    model = build_model("conv", (64, 64, 3), likelihood, latent_dim=32, depth=4, seed=0)
    model.adapt(x)
    compile_model(model, 1e-3)
    model.fit(x[:batch * 2], batch_size=batch, epochs=1, verbose=0)  # compile the step first
    start = time.monotonic()
    model.fit(x, batch_size=batch, epochs=1, verbose=0)
    return steps / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"))
    parser.add_argument("--likelihoods", default=",".join(DEFAULT), help="comma-separated; add logistic_mix to compare it")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--train-images", type=int, default=4000, help="the first N training images (0: all)")
    parser.add_argument("--iwae-samples", type=int, default=20)
    parser.add_argument("--eval-images", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-adapt", action="store_true")
    parser.add_argument("--speed", action="store_true", help="add the CelebA-sized speed check")
    args = parser.parse_args()
    names = args.likelihoods.split(",")
    rows, reference = [], None
    for name in names:
        dataset = load_dataset("mnist", data_dir=args.data_dir, likelihood=name)
        if args.train_images:
            dataset.x_train, dataset.y_train = dataset.x_train[: args.train_images], dataset.y_train[: args.train_images]
        x = dataset.x_test[: args.eval_images]
        model, history, seconds = train(dataset, name, args)
        per_image = importance_weighted_nll(model, x, num_samples=args.iwae_samples, seed=0)
        reference = per_image if reference is None else reference
        diff = per_image - reference
        dims = int(np.prod(x.shape[1:]))
        rows.append((name, per_image.mean(), standard_error(per_image), bits_per_dim(per_image.mean(), dims),
                     bits_per_dim(standard_error(per_image), dims), diff.mean(), standard_error(diff),
                     history["val_elbo"][-1], history["reconstruction_loss"][0], history["kl_loss"][0],
                     history["val_kl_loss"][-1], seconds))
        print(f"  {name}: done ({seconds:.1f} s/epoch)", flush=True)
    print(f"\nMNIST test split as 8-bit grey images: {len(dataset.x_train)} train images, conv VAE latent "
          f"{args.latent_dim} depth {args.depth}, {args.epochs} epochs, seed {args.seed}"
          f"{', no adapt' if args.no_adapt else ''}; test NLL = -IWAE_{args.iwae_samples} on the first "
          f"{len(x)} test images (± standard error over images); keras backend {keras.backend.backend()}\n")
    header = (f"{'likelihood':<15}{'test_nll (nats)':>19}{'bits/dim':>17}{f'vs {names[0]} (paired)':>24}"
              f"{'val_elbo':>10}{'epoch-1 recon':>15}{'epoch-1 KL':>12}{'val KL':>8}{'s/epoch':>9}")
    print(header)
    print("-" * len(header))
    for name, nll, se, bpd, bpd_se, d, d_se, val_elbo, recon, kl, val_kl, seconds in rows:
        print(f"{name:<15}{nll:>11.1f} ± {se:<5.1f}{bpd:>10.3f} ± {bpd_se:<5.3f}{d:>14.1f} ± {d_se:<7.1f}"
              f"{val_elbo:>10.1f}{recon:>15.1f}{kl:>12.1f}{val_kl:>8.1f}{seconds:>9.1f}")
    if args.speed:
        print("\nCelebA-sized speed check (64x64x3 random 8-bit batches of 64, conv depth 4, latent 32):")
        for name in names:
            print(f"  {name:<15}{celeba_speed(name):6.2f} steps/s")


if __name__ == "__main__":
    main()
