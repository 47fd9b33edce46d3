"""Keras metrics that track what a ``keras.metrics.Mean`` cannot: a vector of means (the KL
of each latent dimension) and the perplexity of codebook usage (VQ-VAE)."""

import keras
from keras import ops

from vae import losses


@keras.saving.register_keras_serializable(package="vaesweep")
class MeanVector(keras.metrics.Metric):
    """Running mean of a ``(batch, size)`` tensor, one value per column."""

    def __init__(self, size, name="mean_vector", **kwargs):
        super().__init__(name=name, **kwargs)
        self.size = size
        self.total = self.add_variable(shape=(size,), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values = ops.cast(values, self.dtype)
        self.total.assign_add(ops.sum(values, axis=0))
        self.count.assign_add(ops.cast(ops.shape(values)[0], self.dtype))

    def result(self):
        return self.total / ops.maximum(self.count, 1.0)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="vaesweep")
class CodePerplexity(keras.metrics.Metric):
    """Perplexity of the codes used since the last reset: the effective number of codes."""

    def __init__(self, num_embeddings, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_embeddings = num_embeddings
        self.counts = self.add_variable(shape=(num_embeddings,), initializer="zeros", name="counts")

    def update_state(self, codes, sample_weight=None):
        self.counts.assign_add(ops.cast(losses.code_counts(codes, self.num_embeddings), self.dtype))

    def result(self):
        return losses.perplexity(self.counts)

    def get_config(self):
        return {**super().get_config(), "num_embeddings": self.num_embeddings}
