"""``python -m benchmarkai run -- CMD``: the same as the ``benchmarkai`` command."""
import sys

from benchmarkai._sidecar import main

if __name__ == "__main__":
    sys.exit(main())
