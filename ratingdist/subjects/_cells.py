"""The ratings of a study as flat arrays of cells, and the sums over stimuli and subjects.

Every analysis of :mod:`ratingdist.subjects` works on the observed ratings only: rating t has a
stimulus ``j[t]``, a subject ``i[t]`` and a value ``u[t]``; missing cells are simply absent, so
every sum "over the stimuli a subject rated" is a weighted :func:`numpy.bincount`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ratingdist.ratings import Ratings


@dataclass(frozen=True)
class Cells:
    """Observed ratings as flat arrays (one entry per rating)."""

    j: NDArray[np.int64]
    i: NDArray[np.int64]
    u: NDArray[np.float64]
    n_stimuli: int
    n_subjects: int

    @classmethod
    def of(cls, ratings: Ratings) -> Cells:
        if not isinstance(ratings, Ratings):
            raise TypeError(
                f"ratings must be ratingdist.Ratings (Ratings.from_long, from_wide, from_sureal), "
                f"got {type(ratings).__name__}"
            )
        return cls(ratings.stimulus_index, ratings.subject_index,
                   ratings.values.astype(np.float64), ratings.n_stimuli, ratings.n_subjects)

    def keep(self, subjects: NDArray[np.bool_]) -> Cells:
        """The ratings of the subjects where ``subjects`` is True (stimuli keep their index)."""
        rows = subjects[self.i]
        return Cells(self.j[rows], self.i[rows], self.u[rows], self.n_stimuli, self.n_subjects)

    def with_values(self, u: NDArray[np.float64]) -> Cells:
        return Cells(self.j, self.i, u, self.n_stimuli, self.n_subjects)

    def per_stimulus(self, x: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Σ over each stimulus' ratings of ``x`` (of 1 if None), shape (n_stimuli,)."""
        return np.bincount(self.j, weights=x, minlength=self.n_stimuli).astype(np.float64)

    def per_subject(self, x: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Σ over each subject's ratings of ``x`` (of 1 if None), shape (n_subjects,)."""
        return np.bincount(self.i, weights=x, minlength=self.n_subjects).astype(np.float64)


def group_std(
    key: NDArray[np.int64], x: NDArray[np.float64], n: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """Population standard deviation (ddof 0, about the group's own mean) of ``x`` per group;
    0 for a group without entries."""
    safe = np.maximum(n, 1.0)
    mean = np.bincount(key, weights=x, minlength=size) / safe
    return np.sqrt(np.bincount(key, weights=(x - mean[key]) ** 2, minlength=size) / safe)
