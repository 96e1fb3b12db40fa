"""Quantized metric models: a continuous latent quality cut into K categories by thresholds.

p_k = F(t_k) − F(t_{k−1}), F(t_0) = 0, F(t_K) = 1, with F the latent cdf and
t_1 < … < t_{K−1} the thresholds. Defaults (Saupe et al. 2024): t_k = k + 0.5 on the rating
axis for normal and logistic; t_k = k/K on [0, 1] for beta, Kumaraswamy and logit-logistic,
whose latent x maps to the rating axis by u = 0.5 + K·x.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .. import scale
from .._kernels import batch, codes, moments
from .base import BoundsDict, Family, as_params, first_bad

#: Grid of the tables of solutions that start the mean/variance match: nodes per unit of ψ,
#: and τ = log((v − v_min)/(v_max − v)) from _TAU_LO in steps of _TAU_STEP (_TAU_NODES nodes).
_PER_UNIT = 16
_TAU_LO = -32.0
_TAU_STEP = 0.5
_TAU_NODES = 129
_MOMENT_TABLES: dict[tuple, tuple[NDArray[np.float64], NDArray[np.bool_]]] = {}


class QuantizedFamily(Family):
    """A quantized metric model; see the module docstring for the construction.

    Parameters
    ----------
    thresholds : optional increasing thresholds t_1 < … < t_{K−1} on the latent axis (the rating
        axis for normal and logistic, (0, 1) for the unit-interval families). By default the
        reference thresholds for whichever K a method is called with.
    """

    is_latent = True
    #: Kernel code of the family.
    code: int
    #: True when the latent variable lives on [0, 1] (mapped to the rating axis by 0.5 + K·x).
    unit_interval: bool
    #: Per-parameter transform to the solver coordinates θ: "id", "log" or "logit".
    transforms: tuple[str, str]

    def __init__(self, thresholds: ArrayLike | None = None):
        if thresholds is None:
            self._thresholds = None
            return
        t = np.asarray(thresholds, dtype=np.float64).ravel()
        if len(t) < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise ValueError(
                f"{self.name}: thresholds must be at least 2 finite, strictly increasing "
                f"values, got {thresholds!r}"
            )
        if self.unit_interval and (t[0] <= 0.0 or t[-1] >= 1.0):
            raise ValueError(f"{self.name}: thresholds must lie inside (0, 1), got {t.tolist()}")
        self._thresholds = t

    def __repr__(self) -> str:
        if self._thresholds is None:
            return f"rd.family({self.name!r})"
        return f"rd.family({self.name!r}, thresholds={self._thresholds.tolist()})"

    # -- thresholds and coordinates --------------------------------------------------------
    def thresholds(self, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """Thresholds t_1..t_{K−1} on the latent axis."""
        K = scale.check_K(K)
        if self._thresholds is not None:
            if len(self._thresholds) != K - 1:
                raise ValueError(
                    f"{self.name}: {len(self._thresholds)} thresholds define "
                    f"K = {len(self._thresholds) + 1} categories, but K = {K} was asked for"
                )
            return self._thresholds.copy()
        k = np.arange(1, K, dtype=np.float64)
        return k / K if self.unit_interval else k + 0.5

    def _aux(self, K: int) -> NDArray[np.float64]:
        """Thresholds in the form the kernel expects (see ``_kernels.quantized``)."""
        return self.thresholds(K)

    def solver_code(self, bounds: str = "natural") -> int:
        """Kernel code of the solver coordinates used under ``bounds``."""
        return self.code

    def _to_theta(
        self, p: NDArray[np.float64], K: int, bounds: str = "natural"
    ) -> NDArray[np.float64]:
        """Native parameters (n, 2) to the solver coordinates of :meth:`solver_code`."""
        theta = np.empty_like(p)
        for j, kind in enumerate(self.transforms):
            theta[:, j] = _forward(kind, p[:, j])
        return theta

    def _from_theta(
        self, theta: NDArray[np.float64], K: int, bounds: str = "natural"
    ) -> NDArray[np.float64]:
        """Solver coordinates of :meth:`solver_code` back to native parameters."""
        p = np.empty_like(theta)
        for j, kind in enumerate(self.transforms):
            p[:, j] = _inverse(kind, theta[:, j])
        return p

    def theta_bounds(self, mode: str = "natural", K: int = scale.DEFAULT_K):
        """Bounds (lo, hi) in solver coordinates, each an array of length 2."""
        lo, hi = np.empty(2), np.empty(2)
        for j, (kind, (a, b)) in enumerate(
            zip(self.transforms, self.bounds(mode, K).values(), strict=True)
        ):
            with np.errstate(divide="ignore"):
                lo[j], hi[j] = _forward(kind, np.array([a, b]))
        return lo, hi

    # -- probabilities ---------------------------------------------------------------------
    def check_params(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> tuple:
        """Validate native parameters: finite, inside the open natural domain."""
        p, single = as_params(params, self.name)
        for j, (pname, (lo, hi)) in enumerate(self.natural_bounds(K).items()):
            col = p[:, j]
            bad = ~np.isfinite(col) | (col <= lo) | (col >= hi)
            if bad.any():
                i = first_bad(bad)
                raise ValueError(
                    f"{self.name}: parameter {pname} of row {i} is {float(col[i])!r}, outside the "
                    f"open interval ({lo}, {hi}); a limit distribution (scale 0 or infinity, or "
                    "a shape beyond the float range) has no pmf at fixed parameters: use "
                    "pmf_from_moments or FitResult.probs"
                )
        return p, single

    def logpmf(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """log p_k = log(F(t_k) − F(t_{k−1})), computed in log space; shape (n, K)."""
        K = scale.check_K(K)
        p, single = self.check_params(params, K)
        out = batch.logpmf_theta(self.solver_code(), self._to_theta(p, K), self._aux(K), K)
        return out[0] if single else out

    # -- mean/variance parameterization ----------------------------------------------------
    def from_moments(
        self, mean: ArrayLike, var: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """Native parameters whose quantized pmf has the given mean and variance.

        Solved by Newton's method in the solver coordinates on two log-ratio residuals that
        stay well scaled up to the boundary (``_kernels.moments``), started from a table of
        solutions. On the boundary of the feasible region the result is the limit: scale 0
        (normal, logistic, logit-logistic; the location is then ψ for a point mass, else the
        threshold between ⌊ψ⌋ and ⌈ψ⌉, for logit-logistic on the logit scale) or a = b = ∞
        (beta, Kumaraswamy) at v = v_min; at v = v_max scale ∞ with the location ±∞ towards the
        heavier end (the centre if equal), or a = b = 0.

        Every interior point is matched, and its native parameters are finite except for
        Kumaraswamy members with almost all mass at 1 and K (ρ below about 1/700, where
        log a ≈ −1/ρ < −708): a underflows to 0.0 there, the limit value, for which
        :meth:`pmf` raises ``ValueError``; :meth:`pmf_from_moments` stays exact.

        Examples
        --------
        >>> import ratingdist as rd
        >>> fam = rd.family("normal")
        >>> m, v = fam.moments(fam.from_moments([3.2], [0.9]))
        >>> round(float(m[0]), 12), round(float(v[0]), 12)
        (3.2, 0.9)
        """
        K = scale.check_K(K)
        m, v = scale.check_moments(mean, var, K)
        m, v = m.ravel(), v.ravel()
        at_min, at_max = scale.on_boundary(m, v, K)
        inner = ~(at_min | at_max)
        if len(m) and inner.all():  # no masked copies
            return self._from_theta(self._theta_from_moments(m, v, K), K)
        out = np.empty((len(m), 2))
        out[at_min] = self._limit_least_spread(m[at_min], K)
        out[at_max] = self._limit_extremes(m[at_max], K)
        if inner.any():
            out[inner] = self._from_theta(self._theta_from_moments(m[inner], v[inner], K), K)
        return out

    def _moment_table(self, K: int) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Solutions on the (ψ, τ) grid that start the match (``_kernels.moments``), built once
        per family, thresholds and K (some tenths of a second) and kept in memory."""
        key = (self.solver_code(), self._aux(K).tobytes(), K)
        if key not in _MOMENT_TABLES:
            _MOMENT_TABLES[key] = moments.build_table(
                self.solver_code(), self._aux(K), K, _PER_UNIT, _TAU_LO, _TAU_STEP, _TAU_NODES
            )
        return _MOMENT_TABLES[key]

    def _solve_moments(
        self, m: NDArray[np.float64], v: NDArray[np.float64], K: int
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Solver coordinates (n, 2) of interior points (m, v) and the flags of the matched ones
        (Newton on log-ratio residuals, ``_kernels.moments``)."""
        table, ok = self._moment_table(K)
        return moments.solve(
            self.solver_code(), np.ascontiguousarray(m, dtype=np.float64),
            np.ascontiguousarray(v, dtype=np.float64), self._aux(K), K, table, ok, _PER_UNIT,
            _TAU_LO, _TAU_STEP,
        )

    def _theta_from_moments(self, m, v, K):
        """Solver coordinates (n, 2) of the interior points (m, v); RuntimeError if unmatched."""
        theta, ok = self._solve_moments(m, v, K)
        if not ok.all():
            i = first_bad(~ok)
            raise RuntimeError(
                f"{self.name}: could not match mean {float(m[i])!r} and variance {float(v[i])!r}"
            )
        return theta

    def _interior_pmf_from_moments(self, mean, var, K):
        """pmf in the solver coordinates, so members whose native parameters leave the float
        range (a Kumaraswamy a below 1e-308) keep their exact pmf."""
        theta = self._theta_from_moments(mean, var, K)
        return np.exp(batch.logpmf_theta(self.solver_code(), theta, self._aux(K), K))

    @abstractmethod
    def _limit_least_spread(self, mean: NDArray[np.float64], K: int) -> NDArray[np.float64]:
        """Limit parameters at v = v_min(ψ) (see :meth:`from_moments`)."""

    @abstractmethod
    def _limit_extremes(self, mean: NDArray[np.float64], K: int) -> NDArray[np.float64]:
        """Limit parameters at v = v_max(ψ) (see :meth:`from_moments`)."""

    # -- latent variable on the rating axis --------------------------------------------------
    def _to_latent(self, u: NDArray[np.float64], K: int) -> NDArray[np.float64]:
        return (u - 0.5) / K if self.unit_interval else u

    def _to_rating(self, x: NDArray[np.float64], K: int) -> NDArray[np.float64]:
        return 0.5 + K * x if self.unit_interval else x

    def _columns(self, params: ArrayLike, values: ArrayLike):
        p, single = self.check_params(params)
        values = np.asarray(values, dtype=np.float64)
        if single:
            return p[0, 0], p[0, 1], values
        shape = (len(p),) + (1,) * max(values.ndim - 1, 0)
        return p[:, 0].reshape(shape), p[:, 1].reshape(shape), values

    def latent_cdf(
        self, params: ArrayLike, u: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """cdf of the latent quality at rating-axis values u.

        u broadcasts against the stimuli along its first axis: a scalar gives (n,), an (n,)
        array one value per stimulus, an (n, m) array m values per stimulus.
        """
        a, b, u = self._columns(params, u)
        x = self._to_latent(u, K)
        if self.unit_interval:
            x = np.clip(x, 0.0, 1.0)
        return self._cdf(a, b, x)

    def latent_ppf(
        self, params: ArrayLike, q: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """Quantile function of the latent quality, on the rating axis (broadcast as cdf)."""
        a, b, q = self._columns(params, q)
        if np.any((q < 0) | (q > 1)):
            raise ValueError("quantile levels must lie in [0, 1]")
        return self._to_rating(self._ppf(a, b, q), K)

    def latent_pdf(
        self, params: ArrayLike, u: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """Density of the latent quality on the rating axis (broadcast as cdf)."""
        a, b, u = self._columns(params, u)
        x = self._to_latent(u, K)
        jac = 1.0 / K if self.unit_interval else 1.0
        if not self.unit_interval:
            return self._pdf(a, b, x)
        inside = (x > 0) & (x < 1)
        return np.where(inside, self._pdf(a, b, np.clip(x, 1e-300, 1 - 1e-16)) * jac, 0.0)


def _kumaraswamy_h(log_a: NDArray[np.float64], log_t: float) -> NDArray[np.float64]:
    """h(a, t) = log(−log(1 − t^a)) from log a, stable for t^a → 0 and t^a → 1 (also where a
    underflows: h = log(−L − y/2) with y = a·log t, L = log(−y), where |y| < 2e-9)."""
    log_neg_y = log_a + np.log(-log_t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = -np.exp(log_neg_y)
        log_one_minus = np.where(y > -np.log(2), np.log(-np.expm1(y)), np.log1p(-np.exp(y)))
        h = np.where(y < -40.0, y, np.log(-log_one_minus))
        return np.where(log_neg_y < -20.0, np.log(0.5 * np.exp(log_neg_y) - log_neg_y), h)


def _forward(kind: str, x: NDArray[np.float64]) -> NDArray[np.float64]:
    if kind == "log":
        return np.log(x)
    if kind == "logit":
        return special.logit(x)
    return np.asarray(x, dtype=np.float64)


#: log of the smallest normal float: a positive parameter below it would be subnormal, with a
#: truncated mantissa, and is returned as 0.0 (its limit) instead.
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))


def _positive(log_x: NDArray[np.float64]) -> NDArray[np.float64]:
    """exp(log x), flushed to 0.0 where x would be subnormal; inf beyond the float range."""
    with np.errstate(over="ignore"):
        return np.where(log_x < _LOG_TINY, 0.0, np.exp(log_x))


def _inverse(kind: str, t: NDArray[np.float64]) -> NDArray[np.float64]:
    if kind == "log":
        return _positive(t)
    if kind == "logit":
        return special.expit(t)
    return t


class _LocationScale(QuantizedFamily):
    """Location-scale latent on the rating axis: F(x) = F0((x − μ)/σ)."""

    unit_interval = False
    transforms = ("id", "log")

    def natural_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return {self.param_names[0]: (-np.inf, np.inf), self.param_names[1]: (0.0, np.inf)}

    def reference_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return {self.param_names[0]: (-19.0, 25.0), self.param_names[1]: (0.0, 100.0)}

    def check_params(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> tuple:
        p, single = as_params(params, self.name)
        bad = ~np.isfinite(p).all(axis=1) | (p[:, 1] <= 0)
        if bad.any():
            i = first_bad(bad)
            raise ValueError(
                f"{self.name}: parameters of row {i} are {p[i].tolist()}; the location must "
                f"be finite and the scale {self.param_names[1]} finite and > 0 (a limit "
                "distribution has no pmf at fixed parameters: use pmf_from_moments or "
                "FitResult.probs)"
            )
        return p, single

    def _limit_least_spread(self, mean, K):
        t = self.thresholds(K)
        lower = np.clip(np.floor(mean).astype(int), 1, K - 1)
        loc = np.where(mean == np.floor(mean), mean, t[lower - 1])
        return np.column_stack([loc, np.zeros_like(mean)])

    def _limit_extremes(self, mean, K):
        # scale → ∞ with the location running off towards the heavier end (centre if equal)
        loc = np.select([mean > (1 + K) / 2, mean < (1 + K) / 2], [np.inf, -np.inf], (1 + K) / 2)
        return np.column_stack([loc, np.full(len(mean), np.inf)])


class Normal(_LocationScale):
    """Quantized normal: latent N(μ, σ²) on the rating axis, thresholds k + 0.5."""

    name = "normal"
    code = codes.NORMAL
    param_names = ("mu", "sigma")

    @staticmethod
    def _cdf(mu, sigma, x):
        return special.ndtr((x - mu) / sigma)

    @staticmethod
    def _ppf(mu, sigma, q):
        return mu + sigma * special.ndtri(q)

    @staticmethod
    def _pdf(mu, sigma, x):
        z = (x - mu) / sigma
        return np.exp(-0.5 * z * z) / (sigma * np.sqrt(2.0 * np.pi))


class Logistic(_LocationScale):
    """Quantized logistic: F(x) = 1/(1 + exp(−(x − μ)/s)) on the rating axis."""

    name = "logistic"
    code = codes.LOGISTIC
    param_names = ("mu", "s")

    @staticmethod
    def _cdf(mu, s, x):
        return special.expit((x - mu) / s)

    @staticmethod
    def _ppf(mu, s, q):
        return mu + s * special.logit(q)

    @staticmethod
    def _pdf(mu, s, x):
        f = special.expit((x - mu) / s)
        return f * (1.0 - f) / s


class _UnitShape(QuantizedFamily):
    """Two shape parameters a, b > 0 of a latent variable on [0, 1]."""

    unit_interval = True
    transforms = ("log", "log")
    param_names = ("a", "b")

    def natural_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return {"a": (0.0, np.inf), "b": (0.0, np.inf)}

    def reference_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return {"a": (0.0, 20.0), "b": (0.0, 20.0)}

    def _limit_least_spread(self, mean, K):
        return np.full((len(mean), 2), np.inf)

    def _limit_extremes(self, mean, K):
        return np.zeros((len(mean), 2))


class Beta(_UnitShape):
    """Quantized beta: latent Beta(a, b) on [0, 1], F = I_x(a, b), thresholds k/K."""

    name = "beta"
    code = codes.BETA

    @staticmethod
    def _cdf(a, b, x):
        return special.betainc(a, b, x)

    @staticmethod
    def _ppf(a, b, q):
        return special.betaincinv(a, b, q)

    @staticmethod
    def _pdf(a, b, x):
        return np.exp(
            (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b)
        )


class Kumaraswamy(_UnitShape):
    """Quantized Kumaraswamy: F(x) = 1 − (1 − x^a)^b on [0, 1], thresholds k/K.

    The unbounded solvers work in centred coordinates (log a, log b + h(a, t_ref)) with
    h(a, t) = log(−log(1 − t^a)) and t_ref the middle threshold; the reference box is solved in
    (log a, log b).
    """

    name = "kumaraswamy"
    code = codes.KUMARASWAMY

    def solver_code(self, bounds: str = "natural") -> int:
        return codes.KUMARASWAMY_CENTRED if bounds == "natural" else codes.KUMARASWAMY

    def _aux(self, K):
        log_t = np.log(self.thresholds(K))
        return np.append(log_t, log_t[(K - 1) // 2])

    def _to_theta(self, p, K, bounds="natural"):
        theta = np.log(p)
        if bounds == "natural":
            theta[:, 1] += _kumaraswamy_h(theta[:, 0], self._aux(K)[-1])
        return theta

    def _from_theta(self, theta, K, bounds="natural"):
        log_b = theta[:, 1].copy()
        if bounds == "natural":
            log_b -= _kumaraswamy_h(theta[:, 0], self._aux(K)[-1])
        # b beyond the float range (log b > 709, extremely concentrated members) becomes inf;
        # a below the smallest normal float (log a < −708.4, almost all mass at 1 and K) 0.0
        return np.column_stack([_positive(theta[:, 0]), _positive(log_b)])

    @staticmethod
    def _cdf(a, b, x):
        return -np.expm1(b * np.log1p(-(x**a)))

    @staticmethod
    def _ppf(a, b, q):
        return (-np.expm1(np.log1p(-q) / b)) ** (1.0 / a)

    @staticmethod
    def _pdf(a, b, x):
        return a * b * x ** (a - 1) * (1 - x**a) ** (b - 1)


class LogitLogistic(QuantizedFamily):
    """Quantized logit-logistic: logit X ~ Logistic(logit μ, s), so μ is the median of X.

    F(x) = 1/(1 + (μ(1 − x)/(x(1 − μ)))^{1/s}) = expit((logit x − logit μ)/s) on [0, 1],
    thresholds k/K. The native parameters are (logit_mu, s) with logit_mu = log(μ/(1 − μ)) ∈ ℝ:
    every member is representable in float64 (the median μ itself rounds to 0 or 1 for
    |logit μ| > 37, wide members near the ends of the scale). The reference study's (μ, s) are
    a view: :meth:`reference_params` and :meth:`from_reference_params`.

    Examples
    --------
    >>> import ratingdist as rd
    >>> fam = rd.family("logit-logistic")
    >>> fam.from_reference_params([[0.5, 0.3]]).tolist()
    [[0.0, 0.3]]
    >>> fam.reference_params([[0.0, 0.3]]).tolist()
    [[0.5, 0.3]]
    """

    name = "logit-logistic"
    code = codes.LOGIT_LOGISTIC
    unit_interval = True
    transforms = ("id", "log")
    param_names = ("logit_mu", "s")
    reference_param_names = ("mu", "s")

    def natural_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return {"logit_mu": (-np.inf, np.inf), "s": (0.0, np.inf)}

    def reference_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        # the reference box μ ∈ (0, 1), s ≤ 20 in native coordinates
        return {"logit_mu": (-np.inf, np.inf), "s": (0.0, 20.0)}

    def reference_params(self, params: ArrayLike) -> NDArray[np.float64]:
        """(μ, s) of the reference study from native (logit_mu, s): μ = expit(logit_mu).

        Shape (n, 2) (or (2,)); μ rounds to 0.0 or 1.0 where |logit_mu| > 37 (limits pass
        through: ±∞ → 1 or 0).
        """
        p = np.array(params, dtype=np.float64)
        p[..., 0] = special.expit(p[..., 0])
        return p

    def from_reference_params(self, ref: ArrayLike) -> NDArray[np.float64]:
        """Native (logit_mu, s) from the reference study's (μ, s): logit_mu = log(μ/(1 − μ)).

        μ must lie in [0, 1] (0 and 1 give ∓∞, the limits); raises ``ValueError`` otherwise.
        """
        p = np.array(ref, dtype=np.float64)
        mu = p[..., 0]
        bad = ~((mu >= 0.0) & (mu <= 1.0))
        if np.any(bad):
            i = first_bad(np.atleast_1d(bad).ravel())
            raise ValueError(
                f"{self.name}: reference parameter mu at index {i} is "
                f"{float(np.atleast_1d(mu).ravel()[i])!r}, outside [0, 1]"
            )
        with np.errstate(divide="ignore"):
            p[..., 0] = special.logit(mu)
        return p

    def _aux(self, K):
        return special.logit(self.thresholds(K))

    def _limit_least_spread(self, mean, K):
        t = self.thresholds(K)
        lower = np.clip(np.floor(mean).astype(int), 1, K - 1)
        med = np.where(mean == np.floor(mean), (mean - 0.5) / K, t[lower - 1])
        return np.column_stack([special.logit(med), np.zeros_like(mean)])

    def _limit_extremes(self, mean, K):
        # s → ∞ with the median running off towards the heavier end (logit μ = ±∞; 0 if equal)
        loc = np.select([mean > (1 + K) / 2, mean < (1 + K) / 2], [np.inf, -np.inf], 0.0)
        return np.column_stack([loc, np.full(len(mean), np.inf)])

    @staticmethod
    def _cdf(logit_mu, s, x):
        with np.errstate(divide="ignore"):
            return special.expit((special.logit(x) - logit_mu) / s)

    @staticmethod
    def _ppf(logit_mu, s, q):
        with np.errstate(divide="ignore"):
            return special.expit(logit_mu + s * special.logit(q))

    @staticmethod
    def _pdf(logit_mu, s, x):
        f = special.expit((special.logit(x) - logit_mu) / s)
        return f * (1.0 - f) / (s * x * (1.0 - x))


def unit_cdf(family: str, th0: NDArray, th1: NDArray, tau: NDArray, log_tref: float) -> NDArray:
    """F(τ) of the beta (θ = (log a, log b)) or Kumaraswamy latent (centred θ: F = 1 − exp(−e^u),
    u = θ_1 + h(a, τ) − h(a, t_ref))."""
    if family == "beta":
        return special.betainc(np.exp(th0), np.exp(th1), tau)
    u = th1 + _kumaraswamy_h(th0, np.log(tau)) - _kumaraswamy_h(th0, log_tref)
    return -np.expm1(-np.exp(u))
