"""What vaesweep tells its user while it works: progress and notes go to stderr, results to
stdout, so that ``vaesweep ... > results.txt`` keeps only the results."""

import sys


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
