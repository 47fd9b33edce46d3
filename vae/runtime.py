"""Where and how models run: the Keras backend, the device, precision, GPU memory sharing and
the compile options that suit each backend.

``configure`` must run before anything imports Keras (the backend is fixed at import), so the
CLI calls ``check_backend`` and ``configure`` first; every run then records
``library_versions()`` and ``device_info()``.
"""

import importlib.metadata
import importlib.util
import os
import platform
import sys
from pathlib import Path

from vae.errors import ConfigError

SUPPORTED_BACKENDS = ("tensorflow", "jax")
PRECISIONS = ("float32", "mixed_bfloat16")
# Keyed by Keras backend. Several steps per compiled call: less Python and callback overhead
# per batch; Keras' torch trainer refuses more than 1. XLA on TensorFlow: "auto" is Keras'
# choice, on with a GPU and off on a CPU-only machine, where XLA's CPU convolutions made a
# training epoch 1.3-2x slower than TensorFlow's oneDNN kernels (benchmarks/throughput.py).
# The JAX backend always compiles with XLA.
COMPILE_OPTIONS = {
    "tensorflow": {"jit_compile": "auto", "steps_per_execution": 16},
    "jax": {"jit_compile": True, "steps_per_execution": 16},
    "torch": {"jit_compile": False, "steps_per_execution": 1},
}
# Import names of the libraries that shape a result, recorded where installed.
LIBRARIES = ("keras", "numpy", "sklearn", "tensorflow", "jax", "jaxlib", "torch")
_KEYS = {"sklearn": "scikit_learn"}  # the record's historical key for scikit-learn


def current_backend() -> str:
    """The Keras backend this process uses or will use, without importing Keras if it is not
    imported yet (``KERAS_BACKEND``, else Keras' default, TensorFlow)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND") or "tensorflow"


def check_backend(backend: str | None = None) -> str:
    """The backend to use (``backend``, else the current one), checked to be supported and installed.

    Raises:
        ConfigError: an unsupported backend (torch included) or one whose library is missing.
    """
    name = backend or current_backend()
    if name not in SUPPORTED_BACKENDS:
        raise ConfigError(f"Keras backend '{name}' is not supported; use {' or '.join(SUPPORTED_BACKENDS)} "
                          "(--backend or KERAS_BACKEND)")
    if importlib.util.find_spec(name) is None:
        raise ConfigError(f"Keras backend '{name}' is not installed; run make install (jax: pip install 'jax[cpu]', "
                          "or make install ACCEL=cuda for GPUs)")
    return name


def configure(backend: str | None = None, precision: str | None = None,
              memory_fraction: float | None = None) -> None:
    """Set up the process before Keras is imported.

    Args:
        backend: the Keras backend (``KERAS_BACKEND``); None keeps the current one.
        precision: a Keras dtype policy: ``"float32"`` or ``"mixed_bfloat16"`` (computations in
            bfloat16, weights and losses in float32). None keeps float32.
        memory_fraction: the share of each GPU's memory this process may use, so that several
            workers share one GPU. JAX: ``XLA_PYTHON_CLIENT_MEM_FRACTION`` caps it and
            preallocation is off (a worker holds only what it uses). TensorFlow has no
            per-process fraction without listing the devices (which fixes their setup before
            the caller can), so it gets memory growth: each worker takes what it uses.

    Raises:
        ConfigError: an unsupported backend or precision, a fraction outside (0, 1], or a
            backend that differs from the one Keras was already imported with.
    """
    if backend is not None:
        check_backend(backend)
        if "keras" in sys.modules and current_backend() != backend:
            raise ConfigError(f"Keras was imported with backend '{current_backend()}' before --backend {backend} "
                              "was applied; set KERAS_BACKEND before starting Python")
        os.environ["KERAS_BACKEND"] = backend
    if memory_fraction is not None:
        if not 0 < float(memory_fraction) <= 1:
            raise ConfigError(f"GPU memory fraction must be in (0, 1], got {memory_fraction}; e.g. 0.24 for 4 workers")
        os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        os.environ["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{float(memory_fraction):.3f}"
        os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    if precision is not None:
        if precision not in PRECISIONS:
            raise ConfigError(f"unknown precision '{precision}'; choose one of {', '.join(PRECISIONS)}")
        import keras

        keras.mixed_precision.set_global_policy(precision)


def compile_options(backend: str | None = None, *, supports_jit: bool = True) -> dict:
    """Keyword arguments of ``model.compile`` for ``backend`` (default: the current one).

    Args:
        backend: a Keras backend name.
        supports_jit: False for a model that XLA cannot compile (Keras' ``Layer.supports_jit``,
            which a model family sets as a class attribute).
    """
    options = dict(COMPILE_OPTIONS[backend or current_backend()])
    if not supports_jit:
        options["jit_compile"] = False
    return options


def library_versions(*extra: str) -> dict[str, str]:
    """Versions of Python, the Keras backend and the libraries that shape a result.

    Read from package metadata, so no library is imported (TensorFlow is not needed on the
    JAX backend); libraries that are not installed are left out.

    Args:
        extra: more import names to record (e.g. ``"keras_tuner"``, ``"mlflow"``).
    """
    owners = importlib.metadata.packages_distributions()
    result = {"python": platform.python_version(), "keras_backend": current_backend()}
    for module in (*LIBRARIES, *extra):
        for distribution in owners.get(module, ()):
            try:
                result[_KEYS.get(module, module)] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return result


def device_info() -> dict:
    """What a run ran on: ``backend``, ``device`` (the GPU's or the CPU's model name),
    ``device_type`` (``"gpu"`` or ``"cpu"``), ``device_count``, ``device_memory_gb`` (the
    GPU's memory available to this process, or the host's memory; None where unknown) and
    ``precision`` (the Keras dtype policy)."""
    import keras

    backend = keras.backend.backend()
    gpus = _gpus(backend)
    if gpus:
        name, memory = gpus[0]
        device = {"device": name, "device_type": "gpu", "device_count": len(gpus), "device_memory_gb": memory}
    else:
        device = {"device": cpu_name(), "device_type": "cpu", "device_count": os.cpu_count(),
                  "device_memory_gb": _host_memory_gb()}
    return {"backend": backend, **device, "precision": keras.mixed_precision.global_policy().name}


def _gpus(backend: str) -> list[tuple[str, float | None]]:
    """``(name, memory in GB or None)`` of each GPU the backend sees."""
    if backend == "jax":
        import jax

        found = []
        for device in jax.devices():
            if device.platform != "cpu":
                stats = device.memory_stats() or {}
                limit = stats.get("bytes_limit")
                found.append((device.device_kind, round(limit / 1e9, 1) if limit else None))
        return found
    if backend == "tensorflow":
        import tensorflow as tf

        return [(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name), None)
                for gpu in tf.config.list_physical_devices("GPU")]
    return []


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what ``platform`` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _host_memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) * 1024 / 1e9, 1)
    except OSError:
        pass
    return None
