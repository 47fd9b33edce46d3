"""MNIST, binarized for its default Bernoulli likelihood as in the VAE literature; grey 8-bit
images with an 8-bit likelihood (``load_dataset("mnist", likelihood="logistic")``)."""

from functools import partial

from vae.data.mnist_family import load_mnist_family

load = partial(
    load_mnist_family, "mnist", ("mnist",), keras_loader="mnist", likelihood="bernoulli"
)
