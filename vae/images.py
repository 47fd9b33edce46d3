"""The pictures of the field, as uint8 image grids: reconstructions, samples,
interpolations, latent traversals, class-conditional samples, for 2-D codes the decoded
manifold and, for a likelihood with a per-pixel scale, that scale. Pure functions of a model
and data; no I/O.

Decoded images are the decoder's mean (``model.mean_image``: the Bernoulli's probabilities,
the Gaussian's mean, the logistic mixture's mean location), never draws from p(x|z): a draw
adds independent pixel noise that hides what the model has learned.

Every function takes the labels or factors ``y`` beside the images; unconditional models
ignore them, conditional ones (``model.conditional``) decode with ``model.conditions_of(y)``.
Codes may be vectors or grids (VQ-VAE): their shape comes from the model.
"""

import keras
import numpy as np
from keras import ops
from scipy.stats import norm

from vae.errors import ConfigError
from vae.likelihoods import MIN_PIXEL_LOG_SCALE


def to_grid(images: np.ndarray, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    """Tile ``rows * cols`` images ``(n, h, w, c)`` in [0, 1] into one uint8 image."""
    n, h, w, c = images.shape
    assert n == rows * cols, "grid size must match the number of images"
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y : y + h, x : x + w] = images[i]
    # A diverged model decodes NaN: shown black rather than as undefined bytes.
    grid = np.clip(np.nan_to_num(grid * 255.0 + 0.5, nan=0.0), 0, 255).astype(np.uint8)
    return grid[..., 0] if c == 1 else grid


def _tensors(structure):
    return keras.tree.map_structure(lambda a: ops.convert_to_tensor(a, "float32"), structure)


def _conditions(model, y, n=None):
    """Conditions of the first ``n`` rows of ``y`` (repeated when ``y`` is shorter), or None."""
    if y is None or not model.conditional:
        return None
    y = np.asarray(y)
    if n is not None:
        y = y[np.arange(n) % len(y)]
    return model.conditions_of(y)


def _decode_images(model, z, condition=None) -> np.ndarray:
    inputs = _tensors(model.decoder_inputs(np.asarray(z, np.float32), condition))
    return ops.convert_to_numpy(model.mean_image(model.decode(inputs)))


def _codes(model, x, y=None) -> np.ndarray:
    inputs = model.training_inputs(x, y) if model.conditional else x
    z_mean, _ = model.encode(_tensors(inputs))
    return ops.convert_to_numpy(z_mean)


def reconstructions(model, x: np.ndarray, n: int = 10, y: np.ndarray | None = None) -> np.ndarray:
    """Top row: ``n`` test images; bottom row: the decoder's mean at their posterior means."""
    x, y = x[:n], None if y is None else y[:n]
    c = _conditions(model, y)
    return to_grid(np.concatenate([x, _decode_images(model, _codes(model, x, y), c)]), 2, len(x))


def samples(model, n: int = 64, seed: int = 0, y: np.ndarray | None = None) -> np.ndarray:
    """The decoder's means at draws from the prior (``model.sample_latents``), as a square grid.

    A conditional model decodes them with the conditions of the first examples of ``y``.
    """
    side = int(np.sqrt(n))
    z = model.sample_latents(side * side, seed)
    return to_grid(_decode_images(model, z, _conditions(model, y, side * side)), side, side)


