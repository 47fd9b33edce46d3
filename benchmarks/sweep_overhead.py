"""The platform's overhead: wall time of a sweep against the time its trials spend in `fit`.

    .venv/bin/python benchmarks/sweep_overhead.py [--budget smoke] [--subset N] [--max-trials N]

Splits a sweep's wall time into: time inside Keras `fit` (training and validation), the
per-trial evaluation the platform adds on purpose (test ELBO, images, model artifact, IWAE and
disentanglement metrics), and the rest: data loading, tuner and MLflow tracking overhead.
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

import sweeps.orchestrator as orchestrator  # noqa: E402
from sweeps.cli import main as cli  # noqa: E402

TIMES = {"fit": 0.0, "evaluation": 0.0}
RSS_MB = []  # resident memory after each trial: flat when the Keras session is cleared


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def record_memory(report_progress):
    def wrapper(self, trial, times):
        RSS_MB.append(rss_mb())
        return report_progress(self, trial, times)

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
    orchestrator.Sweep.report_progress = record_memory(orchestrator.Sweep.report_progress)
    orchestrator.fit_tracked = timed("fit", orchestrator.fit_tracked)
    orchestrator.finish_tracked = timed("evaluation", orchestrator.finish_tracked)
    orchestrator.log_trial_metrics = timed("evaluation", orchestrator.log_trial_metrics)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        argv = ["sweep", "--dataset", args.dataset, "--budget", args.budget, "--tuner", args.tuner,
                "--data-dir", args.data_dir, "--tracking-uri", f"sqlite:///{tmp}/mlruns/mlflow.db"]
        argv += ["--subset", str(args.subset)] if args.subset else []
        argv += ["--max-trials", str(args.max_trials)] if args.max_trials else []
        start = time.perf_counter()
        code = cli(argv)
        wall = time.perf_counter() - start
    rest = wall - TIMES["fit"] - TIMES["evaluation"]
    print(f"\n{args.dataset} {args.budget} sweep ({args.tuner}, subset {args.subset or 'budget default'}, "
          f"max trials {args.max_trials or 'budget default'}), exit {code}")
    print(f"  wall time                        {wall:8.1f} s")
    print(f"  in fit (train + validation)      {TIMES['fit']:8.1f} s  {100 * TIMES['fit'] / wall:5.1f} %")
    print(f"  trial evaluation (metrics, images, model)  {TIMES['evaluation']:8.1f} s  {100 * TIMES['evaluation'] / wall:5.1f} %")
    print(f"  tracking, tuner, data, start-up  {rest:8.1f} s  {100 * rest / wall:5.1f} %")
    print(f"  tracking + tuner overhead relative to fit + evaluation: {100 * rest / (wall - rest):.1f} %")
    print("  resident memory after each trial (MB): " + " ".join(f"{m:.0f}" for m in RSS_MB))


if __name__ == "__main__":
    main()
