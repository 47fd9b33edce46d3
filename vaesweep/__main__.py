"""``python -m vaesweep``: the same as the ``vaesweep`` command."""

import sys

from vaesweep.cli import main

sys.exit(main())
