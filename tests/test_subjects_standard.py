"""Tests of ratingdist.subjects.standard: sureal parity, independent computations, screening
rules, truth recovery on a synthetic study, bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

import ratingdist as rd
from ratingdist.ratings import Ratings
from ratingdist.subjects import standard
from ratingdist.subjects._cells import Cells

from . import sureal_reference

HAVE_SUREAL = importlib.util.find_spec("sureal") is not None
needs_sureal = pytest.mark.skipif(not HAVE_SUREAL, reason="needs the test-only package sureal")
#: sureal writes its intervals as ±1.95996·std
SUREAL_Z = 1.95996
Z = stats.norm.ppf(0.975)

ANALYSES = {
    "mos": rd.subjects.mos,
    "bt500": rd.subjects.bt500,
    "p913": rd.subjects.p913,
    "p910": rd.subjects.p910,
    "p910_subject_std": lambda r: rd.subjects.p910(r, quality_std="subject"),
    "mle_co": lambda r: rd.subjects.mle(r, content_ambiguity=False),
    "mle": rd.subjects.mle,
}


def _study(seed: int, n_stimuli: int = 24, n_subjects: int = 12, repetitions: int = 1,
           missing: float = 0.0, K: int = 5, per_content: int = 4) -> Ratings:
    """A synthetic study from the model with content ambiguity, rounded onto 1..K (contents
    of ``per_content`` stimuli each)."""
    rng = np.random.default_rng(seed)
    psi = rng.uniform(1.5, K - 0.5, n_stimuli)
    delta = rng.normal(0, 0.3 * (K - 1) / 4, n_subjects)
    # (not so small that rounding makes a subject exact: v ≈ 0 is a degenerate optimum)
    upsilon = rng.uniform(0.5, 1.2, n_subjects) * (K - 1) / 4
    j, i, r = np.meshgrid(np.arange(n_stimuli), np.arange(n_subjects), np.arange(repetitions),
                          indexing="ij")
    ambiguity = rng.uniform(0.4, 0.8, n_stimuli // per_content + 1) * (K - 1) / 4
    noise = np.hypot(upsilon[i], ambiguity[j // per_content])
    u = psi[j] + delta[i] + noise * rng.standard_normal(j.shape)
    frame = pd.DataFrame({"stimulus": j.ravel(), "subject": i.ravel(), "rep": r.ravel(),
                          "rating": np.clip(np.rint(u), 1, K).ravel().astype(int),
                          "content": j.ravel() // per_content})
    keep = rng.random(len(frame)) >= missing
    keep[: n_stimuli * n_subjects * repetitions: n_subjects * repetitions] = True
    return Ratings.from_long(frame[keep], repetition="rep", content="content", K=K)


# -- parity with Netflix sureal --------------------------------------------------------------
def _compare_with_sureal(ratings: Ratings, name: str, complete: bool = True) -> None:
    ours = ANALYSES[name](ratings)
    theirs = sureal_reference.run(ratings, name)
    order = [list(ratings.subjects).index(o) for o in theirs["observers"]]
    st, sub = ours.stimuli, ours.subjects.iloc[order]
    close = dict(rtol=0, atol=1e-6)
    if "observer_rejected_1st_stats" in theirs:
        # sureal divides P + Q by n_stimuli · n_repetitions, here by the subject's ratings: the
        # same in a complete study, and so are then the rejections
        n_slots = ratings.n_stimuli * ratings.n_repetitions
        np.testing.assert_allclose(sub["p"] + sub["q"],
                                   np.array(theirs["observer_rejected_1st_stats"]) * n_slots,
                                   **close)
        np.testing.assert_allclose(sub["asymmetry"],
                                   np.nan_to_num(theirs["observer_rejected_2nd_stats"]), **close)
        if complete:
            assert sub["rejected"].tolist() == list(theirs["observer_rejected"])
        elif sub["rejected"].tolist() != list(theirs["observer_rejected"]):
            return  # different subjects, different MOS
    np.testing.assert_allclose(st["quality"], theirs["quality_scores"], **close)
    np.testing.assert_allclose(st["std"], theirs["quality_scores_std"], **close)
    # the same interval offsets, at sureal's z = 1.95996 and at the exact quantile
    np.testing.assert_allclose((st["ci_high"] - st["quality"]) / Z,
                               np.array(theirs["quality_scores_ci95"][1]) / SUREAL_Z, **close)
    np.testing.assert_allclose((st["quality"] - st["ci_low"]) / Z,
                               np.array(theirs["quality_scores_ci95"][0]) / SUREAL_Z, **close)
    if "observer_bias" in theirs:
        np.testing.assert_allclose(sub["bias"], theirs["observer_bias"], **close)
    if "observer_bias_std" in theirs:
        np.testing.assert_allclose(sub["bias_std"], theirs["observer_bias_std"], **close)
        np.testing.assert_allclose((sub["bias_ci_high"] - sub["bias"]) / Z,
                                   np.array(theirs["observer_bias_ci95"][1]) / SUREAL_Z, **close)
    if "observer_inconsistency" in theirs:
        v = sub["inconsistency"]
        np.testing.assert_allclose(v, theirs["observer_inconsistency"], **close)
        np.testing.assert_allclose(sub["inconsistency_std"], theirs["observer_inconsistency_std"],
                                   **close)
        low, high = theirs["observer_inconsistency_ci95"]
        np.testing.assert_allclose(sub["inconsistency_ci_low"], v - low, **close)
        np.testing.assert_allclose(sub["inconsistency_ci_high"], v + high, **close)
    if "content_ambiguity" in theirs:
        # sureal numbers contents 0..C-1 in sorted order, as sureal_reference hands them over
        a = ours.contents.sort_values("id")
        np.testing.assert_allclose(a["ambiguity"], theirs["content_ambiguity"], **close)
        np.testing.assert_allclose(a["ambiguity_std"], theirs["content_ambiguity_std"], **close)
    if "num_iter" in theirs:
        assert ours.summary["n_iterations"] == theirs["num_iter"]
        assert ours.summary["loglikelihood"] == pytest.approx(theirs["loglikelihood"], abs=1e-9)
        # sureal counts 2 parameters per subject and repetition; here 2 per subject
        if ratings.n_repetitions == 1:
            for key in ("dof", "aic", "bic"):
                assert ours.summary[key] == pytest.approx(theirs[key], abs=1e-9)


@needs_sureal
@pytest.mark.data
@pytest.mark.parametrize("name", list(ANALYSES))
@pytest.mark.parametrize("dataset", ["nflx", "vqeg_hd3"])
def test_parity_with_sureal_on_public_data(dataset, name, request) -> None:
    _compare_with_sureal(request.getfixturevalue(dataset), name)


@needs_sureal
@pytest.mark.parametrize("name", list(ANALYSES))
@pytest.mark.parametrize(("repetitions", "missing"), [(2, 0.0), (1, 0.15), (2, 0.2)])
def test_parity_with_sureal_on_repetitions_and_missing_cells(name, repetitions, missing) -> None:
    # a study where no subject's inconsistency and no content's ambiguity is 0 (at that
    # boundary both solvers stop on a degenerate optimum)
    ratings = _study(seed=6, n_stimuli=32, n_subjects=16, repetitions=repetitions,
                     missing=missing, per_content=8)
    _compare_with_sureal(ratings, name, complete=missing == 0.0)


@pytest.mark.data
def test_published_screening_of_the_public_data(nflx, vqeg_hd3) -> None:
    """The subjects that BT.500 and P.913 reject (sureal 0.9.0 rejects the same)."""
    assert rd.subjects.bt500(nflx).rejected.tolist() == [2]
    assert rd.subjects.p913(nflx).rejected.tolist() == [3, 4, 9, 12]
    assert rd.subjects.p910(nflx).summary["n_iterations"] == 14


# -- independent computations ----------------------------------------------------------------
def _projection_reference(ratings: Ratings) -> tuple[np.ndarray, ...]:
    """P.910 Annex E as notes §5 writes it, on the dense array with NaN (numpy nan-functions)."""
    u = ratings.array()
    J, I, _ = u.shape
    psi = np.nanmean(u.reshape(J, -1), axis=1)
    delta = np.nanmean((u - psi[:, None, None]).transpose(1, 0, 2).reshape(I, -1), axis=1)
    for _ in range(1000):
        previous = psi
        e = u - psi[:, None, None] - delta[None, :, None]
        upsilon = np.nanstd(e.transpose(1, 0, 2).reshape(I, -1), axis=1)
        w = np.broadcast_to((1 / (upsilon**2 + 1e-8))[None, :, None], u.shape)
        x = u - delta[None, :, None]
        observed = ~np.isnan(u)
        psi = (np.where(observed, w * x, 0).reshape(J, -1).sum(1)
               / np.where(observed, w, 0).reshape(J, -1).sum(1))
        delta = np.nanmean((u - psi[:, None, None]).transpose(1, 0, 2).reshape(I, -1), axis=1)
        if np.linalg.norm(previous - psi) < 1e-8:
            break
    std = np.nanstd(e.reshape(J, -1), axis=1) / np.sqrt(observed.reshape(J, -1).sum(1))
    return psi + delta.mean(), delta - delta.mean(), upsilon, std


@pytest.mark.parametrize(("repetitions", "missing"), [(1, 0.0), (2, 0.0), (1, 0.3), (3, 0.25)])
def test_p910_against_a_direct_computation(repetitions, missing) -> None:
    ratings = _study(seed=5, repetitions=repetitions, missing=missing)
    psi, delta, upsilon, std = _projection_reference(ratings)
    res = rd.subjects.p910(ratings)
    np.testing.assert_allclose(res.stimuli["quality"], psi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.stimuli["std"], std, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.subjects["bias"], delta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.subjects["inconsistency"], upsilon, rtol=0, atol=1e-12)
    k = res.subjects["n"].to_numpy()
    np.testing.assert_allclose(res.subjects["bias_std"], upsilon / np.sqrt(k), rtol=1e-12,
                               atol=1e-15)
    assert res.subjects["bias"].mean() == pytest.approx(0, abs=1e-12)


def _negative_loglik(theta, u, j, i, c, J, I, C):
    x, b, v, a = theta[:J], theta[J:J + I], theta[J + I:J + 2 * I], theta[J + 2 * I:]
    s2 = v[i] ** 2 + a[c] ** 2
    return -np.sum(-0.5 * np.log(2 * np.pi * s2) - (u - x[j] - b[i]) ** 2 / (2 * s2))


@pytest.mark.parametrize("content_ambiguity", [False, True])
def test_mle_is_a_maximum(content_ambiguity) -> None:
    """A quasi-Newton search from the estimate finds no better likelihood, nor another point."""
    ratings = _study(seed=6, n_stimuli=32, n_subjects=16, missing=0.2, per_content=8)
    res = rd.subjects.mle(ratings, content_ambiguity=content_ambiguity)
    cells = Cells.of(ratings, dense=False)
    J, I = ratings.n_stimuli, ratings.n_subjects
    if content_ambiguity:
        contents = res.contents
        c = pd.Index(contents["id"]).get_indexer(ratings.contents)[cells.j]
        a = contents["ambiguity"].to_numpy()
    else:
        c, a = np.zeros(len(cells.u), dtype=int), np.zeros(0)
    theta = np.r_[res.stimuli["quality"], res.subjects["bias"], res.subjects["inconsistency"], a]
    C = max(len(a), 1)

    def nll(t: np.ndarray) -> float:
        full = t if len(a) else np.r_[t, 0.0]
        return _negative_loglik(full, cells.u, cells.j, cells.i, c, J, I, C)

    found = optimize.minimize(nll, theta, method="L-BFGS-B",
                              options={"ftol": 1e-15, "gtol": 1e-10})
    assert nll(theta) - found.fun < 1e-7
    ll = -nll(theta) / ratings.n_ratings
    # (a subject that the rounding makes almost exact has v ≈ 0, whose density amplifies
    # the rounding of the residuals)
    assert res.summary["loglikelihood"] == pytest.approx(ll, rel=1e-9)


def test_p910_and_mle_co_share_the_optimum() -> None:
    ratings = _study(seed=2)
    ap = rd.subjects.p910(ratings)
    newton = rd.subjects.mle(ratings, content_ambiguity=False)
    np.testing.assert_allclose(ap.stimuli["quality"], newton.stimuli["quality"], atol=1e-6)
    np.testing.assert_allclose(ap.subjects["inconsistency"], newton.subjects["inconsistency"],
                               atol=1e-6)


def test_synthetic_study_recovers_the_truth() -> None:
    """A 0..100 scale (K = 101) so that rounding hides little of the subject model."""
    rng = np.random.default_rng(0)
    J, I = 80, 40
    psi = rng.uniform(20, 80, J)
    delta = rng.normal(0, 6, I)
    delta -= delta.mean()
    upsilon = rng.uniform(4, 20, I)
    u = psi[:, None] + delta[None, :] + upsilon[None, :] * rng.standard_normal((J, I))
    wide = pd.DataFrame(np.clip(np.rint(u), 1, 101).astype(int))
    res = rd.subjects.p910(Ratings.from_wide(wide, K=101))
    bias_error = np.abs(res.subjects["bias"] - delta)
    assert np.all(bias_error < 4 * res.subjects["bias_std"])
    assert np.mean(bias_error < 1.96 * res.subjects["bias_std"]) > 0.85
    assert np.max(np.abs(res.subjects["inconsistency"] / upsilon - 1)) < 0.3
    error = res.stimuli["quality"] - psi
    # the errors are as large as the standard errors say
    assert np.mean(np.abs(error) < 1.96 * res.stimuli["std"]) > 0.85
    assert np.corrcoef(res.stimuli["quality"], psi)[0, 1] > 0.995
    # the consistency weights help: closer to the truth than the MOS
    mos = rd.subjects.mos(Ratings.from_wide(wide, K=101)).stimuli["quality"]
    assert np.mean(error**2) < np.mean((mos - psi) ** 2)
    inside = ((res.subjects["inconsistency_ci_low"] <= upsilon)
              & (upsilon <= res.subjects["inconsistency_ci_high"]))
    assert inside.mean() > 0.8


# -- MOS and screening -----------------------------------------------------------------------
def test_mos_intervals() -> None:
    ratings = _study(seed=1, missing=0.2)
    frame = ratings.to_frame()
    normal = rd.subjects.mos(ratings)
    t = rd.subjects.mos(ratings, ci="t", level=0.9)
    for k, (_, group) in enumerate(frame.groupby("stimulus", sort=False)):
        x = group["rating"].to_numpy(float)
        se = x.std(ddof=1) / np.sqrt(len(x))
        assert normal.stimuli["quality"][k] == pytest.approx(x.mean(), abs=1e-14)
        assert normal.stimuli["std"][k] == pytest.approx(se, rel=1e-12)
        low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=se)
        assert (t.stimuli["ci_low"][k], t.stimuli["ci_high"][k]) == pytest.approx((low, high))
    one = rd.subjects.mos(Ratings.from_wide(pd.DataFrame({"s1": [3, 4], "s2": [None, 5]})))
    assert one.stimuli["std"].tolist()[0] == np.inf
    assert one.stimuli["ci_low"].tolist()[0] == -np.inf


def _kurtosis_reference(ratings: Ratings):
    """BT.500-14 Annex 1 §2.3.1, loop by loop."""
    u = ratings.array()
    J, I, _ = u.shape
    P, Q = np.zeros(I), np.zeros(I)
    for jj in range(J):
        x = u[jj][~np.isnan(u[jj])]
        mu, sigma = x.mean(), x.std()
        beta2 = stats.kurtosis(x, fisher=False) if sigma > 0 else np.nan
        eps = 2.0 if 2 <= beta2 <= 4 else np.sqrt(20)
        for ii in range(I):
            for value in u[jj, ii][~np.isnan(u[jj, ii])]:
                P[ii] += value >= mu + eps * sigma
                Q[ii] += value <= mu - eps * sigma
    k = (~np.isnan(u)).sum(axis=(0, 2))
    with np.errstate(invalid="ignore"):
        rejected = ((P + Q) / k > 0.05) & (np.abs(P - Q) / (P + Q) < 0.3)
    return P, Q, rejected if not rejected.all() else np.zeros(I, bool)


@pytest.mark.parametrize("seed", range(4))
def test_bt500_against_the_standard_text(seed) -> None:
    rng = np.random.default_rng(seed)
    ratings = _study(seed=seed, n_stimuli=30, n_subjects=15, missing=0.1 * (seed % 2))
    frame = ratings.to_frame()
    # two erratic subjects
    erratic = frame["subject"].isin([0, 1])
    frame.loc[erratic, "rating"] = rng.choice([1, 5], erratic.sum())
    ratings = Ratings.from_long(frame)
    P, Q, rejected = _kurtosis_reference(ratings)
    res = rd.subjects.bt500(ratings)
    np.testing.assert_array_equal(res.subjects["p"], P)
    np.testing.assert_array_equal(res.subjects["q"], Q)
    np.testing.assert_array_equal(res.subjects["rejected"], rejected)
    kept = frame[~frame["subject"].isin(res.rejected)]
    means = kept.groupby("stimulus", sort=False)["rating"].mean()
    np.testing.assert_allclose(res.stimuli["quality"], means.reindex(ratings.ids), atol=1e-14)


def test_bt500_rejects_none_rather_than_all() -> None:
    """Unanimous stimuli (σ = 0) put every rating in P and Q, so every subject would go."""
    ratings = Ratings.from_wide(pd.DataFrame({"s1": [3, 4], "s2": [3, 4], "s3": [3, 4]}))
    res = rd.subjects.bt500(ratings)
    assert res.subjects["p"].tolist() == [2, 2, 2] and res.subjects["asymmetry"].tolist() == [0] * 3
    assert res.rejected.tolist() == []
    assert res.summary["n_rejected"] == 0
    assert not res.stimuli.isna().any().any()


def test_p913_bias_removal() -> None:
    ratings = _study(seed=4, missing=0.2)
    frame = ratings.to_frame()
    mos = frame.groupby("stimulus")["rating"].transform("mean")
    bias = (frame["rating"] - mos).groupby(frame["subject"], sort=False).mean()
    res = rd.subjects.p913(ratings)
    np.testing.assert_allclose(res.subjects["bias"], bias.reindex(ratings.subjects), atol=1e-14)
    removed = ratings.to_frame().assign(rating=frame["rating"] - frame["subject"].map(bias))
    kept = removed[~removed["subject"].isin(res.rejected)]
    np.testing.assert_allclose(
        res.stimuli["quality"],
        kept.groupby("stimulus", sort=False)["rating"].mean().reindex(ratings.ids), atol=1e-13)


@pytest.mark.parametrize("method", ["pcc", "srcc"])
def test_correlation_screening(method) -> None:
    ratings = _study(seed=6, n_subjects=14, missing=0.1)
    frame = ratings.to_frame()
    flipped = frame["subject"] == 3
    frame.loc[flipped, "rating"] = 6 - frame.loc[flipped, "rating"]
    ratings = Ratings.from_long(frame)
    res = rd.subjects.correlation_screening(ratings, method=method)
    mos = frame.groupby("stimulus")["rating"].mean()
    corr = stats.pearsonr if method == "pcc" else stats.spearmanr
    expected = [corr(g["rating"], mos[g["stimulus"]].to_numpy())[0]
                for _, g in frame.groupby("subject", sort=False)]
    np.testing.assert_allclose(res.subjects["correlation"], expected, atol=1e-12)
    threshold = min(0.7, np.mean(expected) - np.std(expected, ddof=1))
    assert res.summary["threshold"] == pytest.approx(threshold)
    assert 3 in res.rejected.tolist()
    np.testing.assert_array_equal(res.subjects["rejected"], np.array(expected) <= threshold)


def test_correlation_of_a_constant_subject_is_zero() -> None:
    wide = pd.DataFrame({"s1": [1, 2, 3, 4], "s2": [2, 3, 4, 5], "s3": [3, 3, 3, 3]})
    res = rd.subjects.correlation_screening(Ratings.from_wide(wide))
    assert res.subjects["correlation"].tolist()[2] == 0.0
    assert res.rejected.tolist() == ["s3"]


# -- degenerate data and bad input ----------------------------------------------------------
def test_a_perfectly_consistent_subject_is_finite() -> None:
    wide = pd.DataFrame({"s1": [5, 4, 2, 1], "s2": [4, 3, 1, 1], "s3": [5, 3, 3, 2]})
    res = rd.subjects.p910(Ratings.from_wide(wide))
    assert not res.subjects.isna().any().any() and not res.stimuli.isna().any().any()
    # s1 ends almost exact (υ ≈ 3e-8): a large but finite log-likelihood
    assert res.subjects["inconsistency"].min() < 1e-6
    assert np.isfinite(res.summary["loglikelihood"])
    # an exactly zero variance makes it unbounded, never NaN
    assert standard._gaussian_loglik(np.zeros(2), np.array([0.0, 1.0])) == np.inf
    assert repr(res) == "SubjectAnalysis(method='p910', stimuli=4, subjects=3, rejected=0)"


def test_bad_arguments() -> None:
    ratings = _study(seed=0)
    with pytest.raises(ValueError, match="ci must be 'normal' or 't', got 'z'"):
        rd.subjects.mos(ratings, ci="z")
    with pytest.raises(ValueError, match=r"level must lie in \(0, 1\), got 1.5"):
        rd.subjects.bt500(ratings, level=1.5)
    with pytest.raises(ValueError, match="method must be 'pcc' or 'srcc'"):
        rd.subjects.correlation_screening(ratings, method="kendall")
    with pytest.raises(ValueError, match="quality_std must be 'stimulus' or 'subject'"):
        rd.subjects.p910(ratings, quality_std="x")
    with pytest.raises(ValueError, match="tol must be > 0"):
        rd.subjects.p910(ratings, tol=0)
    with pytest.raises(ValueError, match="max_iter must be a whole number >= 1"):
        rd.subjects.mle(ratings, max_iter=0)
    with pytest.raises(TypeError, match=r"ratings must be ratingdist\.Ratings"):
        rd.subjects.p913(ratings.counts())
    noisy = np.random.default_rng(1).integers(1, 6, size=(10, 6))
    plain = Ratings.from_wide(pd.DataFrame(noisy, columns=[f"s{i}" for i in range(6)]))
    with pytest.raises(ValueError, match="needs the contents of the stimuli"):
        rd.subjects.mle(plain)
    assert rd.subjects.mle(plain, content_ambiguity=False).contents is None


def test_mle_without_a_finite_optimum_names_the_subjects() -> None:
    # u = x_j + b_i exactly: every inconsistency goes to 0, the likelihood to infinity
    additive = Ratings.from_wide(pd.DataFrame({"s1": [5, 4], "s2": [4, 3]}))
    with pytest.raises(ValueError, match=r"no finite optimum: subject 's1'.* is fitted exactly"):
        rd.subjects.mle(additive, content_ambiguity=False)
    rd.subjects.p910(additive)  # defined: its weights are floored
    # a subject with a single rating (the others noisy)
    noisy = np.random.default_rng(1).integers(1, 6, size=(10, 6))
    rows = [(j, i, int(r)) for j, row in enumerate(noisy) for i, r in enumerate(row)]
    rows.append((0, 9, 3))
    single = Ratings.from_long(pd.DataFrame(rows, columns=["stimulus", "subject", "rating"]),
                               stimulus="stimulus", subject="subject", rating="rating")
    with pytest.raises(ValueError, match=r"subject 9 \(1 rating\(s\); first: stimulus 0, "
                                         r"rating 3\) has a single rating"):
        rd.subjects.mle(single, content_ambiguity=False)
    # the standard that floors its weights still answers
    assert np.isfinite(rd.subjects.p910(single).subjects["bias"]).all()


def test_max_iter_stops_early() -> None:
    res = standard.p910(_study(seed=0), max_iter=2)
    assert res.summary["n_iterations"] == 2 and res.summary["converged"] is False


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), missing=st.sampled_from([0.0, 0.2]),
       name=st.sampled_from(["bt500", "p913", "p910", "mle_co"]))
def test_subject_order_does_not_matter(seed, missing, name) -> None:
    """Listing the ratings subject by subject in another order changes no result."""
    ratings = _study(seed=seed % 50, n_stimuli=12, n_subjects=8, missing=missing)
    frame = ratings.to_frame()
    order = np.random.default_rng(seed).permutation(ratings.n_subjects)
    shuffled = frame.iloc[np.argsort(order[frame["subject"].to_numpy()], kind="stable")]
    a = ANALYSES[name](ratings)
    b = ANALYSES[name](Ratings.from_long(shuffled, content="content"))
    stimuli = b.stimuli.set_index("id").loc[a.stimuli["id"]]
    np.testing.assert_allclose(a.stimuli["quality"], stimuli["quality"], atol=1e-9)
    np.testing.assert_allclose(a.stimuli["std"], stimuli["std"], atol=1e-9)
    by_id = b.subjects.set_index("id").loc[a.subjects["id"]]
    assert by_id["rejected"].tolist() == a.subjects["rejected"].tolist()


def test_stimulus_rated_only_by_rejected_subjects_keeps_its_ratings():
    """Screening leaves no accepted rating of 'z': its quality comes from all its ratings,
    flagged, never NaN."""
    rows = []
    for j, base in enumerate([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]):
        for s in ("s1", "s2", "s3"):
            rows.append((f"x{j}", s, base))
        rows.append((f"x{j}", "s4", 6 - base))
    rows.append(("z", "s4", 2))
    ratings = rd.Ratings.from_long(pd.DataFrame(rows, columns=["stimulus", "subject", "rating"]))
    res = rd.subjects.correlation_screening(ratings)
    rejected = set(res.subjects.loc[res.subjects["rejected"], "id"])
    assert rejected == {"s4"}
    z = res.stimuli.set_index("id").loc["z"]
    assert bool(z["unscreened"]) and z["n"] == 1 and z["quality"] == 2.0
    assert z["std"] == np.inf  # one rating, as in mos
    others = res.stimuli[res.stimuli["id"] != "z"]
    assert not others["unscreened"].any() and (others["n"] == 3).all()
    assert np.isfinite(others[["quality", "std", "ci_low", "ci_high"]].to_numpy()).all()
