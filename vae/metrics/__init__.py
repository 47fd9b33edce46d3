"""Disentanglement, likelihood and sample-quality metrics: pure functions on arrays or a sampler.

Each metric returns a ``dict[str, float]`` whose keys are prefixed with its name, so the
results of several metrics can be merged into one dict of logged values. Each metric module
also exports ``compute(inputs)`` on a :class:`vae.metrics.inputs.TrialInputs`, which the one
registry (:mod:`vae.metrics.registry`, ``METRICS``) points at.
"""

from vae.metrics.active_units import active_units
from vae.metrics.beta_vae import beta_vae_score
from vae.metrics.dci import dci
from vae.metrics.elbo import per_image_elbo
from vae.metrics.factor_vae import factor_vae_score
from vae.metrics.generation import (
    frechet_distance,
    generation_quality,
    inception_fid,
    precision_recall,
)
from vae.metrics.likelihood import importance_weighted_nll, standard_error, test_nll
from vae.metrics.mi_matrix import mutual_information_matrix, order_latents
from vae.metrics.mig import mig
from vae.metrics.modularity import modularity
from vae.metrics.probe import linear_probe
from vae.metrics.reference import Reference, reference_network
from vae.metrics.sap import sap
from vae.metrics.total_correlation import gaussian_total_correlation

__all__ = [
    "Reference",
    "active_units",
    "beta_vae_score",
    "dci",
    "factor_vae_score",
    "frechet_distance",
    "gaussian_total_correlation",
    "generation_quality",
    "importance_weighted_nll",
    "inception_fid",
    "linear_probe",
    "mig",
    "modularity",
    "mutual_information_matrix",
    "order_latents",
    "per_image_elbo",
    "precision_recall",
    "reference_network",
    "sap",
    "standard_error",
    "test_nll",
]
