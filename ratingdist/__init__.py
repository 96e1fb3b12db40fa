"""ratingdist: statistics of absolute-category-rating (ACR) data.

Fit quantized metric models (normal, logistic, beta, Kumaraswamy, logit-logistic), the discrete
maximum-entropy distribution and the generalized score distribution (GSD) to the rating counts
of every stimulus by maximum likelihood, judge and compare the fits.

>>> import ratingdist as rd
>>> res = rd.fit([[0, 0, 25, 73, 7]], "logit-logistic")
>>> res.table[["mu", "s"]].round(3).to_numpy().tolist()
[[0.669, 0.245]]

``import ratingdist`` itself loads nothing but the version: the public names and subpackages
are imported on first use (PEP 562), so that the ``ratingdist`` command answers ``--help`` at
once and a script pays only for what it touches.

>>> from ratingdist import FAMILIES
>>> "gsd" in FAMILIES and "fit" in dir(rd)
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._datadir import resolve_data_dir as _resolve_data_dir
from ._version import __version__ as __version__

# a relative RATINGDIST_DATA_DIR is resolved against the directory of the process that read it
_resolve_data_dir()

if TYPE_CHECKING:
    from . import adaptive, datasets, evaluation, gof, plots, qoe, scale, subjects
    from .adaptive import AdaptiveResult, fit_adaptive
    from .csvtext import read_csv_as_written
    from .data import RatingCounts
    from .families import FAMILIES, Family, family
    from .fitting import FitResult, compare, fit, fit_all
    from .frozen import RatingDistribution
    from .ratings import Ratings

__all__ = [
    "FAMILIES",
    "AdaptiveResult",
    "Family",
    "FitResult",
    "RatingCounts",
    "RatingDistribution",
    "Ratings",
    "adaptive",
    "compare",
    "datasets",
    "evaluation",
    "family",
    "fit",
    "fit_adaptive",
    "fit_all",
    "gof",
    "plots",
    "qoe",
    "read_csv_as_written",
    "scale",
    "subjects",
]

#: Public name → the submodule that defines it.
_ATTRIBUTES = {
    "FAMILIES": "families",
    "Family": "families",
    "family": "families",
    "FitResult": "fitting",
    "compare": "fitting",
    "fit": "fitting",
    "fit_all": "fitting",
    "RatingCounts": "data",
    "RatingDistribution": "frozen",
    "Ratings": "ratings",
    "AdaptiveResult": "adaptive",
    "fit_adaptive": "adaptive",
    "read_csv_as_written": "csvtext",
}
#: Submodules reachable as attributes without an import of their own (the optional ``torch``
#: and ``dask`` modules need ``import ratingdist.torch`` / ``import ratingdist.dask``).
_SUBMODULES = frozenset(
    {"adaptive", "adaptive_bootstrap", "csvtext", "data", "datasets", "evaluation", "extreme",
     "families", "fitting", "frozen", "gof", "plots", "qoe", "ratings", "scale", "subjects"}
)


def __getattr__(name: str) -> Any:
    """Import a public name or subpackage on first use and keep it in the module namespace."""
    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
