"""The record of a sweep's trade-offs: Pareto ranks, hyperparameter importances and UDR.

- every finished trial: metric ``pareto_rank`` (1 = on the front) over the objectives, among
  the finished trials evaluated on the same images (``eval_digest``);
- the parent: tag ``pareto_front`` (the front's trial ids, comma-separated) and
  ``selection/pareto.json`` (objectives, each group's ranks, values and what was left out);
- the parent: metrics ``importance/<objective>/<param>`` with ``_low``/``_high`` (the bootstrap
  interval) and ``selection/importance.json`` (per objective: the importances, or the one-line
  reason there are none, and the parameters left out);
- each run of a replicated configuration: metrics ``udr``, ``udr_pair_min``, ``udr_pair_max``;
  the parent: ``selection/udr.json`` (per configuration: its score, pair scores, runs);
- the parent: tag ``selection`` (``mean`` or ``udr``) and, when chosen by UDR, tags
  ``udr_config_digest`` and metric ``chosen_udr``.
"""

import json

PARETO_RANK = "pareto_rank"
PARETO_FRONT = "pareto_front"
PARETO_FILE = "selection/pareto.json"
IMPORTANCE_FILE = "selection/importance.json"
UDR_FILE = "selection/udr.json"
UDR_METRICS = ("udr", "udr_pair_min", "udr_pair_max")
SELECTION = "selection"
UDR_CONFIG_DIGEST = "udr_config_digest"
CHOSEN_UDR = "chosen_udr"
# The arrays of the codes file that UDR reads: posterior means and log-variances.
CODE_MEANS, CODE_LOG_VARS = "codes", "log_vars"


def importance_key(objective: str, param: str, bound: str = "") -> str:
    """``importance/<objective>/<param>`` (``bound`` ``low`` or ``high`` adds ``_low``/``_high``)."""
    return f"importance/{objective}/{param}" + (f"_{bound}" if bound else "")


def log_json(client, run_id: str, value: dict, path: str) -> None:
    client.log_dict(run_id, value, path)


def read_json(content: bytes | None) -> dict | None:
    """A JSON file of this record, from its content (None when the run has none)."""
    return None if content is None else json.loads(content)
