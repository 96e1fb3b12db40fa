"""Integer codes that select a family inside the Numba kernels."""

NORMAL = 0
LOGISTIC = 1
BETA = 2
KUMARASWAMY = 3
#: Kumaraswamy in centred coordinates (log a, log b + h(a, t_ref)); see ``quantized``.
KUMARASWAMY_CENTRED = 7
LOGIT_LOGISTIC = 4
#: GSD below the binomial (ρ ≤ C(ψ)): reparametrized beta-binomial in (ψ, r = ρ/C).
GSD_BETABINOMIAL = 5
#: GSD above the binomial (ρ ≥ C(ψ)): binomial/least-spread mixture in (ψ, r), ψ in [j, j + 1].
GSD_MIXTURE = 6
