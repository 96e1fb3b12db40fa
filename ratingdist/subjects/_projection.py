"""The rounds of ITU-T P.910 Annex E (alternating projection) as one Numba kernel.

A round is a handful of sums over the n observed ratings; numpy would spend most of its time
on the per-call overhead of some twenty small array operations, so the rounds run here, two
passes over the ratings each. Summation is sequential and the result independent of threads
(there are none).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray


@nb.njit(cache=True)
def alternating_projection(
    j: NDArray[np.int64],
    i: NDArray[np.int64],
    u: NDArray[np.float64],
    n_stimuli: int,
    n_subjects: int,
    epsilon: float,
    tol: float,
    max_iter: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
           NDArray[np.float64], int, bool]:
    """ψ, Δ, υ, the (ψ, Δ) that the last residuals used, the rounds and whether ‖Δψ‖₂ < tol.

    Start ψ_j = mean of stimulus j, Δ_i = mean over subject i of (u − ψ_j); a round takes
    e = u − ψ_j − Δ_i, υ_i = sd (ddof 0, about its mean) of e over subject i,
    w_i = 1/(υ_i² + epsilon), ψ_j = Σ w_i (u − Δ_i)/Σ w_i, Δ_i = mean of (u − ψ_j).
    """
    n = len(u)
    n_j = np.zeros(n_stimuli)
    k_i = np.zeros(n_subjects)
    psi = np.zeros(n_stimuli)
    for t in range(n):
        n_j[j[t]] += 1.0
        k_i[i[t]] += 1.0
        psi[j[t]] += u[t]
    psi /= n_j
    delta = np.zeros(n_subjects)
    for t in range(n):
        delta[i[t]] += u[t] - psi[j[t]]
    delta /= k_i
    upsilon = np.zeros(n_subjects)
    psi_last, delta_last = psi.copy(), delta.copy()
    iteration, converged = 0, False
    while not converged and iteration < max_iter:
        iteration += 1
        psi_last[:], delta_last[:] = psi, delta
        # υ_i: two-pass sd of the residuals about their mean
        mean_e = np.zeros(n_subjects)
        for t in range(n):
            mean_e[i[t]] += u[t] - psi[j[t]] - delta[i[t]]
        mean_e /= k_i
        upsilon[:] = 0.0
        for t in range(n):
            d = u[t] - psi[j[t]] - delta[i[t]] - mean_e[i[t]]
            upsilon[i[t]] += d * d
        upsilon = np.sqrt(upsilon / k_i)
        w = 1.0 / (upsilon**2 + epsilon)
        num = np.zeros(n_stimuli)
        den = np.zeros(n_stimuli)
        for t in range(n):
            num[j[t]] += w[i[t]] * (u[t] - delta[i[t]])
            den[j[t]] += w[i[t]]
        psi = num / den
        delta[:] = 0.0
        for t in range(n):
            delta[i[t]] += u[t] - psi[j[t]]
        delta /= k_i
        change = 0.0
        for s in range(n_stimuli):
            change += (psi_last[s] - psi[s]) ** 2
        converged = np.sqrt(change) < tol
    return psi, delta, upsilon, psi_last, delta_last, iteration, converged
