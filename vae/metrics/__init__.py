"""Disentanglement and representation metrics: pure functions on arrays or a sampler.

Each metric returns a ``dict[str, float]`` whose keys are prefixed with its name, so the
results of several metrics can be merged into one dict of logged values.

``ARRAY_METRICS`` lists the supervised metrics that need only codes and discrete factors,
each wrapped to one call shape ``fn(codes_train, factors_train, codes_test,
factors_test) -> dict``; MIG and modularity use the training pair only, as
disentanglement_lib computes them.
"""

from vae.metrics.beta_vae import beta_vae_score
from vae.metrics.dci import dci
from vae.metrics.factor_vae import factor_vae_score
from vae.metrics.likelihood import importance_weighted_nll, test_nll
from vae.metrics.mig import mig
from vae.metrics.modularity import modularity
from vae.metrics.probe import linear_probe
from vae.metrics.sap import sap
from vae.metrics.total_correlation import gaussian_total_correlation


def _train_pair_only(metric):
    """Adapts ``metric(codes, factors)`` to the four-array call shape."""

    def on_train_pair(codes_train, factors_train, codes_test, factors_test):
        return metric(codes_train, factors_train)

    on_train_pair.__name__ = metric.__name__
    on_train_pair.__doc__ = metric.__doc__
    return on_train_pair


ARRAY_METRICS = {
    "mig": _train_pair_only(mig),
    "sap": sap,
    "dci": dci,
    "modularity": _train_pair_only(modularity),
}

__all__ = [
    "ARRAY_METRICS",
    "beta_vae_score",
    "dci",
    "factor_vae_score",
    "gaussian_total_correlation",
    "importance_weighted_nll",
    "linear_probe",
    "mig",
    "modularity",
    "sap",
    "test_nll",
]

# Sample quality, the latent x factor MI matrix and the ELBO's uncertainty helper.
from vae.metrics.generation import (  # noqa: E402
    frechet_distance,
    generation_quality,
    inception_fid,
    precision_recall,
)
from vae.metrics.likelihood import standard_error  # noqa: E402
from vae.metrics.mi_matrix import mutual_information_matrix, order_latents  # noqa: E402
from vae.metrics.reference import Reference, reference_network  # noqa: E402

__all__ += ["Reference", "frechet_distance", "generation_quality", "inception_fid", "mutual_information_matrix",
            "order_latents", "precision_recall", "reference_network", "standard_error"]
