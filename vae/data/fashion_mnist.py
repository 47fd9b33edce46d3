"""Fashion-MNIST: grey levels kept, a discretized logistic per pixel (the README says why)."""

from functools import partial

from vae.data.mnist_family import load_mnist_family

load = partial(
    load_mnist_family,
    "fashion_mnist",
    ("fashion-mnist", "fashion_mnist"),
    keras_loader="fashion_mnist",
    likelihood="logistic",
)
