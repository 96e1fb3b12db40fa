"""Extreme-response propensity of the groups of an adaptive quantized metric model.

For group g with stimuli J_g (those it rated) the propensity is the model probability of a
rating in the end categories, averaged over J_g:

    E_g = (1/|J_g|) Σ_{j∈J_g} [p_{g,j,1} + p_{g,j,K}],
    p_{g,j,1} + p_{g,j,K} = (1 − λ_g)·[F(z_1) + 1 − F(z_{K−1})] + 2λ_g/K,
    z_k = (τ_{g,k} − μ_j)/σ_j.

Standard errors by the full-information delta method, computed through the arrowhead structure
of the Hessian: with s the free shared parameters (thresholds, lapses, common log σ), θ_j the
parameters of stimulus j (μ_j, and log σ_j where it is free), H_jj their Hessian block and
Cov(s) the inverse profile Hessian (:attr:`AdaptiveResult.covariance`),

    Var(E) = (dE/ds)ᵀ Cov(s) (dE/ds) + Σ_j (∂E/∂θ_j)ᵀ H_jj⁻¹ (∂E/∂θ_j),
    dE/ds = ∂E/∂s + Σ_j (∂θ̂_j/∂s)ᵀ ∂E/∂θ_j,   ∂θ̂_j/∂s = −H_jj⁻¹H_js,

which is ∇Eᵀ H⁻¹ ∇E over all parameters (block inverse of H). The first term is the
uncertainty the shared parameters carry, the second that of the stimulus fits. Stimuli in the
σ → ∞ limit (ratings only in 1 and K) contribute their empirical end share with no
derivative; a σ_j held at its floor or ceiling contributes through μ_j only. In the σ_j → 0
limit (ratings in one category or two adjacent ones) H_jj is singular: only (τ − μ_j)/σ_j is
determined, and so is the end share, whose derivative lies along it; H_jj⁻¹ is then the
pseudo-inverse, and a derivative along an undetermined direction (beyond 1e-6 of its size and
1e-10) makes the se infinite. A lapse on its bound 0 is held there (no Wald interval exists
on a boundary; the estimate is λ = 0). The ratio
E_a/E_b gets its interval from log E_a − log E_b (delta method, covariance of the two groups
included).

References
----------
Saupe et al., J. Perceptual Imaging 7 (2025) 000407 (adaptive thresholds per group);
Baumgartner & Steenkamp, J. Marketing Research 38 (2001) 143–156 (extreme response style);
Casella & Berger, "Statistical Inference" (2002) §5.5.4 (delta method).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from ._kernels import joint

_Z95 = stats.norm.ppf(0.975)
#: ∂E_g/∂θ_j below which a derivative along an undetermined direction of a block is ignored.
NEGLIGIBLE = 1e-10
#: Eigenvalues of a block Hessian below RANK_TOL × its largest count as zero (pseudo-inverse).
RANK_TOL = 1e-8
#: Share of a derivative along a zero-eigenvalue direction that makes the variance infinite.
NULL_TOL = 1e-6


def _gradients(res) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Per group: E_g (G,), the profile gradient dE_g/ds (G, P), the number of stimuli (G,),
    and the stimulus-block covariance term C (G, G), C_ab = Σ_j (∂E_a/∂θ_j)ᵀ H_jj⁻¹ ∂E_b/∂θ_j."""
    if p_unit(res):
        return _unit_gradients(res)
    st, p, f = res._study, res._problem, res._fit
    K = st.K
    G = len(st.groups)
    P = p["P"]
    j = st.cell_stim
    g_of = st.cell_group
    active = p["active"]
    mu = f["theta"][:, 0]
    ls = np.full(len(mu), f["ls_common"]) if p["common"] else f["theta"][:, 1]
    tau = f["tau"][p["cell_tset"]]
    lam = f["lam"][p["cell_lset"]] if p["lapse"] else np.zeros(len(j))
    dist = stats.norm if res.family == "normal" else stats.logistic
    sig = np.exp(ls[j])
    z1 = (tau[:, 0] - mu[j]) / sig
    zk = (tau[:, K - 2] - mu[j]) / sig
    tails = dist.cdf(z1) + dist.sf(zk)
    f1, fk = dist.pdf(z1), dist.pdf(zk)
    # a stimulus in the σ → ∞ limit (ratings only in 1 and K) has all its mass at the ends
    cell_active = active[j]
    tails = np.where(cell_active, tails, 1.0)
    e = (1.0 - lam) * tails + 2.0 * lam / K
    w = np.where(cell_active, 1.0 - lam, 0.0)
    d_tau1 = w * f1 / sig
    d_tauk = -w * fk / sig
    d_mu = w * (fk - f1) / sig
    d_ls = w * (zk * fk - z1 * f1)
    d_lam = 2.0 / K - tails
    n_g = np.bincount(g_of, minlength=G).astype(np.float64)
    E = np.bincount(g_of, weights=e, minlength=G) / n_g
    free_ls = f["free_ls"] & (not p["common"])
    block = _block_term(res, d_mu / n_g[g_of], np.where(free_ls[j], d_ls, 0.0) / n_g[g_of],
                        free_ls)
    grad = np.zeros((G, P))
    if P == 0:
        return E, grad, n_g, block
    _, _, _, _, _, _, D = joint.assemble(
        p["fam"], f["theta"], active, p["ptr"], p["counts"], p["cell_tset"], p["cell_lset"],
        f["tau"], f["lam"], p["lapse"], p["common"], f["ls_common"],
        math.log(joint.SIGMA_FLOOR), math.log(joint.SIGMA_CEILING), p["tau_idx"], p["lam_idx"],
        p["rho_idx"], P, K,
    )
    D = np.where(np.isfinite(D), D, 0.0)
    tidx = p["tau_idx"][p["cell_tset"]]
    for col, deriv in ((tidx[:, 0], d_tau1), (tidx[:, K - 2], d_tauk)):
        m = col >= 0
        np.add.at(grad, (g_of[m], col[m]), deriv[m])
    if p["lapse"]:
        np.add.at(grad, (g_of, p["lam_idx"][p["cell_lset"]]), d_lam)
    if p["rho_idx"] >= 0:
        np.add.at(grad[:, p["rho_idx"]], g_of, d_ls)
        d_ls = np.zeros_like(d_ls)
    # blocks following the shared parameters: Σ_cells D_jᵀ ∂e/∂θ_j
    chain = D[j, 0, :] * d_mu[:, None] + D[j, 1, :] * d_ls[:, None]
    np.add.at(grad, g_of, chain)
    return E, grad / n_g[:, None], n_g, block


