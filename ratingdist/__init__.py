"""ratingdist: statistics of absolute-category-rating (ACR) data.

Fit quantized metric models (normal, logistic, beta, Kumaraswamy, logit-logistic), the discrete
maximum-entropy distribution and the generalized score distribution (GSD) to the rating counts
of every stimulus by maximum likelihood, judge and compare the fits.

>>> import ratingdist as rd
>>> res = rd.fit([[0, 0, 25, 73, 7]], "logit-logistic")
>>> res.params.round(3).tolist()
[[0.669, 0.245]]
"""

import importlib

from . import adaptive, datasets, evaluation, gof, qoe, scale, subjects
from ._version import __version__ as __version__
from .adaptive import AdaptiveResult, fit_adaptive
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
    "scale",
    "subjects",
]


def __getattr__(name: str):
    """``rd.plots`` is imported on first use, so that ``import ratingdist`` needs no matplotlib
    start-up."""
    if name == "plots":
        return importlib.import_module(f"{__name__}.plots")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
