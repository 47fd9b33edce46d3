"""Wall time of one sweep run by a single process, by a chief with 1 worker and with 2 workers.

    .venv/bin/python benchmarks/distributed.py [--budget smoke] [--subset 2000] [--max-trials 6]
                                               [--workers 0 1 2]

Each configuration runs ``vaesweep sweep`` from its own empty folder (fresh SQLite store, tuner
state) with the same tuner, seed, trials and data; ``0`` workers means the plain single-process
sweep. The wall time includes every process's start-up (TensorFlow import, data loading), which
is what a user waits for. Workers share the machine's cores: on a machine with few cores,
two workers mostly split the same CPU time.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "vaesweep"


def run(workers: int, args) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(EXE), "sweep", "--dataset", args.dataset, "--budget", args.budget, "--tuner", args.tuner,
                "--max-trials", str(args.max_trials), "--name", "bench", "--data-dir", args.data_dir,
                "--tracking-uri", f"sqlite:///{tmp}/mlruns/mlflow.db"]
        argv += ["--subset", str(args.subset)] if args.subset else []
        argv += ["--workers", str(workers)] if workers else []
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        wall = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
        return wall, done.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--budget", default="smoke")
    parser.add_argument("--tuner", default="random")
    parser.add_argument("--subset", type=int, default=2000)
    parser.add_argument("--max-trials", type=int, default=6)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR") or str(ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    print(f"{args.dataset} {args.budget} sweep, {args.tuner}, {args.max_trials} trials, subset {args.subset}; "
          f"{os.cpu_count()} CPU cores")
    results = {}
    for workers in args.workers:
        wall, code = run(workers, args)
        results[workers] = wall
        label = "single process" if workers == 0 else f"chief + {workers} worker{'s' if workers > 1 else ''}"
        base = results.get(args.workers[0])
        speedup = f"  x{base / wall:.2f} vs {args.workers[0] or 'single'}" if workers != args.workers[0] else ""
        print(f"  {label:22s} {wall:7.1f} s  exit {code}{speedup}", flush=True)


if __name__ == "__main__":
    main()
