"""The rendered report: its numbers are MLflow's, user text stays text, nothing is fetched."""

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from sweep_names import MAIN_NAME

from reports import render, stats
from reports.data import CODES, MANIFOLD_IMAGES, PIXEL_SCALE_IMAGES
from reports.figures import MISSING, fmt, seconds
from reports.sections import disentanglement, expected_results, hyperparams, importance, pareto
from sweeps import record

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")

MANIFOLD = next(iter(MANIFOLD_IMAGES.values()))


class Page(HTMLParser):
    """Collects the trial table's cells, every tag's attributes, and the text of each section."""

    def __init__(self):
        super().__init__()
        self.rows, self.tags, self.sections, self.headers = [], [], {}, []
        self._cell = self._section = None
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self._section = attrs.get("id")
            self.sections[self._section] = ""
        if tag == "table" and attrs.get("id") == "trials":
            self._in_table = True
        if self._in_table and tag == "th":
            self.headers.append(attrs)
        if self._in_table and tag == "tr" and "data-run-id" in attrs:
            self.rows.append({"run_id": attrs["data-run-id"], "cells": []})
        if self._in_table and tag == "td":
            self._cell = {**attrs, "text": ""}
            self.rows[-1]["cells"].append(self._cell)

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        if tag == "table":
            self._in_table = False
        if tag == "section":
            self._section = None

    def handle_data(self, text):
        if self._cell is not None:
            self._cell["text"] += text
        if self._section is not None:
            self.sections[self._section] += " " + text


@pytest.fixture(scope="module")
def page(html) -> Page:
    parsed = Page()
    parsed.feed(html)
    return parsed


def test_sections_are_the_template_blocks_each_built_by_its_module():
    from reports import sections

    names = render.section_names()
    # Every module of reports/sections/ is a section with a build() and a block: a new one is covered here.
    assert sorted(names) == sections.names() and len(names) == len(set(names))
    assert all(callable(getattr(sections.module(name), "build", None)) for name in names)
    assert names[:3] == ["summary", "warnings", "table"]
    assert {"expected_results", "disentanglement"} <= set(names)


def test_every_table_cell_is_the_value_in_mlflow(store, sweep, page):
    children = record.children(store.client, sweep.run.info.experiment_id, store.main_id, role=record.TRIAL)
    runs = {r.info.run_id: r for r in children}
    assert [row["run_id"] for row in page.rows] == list(sweep.trials.index)  # best first
    assert {row["run_id"] for row in page.rows} == set(runs)
    checked = 0
    for row in page.rows:
        run = runs[row["run_id"]]
        for cell in row["cells"]:
            key = cell["data-key"]
            if key.startswith("metrics."):
                logged = run.data.metrics.get(key.removeprefix("metrics."))
                if logged is None:
                    assert cell["text"] == MISSING and cell["data-value"] == "" and cell["title"]
                else:
                    assert float(cell["data-value"]) == logged  # the exact value, not a rounding
                    assert cell["text"] == fmt(logged)
                    assert float(cell["text"]) == pytest.approx(logged, rel=5e-3, abs=5e-5)  # 2 decimals from 1 up
                    checked += 1
            elif key.startswith("params."):
                logged = run.data.params.get(key.removeprefix("params."))
                assert cell["text"] == (logged if logged is not None else MISSING)
            elif key == "trial_id":
                assert cell["text"] == run.data.tags[record.TRIAL_ID]
            elif key == "status":
                assert cell["text"] == run.data.tags[record.TRIAL_STATUS].lower()
                assert cell.get("title", "") == run.data.tags.get(record.FAILURE_REASON, "")
    assert checked >= 10
    keys = [h["data-key"] for h in page.headers]
    for key in ("metrics.best_val_elbo", "metrics.test_elbo", "metrics.test_nll", "metrics.test_bits_per_dim",
                "metrics.test_active_units", "params.learning_rate", "params.latent_dim"):
        assert key in keys
    objective = next(h for h in page.headers if h["data-key"] == "metrics.best_val_elbo")
    assert objective["aria-sort"] == "descending"  # val_elbo: higher is better


