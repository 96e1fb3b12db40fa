"""Subject-level analyses of a subjective study (individual ratings, :class:`~ratingdist.Ratings`).

- :func:`mos`: MOS with normal or Student-t confidence intervals;
- :func:`bt500`: ITU-R BT.500-14 Annex 1 kurtosis screening, then MOS;
- :func:`correlation_screening`: rejection of subjects that correlate poorly with the MOS;
- :func:`p913`: ITU-T P.913 §12.4 bias removal, screening, MOS;
- :func:`p910`: ITU-T P.910 Annex E subject bias and inconsistency (alternating projection);
- :func:`mle`: the maximum-likelihood model with content ambiguity (Li & Bampis 2017);
- :func:`fit`: the quantized subject model (bias, inconsistency, ambiguity on a quantized latent);
- :func:`crossvalidate`: mean NLL per hidden rating of these and the per-stimulus models.

>>> import ratingdist as rd
>>> import pandas as pd
>>> wide = pd.DataFrame({"s1": [5, 4, 2], "s2": [4, 3, 1], "s3": [5, 5, 1]})
>>> rd.subjects.p913(rd.Ratings.from_wide(wide)).stimuli["quality"].round(3).tolist()
[4.667, 4.0, 1.333]
"""

from .crossval import crossvalidate
from .quantized import QuantizedSubjectModel, fit
from .standard import (
    SubjectAnalysis,
    bt500,
    correlation_screening,
    mle,
    mos,
    p910,
    p913,
)

__all__ = ["QuantizedSubjectModel", "SubjectAnalysis", "bt500", "correlation_screening",
           "crossvalidate", "fit", "mle", "mos", "p910", "p913"]
