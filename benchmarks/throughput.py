"""Training throughput of the `conv` model: vaesweep's tracked `fit` against a plain
`tf.function` loop of the same network, in the same process, on the same data.

    .venv/bin/python benchmarks/throughput.py [--images 8000] [--epochs 3] [--batch-size 64]

Prints images/s for both (the first epoch, which traces and compiles, is not counted).
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
import tensorflow as tf  # noqa: E402

from sweeps import tracking  # noqa: E402
from sweeps.training import compile_model, fit_tracked  # noqa: E402
from vae import losses  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.models import build_model  # noqa: E402


def ours(dataset, args):
    """The platform's path: build_model + compile + fit_tracked (MLflow logging every epoch)."""
    keras.utils.set_random_seed(0)
    model = build_model("conv", dataset.image_shape, dataset.likelihood, latent_dim=args.latent_dim, depth=args.depth)
    compile_model(model, 1e-3)
    with tempfile.TemporaryDirectory() as tmp:
        client = tracking.connect(f"sqlite:///{tmp}/mlflow.db")
        run = client.create_run(tracking.experiment_id(client, "bench"))
        times = []

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.t)

        fit_tracked(model, dataset, client, run.info.run_id, epochs=args.epochs, batch_size=args.batch_size,
                    callbacks=[Timer()], progress_prefix=None)
    # Each epoch also runs validation; count training and validation images alike.
    per_epoch = len(dataset.x_train) + len(dataset.x_val)
    return per_epoch * (len(times) - 1) / sum(times[1:])


def plain(dataset, args):
    """A hand-written loop: the same encoder/decoder, the same loss, tf.GradientTape."""
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
    times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        for x in train:
            train_step(x)
        for x in val:
            val_step(x)
        float(val_step(dataset.x_val[:1]))  # wait for the device
        times.append(time.perf_counter() - start)
    per_epoch = len(dataset.x_train) + len(dataset.x_val)
    return per_epoch * (len(times) - 1) / sum(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR") or str(ROOT.parent / "shared" / "datasets"))
    args = parser.parse_args()
    dataset = load_dataset("mnist", data_dir=args.data_dir, subset=args.images)
    results = {}
    for name, fn in (("plain tf.function loop", plain), ("vaesweep fit_tracked", ours),
                     ("plain tf.function loop (again)", plain), ("vaesweep fit_tracked (again)", ours)):
        results[name] = fn(dataset, args)
        print(f"{name:32s} {results[name]:8.0f} images/s", flush=True)
    ours_best = max(v for k, v in results.items() if k.startswith("vaesweep"))
    plain_best = max(v for k, v in results.items() if k.startswith("plain"))
    print(f"conv VAE, MNIST {len(dataset.x_train)} train + {len(dataset.x_val)} val images, batch {args.batch_size}, "
          f"depth {args.depth}, latent {args.latent_dim}, backend {keras.backend.backend()}: "
          f"vaesweep / plain = {ours_best / plain_best:.3f}")


if __name__ == "__main__":
    main()
