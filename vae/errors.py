"""Typed errors for user mistakes.

The CLI turns every :class:`VaeError` into one line on stderr and exit code 2, so each
message names the problem and the fix in one sentence.
"""


class VaeError(Exception):
    """A mistake the user can fix: bad input, missing data, an impossible configuration."""


class DataError(VaeError):
    """A dataset is missing, truncated or malformed."""


class ConfigError(VaeError):
    """A configuration value, search space or command-line option is invalid."""


class SweepError(VaeError):
    """A sweep cannot go on (every trial failed, an unknown sweep to resume, ...)."""
