"""MNIST, binarized: a Bernoulli likelihood as in the VAE literature."""

from functools import partial

from vae.data.mnist_family import load_mnist_family

load = partial(
    load_mnist_family, "mnist", ("mnist",), keras_loader="mnist", likelihood="bernoulli"
)
