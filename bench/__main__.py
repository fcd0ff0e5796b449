"""`python -m bench` from the repository root runs bench/run.py."""
import sys

from .run import main

sys.exit(main())
