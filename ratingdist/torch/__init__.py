"""Rating distributions in PyTorch: batched, differentiable, on the inputs' device and dtype.

No-reference quality networks predict, per stimulus, a mean opinion score and a spread, or a
histogram of ratings. This module turns such outputs into full rating distributions of every
family of :mod:`ratingdist` and into QoE figures, and scores them against observed ratings::

    import torch
    import ratingdist.torch as rdt

    mean = torch.tensor([3.2, 4.1], dtype=torch.float64, requires_grad=True)
    var = torch.tensor([0.6, 0.3], dtype=torch.float64)
    p = rdt.pmf_from_moments("logit-logistic", mean, var)      # (2, 5)
    loss = rdt.nll_loss(torch.tensor([[0, 2, 9, 10, 3], [0, 0, 2, 12, 9]]), p)
    loss.backward()                                             # gradients through the solver

Functions (tensors of any leading batch shape ``S``; K categories, 5 by default):

- :func:`pmf_from_moments`, :func:`logpmf_from_moments`, :func:`pmf_from_mean_sd`,
  :func:`pmf_from_mean_rho`: (mean, variance | sd | ρ), each ``S`` → probabilities ``S + (K,)``;
  :func:`params_from_moments`: → native parameters ``S + (2,)``;
- :func:`pmf`, :func:`logpmf`: native parameters ``S + (2,)`` (as ``rd.family(name)``) →
  ``S + (K,)``;
- :func:`fit`: rating counts or histograms ``S + (K,)`` → maximum-likelihood fit (:class:`Fit`);
- :func:`quantile`, :func:`quantile_from_moments`: latent quantiles on the rating axis;
  :func:`gob`, :func:`pow`: %GoB and %PoW of probabilities;
- :func:`nll_loss`, :func:`emd_loss`: training losses;
- :func:`v_min`, :func:`v_max`, :func:`rho_from_var`, :func:`var_from_rho`: the feasible region.

Conventions are those of the Numba path (``rd.family(name)``, ``rd.fit``, ``rd.qoe``), which
float64 results reproduce to 1e-9 or better (``fit`` stops where ``rd.fit`` stops). Probabilities
are computed in log space, every cell from whichever side (cdf or survival function) loses no
precision, so float32 gives no NaN. Solutions of equations (the mean/variance
parameterization, the maximum-entropy multipliers, maximum-likelihood fits, the inverse
incomplete beta function) are found by batched Newton or Fisher-scoring iterations without
building a graph (rows leave the batch as they converge), and differentiated by the implicit
function theorem: the backward pass solves one 2×2 system per stimulus. Everything else is
differentiated by autograd.

Inputs are checked once: shapes, a floating dtype, means in [1, K], variances in
[v_min(ψ), v_max(ψ)]. ``clamp=True`` projects infeasible pairs onto the region instead of raising,
with a warning that says how many were moved. On the boundary of the region (v = v_min or
v = v_max, to within 1e-12 in float64, 1e-6 in float32) every family returns the limit pmf, as
``Family.pmf_from_moments`` does: the least-spread pmf on ⌊ψ⌋, ⌈ψ⌉, or the pmf on {1, K}.

Limits: the GSD likelihood of counts symmetric about the middle of the scale has two
mirror-image maxima of equal likelihood, and which one :func:`fit` returns may differ from
``rd.fit`` by rounding. In float32, pairs within about 1e-3 of ψ = 1 or ψ = K, or right next to
v_max, may miss the float32 tolerance (a ``RuntimeWarning`` says how many; results stay
finite). Near the boundary the gradients are large where the parameters move fast: that is the
derivative of the limit being approached.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
Ćmiel, Nawała, Janowski, Rusek, "Generalised score distribution: underdispersed continuation of
the beta-binomial distribution", Statistical Papers (2023), doi:10.1007/s00362-023-01398-0.
Talebi, Milanfar, "NIMA: neural image assessment", IEEE Trans. Image Processing 27 (2018)
3998–4011 (the EMD loss).
"""

# The package is laid out by job, lower layers first: _numerics (tolerances, iteration caps),
# _region (the feasible region and its limit pmfs), _checks (input checks), _special (log-space
# special functions, the incomplete beta function), _implicit (implicit-function gradients);
# one module per kind of family, _quantized, _maxent and _gsd; _moments (the mean/variance
# solver of the quantized families); _pmf (probabilities of every family), _losses, _fit
# (maximum likelihood) and _qoe (quantiles, %GoB, %PoW).

# PyTorch is optional for ratingdist: say how to install it before a submodule fails on it.
try:
    import torch  # noqa: F401
except ImportError as exc:
    raise ImportError('ratingdist.torch needs PyTorch: pip install "ratingdist[torch]"') from exc

from ._fit import Fit, fit
from ._losses import emd_loss, nll_loss
from ._pmf import (
    logpmf,
    logpmf_from_moments,
    params_from_moments,
    pmf,
    pmf_from_mean_rho,
    pmf_from_mean_sd,
    pmf_from_moments,
)
from ._qoe import gob, pow, quantile, quantile_from_moments
from ._region import rho_from_var, v_max, v_min, var_from_rho

__all__ = [
    "Fit",
    "emd_loss",
    "fit",
    "gob",
    "logpmf",
    "logpmf_from_moments",
    "nll_loss",
    "params_from_moments",
    "pmf",
    "pmf_from_mean_rho",
    "pmf_from_mean_sd",
    "pmf_from_moments",
    "pow",
    "quantile",
    "quantile_from_moments",
    "rho_from_var",
    "v_max",
    "v_min",
    "var_from_rho",
]
