"""Wall time of each trial metric on dSprites at a sweep budget's settings.

    .venv/bin/python benchmarks/metric_cost.py [--budget quick] [--encoder linear|conv]
                                               [--latent-dim 10] [--only dci factor_vae ...]

The codes come from a fixed random linear map of the pixels (``--encoder linear``: the
metrics' own cost, rendering included) or from an untrained conv VAE (``--encoder conv``:
what a trial pays when every observation goes through a real encoder). The array metrics
get ``metric_images`` codes drawn from the ground-truth sampler, the sampled metrics the
budget's ``sampler_*`` settings, as ``sweeps/evaluation.py`` passes them. ``dci_exact`` is
DCI with disentanglement_lib's exact trees (``trees="exact"``), for comparison. Wall and
process CPU seconds are both printed: on a machine shared with other work, the CPU time is
the steadier of the two.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from sweeps.evaluation import SETTINGS  # noqa: E402
from vae import metrics  # noqa: E402
from vae.data.dsprites import DSprites  # noqa: E402


def representation(kind: str, latent_dim: int):
    """A ``representation_fn`` mapping ``(n, 64, 64, 1)`` images to ``(n, latent_dim)`` codes."""
    if kind == "linear":
        weights = np.random.RandomState(0).randn(64 * 64, latent_dim).astype(np.float32) / 64.0
        return lambda images: images.reshape(len(images), -1) @ weights
    from vae.metrics.codes import posterior_means
    from vae.models import build_model

    model = build_model("conv", (64, 64, 1), "bernoulli", latent_dim=latent_dim, seed=0)
    return lambda images: posterior_means(model, images)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="quick", choices=sorted(SETTINGS))
    parser.add_argument("--encoder", default="linear", choices=["linear", "conv"])
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="metric names to time (default: all)")
    args = parser.parse_args()
    settings = SETTINGS[args.budget]
    ground_truth = DSprites()
    encode = representation(args.encoder, args.latent_dim)
    rs = np.random.RandomState(0)
    factors_train, x_train = ground_truth.sample(settings.metric_images, rs)
    factors_test, x_test = ground_truth.sample(settings.metric_images, rs)
    codes_train, codes_test = encode(x_train), encode(x_test)
    sampled = {"batch_size": settings.sampler_batch, "num_train": settings.sampler_train,
               "num_eval": settings.sampler_eval}
    runs = {
        "gaussian_total_correlation": lambda: metrics.gaussian_total_correlation(codes_test),
        "mig": lambda: metrics.mig(codes_train, factors_train, num_bins=settings.num_bins),
        "modularity": lambda: metrics.modularity(codes_train, factors_train, num_bins=settings.num_bins),
        "sap": lambda: metrics.sap(codes_train, factors_train, codes_test, factors_test),
        "dci": lambda: metrics.dci(codes_train, factors_train, codes_test, factors_test,
                                   n_estimators=settings.dci_estimators),
        # disentanglement_lib's exact trees, the default before histogram trees.
        "dci_exact": lambda: metrics.dci(codes_train, factors_train, codes_test, factors_test,
                                         n_estimators=settings.dci_estimators, trees="exact"),
        "beta_vae": lambda: metrics.beta_vae_score(ground_truth, encode, np.random.RandomState(0), **sampled),
        "factor_vae": lambda: metrics.factor_vae_score(ground_truth, encode, np.random.RandomState(0),
                                                       num_variance_estimate=settings.sampler_train, **sampled),
    }
    print(f"budget={args.budget} encoder={args.encoder} latent_dim={args.latent_dim} "
          f"metric_images={settings.metric_images} sampler={sampled}")
    print(f"{'metric':28s} {'wall s':>8s} {'cpu s':>8s}")
    for name, run in runs.items():
        if args.only and name not in args.only:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        values = run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        shown = ", ".join(f"{k}={v:.3f}" for k, v in values.items())
        print(f"{name:28s} {wall:8.2f} {cpu:8.2f}   {shown}", flush=True)


if __name__ == "__main__":
    main()
