"""Helpers for tests that read an MLflow store."""


def all_runs(client):
    """Every run of every experiment in the store."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, max_results=10000) if experiments else []
