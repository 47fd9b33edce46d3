"""The ``vaesweep`` command line, above the ``sweeps`` and ``reports`` packages."""
