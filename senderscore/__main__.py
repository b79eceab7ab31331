"""``python -m senderscore``: the same as the ``senderscore`` command."""

import sys

from .entry import main

sys.exit(main())
