"""Seed replicates, in the record and in the report of the shared store."""

import math

import pytest

from sweeps import record

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")


def test_the_top_configuration_is_trained_with_three_seeds_and_chosen_by_its_mean(store, sweep):
    client, experiment = store.client, store.client.get_run(store.main_id).info.experiment_id
    runs = [r for r in record.children(client, experiment, store.main_id, record.FINISHED)
            if record.trial_row(r).config_digest]
    digests = {record.trial_row(r).config_digest for r in runs}
    assert len(digests) == 1 and len(runs) == 3
    hyper = [{k: v for k, v in r.data.params.items() if k in ("model", "latent_dim", "beta", "learning_rate")}
             for r in runs]
    assert all(h == hyper[0] for h in hyper)
    assert sorted(int(r.data.params["seed"]) for r in runs) == [0, 1, 2]
    parent = client.get_run(store.main_id)
    values = [r.data.metrics["best_val_elbo"] for r in runs]
    mean = sum(values) / 3
    assert math.isclose(parent.data.metrics["best_val_elbo_mean"], mean, rel_tol=1e-9)
    assert parent.data.metrics["best_val_elbo_ci_low"] < mean < parent.data.metrics["best_val_elbo_ci_high"]
    assert parent.data.tags[record.BEST_CONFIG_DIGEST] in digests
    assert len(sweep.trials[sweep.trials["role"] == record.REPLICATE]) == 0  # replicates are not trials
    assert len(sweep.replicates) == 2


def test_the_report_shows_each_seed_and_the_mean_with_its_interval(sweep):
    from reports import render

    html = render.render_sections(sweep, ["replicates"])
    assert "Seed replicates" in html and "★" in html
    assert html.count("seed 0:") == 1 and "seed 2:" in html and "[" in html
