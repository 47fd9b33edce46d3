"""Expected results: the best reconstruction and generation figures each model family reached
on each dataset of the sweep, with their intervals.

A figure is a configuration's (``reports.stats``): the mean ± 95% t interval over its seeds
where it was replicated, ``value ± 1.96·se`` where the run logged the metric's standard
error, else the single value, marked as such. The best configuration is picked by that
value in the metric's direction; a metric nobody logged is shown missing with the reason.
"""

import pandas as pd

from reports import data as d
from reports import stats
from vae.metrics import registry

#: (key, label, direction, unit) of each figure; a registry entry, once there is one, wins.
FIGURES = [
    ("test_reconstruction_loss", "reconstruction loss", "min", "nats per image"),
    ("test_elbo", "test ELBO", "max", "nats per image"),
    ("test_nll", "test NLL", "min", "nats per image"),
    ("test_sample_frechet_distance", "Fréchet distance of samples", "min", ""),
    ("test_sample_precision", "sample precision", "max", ""),
    ("test_sample_recall", "sample recall", "max", ""),
]


def columns() -> list[dict]:
    """The table's figures with their label and direction, from the registry where it has them."""
    found = []
    for key, label, direction, unit in FIGURES:
        column = registry.column(key)
        if column is not None:
            label, direction = column.label, column.direction
        found.append({"key": key, "label": label, "direction": direction, "unit": unit,
                      "better": "higher is better" if direction == "max" else "lower is better"})
    return found


def best_estimate(trials: pd.DataFrame, key: str, direction: str) -> stats.Estimate | None:
    """The best configuration's figure for ``key`` among ``trials`` (see :mod:`reports.stats`)."""
    found = [e for e in (stats.estimate(g, key) for g in stats.configurations(trials)) if e is not None]
    if not found:
        return None
    return (max if direction == "max" else min)(found, key=lambda e: e.value)


def groups(trials: pd.DataFrame, dataset: str) -> list[tuple[str, str, pd.DataFrame]]:
    """``(model family, dataset, its finished trials)``, in order of each family's best trial."""
    finished = trials[trials["status"] == d.FINISHED]
    models = finished.get("params.model", pd.Series("?", index=finished.index)).fillna("?")
    datasets = finished.get("params.dataset", pd.Series(dataset, index=finished.index)).fillna(dataset)
    keys = list(dict.fromkeys(zip(models, datasets, strict=True)))
    return [(model, data, finished[(models == model) & (datasets == data)]) for model, data in keys]


def build(sweep: d.Sweep) -> dict:
    """The expected-results block: ``columns`` and one row per family × dataset."""
    figures = columns()
    rows = []
    runs = stats.seed_runs(sweep)
    for model, dataset, trials in groups(runs, sweep.dataset):
        cells = [_cell(sweep, trials, f) for f in figures]
        rows.append({"model": model, "dataset": dataset, "trials": len(trials), "cells": cells})
    return {"columns": figures, "rows": rows}


def _cell(sweep, trials, figure) -> dict:
    key = figure["key"]
    est = best_estimate(trials, key, figure["direction"])
    if est is None:
        return {"text": None, "reason": _why_missing(trials, key)}
    ids = list(dict.fromkeys(str(trials.loc[r, "trial_id"]) for r in est.run_ids))  # replicates share an id
    return {"text": est.text, "how": est.how, "interval": est.half_width is not None,
            "trials": ("trial " if len(ids) == 1 else "trials ") + ", ".join(ids)}


def _why_missing(trials, key) -> str:
    if registry.column(key) is None and key.startswith("test_sample_"):
        return "not computed: this version of vaesweep has no generation metrics (sample_*) registered"
    reasons = sorted({d.missing_reason(t, key) for _, t in trials.iterrows()})
    return " / ".join(reasons) or "no finished trial"
