"""Helpers for tests that read an MLflow store or wait on other processes."""

import time

import pytest


def all_runs(client):
    """Every run of every experiment in the store."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, max_results=10000) if experiments else []


def wait_for(predicate, timeout, what, interval=0.3):
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what}")
