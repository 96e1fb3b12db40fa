"""Scale-out of the per-stimulus path on Dask (optional: ``pip install ratingdist[dask]``).

Stimuli are independent, so the work splits along them: long-format ratings are counted per
stimulus by a tree reduction over partitions (:func:`counts_from_ratings`), every partition of
counts is fitted by the in-memory :func:`ratingdist.fit` (:func:`fit`, :func:`fit_all`,
:func:`qoe`), and the dataset-level figures are reduced exactly from per-partition partial sums
(:func:`compare`). There is no model code here: every number per stimulus is the one that
``rd.fit`` gives on the whole data, bit for bit.

Works with any Dask scheduler: the threaded default, or ``distributed`` (use
:func:`local_cluster` or :func:`worker_environment` so that each worker runs one Numba thread
per task thread).

Examples
--------
>>> import ratingdist as rd
>>> from ratingdist import dask as rdd
>>> counts = rd.RatingCounts([1, 2, 3], [[0, 2, 5, 3, 0], [1, 4, 4, 1, 0], [0, 0, 3, 6, 2]])
>>> rdd.fit(counts, "gsd", npartitions=2).compute()["psi"].round(3).tolist()
[3.166, 2.509, 3.837]
"""

from ._counts import counts_from_ratings
from ._fits import as_dask_counts, fit, fit_all, qoe, to_parquet
from ._summary import compare
from ._workers import local_cluster, worker_environment

__all__ = [
    "as_dask_counts",
    "compare",
    "counts_from_ratings",
    "fit",
    "fit_all",
    "local_cluster",
    "qoe",
    "to_parquet",
    "worker_environment",
]
