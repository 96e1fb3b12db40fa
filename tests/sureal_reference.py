"""Run Netflix sureal (a test-only dependency) on a :class:`ratingdist.Ratings`.

sureal's dataset readers import a dataset file as a Python module; the files are never
executed here. Instead the parsed ratings are handed to sureal as an in-memory dataset object
with the ``ref_videos`` and ``dis_videos`` it reads (``os`` as a dict {subject: [ratings]},
which holds missing cells and repetitions alike).
"""

from __future__ import annotations

import contextlib
import io
import types
import warnings
from typing import Any

import numpy as np

from ratingdist.ratings import Ratings

#: sureal's model class for each analysis of ratingdist.subjects
MODELS = {
    "mos": "MosModel",
    "bt500": "SubjrejMosModel",
    "p913": "BiasremvSubjrejMosModel",
    "p910": "SubjectMLEModelProjectionSolver2",
    "p910_subject_std": "SubjectMLEModelProjectionSolver",
    "mle": "MaximumLikelihoodEstimationModel",
    "mle_co": "MaximumLikelihoodEstimationModelContentOblivious",
}


def sureal_dataset(ratings: Ratings) -> types.SimpleNamespace:
    """The ratings as a sureal dataset object (contents 0..C-1 in order of appearance)."""
    contents = ratings.contents if ratings.contents is not None else np.zeros(ratings.n_stimuli)
    _, content_code = np.unique(contents, return_inverse=True)
    table = ratings.array()
    dis_videos = []
    for j, asset in enumerate(ratings.ids.tolist()):
        scores = {}
        for s, subject in enumerate(ratings.subjects.tolist()):
            cell = table[j, s][~np.isnan(table[j, s])]
            if len(cell):
                scores[subject] = cell.tolist() if len(cell) > 1 else float(cell[0])
        dis_videos.append({"asset_id": asset, "content_id": int(content_code[j]),
                           "path": f"dis/{asset}", "os": scores})
    ref_videos = [{"content_id": c, "path": f"ref/{c}"} for c in range(content_code.max() + 1)]
    return types.SimpleNamespace(ref_videos=ref_videos, dis_videos=dis_videos, ref_score=5.0)


def model(ratings: Ratings, analysis: str) -> Any:
    """sureal's model object of ``analysis`` (a key of :data:`MODELS`) on the ratings."""
    from sureal import subjective_model
    from sureal.dataset_reader import RawDatasetReader

    return getattr(subjective_model, MODELS[analysis])(RawDatasetReader(sureal_dataset(ratings)))


def run(ratings: Ratings | Any, analysis: str | None = None) -> dict[str, Any]:
    """sureal's result dict of ``analysis`` on the ratings (or of a :func:`model`); its prints
    swallowed.

    Subjects in a dict ``os`` are sorted by sureal; the result's ``observers`` give the order.
    """
    model_ = model(ratings, analysis) if isinstance(ratings, Ratings) else ratings
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model_.run_modeling()
