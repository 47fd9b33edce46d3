"""``--set KEY=VALUE``: changes to a search space's YAML, applied before the space is checked.

``KEY`` is a dotted path into the file's mapping (``budgets.smoke.epochs``,
``hyperparameters.learning_rate``, ``early_stopping``) and ``VALUE`` is read as YAML
(``2``, ``[1.0e-6, 1.0e-3]``, ``{min: 2, max: 8}``, ``false``), so an override is checked by
the same code, with the same messages, as the file itself.
"""

import copy

import yaml

from vae.errors import ConfigError


def parse_override(text: str) -> tuple[str, str]:
    """``"a.b=3"`` -> ``("a.b", "3")``.

    Raises:
        ConfigError: not ``KEY=VALUE``.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
        raise ConfigError(f"--set expects KEY=VALUE with a dotted KEY (budgets.smoke.epochs=2), got '{text}'")
    return key.strip(), value


def apply_overrides(raw, overrides, source: str) -> dict:
    """A copy of the parsed YAML ``raw`` with each ``(key, value)`` of ``overrides`` set.

    Raises:
        ConfigError: a value is not valid YAML, or a key goes through something not a mapping.
    """
    if not overrides:
        return raw
    result = copy.deepcopy(raw) if isinstance(raw, dict) else {}
    for key, text in overrides:
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"--set {key}={text}: the value is not valid YAML; quote it or fix it") from None
        node, *path = result, *key.split(".")
        for i, part in enumerate(path[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(path[: i + 1])
                raise ConfigError(f"--set {key}: '{where}' in {source} is not a mapping; set '{where}' itself")
            node = child
        node[path[-1]] = value
    return result
