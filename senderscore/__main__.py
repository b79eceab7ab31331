"""``python -m senderscore``: the same as the ``senderscore`` command."""

import sys

from .cli import main

sys.exit(main())
