"""`python -m litmol.cli` runs the `litmol` command."""

import sys

from .main import main

sys.exit(main())
