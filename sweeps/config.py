"""The typed configurations of the commands: what ``vaesweep sweep``, ``train`` and ``server``
were asked to do.

``vaesweep.cli`` turns arguments into these; ``sweeps`` never sees an argparse namespace.
``SweepConfig.to_argv`` turns a sweep's configuration back into the options that start the
same sweep in another process (a worker, or this process restarted).
"""

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class SweepConfig:
    dataset: str = "mnist"
    budget: str = "quick"
    tuner: str | None = None
    space_file: str | None = None
    data_dir: str | None = None
    subset: int | None = None
    seed: int = 0
    max_trials: int | None = None
    name: str | None = None
    resume: bool = False
    tracking_uri: str | None = None
    workers: int | None = None
    chief: str | None = None
    worker_id: str | None = None
    replicates: int | None = None
    replicate_top: int | None = None
    backend: str | None = None
    precision: str | None = None
    memory_fraction: float | None = None
    inception_weights: str | None = None
    image_every: int | None = None
    system_metrics: bool = True
    overrides: tuple = ()  # ``--set KEY=VALUE`` pairs, applied to the search space's YAML
    quiet: bool = False  # no per-epoch lines inside trials

    def replace(self, **changes) -> "SweepConfig":
        return dataclasses.replace(self, **changes)

    def to_argv(self) -> list[str]:
        """``vaesweep sweep`` options that reproduce this sweep's settings (no role options:
        ``--workers``, ``--chief`` and ``--worker-id`` are the caller's to add)."""
        argv = ["--dataset", self.dataset, "--budget", self.budget, "--seed", str(self.seed)]
        for option, value in (("--name", self.name), ("--tuner", self.tuner), ("--max-trials", self.max_trials),
                              ("--tracking-uri", self.tracking_uri), ("--data-dir", self.data_dir),
                              ("--subset", self.subset), ("--config", self.space_file),
                              ("--replicates", self.replicates), ("--replicate-top", self.replicate_top),
                              ("--image-every", self.image_every)):
            if value is not None:
                argv += [option, str(value)]
        argv += [a for key, value in self.overrides for a in ("--set", f"{key}={value}")]
        argv += ["--quiet"] if self.quiet else []
        return argv + (["--resume"] if self.resume else []) + ([] if self.system_metrics else ["--no-system-metrics"])


@dataclass(frozen=True)
class TrainConfig:
    """One ``vaesweep train`` run: a configuration, its data and what its evaluation does."""

    dataset: str = "mnist"
    model: str = "conv"
    latent_dim: int = 16
    beta: float | None = None
    depth: int | None = None
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 10
    params: dict = dataclasses.field(default_factory=dict)  # the family's extra hyperparameters
    likelihood: str | None = None  # the decoder's p(x|z) (vae.likelihoods); None: the dataset's default
    budget: str = "quick"  # whose metric settings the evaluation uses
    iwae_samples: int | None = None
    eval_images: int | None = None
    data_dir: str | None = None
    subset: int | None = None
    seed: int = 0
    tracking_uri: str | None = None
    inception_weights: str | None = None
    image_every: int | None = None
    system_metrics: bool = True


@dataclass(frozen=True)
class StoreQuery:
    """``vaesweep sweeps``, ``status NAME`` and ``stop NAME``: which store, which sweep."""

    name: str | None = None
    dataset: str | None = None
    tracking_uri: str | None = None


@dataclass(frozen=True)
class ServerConfig:
    """``vaesweep server``: where the tracking server listens and what it stores into."""

    host: str = "127.0.0.1"
    port: int = 5000
    backend_store_uri: str | None = None
    workers: int | None = None
