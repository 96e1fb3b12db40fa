"""Collection of the doctests in ``ratingdist/``: the optional packages need their extras."""

import importlib.util

collect_ignore = [
    path
    for path, module in (("ratingdist/torch", "torch"), ("ratingdist/dask", "dask"))
    if importlib.util.find_spec(module) is None
]
