"""The names a user chooses from, each listed once: the CLI reads them before anything heavy is
imported, the search-space check validates against them and the factories build from them.

A tuner is one entry here (its name -> the Keras Tuner class it tracks); a budget's data are
its search-space entry (``budgets:`` in each YAML) and its metric settings
(``sweeps.evaluation.SETTINGS``, keyed by these names).
"""

from vae.runtime import (  # the library's own lists (imports no backend)
    PRECISIONS,
    SUPPORTED_BACKENDS,
)

TUNERS = {"hyperband": "Hyperband", "bayesian": "BayesianOptimization", "random": "RandomSearch",
          "grid": "GridSearch"}  # grid: every combination in order (a range without step: 10 values)
# The tuners that train each trial for the whole budget: early stopping applies to them
# (Hyperband stops trials by its own rounds).
EARLY_STOPPING_TUNERS = ("bayesian", "random", "grid")
BUDGETS = ("smoke", "quick", "full")
BACKENDS = SUPPORTED_BACKENDS
__all__ = ["BACKENDS", "BUDGETS", "EARLY_STOPPING_TUNERS", "PRECISIONS", "TUNERS"]
