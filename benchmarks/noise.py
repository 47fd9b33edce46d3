"""The noise floor of a comparison on this machine: what differences between trials mean.

Prints (1) the standard error of ``test_nll`` over the evaluation images at each budget's
metric settings, for one trained MNIST model, (2) the seed-to-seed spread of ``test_nll``
(MNIST) and of MIG (dSprites) for one configuration trained with 5 seeds, and (3) MIG's
estimator at a sweep's sample sizes: what a pure-noise latent scores with disentanglement_lib's
estimator (20 equal-width bins, plug-in MI / H) and with ours (``vae.metrics.information``),
and the standard error of a trained dSprites model's MIG at each number of evaluation images,
from independent draws of the ground-truth sampler, against the seed-to-seed spread.

    .venv/bin/python benchmarks/noise.py [--data-dir ../shared/datasets] [--seeds 5] [--epochs 2]
    .venv/bin/python benchmarks/noise.py --only mig   # part 3 alone (no MNIST needed)

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
from vae.metrics import information, registry, utils  # noqa: E402
from vae.metrics.codes import posterior_means  # noqa: E402
from vae.metrics.inputs import TrialInputs  # noqa: E402
from vae.metrics.mig import mig as mig_score  # noqa: E402
from vae.models import build_model  # noqa: E402


def trained(dataset, family: str, latent_dim: int, seed: int, epochs: int, **extra):
    keras.utils.set_random_seed(seed)
    model = build_model(family, dataset.image_shape, dataset.likelihood, latent_dim=latent_dim, seed=seed, **extra)
    compile_model(model, 1e-3)
    fit_model(model, dataset, epochs=epochs, batch_size=64)
    return model


def metric(model, dataset, name: str, settings) -> dict:
    return registry.METRICS[name].compute(TrialInputs(model, dataset, settings))


def dl_mig(codes, factors, num_bins: int = 20) -> float:
    """disentanglement_lib's MIG: equal-width bins, plug-in MI over the factor's entropy."""
    mi = utils.discrete_mutual_info(utils.discretize(codes, num_bins), factors)
    top = np.sort(mi, axis=0)[::-1]
    return float(np.mean((top[0] - top[1]) / utils.discrete_entropy(factors)))


def dl_ratio(codes, factors, num_bins: int = 20) -> np.ndarray:
    """disentanglement_lib's MI / H of every code and factor."""
    return utils.discrete_mutual_info(utils.discretize(codes, num_bins), factors) / utils.discrete_entropy(factors)


def estimator_noise(dsprites, epochs: int, seed_sd: float, draws: int, sizes) -> None:
    """Part 3: the noise latent before and after, and MIG's standard error by sample size."""
    truth, rng = dsprites.ground_truth, np.random.RandomState(1)
    names = dsprites.factor_names
    factors = truth.sample_factors(500, rng)
    noise = rng.randn(500, 1)
    print("\n3a. a pure-noise latent at 500 samples, MI/H against each factor "
          "(disentanglement_lib 20 equal-width bins -> ours):")
    old, new = dl_ratio(noise, factors)[0], information.information_matrix(noise, factors)[0]
    for name, k, a, b in zip(names, truth.factors_num_values, old, new, strict=True):
        print(f"  {name:>12} ({k:2d} values): {a:.3f} -> {b:+.3f}")
    ideal = factors + 0.01 * rng.randn(*factors.shape)
    ideal_noise = np.concatenate([ideal, rng.randn(500, 5)], axis=1)
    pure = rng.randn(500, 10)
    print(f"  MIG of 10 pure-noise latents:                 {dl_mig(pure, factors):.3f} -> {mig_score(pure, factors)['mig']:+.3f}")
    print(f"  MIG of one exact latent per factor + 5 noise: {dl_mig(ideal_noise, factors):.3f} -> "
          f"{mig_score(ideal_noise, factors)['mig']:+.3f}")
    print(f"  MI/H of the exact latent of each factor (can it reach 1?): "
          f"{np.round(np.diag(dl_ratio(ideal, factors)), 3).tolist()} -> "
          f"{np.round(np.diag(information.information_matrix(ideal, factors)), 3).tolist()}")

    print(f"\n3b. standard error of MIG by evaluation images (sd over {draws} independent sampler draws "
          f"of images, one trained β-VAE β = 4, latent 10, {epochs} epochs; seed-to-seed sd {seed_sd}):")
    model = trained(dsprites, "beta", 10, 0, epochs, beta=4.0)
    for n in sizes:
        old, new = [], []
        for _ in range(draws):
            f = truth.sample_factors(n, rng)
            codes = posterior_means(model, truth.sample_observations_from_factors(f, rng))[0]
            old.append(dl_mig(codes, f))
            new.append(mig_score(codes, f)["mig"])
        se = np.std(new, ddof=1)
        print(f"  n = {n:5d}: ours mean {np.mean(new):.3f} s.e. {se:.4f} ({'below' if se < seed_sd else 'above'} "
              f"the seed sd)   disentanglement_lib mean {np.mean(old):.3f} s.e. {np.std(old, ddof=1):.4f}")


def spread(values) -> str:
    values = np.asarray(values)
    return f"mean {values.mean():.3f}  sd {values.std(ddof=1):.3f}  range [{values.min():.3f}, {values.max():.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=4000)
    parser.add_argument("--only", choices=("all", "mig"), default="all", help="mig: part 3 alone")
    parser.add_argument("--seed-sd", type=float, default=0.011, help="seed-to-seed sd of MIG to compare with")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    args = parser.parse_args()
    start = time.monotonic()
    if args.only == "mig":
        estimator_noise(load_dataset("dsprites", subset=args.subset), args.epochs, args.seed_sd, args.draws, args.sizes)
        print(f"\n{time.monotonic() - start:.0f}s in all")
        return
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
              f"test_nll {values['nll']:.2f} ± {values['nll_se']:.2f} nats (s.e.)  "
              f"[{time.monotonic() - t0:.1f}s]")

    print(f"\n2. seed-to-seed spread over {args.seeds} seeds of one configuration:")
    quick = replace(SETTINGS["quick"], eval_images=min(SETTINGS["quick"].eval_images, len(mnist.x_test)))
    nll = [metric(trained(mnist, "mlp", 8, seed, args.epochs), mnist, "likelihood", quick)["nll"]
           for seed in range(args.seeds)]
    print(f"  MNIST mlp test_nll (quick settings): {spread(nll)}")
    dsprites = load_dataset("dsprites", subset=args.subset)
    settings = replace(SETTINGS["quick"], eval_images=min(1000, len(dsprites.x_test)))
    mig = [metric(trained(dsprites, "beta", 10, seed, args.epochs, beta=4.0), dsprites, "mig", settings)["mig"]
           for seed in range(args.seeds)]  # compute() returns split-neutral names
    print(f"  dSprites β-VAE (β = 4, latent 10) MIG: {spread(mig)}  values {', '.join(f'{v:.3f}' for v in mig)}")
    estimator_noise(dsprites, args.epochs, args.seed_sd, args.draws, args.sizes)
    print(f"\n{time.monotonic() - start:.0f}s in all")


if __name__ == "__main__":
    main()
