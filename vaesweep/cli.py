"""The ``vaesweep`` command above ``sweeps`` and ``reports``: train, sweep, sweeps, status,
stop, report, server.

User mistakes end as one line on stderr and exit code 2; an interrupt as exit code 130.

Each command imports its package only once its arguments are parsed and checked (the imports
inside the functions below): Keras, TensorFlow and MLflow take seconds to import, so ``--help``
and an argument error answer at once.
"""

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

from sweeps.choices import BACKENDS, BUDGETS, PRECISIONS, TUNERS
from vae.data import DATASETS
from vae.errors import ConfigError, VaeError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
TRACKING_HELP = "MLflow store (default $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db)"


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line."""

    def error(self, message):
        raise ConfigError(f"{message}; see '{self.prog} --help'")


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("vaesweep")
    except metadata.PackageNotFoundError:  # run from a checkout that was not installed
        return "unknown (not installed)"


def override(text):
    """``--set KEY=VALUE`` -> ``(key, value)``, checked for its form here and for its value
    with the search space."""
    from sweeps.overrides import parse_override

    try:
        return parse_override(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--set ")) from None


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_common(parser):
    parser.add_argument("--dataset", default="mnist", choices=list(DATASETS), help="the dataset (default mnist)")
    parser.add_argument("--data-dir", help="folder holding <dataset>/ files (default $VAE_DATA_DIR)")
    parser.add_argument("--subset", type=int, help="use only N training images (and N/4 for val/test)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--tracking-uri", help=TRACKING_HELP)
    parser.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend (default $KERAS_BACKEND or tensorflow)")
    parser.add_argument("--precision", choices=PRECISIONS, help="float32 (default) or mixed_bfloat16 (losses stay float32)")
    parser.add_argument("--inception-weights", metavar="PATH",
                        help="Keras' InceptionV3 no-top weights file: adds the standard FID (nothing is downloaded)")
    parser.add_argument("--memory-fraction", type=float,
                        help="share of each GPU's memory this process may take (default: all; with --workers N, 0.9/N)")
    parser.add_argument("--image-every", type=positive_int, metavar="N",
                        help="log reconstructions and samples as MLflow images every N epochs (default: about 5 per run)")
    parser.add_argument("--no-system-metrics", dest="system_metrics", action="store_false",
                        help="do not log MLflow's system metrics (CPU, memory, GPU) on each run")


def build_parser():
    parser = ArgumentParser(prog="vaesweep", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vaesweep {version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    train = sub.add_parser("train", help="train one configuration as one MLflow run")
    add_common(train)
    train.add_argument("--model", default="conv", help="model family (mlp, conv, beta, ...)")
    train.add_argument("--latent-dim", type=positive_int, default=16, help="latent dimensions (default 16)")
    train.add_argument("--beta", type=float, default=None, help="weight of the KL term (family default)")
    train.add_argument("--depth", type=int, default=None, help="hidden blocks (conv: 2-4)")
    train.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's learning rate (default 1e-3)")
    train.add_argument("--batch-size", type=positive_int, default=64, help="images per step (default 64)")
    train.add_argument("--epochs", type=positive_int, default=10, help="epochs to train (default 10)")
    train.add_argument("--likelihood", help="the decoder's p(x|z), a name of vae.likelihoods.LIKELIHOODS (default: "
                       "the dataset's); on mnist/fashion_mnist an 8-bit one keeps the grey levels")
    train.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="an extra hyperparameter of the family (e.g. mmd_weight=10)")
    train.add_argument("--budget", choices=BUDGETS, default="quick",
                       help="how much work the test-set metrics do (default quick: 500 evaluation images)")
    train.add_argument("--iwae-samples", type=positive_int,
                       help="importance samples k of the test NLL (default: the budget's; 1 gives the ELBO)")
    train.add_argument("--eval-images", type=positive_int,
                       help="evaluation images for every test figure (default: the budget's)")

    sweep = sub.add_parser("sweep", help="run a Keras Tuner sweep tracked in MLflow")
    add_common(sweep)
    sweep.add_argument("--config", help="search space YAML (default sweeps/<dataset>.yaml)")
    sweep.add_argument("--tuner", choices=list(TUNERS), default=None,
                       help=f"Keras Tuner search: {', '.join(TUNERS)} (default: the search space's tuner:)")
    sweep.add_argument("--budget", choices=BUDGETS, default="quick",
                       help=f"{', '.join(BUDGETS)}: trials, epochs, images and metric work, from the space's "
                            "budgets: (default quick)")
    sweep.add_argument("--max-trials", type=positive_int, metavar="N",
                       help="trials to run (default: the budget's max_trials)")
    sweep.add_argument("--set", dest="overrides", type=override, action="append", default=[], metavar="KEY=VALUE",
                       help="change the search space's YAML, checked like the file (budgets.smoke.epochs=2, "
                            "early_stopping=false, 'hyperparameters.learning_rate=[1.0e-4, 1.0e-3]'); repeatable")
    sweep.add_argument("--dry-run", action="store_true",
                       help="print the resolved space, the trial count and a time estimate; run and write nothing")
    sweep.add_argument("--quiet", action="store_true", help="no per-epoch lines inside trials (the trial lines stay)")
    sweep.add_argument("--name", help="sweep name (default <dataset>-<tuner>-<budget>-<YYYYmmdd-HHMMSS>)")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the named sweep (default: the latest) after Ctrl-C, a crash or vaesweep stop")
    sweep.add_argument("--workers", type=positive_int, help="run N worker processes and a chief on this machine")
    sweep.add_argument("--chief", metavar="HOST:PORT", help="join a sweep whose chief runs at HOST:PORT")
    sweep.add_argument("--worker-id", help="this worker's name when joining a chief")
    sweep.add_argument("--replicates", type=positive_int,
                       help="seeds per configuration for the top configurations (default: the budget's replicates)")
    sweep.add_argument("--replicate-top", type=positive_int,
                       help="how many of the best configurations get replicates (default 3)")

    listing = sub.add_parser("sweeps", help="list the sweeps of a store: status, trials done/planned, best value")
    listing.add_argument("--dataset", choices=list(DATASETS), help="only this dataset's sweeps (default: all)")
    listing.add_argument("--tracking-uri", help=TRACKING_HELP)
    for action, text in (("status", "a sweep's progress, running trials and their workers, and its ETA"),
                         ("stop", "stop a running sweep after its running trials (continue it with sweep --resume)")):
        command = sub.add_parser(action, help=text)
        command.add_argument("name", metavar="NAME", help="the sweep's name (see 'vaesweep sweeps')")
        command.add_argument("--dataset", choices=list(DATASETS), help="look only in this dataset's sweeps")
        command.add_argument("--tracking-uri", help=TRACKING_HELP)

    report = sub.add_parser("report", help="write the HTML report of a sweep")
    report.add_argument("--dataset", default="mnist", choices=list(DATASETS), help="the dataset (default mnist)")
    report.add_argument("--sweep", help="sweep name or parent run id (default: the latest sweep)")
    report.add_argument("--out", help="output file (default reports/<dataset>.html)")
    report.add_argument("--tracking-uri", help=TRACKING_HELP)

    server = sub.add_parser("server", help="start an MLflow tracking server for several workers")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    server.add_argument("--backend-store-uri",
                        help="SQLAlchemy URI: sqlite:///mlruns/mlflow.db (default) or postgresql://user@host:port/db")
    server.add_argument("--workers", type=int, help="server processes (default 1 for SQLite, 4 for a database server)")
    return parser


def parse_params(pairs):
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param expects KEY=VALUE, got '{pair}'")
        try:
            params[key] = float(value) if any(c in value for c in ".e") else int(value)
        except ValueError:
            params[key] = value
    return params


def typed(cls, args, **renamed):
    """The dataclass ``cls`` from the namespace's attributes of the same names (``renamed``:
    field -> attribute); an attribute left unset keeps the field's default."""
    values = {}
    for field in dataclasses.fields(cls):
        value = getattr(args, renamed.get(field.name, field.name), None)
        if value is not None:
            values[field.name] = value
    return cls(**values)


