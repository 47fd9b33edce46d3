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
    # the winner's curse: the search trial that picked the configuration is not in its mean
    fresh = sorted(r.data.metrics["best_val_elbo"] for r in runs if record.trial_row(r).role == record.REPLICATE)
    assert len(fresh) == 2
    mean, half_width = (fresh[0] + fresh[1]) / 2, 12.706205 * abs(fresh[1] - fresh[0]) / 2  # t(0.975, 1 df) * sd/sqrt(2)
    assert math.isclose(parent.data.metrics["best_val_elbo_mean"], mean, rel_tol=1e-9)
    assert math.isclose(parent.data.metrics["best_val_elbo"], mean, rel_tol=1e-9)  # the figure the choice used
    assert math.isclose(parent.data.metrics["best_val_elbo_ci_high"] - mean, half_width, rel_tol=1e-6)
    assert parent.data.metrics["best_config_seeds"] == 2
    assert parent.data.tags[record.BEST_CONFIG_DIGEST] in digests
    assert len(sweep.trials[sweep.trials["role"] == record.REPLICATE]) == 0  # replicates are not trials
    assert len(sweep.replicates) == 2


def test_the_report_shows_each_seed_and_the_mean_with_its_interval(sweep):
    from reports import render

    html = render.render_sections(sweep, ["replicates"])
    assert "Seed replicates" in html and "★" in html
    assert "seed 0:" not in html and "seed 1:" in html and "seed 2:" in html and "[" in html  # fresh seeds only
    assert "fresh seed(s) failed" not in html


def test_a_fresh_seed_that_failed_is_counted_in_the_report(store, sweep):
    from reports import render
    from reports.data import load_sweep

    client = store.client
    experiment = client.get_run(store.main_id).info.experiment_id
    digest = client.get_run(store.main_id).data.tags[record.BEST_CONFIG_DIGEST]
    run_id = record.create_trial(client, experiment, store.main_id, record.sweep_name(client.get_run(store.main_id)),
                                 "0-s9", "mlp", "local", role=record.REPLICATE, extra_tags={record.CONFIG_DIGEST: digest})
    record.end_run(client, run_id, record.FAILED, "diverged: loss became nan at epoch 1")
    try:
        fresh = load_sweep("mnist", store.main_id, store.uri)
        html = render.render_sections(fresh, ["replicates"])
        assert "1 fresh seed(s) failed" in html
        assert "<td>2</td><td>1</td>" in html  # two fresh seeds finished, one failed
    finally:
        client.delete_run(run_id)
