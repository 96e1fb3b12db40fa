"""Maximum-likelihood fits of every family to every stimulus at once.

``fit(counts, family)`` maximizes, for each stimulus independently, the multinomial likelihood
Σ_k c_k log p_k(θ) of its rating counts. Strategies per kind of family:

- maximum entropy: the MLE matches the sample mean and variance (exponential family), closed
  form;
- GSD: projected trust-region Newton on each smooth piece of its likelihood (the beta-binomial
  piece and the mixture pieces ψ ∈ [j, j + 1] near the sample mean, a piece stopped on its edge
  again from its middle), best piece kept;
- quantized metric models: projected trust-region Newton from the moment-matched member of
  the family. For normal, logistic and logit-logistic the log-likelihood is concave in
  (−μ/σ, 1/σ) (Pratt 1981), so the stationary point found is the global maximum.

Stimuli whose ratings fall in one category, in two adjacent categories, or in the extremes 1 and
K only have the empirical pmf in the closure of every family: the supremum of the likelihood is
reached in a limit (scale → 0 or ∞). Such fits are returned as that limit, with
``converged=True`` and ``limit=True``, instead of an iteration crawling towards it. Under the
reference study's box the same holds where the limit lies in the closure of the box (e.g.
σ → 0); the other degenerate rows (e.g. a beta fit to one interior category, which would need
a, b → ∞) have a finite optimum on the box's boundary, which the solver finds.

The solver (``_kernels.solver.minimize_nll``) works on proportions with the total as a weight,
so any count up to the float range can be fitted and a table times any factor gives the same
parameters; NLL and G come from the log-probabilities (finite also where a probability
underflows). It is started from the moment-matched member
of the data and of two smoothed copies of the data (see :func:`_smoothed_starts`).

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
Pratt, "Concavity of the log likelihood", JASA 76 (1981) 103–106.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from . import _likelihood as gof
from . import scale
from ._kernels import batch, cache
from ._unique import unique_rows
from .csvtext import read_csv_as_written
from .data import RatingCounts
from .families import FAMILIES, Family, QuantizedFamily, family
from .families.gsd import GSD
from .families.maxent import MaxEnt

#: Iteration cap of the per-stimulus solver.
MAX_ITERATIONS = 500
_BOUNDS_MODES = ("natural", "reference")


def as_counts(counts: RatingCounts | ArrayLike) -> RatingCounts:
    """Accept RatingCounts or an (n, K) array of counts (ids become 0..n−1)."""
    if isinstance(counts, RatingCounts):
        return counts
    arr = np.asarray(counts)
    if arr.ndim == 1:
        arr = arr[None, :]
    return RatingCounts(np.arange(len(arr)), arr)


def degenerate_support(counts: NDArray) -> NDArray[np.bool_]:
    """Rows whose ratings lie in one category, two adjacent ones, or only in 1 and K.

    For these the empirical pmf is a limit of every family, so it is the maximum-likelihood fit.
    """
    nonzero = counts > 0
    extremes = nonzero[:, 0] & nonzero[:, -1] & (nonzero.sum(axis=1) == 2)
    return gof.least_spread_support(counts) | extremes


class FitResult:
    """Per-stimulus maximum-likelihood fits of one family, with goodness of fit.

    Attributes
    ----------
    family : the fitted :class:`~ratingdist.families.base.Family`.
    counts : the :class:`~ratingdist.data.RatingCounts` that were fitted.
    params : (n, 2) native parameters (limit values, e.g. scale 0, where ``limit``).
    probs : (n, K) fitted probabilities.
    nll : (n,) −Σ_k c_k log p_k (multinomial coefficient dropped).
    g : (n,) G = 2 Σ_k c_k log(c_k/(N p_k)).
    p_value : (n,) asymptotic χ² p-value of G with K − 3 degrees of freedom.
    iterations, converged, limit, at_bound : (n,) solver diagnostics; ``limit`` marks fits that
        are the limit of the family (see the module docstring); ``at_bound`` a parameter on a
        bound of the ``"reference"`` box.
    bounds : ``"natural"`` or ``"reference"``.
    pseudo_counts, prob_floor : the regularization used (0 for the plain MLE).
    logp : optional (n, K) log-probabilities of the fit before ``prob_floor``; NLL and G are
        computed from them (finite also where a fitted probability underflows to 0), else
        from ``probs``.
    nll, g : optional (n,) NLL and G of the counts under the fit, where the caller has them
        (:func:`fit` computes them once per distinct row of counts, as
        :func:`_nll_and_g` does); both or neither.
    """

    def __init__(
        self,
        family: Family,
        counts: RatingCounts,
        params: NDArray,
        probs: NDArray,
        iterations: NDArray,
        converged: NDArray,
        limit: NDArray,
        at_bound: NDArray,
        bounds: str = "natural",
        pseudo_counts: float = 0.0,
        prob_floor: float = 0.0,
        logp: NDArray | None = None,
        nll: NDArray | None = None,
        g: NDArray | None = None,
    ):
        self.family = family
        self.counts = counts
        self.params = np.asarray(params, dtype=np.float64)
        self.probs = np.asarray(probs, dtype=np.float64)
        self.iterations = np.asarray(iterations, dtype=np.int64)
        self.converged = np.asarray(converged, dtype=bool)
        self.limit = np.asarray(limit, dtype=bool)
        self.at_bound = np.asarray(at_bound, dtype=bool)
        self.bounds = bounds
        self.pseudo_counts = float(pseudo_counts)
        self.prob_floor = float(prob_floor)
        if nll is None or g is None:
            if logp is None:  # the probabilities hold the floor already
                logp = np.log(np.where(self.probs > 0, self.probs, 1.0))
                logp[self.probs <= 0] = -np.inf
                nll, g = _nll_and_g(counts.counts, logp, 0.0)
            else:
                nll, g = _nll_and_g(counts.counts, logp, self.prob_floor)
        self.nll = np.asarray(nll, dtype=np.float64)
        self.g = np.asarray(g, dtype=np.float64)
        self.p_value = gof.g_test_pvalue(self.g, df=counts.K - 3)

    def __len__(self) -> int:
        return len(self.counts)

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"FitResult({self.family.name}, n={int(s['n'])}, aic={s['aic']:.1f}, "
            f"mean_g={s['mean_g']:.3f}, bounds={self.bounds!r})"
        )

    @property
    def K(self) -> int:
        return self.counts.K

    @property
    def mean(self) -> NDArray[np.float64]:
        """Mean rating of each fitted pmf."""
        return scale.moments_of_probs(self.probs)[0]

    @property
    def var(self) -> NDArray[np.float64]:
        """Variance of each fitted pmf."""
        return scale.moments_of_probs(self.probs)[1]

    @property
    def table(self) -> pd.DataFrame:
        """Per-stimulus DataFrame, free of NaN and infinities.

        Columns: id, family, bounds, c1..cK, the two native parameters, the reference study's
        parameters where they differ (logit-logistic: native logit_mu, s and the view
        mu = expit(logit_mu), see ``Family.reference_params``), mean, var, rho (of the fitted
        pmf; for maxent and GSD the native ρ itself), p1..pK, nll, g, p_value (only for
        K >= 4: with K = 3 a two-parameter family leaves no degrees of freedom, and the column
        is left out rather than filled with NaN), iterations, converged, limit, at_bound,
        pseudo_counts, prob_floor.

        Rows with ``limit`` True are limits of the family (see the module docstring). Their
        native parameters are the limit values; an infinite one (a scale of ∞ for ratings only
        at 1 and K, beta and Kumaraswamy a = b = ∞ for ratings in one interior category) is
        written as ±:data:`INFINITE_PARAMETER` (±1e308), which :meth:`from_table` reads back
        as ±∞. So ``table.dropna()`` keeps every row and
        ``table[~table["limit"]]`` selects the proper fits. :meth:`to_csv` and
        :meth:`read_csv` round-trip the table exactly.
        """
        K = self.K
        mean, var = scale.moments_of_probs(self.probs)
        cols: dict[str, object] = {"id": self.counts.ids, "family": self.family.name}
        cols["bounds"] = self.bounds
        for k in range(K):
            cols[f"c{k + 1}"] = self.counts.counts[:, k]
        params = np.where(np.isinf(self.params), np.sign(self.params) * INFINITE_PARAMETER,
                          self.params)
        for j, name in enumerate(self.family.param_names):
            cols[name] = params[:, j]
        if self.family.reference_param_names is not None:
            ref = self.family.reference_params(self.params)
            for j, name in enumerate(self.family.reference_param_names):
                if name not in cols:
                    cols[name] = ref[:, j]
        cols.update(mean=mean, var=var)
        if "rho" not in cols:  # maxent and GSD: ρ is a native parameter, kept exactly
            cols["rho"] = scale.rho_from_var(mean, var, K)
        for k in range(K):
            cols[f"p{k + 1}"] = self.probs[:, k]
        cols.update(nll=self.nll, g=self.g)
        if K > 3:
            cols["p_value"] = self.p_value
        cols.update(
            iterations=self.iterations,
            converged=self.converged,
            limit=self.limit,
            at_bound=self.at_bound,
            pseudo_counts=self.pseudo_counts,
            prob_floor=self.prob_floor,
        )
        return pd.DataFrame(cols)

    @property
    def summary(self) -> pd.Series:
        """Dataset-level figures with the reference study's definitions.

        n (stimuli), aic = 2·(2n) + 2 Σ NLL, bic = (2n)·ln n + 2 Σ NLL, mean_g, mean_nll,
        mean_likelihood = mean of exp(−NLL_i/N_i) (the geometric-mean likelihood per rating),
        share_p_below_0.05, n_limit, n_not_converged.

        Sums over stimuli are exact and rounded once (``math.fsum``; counts are integers), so
        they do not depend on the order of the stimuli: a sum split over parts and combined
        exactly (as :mod:`ratingdist.dask` does) gives the same figures bit for bit.
        """
        n = len(self)
        total = math.fsum(self.nll)
        return pd.Series(
            {
                "family": self.family.name,
                "n": n,
                "aic": gof.aic(total, n),
                "bic": gof.bic(total, n),
                "mean_g": math.fsum(self.g) / n,
                "mean_nll": total / n,
                "mean_likelihood": math.fsum(np.exp(-self.nll / self.counts.n_ratings)) / n,
                "share_p_below_0.05": int(np.count_nonzero(self.p_value < 0.05)) / n,
                "n_limit": int(self.limit.sum()),
                "n_not_converged": int((~self.converged).sum()),
            },
            name=self.family.name,
        )

    # -- persistence -----------------------------------------------------------------------
    def to_csv(self, path: str | Path) -> None:
        """Write :attr:`table` to CSV; :meth:`read_csv` reads it back exactly.

        Floats are written as Python's ``repr`` (the shortest text that reads back as the same
        double), ids as their text.
        """
        self.table.to_csv(path, index=False)

    def to_parquet(self, path: str | Path) -> None:
        """Write :attr:`table` to Parquet (needs pyarrow); see :meth:`read_parquet`."""
        self.table.to_parquet(path, index=False)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> FitResult:
        """Rebuild a FitResult from its :attr:`table` (bit for bit: parameters, probabilities
        and flags as in the table, ±:data:`INFINITE_PARAMETER` as ±∞).

        NLL and G are read from their columns where the table has them (as the fit computed
        them from its log-probabilities), else recomputed from the counts and probabilities;
        p-values are recomputed from G. Flag columns may
        hold booleans or the text ``True``/``False``; float columns numbers or their text.
        A table that has only the reference study's parameter columns (a logit-logistic table
        with mu but no logit_mu) is converted with ``Family.from_reference_params``.

        Raises
        ------
        ValueError
            If a column is missing, a flag is neither True nor False, or the table mixes
            families, bounds or regularizations (naming the row, the column and the value).
        """
        if len(table) == 0:
            raise ValueError("no stimuli: the fit table has no rows")
        fam = family(str(_single(table, "family")))
        K = sum(1 for col in table.columns if re.fullmatch(r"p[1-9]\d*", str(col)))
        param_cols = list(fam.param_names)
        reference = fam.reference_param_names
        from_reference = (not set(param_cols) <= set(table.columns) and reference is not None
                          and set(reference) <= set(table.columns))
        if from_reference:
            param_cols = list(reference)
        names = [*param_cols, *(f"p{k}" for k in range(1, K + 1))]
        missing = [c for c in ("id", "iterations", "converged", "limit", "at_bound", *names)
                   if c not in table.columns]
        if missing:
            raise ValueError(f"fit table has no column {missing[0]!r}; the columns are "
                             f"{list(table.columns)}")
        counts = RatingCounts(table["id"], table[[f"c{k}" for k in range(1, K + 1)]])
        params = table[param_cols].to_numpy(dtype=float, copy=True)
        params[np.abs(params) == INFINITE_PARAMETER] *= np.inf
        if from_reference:
            params = fam.from_reference_params(params)
        result = cls(
            fam,
            counts,
            params,
            table[[f"p{k}" for k in range(1, K + 1)]].to_numpy(dtype=float),
            table["iterations"].to_numpy(dtype=np.int64),
            _flags(table, "converged"),
            _flags(table, "limit"),
            _flags(table, "at_bound"),
            bounds=str(_single(table, "bounds")),
            pseudo_counts=float(_single(table, "pseudo_counts")),
            prob_floor=float(_single(table, "prob_floor")),
        )
        # NLL and G as the fit computed them, from its log-probabilities (a probability that
        # underflowed to 0 in p1..pK still has its finite NLL there)
        if {"nll", "g"} <= set(table.columns):
            result.nll = table["nll"].to_numpy(dtype=float, copy=True)
            result.g = table["g"].to_numpy(dtype=float, copy=True)
            result.p_value = gof.g_test_pvalue(result.g, df=K - 3)
        return result

    @classmethod
    def read_csv(cls, path: str | Path) -> FitResult:
        """Read a FitResult written by :meth:`to_csv`: the file is read as written
        (:func:`ratingdist.csvtext.read_csv_as_written`), so ids such as ``007`` stay strings.

        A column of ids that are all spelled as whole numbers (``7``, ``1000.0``) is read as
        integer ids, as :meth:`RatingCounts.from_table` does.
        """
        return cls.from_table(read_csv_as_written(path))

    @classmethod
    def read_parquet(cls, path: str | Path) -> FitResult:
        """Read a FitResult written by :meth:`to_parquet`."""
        return cls.from_table(pd.read_parquet(path))


def _nll_and_g(counts: NDArray, logp: NDArray, prob_floor: float) -> tuple[NDArray, NDArray]:
    """NLL and G (n,) of counts (n, K) under log-probabilities ``logp`` of a fit before its
    ``prob_floor`` ε, applied here in log space: log((1 − Kε)·p + ε)."""
    if prob_floor > 0:
        logp = np.logaddexp(np.log1p(-counts.shape[1] * prob_floor) + logp, np.log(prob_floor))
    return gof.nll_from_logp(counts, logp), gof.g_from_logp(counts, logp)


#: Stands for an infinite native parameter in :attr:`FitResult.table`: finite, so the table has
#: no infinities, and short, so that every table format keeps it exactly (Excel keeps 15 digits,
#: which would round the largest double up to infinity).
INFINITE_PARAMETER = 1e308


def _flags(table: pd.DataFrame, column: str) -> NDArray[np.bool_]:
    """A flag column as booleans: bools, or the text True/False as a CSV file holds it."""
    values = table[column].to_numpy()
    if values.dtype.kind == "b":
        return values.astype(bool)
    flags = np.empty(len(values), dtype=bool)
    for i, value in enumerate(values):
        if isinstance(value, bool | np.bool_):
            flags[i] = bool(value)
        elif value in ("True", "False"):
            flags[i] = value == "True"
        else:
            raise ValueError(
                f"row {i}, column {column!r}: value {value!r} is neither True nor False"
            )
    return flags


def _single(table: pd.DataFrame, column: str) -> object:
    """The one value of a column that is the same on every row of a fit table."""
    if column not in table.columns:
        raise ValueError(f"fit table has no column {column!r}; the columns are "
                         f"{list(table.columns)}")
    values = table[column].to_numpy()
    other = np.flatnonzero(values != values[0])
    if other.size:
        i = int(other[0])
        raise ValueError(
            f"row {i}, column {column!r}: value {values[i]!r} differs from {values[0]!r} in "
            "row 0; a fit table holds one family, bounds and regularization"
        )
    return values[0]


def fit(
    counts: RatingCounts | ArrayLike,
    family_name: str | Family,
    *,
    bounds: str = "natural",
    pseudo_counts: float = 0.0,
    prob_floor: float = 0.0,
) -> FitResult:
    """Fit one family to every stimulus by maximum likelihood.

    Parameters
    ----------
    counts : RatingCounts, or an (n, K) array of rating counts.
    family_name : a name from ``rd.FAMILIES`` or a family object.
    bounds : ``"natural"`` (default) for the unbounded MLE, or ``"reference"`` for the box
        constraints of the reference study's code (normal/logistic μ ∈ [−19, 25], scale ≤ 100;
        beta and Kumaraswamy a, b ≤ 20; logit-logistic s ≤ 20; GSD ψ ∈ [1, K], ρ ∈ [0, 1]).
    pseudo_counts : regularization for small panels: α added to every category's count before
        fitting (a symmetric Dirichlet-type prior; 0 = plain MLE). NLL, G and p-values are still
        those of the observed counts.
    prob_floor : ε ≥ 0; the fitted pmf is replaced by (1 − Kε)·p + ε so that no category has
        probability below ε (keeps held-out log-likelihoods finite).

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import ratingdist as rd
    >>> res = rd.fit([[0, 0, 25, 73, 7], [5, 13, 6, 0, 0]], "normal")
    >>> res.params.round(3).tolist()
    [[3.824, 0.446], [2.033, 0.628]]
    """
    fam = family(family_name)
    rc = as_counts(counts)
    if bounds not in _BOUNDS_MODES:
        raise ValueError(f"bounds must be one of {_BOUNDS_MODES}, got {bounds!r}")
    K = rc.K
    if not np.isfinite(pseudo_counts) or pseudo_counts < 0:
        raise ValueError(f"pseudo_counts must be >= 0, got {pseudo_counts!r}")
    if not np.isfinite(prob_floor) or prob_floor < 0 or prob_floor * K >= 1:
        raise ValueError(f"prob_floor must be in [0, 1/K), got {prob_floor!r}")
    c = rc.counts.astype(np.float64) + pseudo_counts
    if isinstance(fam, MaxEnt):
        strategy = _fit_maxent
    elif isinstance(fam, GSD):
        strategy = _fit_gsd
    elif isinstance(fam, QuantizedFamily):
        strategy = partial(_fit_quantized, bounds=bounds)
    else:
        raise TypeError(f"cannot fit family {fam!r}")
    # every row is fitted on its own: identical rows are fitted once and the results scattered
    first, inverse = unique_rows(c)
    params, probs, logp, iterations, converged, limit, at_bound = strategy(fam, c[first], K)
    if pseudo_counts == 0:  # rows equal in c are equal in the observed counts: NLL and G once
        nll, g = (part[inverse] for part in _nll_and_g(c[first], logp, prob_floor))
        logp = None
    else:
        nll = g = None
        logp = logp[inverse]
    params, probs, iterations, converged, limit, at_bound = (
        part[inverse] for part in (params, probs, iterations, converged, limit, at_bound)
    )
    if prob_floor > 0:
        probs = (1.0 - K * prob_floor) * probs + prob_floor
    return FitResult(
        fam, rc, params, probs, iterations, converged, limit, at_bound,
        bounds=bounds, pseudo_counts=pseudo_counts, prob_floor=prob_floor, logp=logp, nll=nll,
        g=g,
    )


def fit_all(
    counts: RatingCounts | ArrayLike,
    families: Iterable[str | Family] | None = None,
    *,
    progress: bool | None = False,
    **options,
) -> dict[str, FitResult]:
    """Fit several families (all of ``rd.FAMILIES`` by default); options as for :func:`fit`.

    progress : a progress bar over the families on stderr (``tqdm.auto``: a widget in a
        notebook): False (default) prints nothing, True shows it, None shows it only where
        stderr is a terminal (the ``ratingdist`` command's default). The first fit of each
        kind of family in a fresh environment compiles its kernels (seconds), later ones are
        fast.

    Examples
    --------
    >>> import ratingdist as rd
    >>> sorted(rd.fit_all([[0, 0, 25, 73, 7]], ["normal", "gsd"]))
    ['gsd', 'normal']
    """
    names = FAMILIES if families is None else tuple(families)
    rc = as_counts(counts)
    out = {}
    bar = None
    if progress is not False:
        from tqdm.auto import tqdm

        names = bar = tqdm(names, desc="fitting", unit="family", file=sys.stderr, leave=False,
                           disable=None if progress is None else not progress)
    for name in names:
        if bar is not None:
            bar.set_postfix_str(getattr(name, "name", str(name)))
        res = fit(rc, name, **options)
        out[res.family.name] = res
    return out


def compare(results: dict[str, FitResult] | Iterable[FitResult]) -> pd.DataFrame:
    """One row per family, best (lowest AIC) first, with ΔAIC to the best.

    Columns: family, n, aic, delta_aic, bic, mean_g, mean_nll, mean_likelihood,
    share_p_below_0.05, n_limit, n_not_converged.
    """
    items = results.values() if isinstance(results, dict) else results
    table = pd.DataFrame([r.summary for r in items]).reset_index(drop=True)
    table = table.sort_values("aic", kind="stable").reset_index(drop=True)
    table.insert(3, "delta_aic", table["aic"] - table["aic"].iloc[0])
    return table


def kernel_kind(name: str) -> str:
    """The set of compiled kernels that fitting family ``name`` runs: "quantized" (the five
    quantized families share them), "maxent" or "gsd"."""
    fam = family(name)
    return "maxent" if isinstance(fam, MaxEnt) else "gsd" if isinstance(fam, GSD) else "quantized"


def compile_group(name: str) -> str:
    """The kernels that one compilation for family ``name`` yields: "solver" for the quantized
    families and the GSD, whose kernels share the per-stimulus solver and the log-pmfs below it
    (once a process has compiled one kind's, the other's take a small part of the time: the
    driver alone), else its :func:`kernel_kind` ("maxent")."""
    kind = kernel_kind(name)
    return "solver" if kind in ("quantized", "gsd") else kind


def kernels_compiled(families: Iterable[str] | None = None) -> bool:
    """Whether Numba's on-disk cache holds the compiled kernels that fitting ``families`` (all
    by default) runs, so that a first :func:`fit` in this process loads them instead of
    compiling them (10–30 s for all families on 2 cores, by the machine).

    Reads only the cache's index files (``ratingdist._kernels.cache``).

    Examples
    --------
    >>> from ratingdist.fitting import kernels_compiled
    >>> isinstance(kernels_compiled(["normal", "gsd"]), bool)
    True
    """
    kinds = {kernel_kind(name) for name in (FAMILIES if families is None else families)}
    return cache.on_disk(k for kind in sorted(kinds) for k in batch.FIT_KERNELS[kind])


# -- per-kind strategies -------------------------------------------------------------------
def _empirical(c: NDArray) -> NDArray:
    return c / c.sum(axis=1, keepdims=True)




def _fit_maxent(fam: MaxEnt, c: NDArray, K: int):
    n = len(c)
    limit = degenerate_support(c)
    params = np.empty((n, 2))
    probs = np.empty((n, K))
    logp = np.empty((n, K))
    converged = np.ones(n, bool)
    todo = ~limit
    if todo.any():
        params[todo], lp, converged[todo] = batch.fit_maxent(c[todo], K)
        p = np.exp(lp)
        total = p.sum(axis=1, keepdims=True)
        probs[todo] = p / total
        logp[todo] = lp - np.log(total)
    # the limit pmf itself (the solver would leave probabilities of order 1e-15 at its zeros)
    params[limit] = batch.sample_mean_shape(c[limit], K)
    probs[limit] = _empirical(c[limit])
    logp[limit] = gof.log_proportions(c[limit])
    return params, probs, logp, np.zeros(n, int), converged, limit, np.zeros(n, bool)


def _fit_gsd(fam: GSD, c: NDArray, K: int):
    degenerate = degenerate_support(c)
    n = len(c)
    params = np.empty((n, 2))
    logp = np.empty((n, K))
    iterations = np.zeros(n, np.int64)
    converged = np.ones(n, bool)
    # degenerate rows: the moment estimate attains the empirical pmf (a boundary, not a limit);
    # it is returned exactly (the closed form leaves rounding-level mass in empty categories),
    # so only the other rows are solved
    todo = ~degenerate
    if todo.any():
        params[todo], logp[todo], _, iterations[todo], converged[todo] = batch.fit_gsd(
            c[todo], K, MAX_ITERATIONS
        )
        params[todo] = np.clip(params[todo], [1.0, 0.0], [K, 1.0])
    params[degenerate] = batch.sample_mean_shape(c[degenerate], K)
    logp[degenerate] = gof.log_proportions(c[degenerate])
    probs = np.exp(logp)
    probs[degenerate] = _empirical(c[degenerate])
    return params, probs, logp, iterations, converged, np.zeros(n, bool), np.zeros(n, bool)


#: Weights λ of the uniform pmf mixed into the proportions for the extra solver starts.
_SMOOTHING = (0.1, 0.01)


def _smoothed_starts(c: NDArray) -> list[NDArray]:
    """Proportions mixed with the uniform pmf, (1 − λ)·c/N + λ/K for each λ in _SMOOTHING.

    Their moment-matched members are spread wider than the data's (a panel concentrated on one
    category with a stray rating has its optimum far from its own moment match, e.g. at a large
    scale and a far location), which gives the solver a second and third basin to start from.
    """
    q = _empirical(c)
    K = c.shape[1]
    return [(1.0 - lam) * q + lam / K for lam in _SMOOTHING]


def _start(fam: QuantizedFamily, mean: NDArray, var: NDArray, K: int, bounds: str) -> NDArray:
    """Solver coordinates of the continuous-latent moment start for (mean, var), (n, 2)."""
    lo_v, hi_v = scale.v_min(mean), scale.v_max(mean, K)
    # a start strictly inside the feasible region (degenerate rows in reference mode)
    var = np.clip(var, lo_v + 0.02 * (hi_v - lo_v), hi_v - 0.02 * (hi_v - lo_v))
    theta0 = batch.moment_starts(fam.solver_code(), mean, var, fam._aux(K), K)
    with np.errstate(over="ignore", divide="ignore"):
        theta = fam._to_theta(fam._from_theta(theta0, K), K, bounds)
    return np.where(np.isfinite(theta), theta, theta0)


def _reference_limits(fam: QuantizedFamily, c: NDArray, K: int) -> tuple[NDArray, NDArray]:
    """Degenerate rows whose limit (the empirical pmf) lies in the closure of the reference box,
    and the limit parameters there.

    - location-scale (normal, logistic; μ in [lo, hi], scale ≤ s_max): scale → 0 reaches one
      category k where (t_{k−1}, t_k) meets [lo, hi] (location ψ, moved into the box) and two
      adjacent ones where their threshold lies in [lo, hi]; the extremes 1 and K need scale → ∞;
    - logit-logistic (logit μ free, s ≤ 20): s → 0 reaches one category and two adjacent ones;
    - beta, Kumaraswamy (a, b ≤ 20): a → 0 gives a point mass at category 1 (limit (0, 1)),
      b → 0 one at category K ((1, 0)), a, b → 0 the extremes ((0, 0)); a concentrated interior
      member needs a, b → ∞.
    """
    n = len(c)
    nonzero = c > 0
    count = nonzero.sum(axis=1)
    first = nonzero.argmax(axis=1)
    last = K - 1 - nonzero[:, ::-1].argmax(axis=1)
    one = count == 1
    adjacent = (count == 2) & (last - first == 1)
    extremes = (count == 2) & (first == 0) & (last == K - 1)
    params = np.zeros((n, 2))
    if fam.transforms == ("log", "log"):
        params[one & (first == 0)] = (0.0, 1.0)
        params[one & (first == K - 1)] = (1.0, 0.0)
        return (one & ((first == 0) | (first == K - 1))) | extremes, params
    reach = one | adjacent
    if reach.any():
        mean, var = scale.moments_of_counts(c[reach])
        params[reach] = fam.from_moments(mean, var, K)
    if fam.transforms == ("id", "log"):
        lo, hi = next(iter(fam.bounds("reference", K).values()))
        # thresholds on the location's axis (logit t for logit-logistic)
        t = np.concatenate([[-np.inf], fam._aux(K), [np.inf]])
        inside = np.where(one, np.maximum(lo, t[first]) < np.minimum(hi, t[first + 1]), False)
        threshold = t[np.minimum(first + 1, K)]
        inside |= adjacent & (threshold >= lo) & (threshold <= hi)
        low, high = np.maximum(lo, t[first]), np.minimum(hi, t[first + 1])
        params[:, 0] = np.where(one, np.clip(params[:, 0], low, high), params[:, 0])
        reach &= inside
    return reach, params


def _fit_quantized(fam: QuantizedFamily, c: NDArray, K: int, bounds: str):
    n = len(c)
    mean, var = scale.moments_of_counts(c)
    degenerate = degenerate_support(c)
    params = np.empty((n, 2))
    probs = np.empty((n, K))
    logp = np.empty((n, K))
    iterations = np.zeros(n, np.int64)
    converged = np.ones(n, bool)
    limit = np.zeros(n, bool)
    at_bound = np.zeros(n, bool)
    if bounds == "natural":
        limit = degenerate
        params[limit] = fam.from_moments(mean[limit], var[limit], K)
    else:  # limits inside the reference box; the other degenerate rows have a box optimum
        reach, limit_params = _reference_limits(fam, c, K)
        limit = degenerate & reach
        params[limit] = limit_params[limit]
    probs[limit] = _empirical(c[limit])
    logp[limit] = gof.log_proportions(c[limit])
    todo = ~limit
    if todo.any():
        # from the proportions, which are the same for the counts and any multiple of them
        m, v = scale.moments_of_counts(_empirical(c[todo]))
        code, aux = fam.solver_code(bounds), fam._aux(K)
        starts = np.stack(
            [_start(fam, m, v, K, bounds)] + [
                _start(fam, *scale.moments_of_counts(q), K, bounds)
                for q in _smoothed_starts(c[todo])
            ],
            axis=1,
        )
        lo, hi = fam.theta_bounds(bounds, K)
        theta, _, it, ok, logp[todo] = batch.fit_theta(code, c[todo], starts, lo, hi, aux, K,
                                                       MAX_ITERATIONS)
        params[todo] = fam._from_theta(theta, K, bounds)
        probs[todo] = np.exp(logp[todo])
        iterations[todo] = it
        converged[todo] = ok
        at_bound[todo] = ((theta <= lo) | (theta >= hi)).any(axis=1)
    return params, probs, logp, iterations, converged, limit, at_bound
