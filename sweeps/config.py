"""The typed configuration of a sweep: what ``vaesweep sweep`` was asked to do.

The orchestrator and the distributed roles are built from a ``SweepConfig``, never from an
argparse namespace; ``to_argv`` turns one back into the options that start the same sweep
in another process (a worker, or this process restarted).
"""

import dataclasses
from dataclasses import dataclass

from vae.errors import ConfigError


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

    def __post_init__(self):
        if self.subset is not None and self.subset < 1:
            raise ConfigError(f"--subset must be a positive number of images, got {self.subset}")

    @classmethod
    def from_args(cls, args) -> "SweepConfig":
        names = {f.name for f in dataclasses.fields(cls)} - {"space_file"}
        values = {name: getattr(args, name, None) for name in names}
        values = {k: v for k, v in values.items() if v is not None}
        return cls(space_file=getattr(args, "config", None), **values)

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
        return argv + (["--resume"] if self.resume else []) + ([] if self.system_metrics else ["--no-system-metrics"])
