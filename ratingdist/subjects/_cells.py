"""The observed ratings of a study, and the sums over stimuli and subjects that the analyses take.

Every analysis of :mod:`ratingdist.subjects` works on the observed ratings only; missing cells
are absent from every sum "over the ratings of a stimulus" or "of a subject". Two layouts hold
the same ratings:

- *flat* (any study): rating t has stimulus ``j[t]``, subject ``i[t]`` and value ``u[t]``; sums
  are weighted :func:`numpy.bincount`;
- *dense* (a complete study: every subject rated every stimulus equally often, as in a lab):
  ``u`` is an (n_stimuli, n_repetitions · n_subjects) matrix, column r·I + i for subject i in
  repetition r, and sums are row and column sums, several times faster.

Values per rating ("cell arrays") have the layout's shape; :meth:`Cells.at_stimulus` and
:meth:`Cells.at_subject` spread per-stimulus and per-subject values onto them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ratingdist.ratings import Ratings


@dataclass(frozen=True)
class Cells:
    """Observed ratings in the flat or the dense layout (see the module).

    The sums :meth:`per_stimulus` and :meth:`per_subject` take cell arrays of the layout's
    shape (:meth:`full` makes one of a broadcastable array)."""

    j: NDArray[np.int64]
    i: NDArray[np.int64]
    u: NDArray[np.float64]
    n_stimuli: int
    n_subjects: int
    repetitions: int = 0  # > 0: the dense layout with this many repetitions

    @classmethod
    def of(cls, ratings: Ratings, dense: bool = True) -> Cells:
        """The ratings as cells: dense if ``dense`` and the study is complete, else flat."""
        if not isinstance(ratings, Ratings):
            raise TypeError(
                f"ratings must be ratingdist.Ratings (Ratings.from_long, from_wide, from_sureal), "
                f"got {type(ratings).__name__}"
            )
        J, I, R = ratings.n_stimuli, ratings.n_subjects, ratings.n_repetitions
        j, i = ratings.stimulus_index, ratings.subject_index
        if dense and ratings.n_ratings == J * I * R:
            u = np.empty((J, R * I))
            u[j, ratings.repetition_index * I + i] = ratings.values
            return cls(j, i, u, J, I, R)
        return cls(j, i, ratings.values.astype(np.float64), J, I)

    def keep(self, subjects: NDArray[np.bool_]) -> Cells:
        """The ratings of the subjects where ``subjects`` is True (flat layout only)."""
        if self.repetitions:
            raise ValueError("keep() needs the flat layout: Cells.of(ratings, dense=False)")
        rows = subjects[self.i]
        return Cells(self.j[rows], self.i[rows], self.u[rows], self.n_stimuli, self.n_subjects)

    def with_values(self, u: NDArray[np.float64]) -> Cells:
        return Cells(self.j, self.i, u, self.n_stimuli, self.n_subjects, self.repetitions)

    def at_stimulus(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-stimulus values spread onto the ratings (broadcastable to a cell array)."""
        return x[:, None] if self.repetitions else x[self.j]

    def at_subject(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-subject values spread onto the ratings (broadcastable to a cell array)."""
        if self.repetitions:
            return (x if self.repetitions == 1 else np.tile(x, self.repetitions))[None, :]
        return x[self.i]

    def full(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """A broadcastable per-rating array as a cell array of the layout's shape."""
        return x if x.shape == self.u.shape else x * np.ones(self.u.shape)

    def per_stimulus(self, x: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Σ over each stimulus' ratings of the cell array ``x`` (of 1 if None), shape
        (n_stimuli,)."""
        if x is not None and self.repetitions:
            return x.sum(axis=1)
        return np.bincount(self.j, weights=x, minlength=self.n_stimuli).astype(np.float64)

    def per_subject(self, x: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Σ over each subject's ratings of the cell array ``x`` (of 1 if None), shape
        (n_subjects,)."""
        if x is not None and self.repetitions:
            sums = x.sum(axis=0)
            return sums if self.repetitions == 1 else sums.reshape(self.repetitions, -1).sum(0)
        return np.bincount(self.i, weights=x, minlength=self.n_subjects).astype(np.float64)

    def std_per_stimulus(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Population sd (ddof 0, about its own mean) of ``x`` over each stimulus' ratings."""
        n = self.per_stimulus()
        mean = self.per_stimulus(x) / n
        return np.sqrt(self.per_stimulus((x - self.at_stimulus(mean)) ** 2) / n)

    def std_per_subject(
        self, x: NDArray[np.float64], n: NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """Population sd (ddof 0, about its own mean) of ``x`` over each subject's ratings
        (``n``: their numbers, if known)."""
        n = self.per_subject() if n is None else n
        mean = self.per_subject(x) / n
        return np.sqrt(self.per_subject((x - self.at_subject(mean)) ** 2) / n)
