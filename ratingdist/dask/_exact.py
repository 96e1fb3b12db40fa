"""Exact sums of float64 values, split over partitions and combined in any order.

Every finite double is an integer multiple of 2⁻¹¹²⁶ (with room for the 53-bit significand of
the smallest subnormal), so Σ x_i is an exact Python integer in those units. Partial sums of
partitions add exactly (integer addition: the total does not depend on how the values are split
or in which order the parts are combined), and the final division by 2¹¹²⁶ is correctly rounded
(CPython's int / int). The result equals ``math.fsum`` of all values, bit for bit.

Reference: Shewchuk, "Adaptive precision floating-point arithmetic and fast robust geometric
predicates", Discrete Comput. Geom. 18 (1997) 305–363 (exact sums); this is the long-accumulator
variant of it (Kulisch, "Computer arithmetic and validity", de Gruyter 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: x = M · 2^(e − 53) with an integer |M| < 2⁵³ (``np.frexp``); units of 2^−_UNIT_EXPONENT.
_SIGNIFICAND_BITS = 53
_UNIT_EXPONENT = 1126
_HALF = 26


@dataclass(frozen=True)
class ExactSum:
    """The exact sum of some float64 values: ``units`` · 2⁻¹¹²⁶ over the finite ones, plus the
    (float) sum of the non-finite ones (inf, −inf, NaN propagate as in float addition)."""

    units: int = 0
    nonfinite: float = 0.0

    @classmethod
    def of(cls, values: ArrayLike) -> ExactSum:
        """The exact sum of ``values`` (any shape, converted to float64).

        Examples
        --------
        >>> ExactSum.of([0.1, 0.2, 0.3]).value, 0.1 + 0.2 + 0.3
        (0.6, 0.6000000000000001)
        >>> (ExactSum.of([1e100, 1.0]) + ExactSum.of([-1e100])).value
        1.0
        """
        x = np.asarray(values, dtype=np.float64).ravel()
        finite = np.isfinite(x)
        nonfinite = float(x[~finite].sum()) if not finite.all() else 0.0
        x = x[finite]
        if x.size == 0:
            return cls(0, nonfinite)
        mantissa, exponent = np.frexp(x)
        significand = np.ldexp(mantissa, _SIGNIFICAND_BITS).astype(np.int64)
        shift = exponent.astype(np.int64) - _SIGNIFICAND_BITS + _UNIT_EXPONENT
        # split significands into 27-bit halves so that int64 sums per shift cannot overflow
        high, low = significand >> _HALF, significand & ((1 << _HALF) - 1)
        shifts, group = np.unique(shift, return_inverse=True)
        high_sums = np.zeros(len(shifts), np.int64)
        low_sums = np.zeros(len(shifts), np.int64)
        np.add.at(high_sums, group, high)
        np.add.at(low_sums, group, low)
        units = 0
        for s, hi, lo in zip(shifts.tolist(), high_sums.tolist(), low_sums.tolist()):
            units += ((hi << _HALF) + lo) << s
        return cls(units, nonfinite)

    def __add__(self, other: ExactSum) -> ExactSum:
        return ExactSum(self.units + other.units, self.nonfinite + other.nonfinite)

    @property
    def value(self) -> float:
        """The sum rounded once to the nearest double (ties to even)."""
        return self.units / (1 << _UNIT_EXPONENT) + self.nonfinite
