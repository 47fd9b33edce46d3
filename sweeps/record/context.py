"""MLflow's own context tags for the runs vaesweep creates through ``MlflowClient``."""


def context_tags() -> dict:
    """MLflow's own context tags (source name and type, git commit, user) as ``mlflow.start_run``
    sets them; ``MlflowClient.create_run`` sets none. MLflow has no public function for them:
    ``mlflow.tracking.context.registry.resolve_tags`` is what ``start_run`` itself calls, so the
    UI's Source column and the git commit read the same here as for a fluent run."""
    from mlflow.tracking.context.registry import resolve_tags
    from mlflow.utils.git_utils import get_git_commit
    from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT

    tags = resolve_tags()
    if MLFLOW_GIT_COMMIT not in tags:  # the entry point sits outside the checkout (a test runner, say)
        commit = get_git_commit(__file__)  # the same private helper resolve_tags uses, on our own code
        if commit:
            tags[MLFLOW_GIT_COMMIT] = commit
    return tags
