"""``python -m ratingdist``: the ``ratingdist`` command."""

import sys

from .cli import main

sys.exit(main())
