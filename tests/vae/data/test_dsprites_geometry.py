"""dSprites' procedural geometry against what the official repository publishes."""

import time

import numpy as np

from vae.data.dsprites import DSprites

# The official dsprites_reloading_example.ipynb, cell "Fix posX latent to left", shows the
# mean of 5,000 images with posX at its first value (show_density). Read off its PNG
# output: the image fills 400 of the figure's pixels (6.25 per image pixel, nearest
# interpolation); sampling each image pixel's block centre and summing the grey levels
# per column gives a column density that peaks at columns 15 and 16 (tied at 34.4 of 64),
# centroid 15.50, i.e. sprite centres on the line between those columns.
OFFICIAL_PEAK_COLUMN = 15.5


def test_mean_image_with_pos_x_first_peaks_where_the_official_notebook_does():
    data = DSprites()
    factors = data.sample_factors(5_000, np.random.RandomState(0))
    factors[:, 3] = 0
    start = time.perf_counter()
    images = data.sample_observations_from_factors(factors, None)
    assert time.perf_counter() - start < 5.0
    density = images[..., 0].mean(axis=0).sum(axis=0)
    peak = int(np.argmax(density))
    assert abs(peak - OFFICIAL_PEAK_COLUMN) <= 1, peak
    centroid = (density * np.arange(64)).sum() / density.sum()
    assert abs(centroid - OFFICIAL_PEAK_COLUMN) < 0.5, centroid
    # As in the notebook, no sprite reaches the border.
    assert images[:, :, :2].sum() == 0 and images[:, :2].sum() == 0 and images[:, -2:].sum() == 0


def test_shapes_have_the_official_extent_at_scale_1_and_orientation_0():
    # Official sizes, counted on the repository's dsprites.gif: the square is 20x20 pixels,
    # the ellipse 26 wide and 14 tall, the heart 20 wide and 17 tall.
    images = DSprites().sample_observations_from_factors(
        np.array([[0, 5, 0, 16, 16], [1, 5, 0, 16, 16], [2, 5, 0, 16, 16]]), None
    )[..., 0]
    extents = [
        (np.ptp(np.nonzero(im.any(axis=0))[0]) + 1, np.ptp(np.nonzero(im.any(axis=1))[0]) + 1)
        for im in images
    ]
    assert extents[0] == (20, 20)
    assert abs(extents[1][0] - 26) <= 1 and abs(extents[1][1] - 14) <= 1
    assert abs(extents[2][0] - 20) <= 1 and abs(extents[2][1] - 17) <= 1