def p_unit(res) -> bool:
    """The fit is of a shape family on [0, 1] (beta, Kumaraswamy; ``_kernels.joint_unit``)."""
    return bool(res._problem.get("unit", False))


def _unit_gradients(res) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """:func:`_gradients` for beta and Kumaraswamy fits: their outer thresholds are pinned and
    they have no lapse, so E_g depends on the shared parameters only through the blocks
    (Σ_cells D_jᵀ ∂e/∂θ_j); ∂e/∂θ_j by central differences of the cell's tail mass
    F(τ_1) + 1 − F(τ_{K−1}), H_jj from :func:`joint_unit.unit_cell`. Stimuli in a limit have a
    fixed tail mass (the empirical one)."""
    from ._kernels import joint_unit
    from .families.quantized import unit_cdf

    st, p, f = res._study, res._problem, res._fit
    K = st.K
    G = len(st.groups)
    P = p["P"]
    j = st.cell_stim
    g_of = st.cell_group
    active = p["active"]
    th = f["theta"]
    tau = f["tau"][p["cell_tset"]][:, [0, K - 2]]

    def tails(t0, t1):
        F = unit_cdf(res.family, t0[:, None], t1[:, None], tau, p["log_tref"])
        return F[:, 0] + 1.0 - F[:, 1]

    lim = p["limit_probs"][j]
    e = np.where(active[j], tails(th[j, 0], th[j, 1]), lim[:, 0] + lim[:, K - 1])
    h = 1e-6
    d = []
    for c in range(2):
        up, dn = th[j].copy(), th[j].copy()
        up[:, c] += h
        dn[:, c] -= h
        d.append(np.where(active[j], (tails(up[:, 0], up[:, 1]) - tails(dn[:, 0], dn[:, 1]))
                          / (2 * h), 0.0))
    _, _, free, _, _, _, D = joint_unit.assemble(
        p["fam"], th, active, p["ptr"], p["counts"], p["cell_tset"], p["cell_lset"], f["tau"],
        f["lam"], p["lapse"], p["lo"], p["hi"], p["tau_idx"], p["lam_idx"], P, K, p["log_tref"],
    )
    d0 = np.where(free[j, 0], d[0], 0.0)
    d1 = np.where(free[j, 1], d[1], 0.0)
    n_g = np.bincount(g_of, minlength=G).astype(np.float64)
    E = np.bincount(g_of, weights=e, minlength=G) / n_g
    n = len(st.ids)
    H = np.zeros((n, 2, 2))
    grad_c, hess = np.empty(K + 2), np.empty((K + 2, K + 2))
    work, gp, gm = np.empty((8, K)), np.empty(K + 2), np.empty(K + 2)
    for c, jj in enumerate(j):
        if active[jj]:
            joint_unit.unit_cell(p["fam"], th[jj, 0], th[jj, 1], f["tau"][p["cell_tset"][c]],
                                 0.0, False, p["counts"][c], K, p["log_tref"], grad_c, hess,
                                 work, gp, gm)
            H[jj] += hess[:2, :2]
    for c in range(2):  # a held coordinate: its row and column out of the block
        held = ~free[:, c]
        H[held, c, :] = 0.0
        H[held, :, c] = 0.0
        H[held, c, c] = 1.0
    block = _block_solve(res, H, d0 / n_g[g_of], d1 / n_g[g_of])
    grad = np.zeros((G, P))
    if P:
        D = np.where(np.isfinite(D), D, 0.0)
        np.add.at(grad, g_of, D[j, 0, :] * d0[:, None] + D[j, 1, :] * d1[:, None])
    return E, grad / n_g[:, None], n_g, block


