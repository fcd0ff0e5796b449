"""`python -m glassnet ...` runs the `glassnet` command (see glassnet.cli and docs/cli.md)."""
import sys

from glassnet.cli import main

if __name__ == "__main__":
    sys.exit(main())
