"""The noise floor of a comparison on this machine: what differences between trials mean.

Prints (1) the standard error of ``test_nll`` over the evaluation images at each budget's
metric settings, for one trained MNIST model, and (2) the seed-to-seed spread of ``test_nll``
(MNIST) and of MIG (dSprites) for one configuration trained with 5 seeds.

    .venv/bin/python benchmarks/noise.py [--data-dir ../shared/datasets] [--seeds 5] [--epochs 2]

MNIST is read from ``--data-dir`` (default ``$VAE_DATA_DIR``); dSprites is procedural.
"""

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from sweeps.evaluation import SETTINGS  # noqa: E402
from sweeps.hypermodel import compile_model, fit_model  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.metrics import registry  # noqa: E402
from vae.metrics.inputs import TrialInputs  # noqa: E402
from vae.models import build_model  # noqa: E402


def trained(dataset, family: str, latent_dim: int, seed: int, epochs: int, **extra):
    keras.utils.set_random_seed(seed)
    model = build_model(family, dataset.image_shape, dataset.likelihood, latent_dim=latent_dim, seed=seed, **extra)
    compile_model(model, 1e-3)
    fit_model(model, dataset, epochs=epochs, batch_size=64)
    return model


def metric(model, dataset, name: str, settings) -> dict:
    return registry.METRICS[name].compute(TrialInputs(model, dataset, settings))


def spread(values) -> str:
    values = np.asarray(values)
    return f"mean {values.mean():.3f}  sd {values.std(ddof=1):.3f}  range [{values.min():.3f}, {values.max():.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=4000)
    args = parser.parse_args()
    start = time.monotonic()
    mnist = load_dataset("mnist", data_dir=args.data_dir, subset=args.subset)
    print(f"MNIST: {len(mnist.x_train)} train / {len(mnist.x_test)} test images; mlp VAE, latent 8, "
          f"{args.epochs} epochs; keras backend {keras.backend.backend()}")

    print("\n1. standard error of test_nll over the evaluation images (one model):")
    model = trained(mnist, "mlp", 8, 0, args.epochs)
    for budget, settings in SETTINGS.items():
        settings = replace(settings, eval_images=min(settings.eval_images, len(mnist.x_test)))
        t0 = time.monotonic()
        values = metric(model, mnist, "likelihood", settings)
        print(f"  {budget:>6}: {settings.eval_images:5d} images, k = {settings.iwae_samples:4d}: "
              f"test_nll {values['test_nll']:.2f} ± {values['test_nll_se']:.2f} nats (s.e.)  "
              f"[{time.monotonic() - t0:.1f}s]")

    print(f"\n2. seed-to-seed spread over {args.seeds} seeds of one configuration:")
    quick = replace(SETTINGS["quick"], eval_images=min(SETTINGS["quick"].eval_images, len(mnist.x_test)))
    nll = [metric(trained(mnist, "mlp", 8, seed, args.epochs), mnist, "likelihood", quick)["test_nll"]
           for seed in range(args.seeds)]
    print(f"  MNIST mlp test_nll (quick settings): {spread(nll)}")
    dsprites = load_dataset("dsprites", subset=args.subset)
    settings = replace(SETTINGS["quick"], eval_images=min(1000, len(dsprites.x_test)))
    mig = [metric(trained(dsprites, "beta", 10, seed, args.epochs, beta=4.0), dsprites, "mig", settings)["mig"]
           for seed in range(args.seeds)]
    print(f"  dSprites β-VAE (β = 4, latent 10) MIG: {spread(mig)}  values {', '.join(f'{v:.3f}' for v in mig)}")
    print(f"\n{time.monotonic() - start:.0f}s in all")


if __name__ == "__main__":
    main()
