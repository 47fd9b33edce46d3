"""The standard FID (InceptionV3 features) of a model's samples, with the user's weights file."""

from vae.metrics.generation import inception_fid


def compute(inputs) -> dict:
    """:func:`vae.metrics.generation.inception_fid` of the evaluation's samples against its images."""
    return inception_fid(inputs.samples, inputs.x_eval, inputs.settings.inception_weights)
