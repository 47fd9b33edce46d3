"""The pictures of the field, as uint8 image grids: reconstructions, samples,
interpolations and latent traversals. Pure functions of a model and data; no I/O."""

import numpy as np
from keras import ops


def to_grid(images: np.ndarray, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    """Tile ``rows * cols`` images ``(n, h, w, c)`` in [0, 1] into one uint8 image."""
    n, h, w, c = images.shape
    assert n == rows * cols, "grid size must match the number of images"
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y : y + h, x : x + w] = images[i]
    grid = np.clip(grid * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return grid[..., 0] if c == 1 else grid


def _decode_images(model, z) -> np.ndarray:
    return ops.convert_to_numpy(model.mean_image(model.decode(ops.convert_to_tensor(z, "float32"))))


def _codes(model, x) -> np.ndarray:
    z_mean, _ = model.encode(ops.convert_to_tensor(x, "float32"))
    return ops.convert_to_numpy(z_mean)


def reconstructions(model, x: np.ndarray, n: int = 10) -> np.ndarray:
    """Top row: ``n`` test images; bottom row: their reconstructions from the posterior mean."""
    x = x[:n]
    return to_grid(np.concatenate([x, _decode_images(model, _codes(model, x))]), 2, len(x))


def samples(model, n: int = 64, seed: int = 0) -> np.ndarray:
    """Decoded draws from the prior N(0, I), as a square grid."""
    side = int(np.sqrt(n))
    z = np.random.default_rng(seed).standard_normal((side * side, model.latent_dim))
    return to_grid(_decode_images(model, z.astype(np.float32)), side, side)


def interpolations(model, x: np.ndarray, pairs: int = 5, steps: int = 10) -> np.ndarray:
    """Each row decodes a straight line between the posterior means of two test images."""
    pairs = min(pairs, len(x) // 2)
    codes = _codes(model, x[: 2 * pairs])
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
    z = codes[:pairs, None, :] * (1 - t) + codes[pairs:, None, :] * t
    return to_grid(_decode_images(model, z.reshape(-1, model.latent_dim)), pairs, steps)


def traversals(model, x: np.ndarray, kl_per_dim: np.ndarray | None = None,
               max_dims: int = 10, steps: int = 9, limit: float = 3.0) -> np.ndarray:
    """One row per latent dimension: vary it over [-limit, limit] from a test image's code.

    Dimensions are shown in decreasing order of their KL when ``kl_per_dim`` is given (the
    informative ones first), else in index order.
    """
    order = np.argsort(-kl_per_dim) if kl_per_dim is not None else np.arange(model.latent_dim)
    dims = order[:max_dims]
    base = _codes(model, x[:1])[0]
    z = np.repeat(base[None, None, :], len(dims) * steps, axis=0).reshape(len(dims), steps, -1)
    values = np.linspace(-limit, limit, steps, dtype=np.float32)
    for row, d in enumerate(dims):
        z[row, :, d] = values
    return to_grid(_decode_images(model, z.reshape(-1, model.latent_dim)), len(dims), steps)


def all_images(model, x_test: np.ndarray, y_test: np.ndarray | None = None,
               kl_per_dim: np.ndarray | None = None, seed: int = 0):
    """The four standard figures of a trained model, keyed by artifact name."""
    return {
        "reconstructions": reconstructions(model, x_test),
        "samples": samples(model, seed=seed),
        "interpolations": interpolations(model, x_test),
        "traversals": traversals(model, x_test, kl_per_dim),
    }
