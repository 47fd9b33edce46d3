"""Does UDR rank β-VAE configurations as MIG does on dSprites? The check Duan et al. make.

Trains each configuration (β x latent size) with several seeds on procedurally rendered
dSprites, encodes the same test images with every seed, and prints each configuration's UDR
(``vae.metrics.udr``, no factors used) and mean MIG (``vae.metrics.mig``, factors used), then
the Spearman rank correlation between the two over the configurations (and, as the paper
also reports, over the single models: each seed's UDR against its own MIG).

    .venv/bin/python benchmarks/udr_mig.py [--betas 1 4 16] [--latents 6 10] [--seeds 3]
        [--epochs 2] [--subset 1000] [--batch-size 32] [--correlation spearman|lasso]

The default run (6 configurations x 3 seeds, 2 epochs on 1,000 images, 250 test images) took
685 s on two CPU cores shared with other jobs (load average about 7; 110-130 s per
configuration), so alone on two cores it should stay under 8 minutes. At that budget (63
steps per model) the β-VAEs have barely started to disentangle (MIG 0.01-0.03) and β = 16
collapses to no informative latent, so its correlation is a check of the pipeline, not the
paper's figure; a larger budget (``--subset 4000 --epochs 10``) takes about twenty times longer.
"""

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sweeps.training import compile_model, fit_model  # noqa: E402
from vae.evaluate import posterior_means  # noqa: E402

from vae.data import load_dataset  # noqa: E402
from vae.metrics import mig  # noqa: E402
from vae.metrics.udr import gaussian_kl, udr  # noqa: E402
from vae.models import build_model  # noqa: E402


def encode_trained(dataset, beta: float, latent_dim: int, seed: int, epochs: int, batch_size: int,
                   learning_rate: float):
    """Posterior means and per-latent KL of the test images, from a β-VAE trained with ``seed``."""
    keras.utils.set_random_seed(seed)
    model = build_model("beta", dataset.image_shape, dataset.likelihood, latent_dim=latent_dim,
                        beta=beta, seed=seed)
    model.adapt(dataset.x_train)
    compile_model(model, learning_rate)
    fit_model(model, dataset, epochs=epochs, batch_size=batch_size)
    z_mean, z_log_var = posterior_means(model, dataset.x_test)
    keras.backend.clear_session()
    return z_mean, gaussian_kl(z_mean, z_log_var)


def rank_correlation(a, b) -> str:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return "undefined (fewer than 3 values, or a constant column)"
    rho, p = spearmanr(a, b)
    return f"{rho:+.2f} (p = {p:.2g}, n = {len(a)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0, 16.0])
    parser.add_argument("--latents", type=int, nargs="+", default=[6, 10])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=1000, help="training images (test: a quarter)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--correlation", choices=["spearman", "lasso"], default="spearman")
    args = parser.parse_args()
    start = time.monotonic()
    dataset = load_dataset("dsprites", subset=args.subset)
    print(f"dSprites: {len(dataset.x_train)} train / {len(dataset.x_test)} test images (procedural); "
          f"β-VAE (conv, depth 2), {args.epochs} epochs, batch {args.batch_size}, lr {args.learning_rate:g}; "
          f"{args.seeds} seeds per configuration; UDR_{args.correlation[0].upper()}; "
          f"keras backend {keras.backend.backend()}", flush=True)
    print(f"{'beta':>6} {'latent':>6} {'UDR':>6} {'pairs':>13} {'MIG':>6} {'MIG per seed':>22} "
          f"{'informative':>12} {'time':>6}", flush=True)
    rows = []
    for beta, latent_dim in itertools.product(args.betas, args.latents):
        t0 = time.monotonic()
        encoded = [encode_trained(dataset, beta, latent_dim, seed, args.epochs, args.batch_size,
                                  args.learning_rate) for seed in range(args.seeds)]
        codes, kls = [c for c, _ in encoded], [k for _, k in encoded]
        migs = [mig(c, dataset.y_test)["mig"] for c in codes]
        result = udr(codes, kls, correlation=args.correlation)
        pairs = result.pair_scores
        rows.append((beta, latent_dim, result, migs))
        print(f"{beta:6g} {latent_dim:6d} {result.score:6.3f} [{pairs.min():.3f},{pairs.max():.3f}] "
              f"{np.mean(migs):6.3f} {' '.join(f'{m:.3f}' for m in migs):>22} "
              f"{'/'.join(map(str, result.num_informative)):>12} {time.monotonic() - t0:5.0f}s", flush=True)
    config_udr = [r.score for _, _, r, _ in rows]
    config_mig = [float(np.mean(m)) for _, _, _, m in rows]
    model_udr = [s for _, _, r, _ in rows for s in r.model_scores]
    model_mig = [m for _, _, _, migs in rows for m in migs]
    print(f"\nSpearman rank correlation UDR vs MIG over {len(rows)} configurations: "
          f"{rank_correlation(config_udr, config_mig)}")
    print(f"Spearman rank correlation UDR vs MIG over {len(model_udr)} models (seeds): "
          f"{rank_correlation(model_udr, model_mig)}")
    print(f"{time.monotonic() - start:.0f}s in all")


if __name__ == "__main__":
    main()
