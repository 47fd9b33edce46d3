"""GPU throughput of vaesweep's training on the JAX backend, and of several sweep workers
sharing one GPU.

    python benchmarks/gpu.py [--data-dir DIR] [--epochs 6] [--workers 1,4] [--precision float32]
    python benchmarks/gpu.py --small --workers 1,2      # a CPU check in a minute or two

Prints, for the conv VAE (depth 3, latent 32, batch 128, 8,000 MNIST-like images):

- images/s and first-epoch (trace + compile) time of vaesweep's ``model.fit`` against a
  hand-written JAX loop of the same encoder and decoder in the same process, both as a jitted
  step per batch and as a whole epoch under ``lax.scan`` (data already on the device);
- with ``--workers``, trials per hour of a small quick-budget-like MNIST run (build, fit with
  validation, evaluate) with N processes on the GPU, each capped at 0.9 / N of its memory
  (``vae.runtime.configure``); a worker's process start and JAX start-up count, as in a sweep.

Imports only keras, jax, numpy and vae's model code, so it runs on an image without
TensorFlow, keras-tuner or MLflow. Without ``--data-dir`` (or without MNIST in it) the images
are synthetic binarized strokes of MNIST's size.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vae import runtime  # noqa: E402  (imports no backend)

FULL = {"images": 8000, "batch": 128, "depth": 3, "latent": 32, "trial_images": 2000, "trial_epochs": 3,
        "trials": 3}
SMALL = {"images": 512, "batch": 64, "depth": 3, "latent": 32, "trial_images": 256, "trial_epochs": 1, "trials": 1}
ADAM = (1e-3, 0.9, 0.999, 1e-7)  # learning rate, beta_1, beta_2, epsilon: Keras' Adam defaults


def synthetic_digits(n: int, seed: int = 0) -> np.ndarray:
    """``n`` binarized 28x28 images of two to four thick random strokes, float32 in {0, 1}."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(28), np.arange(28), indexing="ij"), -1).astype(np.float32)
    images = np.zeros((n, 28, 28), bool)
    for stroke in range(4):
        start, end = rng.uniform(5, 23, (2, n, 1, 1, 2)).astype(np.float32)
        direction = end - start
        t = np.clip(((grid - start) * direction).sum(-1, keepdims=True)
                    / np.maximum((direction**2).sum(-1, keepdims=True), 1e-6), 0, 1)
        near = np.linalg.norm(grid - (start + t * direction), axis=-1) < 1.6
        images |= near & (rng.random((n, 1, 1)) < (1.0 if stroke < 2 else 0.5))
    return images[..., None].astype(np.float32)


