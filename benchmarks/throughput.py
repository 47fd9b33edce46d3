"""Training throughput of the `conv` model: vaesweep's tracked `fit` against a plain
`tf.function` loop of the same network, in the same process, on the same data.

    .venv/bin/python benchmarks/throughput.py [--images 8000] [--epochs 10] [--batch-size 64] \
        [--variants default,off:16,on:16,on:1]

Each variant is ``jit:steps`` (XLA ``on``/``off``, steps per execution) or ``default`` (what
``compile_model`` chooses for the backend). All loops alternate epoch by epoch (this machine's
speed drifts by tens of percent over tens of seconds, so back-to-back runs would measure the
drift); each epoch trains on the training images and evaluates the validation images. The
first epoch of each, which traces and compiles, is reported apart and not counted. Prints
images/s per epoch, the medians and the median of the per-epoch ratios to the plain loop.
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

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from sweeps import record, tracking  # noqa: E402
from sweeps.callbacks import EpochLogger  # noqa: E402
from sweeps.hypermodel import compile_model, fit_model  # noqa: E402
from vae import losses, runtime  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.models import build_model  # noqa: E402

PLAIN = "plain tf.function loop"


def ours(dataset, args, client, run_id, variant):
    """The platform's path: build_model + compile + fit_model with the MLflow epoch logger,
    compiled as ``variant`` says. Yields after each epoch."""
    keras.utils.set_random_seed(0)
    model = build_model("conv", dataset.image_shape, dataset.likelihood, latent_dim=args.latent_dim, depth=args.depth)
    if variant == "default":
        compile_model(model, 1e-3)
    else:
        jit, steps = variant.split(":")
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit == "on", steps_per_execution=int(steps))
    for epoch in range(args.epochs):
        fit_model(model, dataset, epochs=epoch + 1, initial_epoch=epoch, batch_size=args.batch_size,
                  callbacks=[EpochLogger(client, run_id)])
        yield


def plain(dataset, args):
    """A hand-written loop: the same encoder/decoder, the same loss, tf.GradientTape.
    Yields after each epoch."""
    keras.utils.set_random_seed(0)
    model = build_model("conv", dataset.image_shape, dataset.likelihood, latent_dim=args.latent_dim, depth=args.depth)
    encoder, decoder = model.encoder, model.decoder
    weights = encoder.trainable_weights + decoder.trainable_weights
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(weights)

    def elbo_terms(x):
        z_mean, z_log_var = encoder(x, training=True)
        z = z_mean + tf.exp(0.5 * z_log_var) * tf.random.normal(tf.shape(z_mean))
        recon = losses.bernoulli_nll(x, decoder(z, training=True))
        kl = tf.reduce_sum(losses.kl_per_dim(z_mean, z_log_var), axis=-1)
        return tf.reduce_mean(recon + kl)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = elbo_terms(x)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return loss

    @tf.function
    def val_step(x):
        return elbo_terms(x)

    train = tf.data.Dataset.from_tensor_slices(dataset.x_train).shuffle(len(dataset.x_train)).batch(args.batch_size)
    val = tf.data.Dataset.from_tensor_slices(dataset.x_val).batch(args.batch_size)
    for _ in range(args.epochs):
        for x in train:
            train_step(x)
        for x in val:
            loss = val_step(x)
        float(loss)  # wait for the last step
        yield


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--variants", default="default",
                        help="comma-separated: default, or jit:steps such as on:16, off:1")
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR") or str(ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    dataset = load_dataset("mnist", data_dir=args.data_dir, subset=args.images)
    images = len(dataset.x_train) + len(dataset.x_val)
    with tempfile.TemporaryDirectory() as tmp:
        client = tracking.connect(f"sqlite:///{tmp}/mlflow.db")
        run_id = record.create_run(client, tracking.experiment_id(client, "bench"), record.TRAIN, "throughput")
        loops = {PLAIN: plain(dataset, args)}
        loops.update({f"fit {v}": ours(dataset, args, client, run_id, v) for v in args.variants.split(",")})
        rates, first = {name: [] for name in loops}, {}
        for epoch in range(args.epochs):
            for name, loop in loops.items():
                start = time.perf_counter()
                next(loop)
                if epoch > 0:
                    rates[name].append(images / (time.perf_counter() - start))
                else:
                    first[name] = time.perf_counter() - start
            if epoch > 0:
                print(f"epoch {epoch + 1:2d}  " + "  ".join(f"{n} {r[-1]:6.0f}" for n, r in rates.items()), flush=True)
    print(f"conv VAE, MNIST {len(dataset.x_train)} train + {len(dataset.x_val)} val images per epoch, batch "
          f"{args.batch_size}, depth {args.depth}, latent {args.latent_dim}, backend {keras.backend.backend()}, "
          f"{runtime.device_info()['device']}")
    print(f"{'loop':24s} {'median img/s':>12s} {'min':>6s} {'max':>6s} {'first epoch s':>13s} {'ratio to plain':>14s}")
    for name, values in rates.items():
        ratio = np.median(np.array(values) / np.array(rates[PLAIN]))
        print(f"{name:24s} {np.median(values):12.0f} {min(values):6.0f} {max(values):6.0f} {first[name]:13.1f} "
              f"{ratio:14.3f}")
    print("ratio to plain: median of the per-epoch ratios (both loops measured in the same round)")


if __name__ == "__main__":
    main()