def _block_term(res, e_mu: NDArray, e_ls: NDArray, free_ls: NDArray) -> NDArray:
    """C_ab = Σ_j (∂E_a/∂θ_j)ᵀ H_jj⁻¹ ∂E_b/∂θ_j from the cells' derivatives ∂E_g/∂μ_j, ∂E_g/∂log σ_j
    (``e_mu``, ``e_ls``, zero for a held log σ_j); H_jj summed from :func:`joint.cell_nll`'s
    exact cell Hessians; the pseudo-inverse of a singular block (see the module docstring)."""
    st, p, f = res._study, res._problem, res._fit
    K = st.K
    n = len(st.ids)
    mu = f["theta"][:, 0]
    ls = np.full(n, f["ls_common"]) if p["common"] else f["theta"][:, 1]
    H = np.zeros((n, 2, 2))
    grad, hess = np.empty(K + 2), np.empty((K + 2, K + 2))
    work, v, w = np.empty((4, K)), np.empty(K + 2), np.empty((K + 2, K + 2))
    lset = p["cell_lset"]
    for c, jj in enumerate(st.cell_stim):
        if not p["active"][jj]:
            continue
        lam = float(f["lam"][lset[c]]) if p["lapse"] else 0.0
        joint.cell_nll(p["fam"], mu[jj], ls[jj], f["tau"][p["cell_tset"][c]], lam, p["lapse"],
                       p["counts"][c], K, grad, hess, work, v, w)
        H[jj] += hess[:2, :2]
    H[~free_ls, 0, 1] = H[~free_ls, 1, 0] = 0.0
    H[~free_ls, 1, 1] = 1.0
    return _block_solve(res, H, e_mu, e_ls)