def test_summary_counts_and_wall_time_are_the_parent_runs(store, page):
    parent = store.client.get_run(store.main_id)
    text = " ".join(page.sections["summary"].split())
    finished = int(parent.data.metrics["trials_finished"])
    failed = int(parent.data.metrics["trials_failed"])
    assert f"{finished + failed} trials" in text
    assert f"{finished} finished" in text and f"{failed} failed" in text and "0 killed" in text
    assert f"Wall time {seconds(parent.data.metrics['wall_time_s'])}" in text
    for label in ("Tuner random", "Budget smoke", "Objective val_elbo (higher is better)", "Dataset mnist"):
        assert label in text


def test_user_text_is_escaped_and_the_only_script_is_the_sort_script(html, page):
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert MAIN_NAME in page.sections["summary"]  # shown as text
    assert [t for t, _ in page.tags].count("script") == 1


def test_a_failure_reason_with_markup_is_shown_as_text(sweep):
    failed = sweep.trials.index[sweep.trials["status"] == "FAILED"][0]
    original = sweep.trials.loc[failed, "failure_reason"]
    sweep.trials.loc[failed, "failure_reason"] = 'exception "<img src=x onerror=alert(2)>"'
    try:
        html = render.render_sections(sweep, ["warnings", "table"])
    finally:
        sweep.trials.loc[failed, "failure_reason"] = original
    assert "<img src=x" not in html
    escaped = "exception &#34;&lt;img src=x onerror=alert(2)&gt;&#34;"
    assert f"failed: {escaped}" in html  # the warning line
    assert f'title="{escaped}"' in html  # the status cell's tooltip


def test_the_report_is_self_contained(sweep, html, page):
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"(https?:)?//", value), f"<{tag} {name}={value!r}> fetches from the network"
        if tag == "link":
            assert attrs.get("rel") == "icon" and attrs.get("href", "").startswith("data:")
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    # the best trials' curves, KL bars, 4 image artifacts and the manifold of those with a 2-D code,
    # the latent view when the best trial logged its codes, the disentanglement figures, the
    # rate-distortion plot and one plot per varied hyperparameter
    latent = CODES in sweep.artifact_paths(sweep.best.name)
    manifolds = sum(MANIFOLD in sweep.artifact_paths(r) for r in sweep.top(3).index)
    block = disentanglement.build(sweep)
    figures = len(block["heatmaps"]) + bool(block["tradeoff"]["image"])
    front = bool(pareto.build(sweep).get("image"))  # the Pareto front of the sweep's objectives
    ranked = importance.build(sweep)  # one bar chart per objective whose importances were estimated
    bars = sum(not o.get("reason") for o in ranked.get("objectives", []))
    assert len(images) == (len(sweep.top(3)) * 6 + manifolds + latent + figures + 1 + front + bars
                           + len(hyperparams.build(sweep)["plots"]))
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_warnings_name_each_failed_trial_with_its_reason(store, sweep, page):
    text = " ".join(page.sections["warnings"].split())
    failed = sweep.trials[sweep.trials["status"] == "FAILED"]
    assert len(failed)
    for run_id, trial in failed.iterrows():
        reason = store.client.get_run(run_id).data.tags[record.FAILURE_REASON]
        assert f"trial {trial['trial_id']} ({trial['params.model']}) failed: {reason}" in text
        assert "learning_rate=10000" in text


def test_best_trials_show_three_or_fewer_finished_trials_with_their_artifacts(sweep, page):
    from reports.sections import best_trials

    block = best_trials.build(sweep)
    top = sweep.top(3)
    assert [t["run_id"] for t in block["trials"]] == list(top.index)
    titles = [row["title"] for row in block["rows"]]
    assert titles[:2] == ["Loss curves (train and validation)", "KL per latent dimension (last epoch, validation)"]
    for row in block["rows"]:
        assert len(row["cells"]) == len(top)
        for cell, run_id in zip(row["cells"], top.index, strict=True):
            # Only 2-D codes have a manifold, only per-pixel likelihoods a scale image: see the tests below.
            if row["title"] not in MANIFOLD_IMAGES and row["title"] not in PIXEL_SCALE_IMAGES:
                assert "image" in cell, f"{row['title']} of {run_id}: {cell.get('note')}"


