"""The latent space of the best trial in 2-D, coloured by label or by each ground-truth factor.

Reads the posterior means the trial logged (``latents/codes.npz``); never runs a model.
Two-dimensional codes are drawn as they are (the decoded manifold of such a model is among
the best trials' images), larger ones through t-SNE (after PCA when there are many
dimensions). t-SNE's cost grows faster than linearly with the points, so above
``TSNE_MAX_POINTS`` codes the view falls back to PCA, the quick alternative, and says so;
``view_for(..., method="pca")`` asks for it outright. At most ``MAX_POINTS`` are drawn.
"""

import numpy as np

from reports import data as d
from reports.figures import COLORS, figure_uri, panel_grid

MAX_POINTS = 2000
TSNE_MAX_POINTS = 1000  # a few seconds of t-SNE on a CPU
PCA_ABOVE = 50
MAX_FACTORS = 6


def build(sweep: d.Sweep) -> dict:
    """The latent block for the best trial."""
    return view_for(sweep, sweep.best.name)


def view_for(sweep: d.Sweep, run_id: str, method: str = "auto") -> dict:
    """The latent view of any trial of the sweep: an image and how it was made, or a warning.

    Args:
        sweep: the sweep.
        run_id: the trial's run.
        method: ``"auto"`` (t-SNE up to ``TSNE_MAX_POINTS`` points, PCA above), ``"tsne"``
            or ``"pca"``; codes of one or two dimensions are always drawn as they are.
    """
    trial = sweep.trials.loc[run_id]
    header = {"trial_id": trial["trial_id"], "run_id": run_id, "model": trial.get("params.model", "?")}
    try:
        arrays = sweep.codes(run_id)
    except (ValueError, OSError) as exc:  # a truncated or foreign file: say so, keep the report
        return {**header, "warning": f"{d.CODES} of trial {trial['trial_id']} could not be read ({exc})"}
    if arrays is None:
        return {**header, "warning": f"no latent-space view: trial {trial['trial_id']} has no {d.CODES} artifact "
                                     "(its posterior means were not logged, as with runs from before vaesweep "
                                     "saved them); re-run the sweep to get this view"}
    codes = np.asarray(arrays.get("codes", np.empty((0, 0))), dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 2 or not np.isfinite(codes).all():
        return {**header, "warning": f"{d.CODES} of trial {trial['trial_id']} holds no usable codes "
                                     f"(shape {codes.shape}, finite: {bool(np.isfinite(codes).all())})"}
    colours, names = _colours(arrays, len(codes))
    keep = subsample(len(codes), MAX_POINTS)
    xy, method = project(codes[keep], method=method)
    notes = []
    au = sweep.metric(run_id, "test_active_units")
    if au == 0:
        notes.append("this trial has no active unit (posterior collapse): the codes barely depend on the image, "
                     "so the layout below is mostly noise")
    fig = _draw(xy, [c[keep] for c in colours], names, method)
    return {**header, "image": figure_uri(fig), "method": method, "points": len(keep), "total": len(codes),
            "dims": codes.shape[1], "coloured_by": ", ".join(names) if names else "nothing (no labels or factors)",
            "notes": notes}


def subsample(n: int, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``limit`` of ``n`` points, the same on every run."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def project(codes: np.ndarray, seed: int = 0, method: str = "auto") -> tuple[np.ndarray, str]:
    """2-D coordinates of ``codes`` ``(n, d)`` and a sentence saying how they were made
    (``method`` as in :func:`view_for`)."""
    n, dims = codes.shape
    if dims == 1:
        jitter = np.random.default_rng(seed).uniform(-0.5, 0.5, n)
        return np.column_stack([codes[:, 0], jitter]), "the single latent dimension (x) against random jitter (y)"
    if dims == 2:
        return codes.copy(), "the two latent dimensions as they are (posterior means)"
    from sklearn.decomposition import PCA

    if method == "pca" or (method == "auto" and n > TSNE_MAX_POINTS):
        why = f" (the quick alternative to t-SNE, used above {TSNE_MAX_POINTS} points)" if method == "auto" else ""
        xy = PCA(n_components=2, random_state=seed).fit_transform(codes)
        return xy, f"PCA of the {dims}-dimensional posterior means to 2 dimensions{why}"
    steps = []
    if dims > PCA_ABOVE:
        components = min(PCA_ABOVE, n)  # PCA cannot keep more components than points
        codes = PCA(n_components=components, random_state=seed).fit_transform(codes)
        steps.append(f"PCA from {dims} to {components} dimensions")
    if n <= 5:  # t-SNE needs more points than its perplexity
        steps.append("PCA to 2 dimensions (too few points for t-SNE)")
        return PCA(n_components=2, random_state=seed).fit_transform(codes), ", then ".join(steps)
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, (n - 1) / 3))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
    steps.append(f"t-SNE of the {codes.shape[1]}-dimensional posterior means (perplexity {perplexity:g})")
    return xy, ", then ".join(steps)


def _colours(arrays: dict, n: int) -> tuple[list[np.ndarray], list[str]]:
    """The arrays to colour by (one per panel) and their names."""
    names = [str(x) for x in np.atleast_1d(arrays.get("factor_names", np.array([])))]
    if "labels" in arrays and len(arrays["labels"]) == n:
        return [np.asarray(arrays["labels"])], names[:1] or ["label"]
    factors = arrays.get("factors")
    if factors is not None and factors.ndim == 2 and len(factors) == n:
        k = min(factors.shape[1], MAX_FACTORS)
        names = names[:k] if len(names) >= k else [f"factor {i}" for i in range(k)]
        return [factors[:, i] for i in range(k)], names
    return [], []


def _draw(xy, colours, names, method):
    panels = max(len(colours), 1)
    fig, axes = panel_grid(panels, 4.4, 3.6) if panels > 1 else panel_grid(1, 6.0, 4.8)
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if not colours:
            ax.scatter(xy[:, 0], xy[:, 1], s=6, color=COLORS[0], alpha=0.7)
            continue
        values, name = colours[i], names[i]
        distinct = np.unique(values)
        if len(distinct) <= 10:
            for j, value in enumerate(distinct):
                mask = values == value
                ax.scatter(xy[mask, 0], xy[mask, 1], s=6, color=COLORS[j % len(COLORS)], alpha=0.8, label=str(value))
            ax.legend(fontsize=7, markerscale=2, title=name, title_fontsize=8, loc="best", framealpha=0.6)
        else:
            points = ax.scatter(xy[:, 0], xy[:, 1], s=6, c=values.astype(float), cmap="viridis", alpha=0.8)
            fig.colorbar(points, ax=ax, label=name)
        ax.set_title(f"coloured by {name}", fontsize=9)
    return fig
