"""Collection of the doctests in ``ratingdist/``: the optional PyTorch package needs torch."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("torch") else ["ratingdist/torch"]
