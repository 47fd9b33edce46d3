"""Active units (Burda et al., 2016): latent dimensions the encoder actually uses."""

import numpy as np

from vae.metrics import utils

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): Cov_x(E_q[z_d]) > 0.01


def active_units(z_mean, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Dimensions whose posterior mean varies across the data by more than ``threshold``.

    Args:
        z_mean: ``(num_examples, num_codes)`` posterior means.
        threshold: the variance above which a dimension counts as active.

    Raises:
        MetricInputError: not 2-D, fewer than two rows, or NaN codes.
    """
    return _compute_active_units(utils.check_codes(z_mean, "z_mean"), threshold)


def _compute_active_units(z_mean: np.ndarray, threshold: float) -> int:
    return int(np.sum(np.var(z_mean, axis=0) > threshold))


def compute(inputs) -> dict:
    """``{"active_units"}`` of the evaluation codes."""
    return {"active_units": active_units(inputs.codes_eval)}