def _block_solve(res, H: NDArray, e_mu: NDArray, e_ls: NDArray) -> NDArray:
    """C_ab = Σ_j (∂E_a/∂θ_j)ᵀ H_jj⁻¹ ∂E_b/∂θ_j from the block Hessians H (n, 2, 2) and the
    cells' derivatives in the two block coordinates (pseudo-inverse of a singular block)."""
    st, p = res._study, res._problem
    G = len(st.groups)
    n = len(st.ids)
    # per stimulus, the (G, 2) matrix of its groups' derivatives
    A = np.zeros((n, G, 2))
    np.add.at(A, (st.cell_stim, st.cell_group, 0), e_mu)
    np.add.at(A, (st.cell_stim, st.cell_group, 1), e_ls)
    act = p["active"]
    vals, vecs = np.linalg.eigh(H[act])
    top = np.maximum(np.abs(vals).max(axis=1, keepdims=True), 1e-300)
    keep = vals > RANK_TOL * top
    inv_vals = np.where(keep, 1.0 / np.where(keep, vals, 1.0), 0.0)
    inv = np.einsum("jpk,jk,jqk->jpq", vecs, inv_vals, vecs)
    Aa = A[act]
    C = np.einsum("jap,jpq,jbq->ab", Aa, inv, Aa)
    # a derivative along a direction the block's likelihood does not determine: not identified
    along = np.abs(np.einsum("jap,jpk->jak", Aa, vecs))
    size = np.maximum(np.abs(Aa).max(axis=2, keepdims=True), NEGLIGIBLE)
    hit = ((along > NULL_TOL * size) & ~keep[:, None, :] & (along > NEGLIGIBLE)).any(axis=(0, 2))
    C[hit, :] = np.inf
    C[:, hit] = np.inf
    return C


def _shared_cov(res) -> NDArray:
    """Cov(s) with a lapse on its bound held there (its rows and columns 0)."""
    cov = res.covariance.to_numpy().copy()
    held = res._problem["lam_idx"][res._lapse_at_bound]
    cov[held, :] = 0.0
    cov[:, held] = 0.0
    return cov


def extreme_response(res) -> pd.DataFrame:
    """E_g with delta-method se and 95 % Wald interval (clipped to [0, 1]) per group; see the
    module docstring. Columns: group, n_stimuli, value, se, ci_low, ci_high."""
    E, grad, n_g, block = _gradients(res)
    cov = _shared_cov(res)
    var = np.einsum("gp,pq,gq->g", grad, np.where(np.isfinite(cov), cov, 0.0), grad)
    var = var + np.diag(block)
    infinite = (np.abs(grad) > 0) & ~np.isfinite(np.diag(cov))[None, :]
    se = np.where(infinite.any(axis=1), np.inf, np.sqrt(np.maximum(var, 0.0)))
    labels = [str(g) for g in res._study.groups]
    return pd.DataFrame({
        "group": labels, "n_stimuli": n_g.astype(np.int64), "value": E, "se": se,
        "ci_low": np.maximum(E - _Z95 * se, 0.0), "ci_high": np.minimum(E + _Z95 * se, 1.0),
    })


def extreme_response_ratio(res, a, b) -> pd.Series:
    """E_a / E_b with se (delta method on the log ratio) and 95 % interval exp(log r ± 1.96·se_log).
    Returns a Series: group_a, group_b, value, se, ci_low, ci_high."""
    labels = [str(g) for g in res._study.groups]
    for name in (a, b):
        if str(name) not in labels:
            raise ValueError(f"group {name!r} is not in the fit; groups: {labels}")
    ia, ib = labels.index(str(a)), labels.index(str(b))
    E, grad, _, block = _gradients(res)
    if E[ia] <= 0.0 or E[ib] <= 0.0:
        raise ValueError(
            f"group {labels[ia] if E[ia] <= 0 else labels[ib]!r} has extreme-response propensity"
            " 0: the ratio is not defined"
        )
    cov = _shared_cov(res)
    d = grad[ia] / E[ia] - grad[ib] / E[ib]
    if ((np.abs(d) > 0) & ~np.isfinite(np.diag(cov))).any():
        se_log = math.inf
    else:
        v = float(d @ np.where(np.isfinite(cov), cov, 0.0) @ d)
        w = np.zeros(len(E))
        w[ia] += 1.0 / E[ia]
        w[ib] -= 1.0 / E[ib]
        v += float(w @ np.where(np.isfinite(block), block, 0.0) @ w)
        hit = ~np.isfinite(block[[ia, ib]][:, [ia, ib]]).all()
        se_log = math.inf if hit else math.sqrt(max(v, 0.0))
    r = float(E[ia] / E[ib])
    return pd.Series({
        "group_a": labels[ia], "group_b": labels[ib], "value": r, "se": r * se_log,
        "ci_low": r * math.exp(-_Z95 * se_log), "ci_high": r * math.exp(_Z95 * se_log),
    })