def sweep_command(args, restartable: bool = False) -> int:
    """A standalone sweep, or one role of a distributed one; SIGTERM ends it as Ctrl-C does.

    ``restartable``: this process is the command itself, which may replace itself with a
    resumed sweep when its memory grows (never a caller's process, a test's say)."""
    from sweeps.config import SweepConfig
    from sweeps.distributed import distributed_command, is_distributed
    from sweeps.orchestrator import run_sweep
    from sweeps.process import sigterm_as_interrupt

    config = dataclasses.replace(typed(SweepConfig, args, space_file="config"), overrides=tuple(args.overrides))
    if args.dry_run:
        from sweeps.dry_run import dry_run

        return dry_run(config)
    with sigterm_as_interrupt():
        return distributed_command(config) if is_distributed(config) else run_sweep(config, restartable)


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("mlflow", "alembic", "absl", "tensorflow", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help and --version print and end here
            return exc.code or 0
        if args.command in ("sweeps", "status", "stop"):
            from sweeps.config import StoreQuery
            from sweeps.overview import command

            return command(args.command, typed(StoreQuery, args))
        if args.command in ("train", "sweep"):  # before Keras is imported
            from vae import runtime

            if args.inception_weights and not os.path.isfile(args.inception_weights):
                raise ConfigError(f"--inception-weights {args.inception_weights}: no such file; pass the path of "
                                  "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
            runtime.check_backend(args.backend)
            runtime.configure(backend=args.backend, precision=args.precision, memory_fraction=args.memory_fraction)
        if args.command == "train":
            from sweeps.config import TrainConfig
            from sweeps.single_run import train

            train(dataclasses.replace(typed(TrainConfig, args), params=parse_params(args.param)))
        elif args.command == "sweep":
            return sweep_command(args, restartable=argv is None)
        elif args.command == "report":
            from reports.cli import ReportConfig, report_command

            return report_command(ReportConfig(dataset=args.dataset, sweep=args.sweep,
                                               out=Path(args.out) if args.out else None,
                                               tracking_uri=args.tracking_uri))
        elif args.command == "server":
            from sweeps.config import ServerConfig
            from sweeps.server import server_command

            return server_command(typed(ServerConfig, args))
        return 0
    except VaeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted: finished work is kept in the MLflow store", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
