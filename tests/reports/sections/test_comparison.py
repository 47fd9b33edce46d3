"""The comparison section: simultaneous verdicts, the sweep's own objective or none, its scope."""

import numpy as np
import pytest

from reports import render
from reports.sections import comparison
from vae.metrics import paired

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")


def test_ten_trials_apart_one_at_a_time_are_shown_as_could_be_the_best():
    rng = np.random.default_rng(0)
    difficulty = rng.normal(0, 20, 500)
    values = {}
    for k in range(10):  # trial 0 leads the nine others by exactly 0.14 nats
        noise = rng.normal(0, 1, 500)
        values[f"run{k}"] = difficulty + noise - noise.mean() - (0.14 if k else 0.0)
    selection = paired.Selection("val_elbo", values, {})
    result = paired.compare_with_best(values, "max")
    rows = comparison.rows(result, selection, {f"run{k}": (str(k), "beta") for k in range(10)})
    assert rows[0]["trial_id"] == "0" and rows[0]["verdict"] == "observed best"
    assert all(r["unadjusted_excludes_zero"] for r in rows[1:])  # one at a time: nine "worse"
    assert [r["verdict"] for r in rows[1:]] == ["could be the best"] * 9  # simultaneously: none is
    for r in rows[1:]:
        low, high = (float(x) for x in r["simultaneous"].strip("[]").split(", "))
        assert low < 0 < high
        assert float(r["difference"]) == pytest.approx(-0.14, abs=5e-4)


def test_the_section_compares_on_the_sweeps_objective_or_says_it_does_not_apply(sweep):
    block = comparison.build(sweep)
    assert block["figure"] == sweep.objective == "val_elbo"
    logs_it = [r for r in sweep.finished().index if "val_elbo" in (sweep.per_image(r) or {})]
    if len(logs_it) >= 2:  # once trials log per-image val_elbo
        assert block["applies"] and block["m"] == len(logs_it)
        verdicts = [row["verdict"] for row in block["rows"]]
        assert verdicts[0] == "observed best" and set(verdicts[1:]) <= {"could be the best", "worse than the best"}
    else:  # test_nll/test_elbo per image are another figure: never ranked on instead
        assert not block["applies"]
        assert "ranks by val_elbo" in block["reason"] and "does not apply" in block["reason"]
        assert "test_nll" in block["reason"]


def test_the_section_states_its_scope_and_points_to_the_replicates(sweep):
    html = render.render_sections(sweep, ["comparison"])
    assert comparison.TITLE.split(" (")[0] in html and "Which differences are real" not in html
    assert 'href="#replicates"' in html
    block = comparison.build(sweep)
    if block["applies"]:
        assert "evaluation noise" in html and "not seed noise" in html and "Hsu" in html