def load_images(n: int, data_dir: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """``(train, validation, source)``: MNIST from ``data_dir`` when it is there, else synthetic."""
    if data_dir and (Path(data_dir) / "mnist").is_dir():
        from vae.data import load_dataset

        data = load_dataset("mnist", data_dir=data_dir, subset=n)
        return data.x_train, data.x_val, "MNIST"
    images = synthetic_digits(n + max(64, n // 4))
    return images[:n], images[n:], "synthetic strokes"


def build(shape, depth, latent, seed=0):
    from vae.models import build_model

    return build_model("conv", shape, "bernoulli", latent_dim=latent, depth=depth, seed=seed)


def time_epochs(run_epoch, epochs: int) -> tuple[float, list[float]]:
    """``(first epoch seconds, seconds of each later epoch)``; ``run_epoch`` blocks until done."""
    times = []
    for epoch in range(epochs):
        start = time.perf_counter()
        run_epoch(epoch)
        times.append(time.perf_counter() - start)
    return times[0], times[1:]


def keras_fit(x, size, epochs):
    """vaesweep's path: build_model, compile with the runtime's options, ``model.fit``."""
    import keras

    keras.utils.set_random_seed(0)
    model = build(x.shape[1:], size["depth"], size["latent"])
    model.compile(optimizer=keras.optimizers.Adam(ADAM[0]), **runtime.compile_options(supports_jit=model.supports_jit))
    return time_epochs(lambda e: model.fit(x, batch_size=size["batch"], epochs=e + 1, initial_epoch=e,
                                           shuffle=True, verbose=0), epochs), len(x)


def jax_loops(x, size, epochs):
    """The same encoder and decoder trained by hand: Adam, the ELBO, jax.jit; data on device.

    Returns ``{"jitted step": timing, "lax.scan epoch": timing}`` and the images per epoch
    (whole batches only, so that every step has one compiled shape)."""
    import jax
    import jax.numpy as jnp
    import keras

    from vae import losses

    lr, b1, b2, eps = ADAM
    data = jax.device_put(x)
    steps = len(x) // size["batch"]

    def loss_fn(params, nontrainable, xb, key):
        (z_mean, z_log_var), _ = encoder.stateless_call(params[0], nontrainable[0], xb, training=True)
        z_mean, z_log_var = z_mean.astype("float32"), z_log_var.astype("float32")
        z = z_mean + jnp.exp(0.5 * z_log_var) * jax.random.normal(key, z_mean.shape)
        logits, _ = decoder.stateless_call(params[1], nontrainable[1], z, training=True)
        nll = losses.bernoulli_nll(xb, logits.astype("float32"))
        return jnp.mean(nll + jnp.sum(losses.kl_per_dim(z_mean, z_log_var), axis=-1))

    def step(state, batch_index):
        params, nontrainable, m, v, t, key = state
        key, sub = jax.random.split(key)
        loss, grads = jax.value_and_grad(loss_fn)(params, nontrainable, data[batch_index], sub)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        rate = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = jax.tree_util.tree_map(lambda p, m, v: p - rate * m / (jnp.sqrt(v) + eps), params, m, v)
        return (params, nontrainable, m, v, t, key), loss

    one_step = jax.jit(step, donate_argnums=0)
    scan_epoch = jax.jit(lambda state, order: jax.lax.scan(step, state, order), donate_argnums=0)
    results = {}
    for name in ("jitted step", "lax.scan epoch"):
        keras.utils.set_random_seed(0)
        model = build(x.shape[1:], size["depth"], size["latent"])
        encoder, decoder = model.encoder, model.decoder
        params = tuple([w.value for w in part.trainable_variables] for part in (encoder, decoder))
        nontrainable = tuple([w.value for w in part.non_trainable_variables] for part in (encoder, decoder))
        moments = [jax.tree_util.tree_map(jnp.zeros_like, params) for _ in range(2)]  # two buffers: both donated
        state = [(params, nontrainable, *moments, jnp.zeros((), "float32"), jax.random.key(0))]
        rng = np.random.default_rng(0)

        def run_epoch(epoch, name=name, state=state, rng=rng):
            order = jnp.asarray(rng.permutation(len(x))[: steps * size["batch"]].reshape(steps, size["batch"]))
            if name == "jitted step":
                for batch_index in order:
                    state[0], loss = one_step(state[0], batch_index)
            else:
                state[0], loss = scan_epoch(state[0], order)
            jax.block_until_ready(loss)

        results[name] = time_epochs(run_epoch, epochs)
    return results, steps * size["batch"]


def worker(args, size):
    """One sweep worker: ``trials`` small training runs in a row; prints its figures as JSON."""
    import keras

    x_train, x_val, _ = load_images(size["trial_images"], args.data_dir)
    start = time.perf_counter()
    for trial in range(size["trials"]):
        keras.utils.set_random_seed(trial)
        model = build(x_train.shape[1:], 2 + trial % 2, 8 + 8 * trial, seed=trial)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), **runtime.compile_options(supports_jit=model.supports_jit))
        model.fit(x_train, validation_data=(x_val,), batch_size=64, epochs=size["trial_epochs"], verbose=0)
        model.evaluate(x_val, batch_size=256, verbose=0)
    print(json.dumps({"trials": size["trials"], "seconds": time.perf_counter() - start}))


def sweep_workers(args, count: int) -> dict:
    """Run ``count`` workers at once on the device; wall time from spawn to the last exit."""
    fraction = round(0.9 / count, 3)
    command = [sys.executable, __file__, "--worker", "--memory-fraction", str(fraction), "--precision", args.precision]
    command += ["--small"] if args.small else []
    command += ["--data-dir", args.data_dir] if args.data_dir else []
    start = time.perf_counter()
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [process.communicate()[0] for process in processes]
    wall = time.perf_counter() - start
    if any(process.returncode for process in processes):
        raise SystemExit(f"a worker failed (exit codes {[p.returncode for p in processes]})")
    trials = sum(json.loads(out.strip().splitlines()[-1])["trials"] for out in outputs)
    return {"workers": count, "fraction": fraction, "trials": trials, "wall": wall, "per_hour": trials * 3600 / wall}


def report(args, size, source, fit, loops, images, per_epoch_images, workers):
    info = runtime.device_info()
    versions = runtime.library_versions()
    print(f"\ndevice: {info['device']} ({info['device_type']}, {info['device_memory_gb']} GB), backend "
          f"{info['backend']}, precision {info['precision']}, jax {versions.get('jax')}, keras {versions['keras']}")
    print(f"conv VAE depth {size['depth']}, latent {size['latent']}, batch {size['batch']}, {images} {source} images, "
          f"{args.epochs} epochs (images/s: median of epochs 2..{args.epochs})\n")
    print(f"{'training loop':34s} {'first epoch s':>13s} {'images/s':>10s} {'vs fit':>7s}")
    rows = {"vaesweep model.fit (Keras, JAX)": (fit, images),
            **{f"hand-written JAX, {k}": (v, per_epoch_images) for k, v in loops.items()}}
    fit_rate = images / np.median(fit[1])
    for name, ((first, later), count) in rows.items():
        rate = count / np.median(later)
        print(f"{name:34s} {first:13.1f} {rate:10.0f} {rate / fit_rate:7.2f}")
    if workers:
        print(f"\n{'workers':>7s} {'memory each':>11s} {'trials':>6s} {'wall s':>7s} {'trials/hour':>11s}")
        for row in workers:
            print(f"{row['workers']:7d} {row['fraction']:11.3f} {row['trials']:6d} {row['wall']:7.1f} "
                  f"{row['per_hour']:11.0f}")
        print(f"(a trial: conv VAE, {size['trial_images']} images, {size['trial_epochs']} epochs with validation, "
              "then evaluate; process start included)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/ (default: synthetic images)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--workers", default="", help="comma-separated worker counts, e.g. 1,4")
    parser.add_argument("--precision", default="float32", choices=runtime.PRECISIONS)
    parser.add_argument("--small", action="store_true", help="tiny sizes, for a CPU check")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-fraction", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = SMALL if args.small else FULL
    runtime.configure(backend="jax", precision=args.precision, memory_fraction=args.memory_fraction)
    if args.worker:
        return worker(args, size)
    x, _, source = load_images(size["images"], args.data_dir)
    fit, images = keras_fit(x, size, args.epochs)
    loops, per_epoch_images = jax_loops(x, size, args.epochs)
    workers = [sweep_workers(args, int(n)) for n in args.workers.split(",") if n]
    report(args, size, source, fit, loops, images, per_epoch_images, workers)


if __name__ == "__main__":
    main()