def interpolations(model, x: np.ndarray, pairs: int = 5, steps: int = 10, y: np.ndarray | None = None) -> np.ndarray:
    """Each row decodes a straight line between the posterior means of two test images (and,
    for a conditional model, between their conditions)."""
    pairs = min(pairs, len(x) // 2)
    x, y = x[: 2 * pairs], None if y is None else y[: 2 * pairs]
    codes = _codes(model, x, y)
    c = _conditions(model, y)

    def line(a):
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(1, steps, *[1] * (a.ndim - 1))
        mixed = a[:pairs, None] * (1 - t) + a[pairs:, None] * t
        return mixed.reshape(pairs * steps, *a.shape[1:])

    return to_grid(_decode_images(model, line(codes), None if c is None else line(c)), pairs, steps)


def traversals(model, x: np.ndarray, kl_per_dim: np.ndarray | None = None,
               max_dims: int = 10, steps: int = 9, limit: float = 3.0, y: np.ndarray | None = None) -> np.ndarray:
    """One row per latent dimension: vary it over [-limit, limit] from a test image's code.

    Dimensions are shown in decreasing order of their KL when ``kl_per_dim`` is given (the
    informative ones first), else in index order.
    """
    order = np.argsort(-kl_per_dim) if kl_per_dim is not None else np.arange(model.latent_dim)
    dims = order[:max_dims]
    y = None if y is None else y[:1]
    base = _codes(model, x[:1], y)[0]
    z = np.repeat(base[None, None, :], len(dims) * steps, axis=0).reshape(len(dims), steps, -1)
    values = np.linspace(-limit, limit, steps, dtype=np.float32)
    for row, d in enumerate(dims):
        z[row, :, d] = values
    c = _conditions(model, y, len(dims) * steps)
    return to_grid(_decode_images(model, z.reshape(-1, model.latent_dim), c), len(dims), steps)


def conditional_samples(model, y: np.ndarray | None = None, cols: int = 8, seed: int = 0) -> np.ndarray:
    """One row per class (``model.condition_rows``), one column per prior draw: each column
    keeps its z across rows, so a column shows one style under every condition."""
    rows = model.condition_rows(y)
    z = model.sample_latents(cols, seed)
    z_all = np.tile(z, (len(rows),) + (1,) * (z.ndim - 1))
    c_all = np.repeat(rows, cols, axis=0)
    return to_grid(_decode_images(model, z_all, c_all), len(rows), cols)


def pixel_scales(model, x: np.ndarray, n: int = 10, y: np.ndarray | None = None) -> np.ndarray:
    """Three rows: ``n`` test images, the decoder's mean at their posterior means, and the
    per-pixel standard deviation of p(x|z) there, on a log scale from black at one sixteenth
    of a grey level (``MIN_PIXEL_LOG_SCALE``) to white at 0.5: where the model is sure and
    where it hedges (edges, textures)."""
    x, y = x[:n], None if y is None else y[:n]
    inputs = _tensors(model.decoder_inputs(_codes(model, x, y), _conditions(model, y)))
    out = model.decode(inputs)
    mean, std = (ops.convert_to_numpy(f(out)) for f in (model.mean_image, model.std_image))
    low, high = MIN_PIXEL_LOG_SCALE, np.log(0.5)
    shade = (np.log(np.maximum(std, 1e-12)) - low) / (high - low)
    return to_grid(np.concatenate([x, mean, np.clip(shade, 0.0, 1.0)]), 3, len(x))


def manifold_skipped(model, y: np.ndarray | None = None) -> str | None:
    """Why ``model`` gets no manifold figure, or None when it gets one."""
    if model.code_kind != "vector" or model.latent_dim != 2:
        return (f"the manifold needs a 2-D latent vector; {model.family} has "
                + (f"latent_dim {model.latent_dim}" if model.code_kind == "vector" else "a grid code"))
    try:
        _manifold_condition(model, y)
    except ConfigError as exc:
        return f"{model.family} decodes with a condition and none could be made ({exc})"
    except TypeError:  # attribute rows start from an example's attributes: y is None
        return f"{model.family} decodes with a condition and no labels or attributes were given to make one"
    return None


def _manifold_condition(model, y):
    # A conditional model's manifold is the one of its first condition row (the first class).
    return model.condition_rows(y)[:1] if model.conditional else None


def manifold(model, n: int = 15, y: np.ndarray | None = None) -> np.ndarray:
    """The decoded 2-D latent space: an ``n`` x ``n`` grid of images whose codes sit on the
    prior's quantiles, ``norm.ppf(linspace(0.05, 0.95, n))`` on each axis (z1 left to right,
    z2 bottom to top), so equal steps hold equal prior mass.

    Raises:
        ConfigError: the model's code is not a 2-vector, or it needs a condition that ``y``
            cannot give (see :func:`manifold_skipped`).
    """
    reason = manifold_skipped(model, y)
    if reason:
        raise ConfigError(reason)
    q = norm.ppf(np.linspace(0.05, 0.95, n)).astype(np.float32)
    z1, z2 = np.meshgrid(q, q[::-1])  # image rows go down, z2 goes up
    z = np.column_stack([z1.ravel(), z2.ravel()])
    condition = _manifold_condition(model, y)
    if condition is not None:
        condition = np.repeat(condition, len(z), axis=0)
    return to_grid(_decode_images(model, z, condition), n, n)


def figure_names(model, y: np.ndarray | None = None) -> tuple[str, ...]:
    """The figures :func:`all_images` makes for ``model``: the family's own (``model.figures``),
    the manifold when the code is a 2-vector and ``pixel_scales`` when the likelihood has a
    per-pixel scale."""
    scales = ("pixel_scales",) if model.likelihood_spec.per_pixel_scale else ()
    return (*model.figures, *(() if manifold_skipped(model, y) else ("manifold",)), *scales)


def all_images(model, x_test: np.ndarray, y_test: np.ndarray | None = None,
               kl_per_dim: np.ndarray | None = None, seed: int = 0):
    """The figures that apply to the model (:func:`figure_names`), keyed by artifact name:
    reconstructions, samples, interpolations, traversals, for conditional models
    conditional_samples and for 2-D codes the manifold."""
    figures = {
        "reconstructions": lambda: reconstructions(model, x_test, y=y_test),
        "samples": lambda: samples(model, seed=seed, y=y_test),
        "interpolations": lambda: interpolations(model, x_test, y=y_test),
        "traversals": lambda: traversals(model, x_test, kl_per_dim, y=y_test),
        "conditional_samples": lambda: conditional_samples(model, y_test, seed=seed),
        "manifold": lambda: manifold(model, y=y_test),
        "pixel_scales": lambda: pixel_scales(model, x_test, y=y_test),
    }
    return {name: figures[name]() for name in figure_names(model, y_test)}
