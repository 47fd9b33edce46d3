"""The platform's overhead: wall time of a sweep against the time its trials spend in `fit`.

    .venv/bin/python benchmarks/sweep_overhead.py [--budget smoke] [--subset N] [--max-trials N]

Splits a sweep's wall time into: time inside Keras `fit` (training and validation), the
per-trial work the platform adds on purpose after training (the model logged, the test-set
terms, the images, each registered metric), and the rest: data loading, tuner and MLflow
tracking overhead.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dataclasses  # noqa: E402
from collections import defaultdict  # noqa: E402

import sweeps.evaluation as evaluation  # noqa: E402
import sweeps.hypermodel as hypermodel  # noqa: E402
import sweeps.progress as progress  # noqa: E402
import sweeps.tracking as tracking  # noqa: E402
import vae.images as images  # noqa: E402
from vae.metrics import registry  # noqa: E402
from vaesweep.cli import main as cli  # noqa: E402

TIMES = defaultdict(float)
RSS_MB = []  # resident memory after each trial: flat when the Keras session is cleared


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def record_memory(trial_ended):
    def wrapper(self, *args):
        RSS_MB.append(rss_mb())
        return trial_ended(self, *args)

    return wrapper


def timed(name, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - start

    return wrapper


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--budget", default="smoke")
    parser.add_argument("--tuner", default="random")
    parser.add_argument("--subset", type=int)
    parser.add_argument("--max-trials", type=int)
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR") or str(ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    progress.SweepProgress.trial_ended = record_memory(progress.SweepProgress.trial_ended)
    hypermodel.fit_model = timed("fit", hypermodel.fit_model)
    evaluation.evaluate.evaluate = timed("test-set terms", evaluation.evaluate.evaluate)
    tracking.log_keras_model = timed("model logged (Keras flavor)", tracking.log_keras_model)
    images.all_images = timed("images", images.all_images)
    for name, metric in list(registry.METRICS.items()):
        registry.METRICS[name] = dataclasses.replace(metric, compute=timed(f"metric {name}", metric.compute))
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        argv = ["sweep", "--dataset", args.dataset, "--budget", args.budget, "--tuner", args.tuner,
                "--data-dir", args.data_dir, "--tracking-uri", f"sqlite:///{tmp}/mlruns/mlflow.db"]
        argv += ["--subset", str(args.subset)] if args.subset else []
        argv += ["--max-trials", str(args.max_trials)] if args.max_trials else []
        start = time.perf_counter()
        code = cli(argv)
        wall = time.perf_counter() - start
    rest = wall - sum(TIMES.values())
    print(f"\n{args.dataset} {args.budget} sweep ({args.tuner}, subset {args.subset or 'budget default'}, "
          f"max trials {args.max_trials or 'budget default'}), exit {code}")
    print(f"  {'wall time':40} {wall:8.1f} s")
    for name, seconds in sorted(TIMES.items(), key=lambda item: -item[1]):
        print(f"  {name:40} {seconds:8.1f} s  {100 * seconds / wall:5.1f} %")
    print(f"  {'tracking, tuner, data, start-up':40} {rest:8.1f} s  {100 * rest / wall:5.1f} %")
    print("  resident memory after each trial (MB): " + " ".join(f"{m:.0f}" for m in RSS_MB))


if __name__ == "__main__":
    main()
