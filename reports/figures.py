"""Figures and numbers as a report embeds them: Matplotlib figures drawn with the Agg canvas
(no pyplot, no global state, no display) and PNGs as base64 data URIs."""

import base64
import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf"]
MISSING = "—"


def figure(width: float = 4.2, height: float = 2.8) -> Figure:
    """A new figure (inches) on its own Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def panel_grid(panels: int, width: float, height: float, max_cols: int = 3) -> tuple[Figure, list]:
    """A figure of ``panels`` plots of ``width`` x ``height`` inches, at most ``max_cols`` to
    a row; returns it and the panels' axes (the grid's spare cells are hidden)."""
    cols = min(panels, max_cols)
    rows = -(-panels // cols)
    fig = figure(width * cols, height * rows)
    axes = list(np.atleast_1d(fig.subplots(rows, cols)).ravel())
    for ax in axes[panels:]:
        ax.set_axis_off()
    return fig, axes[:panels]


def png_uri(content: bytes) -> str:
    """A ``data:`` URI of PNG bytes, for ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(content).decode("ascii")


def figure_uri(fig: Figure) -> str:
    """Render a figure to PNG and return it as a data URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return png_uri(buffer.getvalue())


def fmt(value) -> str:
    """A number as the report shows it: integers whole, 2 decimals from 1 up, 4 below 1,
    scientific notation for the very small; ``—`` when missing or not finite."""
    if value is None or isinstance(value, str):
        return MISSING if value in (None, "") else value
    value = float(value)
    if not math.isfinite(value):
        return MISSING if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if value.is_integer() and abs(value) < 1e9:
        return str(int(value))
    if abs(value) >= 1e6:
        return f"{value:.4e}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    if abs(value) >= 1e-3:
        return f"{value:.4f}"
    return f"{value:.3e}"


def seconds(value: float | None) -> str:
    """A duration as ``1h02m``, ``3m05s`` or ``12.3s``."""
    if value is None or not math.isfinite(value):
        return MISSING
    if value < 60:
        return f"{value:.1f}s"
    minutes, secs = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def log_scale_fits(values, ratio: float = 100) -> bool:
    """Whether positive values span enough (``max / min >= ratio``) to need a log axis."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    return bool(values) and min(values) > 0 and max(values) / min(values) >= ratio
