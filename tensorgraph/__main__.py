"""``python -m tensorgraph``: the same command line as the ``tensorgraph`` script."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
