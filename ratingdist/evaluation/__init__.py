"""Evaluation of predicted rating distributions.

- :mod:`~ratingdist.evaluation.distances`: distances and scores between predicted and observed
  distributions on the rating scale (EMD, Jensen–Shannon, KL, …), vectorized over stimuli;
- :mod:`~ratingdist.evaluation.iqa`: MOS-level measures of image-quality assessment (SRCC,
  KRCC, PLCC after the logistic and polynomial mappings, RMSE, the ITU-T P.1401 statistics);
- :mod:`~ratingdist.evaluation.predictive`: the unseen-ratings experiment of the reference
  study and posterior-predictive fits that stay finite on small panels.
"""

from . import distances, iqa, posterior, predictive
from .distances import (
    DEFAULT_METRICS,
    METRICS,
    aitchison,
    bhattacharyya,
    bhattacharyya_coefficient,
    canberra,
    chebyshev,
    clark,
    compare_distributions,
    cosine_similarity,
    emd,
    g_statistic,
    hellinger,
    intersection,
    jsd,
    kl,
    mos_error,
    nll_per_rating,
    rps,
    rps_counts,
    sos_error,
    total_variation,
    wasserstein,
)
from .iqa import (
    MAPPINGS,
    FittedMapping,
    bootstrap_ci,
    correlations,
    epsilon_rmse,
    fit_mapping,
    krcc,
    outlier_ratio,
    plcc,
    rmse,
    srcc,
)
from .posterior import posterior_predictive
from .predictive import (
    METHODS,
    PredictiveExperiment,
    add_alpha,
    predictive_experiment,
    split_counts,
)

__all__ = [
    "DEFAULT_METRICS",
    "MAPPINGS",
    "METHODS",
    "METRICS",
    "FittedMapping",
    "PredictiveExperiment",
    "add_alpha",
    "aitchison",
    "bhattacharyya",
    "bhattacharyya_coefficient",
    "bootstrap_ci",
    "canberra",
    "chebyshev",
    "clark",
    "compare_distributions",
    "correlations",
    "cosine_similarity",
    "distances",
    "emd",
    "epsilon_rmse",
    "fit_mapping",
    "g_statistic",
    "hellinger",
    "intersection",
    "iqa",
    "jsd",
    "kl",
    "krcc",
    "mos_error",
    "nll_per_rating",
    "outlier_ratio",
    "plcc",
    "posterior",
    "posterior_predictive",
    "predictive",
    "predictive_experiment",
    "rmse",
    "rps",
    "rps_counts",
    "sos_error",
    "split_counts",
    "srcc",
    "total_variation",
    "wasserstein",
]