def test_a_missing_artifact_is_a_note_in_its_cell_and_a_warning(sweep):
    best = sweep.best.name
    paths = sweep.artifact_paths(best)
    paths.discard(record.image_path("samples"))  # as if the run had not logged it
    try:
        html = render.render_sections(sweep, ["warnings", "best_trials"])
    finally:
        paths.add(record.image_path("samples"))
    assert f'<span class="muted">no {record.image_path("samples")} artifact in this run</span>' in html
    assert f"trial {sweep.best['trial_id']} ({sweep.best['params.model']}): no {record.image_path('samples')}" in html


def test_new_sections_show_their_figures_or_say_why_they_do_not_apply(sweep, page):
    text = " ".join(page.sections["disentanglement"].split())
    # MNIST has one label, not factors: no heatmap, and the page says so.
    assert "Does not apply: mnist has a single label, so there are no ground-truth factors" in text
    # The store's β = 4 trial diverges: one β among the finished trials, so no trade-off.
    runs = stats.seed_runs(sweep)
    mlp = int(((runs["status"] == "FINISHED") & (runs["params.model"] == "mlp")).sum())
    assert ("Does not apply: β was not swept (every finished trial has β = 1; β = 4 only in trials that did not "
            f"finish; {mlp} mlp runs have no β), so there is no trade-off to draw") in text
    results = " ".join(page.sections["expected_results"].split())
    for model in sweep.finished()["params.model"].unique():
        assert f"{model} mnist" in results
    assert "one seed, no interval; trial" in results  # test_reconstruction_loss has no s.e.
    assert "± 1.96·se (test_elbo_se logged); trial" in results
    block = expected_results.build(sweep)
    keys = [c["key"] for c in block["columns"]]
    for row in block["rows"]:  # a value with how it was made, or the reason there is none
        for key, cell in zip(keys, row["cells"], strict=True):
            assert (cell["text"] and cell["how"]) or cell["reason"], (row["model"], key)


def test_models_with_a_2d_code_show_their_manifold_and_the_others_say_why_not(sweep):
    from reports.sections import best_trials

    top = sweep.top(3)
    dims = list(top["params.latent_dim"])
    row = next((r for r in best_trials.build(sweep)["rows"] if r["title"] in MANIFOLD_IMAGES), None)
    if "2" not in dims:
        assert row is None
        return
    for cell, dim in zip(row["cells"], dims, strict=True):
        assert ("image" in cell) == (dim == "2")
        if dim != "2":
            assert cell["note"] == f"none: the manifold is drawn for 2-D codes only; this trial has latent_dim {dim}"


def test_a_per_pixel_scale_image_is_captioned_and_trials_without_one_say_why(sweep):
    from reports.sections import best_trials
    from sweeps import tracking

    top = sweep.top(3)
    (title, path), first = next(iter(PIXEL_SCALE_IMAGES.items())), top.index[0]
    # As a run of a per-pixel likelihood logs it (the store's trials are all Bernoulli).
    tracking.log_image(sweep.client, first, np.full((8, 24), 128, np.uint8), path)
    sweep.artifact_paths(first).add(path)
    try:
        row = next(r for r in best_trials.build(sweep)["rows"] if r["title"] == title)
    finally:
        sweep.artifact_paths(first).discard(path)  # the other tests see the store's own artifacts
    assert "standard deviation on a log scale" in title and "1/2048" in title
    assert "image" in row["cells"][0]
    for cell, run_id in zip(row["cells"][1:], top.index[1:], strict=True):
        assert cell["note"] == ("none: only per-pixel likelihoods log a scale image; this trial's is "
                                f"{top.loc[run_id].get('params.likelihood', '?')}")
