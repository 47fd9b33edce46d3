"""dSprites' procedural renderer: the published geometry, rasterized at pixel centres with NumPy.

The geometry was read off the images the official repository publishes
(google-deepmind/dsprites-dataset): ``dsprites.gif`` is a 64x64 animation of latent
traversals (scale, orientation, pos_y, pos_x for each shape), and the density plots of
``dsprites_reloading_example.ipynb`` confirm the position range. In pixel units, with
pixel ``(r, c)`` covering ``[c, c + 1) x [r, r + 1)``:

- a sprite's centre is ``16 + 32 * pos`` (pos_x left to right, pos_y top to bottom), so
  centres span [16, 48];
- a square of scale ``s`` has side ``20 s``: the GIF's squares match pixel for pixel;
- the ellipse has semi-axes ``12.75 s`` (horizontal at orientation 0) and ``7.25 s``: about
  1 pixel per image differs from the GIF;
- the heart is two discs and the tangents from them to a point below (fitted to the GIF's
  110 heart frames: about 8 of its ~220 pixels differ per image; the original's polygon
  is not published);
- orientation turns the sprite counter-clockwise on screen (the GIF's hearts turn their
  lobes from the top to the left, and the notebook's ellipses at 0.8 rad lean like '/').

What still differs: a few edge pixels of ellipses and hearts, and rasterization details of
the original LÖVE renderer (its exact polygon for curves, its rounding at pixel centres).
"""

import numpy as np

IMAGE_SIZE = 64
SHAPES = ("square", "ellipse", "heart")
# Lengths in units of the side of a square of scale 1 (20 px in the official images).
SQUARE_SIDE = 20.0
POSITION_START, POSITION_SPAN = 16.0, 32.0
_ELLIPSE_AXES = (12.75 / 20, 7.25 / 20)
# The heart: discs of radius _HEART_R at (±_HEART_D, _HEART_Y) and a point at (0, _HEART_TIP),
# y upwards from the sprite's centre, which is also the centre of rotation.
_HEART_D, _HEART_R, _HEART_Y, _HEART_TIP = 4.7 / 20, 5.1 / 20, 4.0 / 20, -8.8 / 20
# The farthest a sprite reaches from its centre is a square's corner, 20/sqrt(2) = 14.1 px:
# a 32-pixel window from floor(centre) - 16 holds every sprite.
_WINDOW = 32
_CHUNK = 4096  # images rendered at once: bounds the temporaries to a few tens of MB


def render(shape, scale, orientation, pos_x, pos_y) -> np.ndarray:
    """Render sprites from continuous factor values.

    Args:
        shape: shape indices into :data:`SHAPES`, ``(n,)`` ints.
        scale: sizes relative to the largest sprite, ``(n,)``; 1 is a 20-pixel square.
        orientation: counter-clockwise rotations in radians (as seen on screen), ``(n,)``.
        pos_x: horizontal positions in [0, 1], left to right, ``(n,)``.
        pos_y: vertical positions in [0, 1], top to bottom (image rows), ``(n,)``.

    Returns:
        float32 images of 0 and 1, ``(n, 64, 64, 1)``.
    """
    shape = np.asarray(shape, dtype=np.int64).reshape(-1)
    n = len(shape)
    params = [
        np.broadcast_to(np.asarray(v, np.float64).reshape(-1), (n,))
        for v in (scale, orientation, pos_x, pos_y)
    ]
    if np.any((shape < 0) | (shape >= len(SHAPES))):
        raise ValueError(f"shape indices must lie in [0, {len(SHAPES)}), got {np.unique(shape)}")
    # Outside these ranges a sprite would overflow the window that _render_into tests.
    scale, _, pos_x, pos_y = params
    positions = np.concatenate([pos_x, pos_y])
    if np.any((scale <= 0) | (scale > 1)) or np.any((positions < 0) | (positions > 1)):
        raise ValueError("scale must lie in (0, 1] and positions in [0, 1]")
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
    for start in range(0, n, _CHUNK):
        part = slice(start, start + _CHUNK)
        _render_into(images[part, :, :, 0], shape[part], *(p[part] for p in params))
    return images


def _render_into(out, shape, scale, orientation, pos_x, pos_y):
    n = len(shape)
    cx = POSITION_START + POSITION_SPAN * pos_x
    cy = POSITION_START + POSITION_SPAN * pos_y
    # A _WINDOW-pixel window around each centre holds the whole sprite: test only its pixels.
    first_col = np.clip(np.floor(cx).astype(np.int64) - _WINDOW // 2, 0, IMAGE_SIZE - _WINDOW)
    first_row = np.clip(np.floor(cy).astype(np.int64) - _WINDOW // 2, 0, IMAGE_SIZE - _WINDOW)
    steps = np.arange(_WINDOW)
    cols = first_col[:, None] + steps  # (n, W)
    rows = first_row[:, None] + steps
    side = (SQUARE_SIDE * scale)[:, None, None]
    dx = ((cols + 0.5 - cx[:, None]).astype(np.float32))[:, None, :] / side  # (n, 1, W)
    up = ((cy[:, None] - rows - 0.5).astype(np.float32))[:, :, None] / side  # (n, W, 1)
    cos = np.cos(orientation).astype(np.float32)[:, None, None]
    sin = np.sin(orientation).astype(np.float32)[:, None, None]
    # Rotate the pixel offsets back by the orientation: (u, v) are in the sprite's frame.
    u = dx * cos + up * sin
    v = up * cos - dx * sin
    inside = np.empty((n, _WINDOW, _WINDOW), bool)
    for k, test in enumerate((_in_square, _in_ellipse, _in_heart)):
        sel = shape == k
        if sel.any():
            inside[sel] = test(u[sel], v[sel])
    out[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = inside


def _in_square(u, v):
    return (np.abs(u) <= 0.5) & (np.abs(v) <= 0.5)


def _in_ellipse(u, v):
    a, b = _ELLIPSE_AXES
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _heart_tangent():
    """Slope ``k`` (``|u| = k (v - tip)``) of the tangents from the tip to the discs, and the
    height where they touch them."""
    d, r, height = _HEART_D, _HEART_R, _HEART_Y - _HEART_TIP
    k = (height * d + np.sqrt(height**2 * d**2 - (height**2 - r**2) * (d**2 - r**2))) / (
        height**2 - r**2
    )
    return k, _HEART_TIP + (d * k + height) / (1 + k * k)


_HEART_K, _HEART_TOUCH = _heart_tangent()


def _in_heart(u, v):
    au = np.abs(u)
    lobes = (au - _HEART_D) ** 2 + (v - _HEART_Y) ** 2 <= _HEART_R**2
    point = (v >= _HEART_TIP) & (v <= _HEART_TOUCH) & (au <= _HEART_K * (v - _HEART_TIP))
    between = (v >= _HEART_TOUCH) & (v <= _HEART_Y) & (au <= _HEART_D)
    return lobes | point | between
