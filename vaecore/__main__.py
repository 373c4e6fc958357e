"""``python -m vaecore``: the ``vaecore`` command (for environments without the entry point)."""

import sys

from vaecore.cli import main

if __name__ == "__main__":
    sys.exit(main())
