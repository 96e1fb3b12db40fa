"""Shared fixtures: the public datasets, loaded once per session; the hypothesis profiles.

Hypothesis runs derandomized on CI (profile ``ci``: a fixed seed per test, no example database)
and randomized locally (profile ``dev``); ``HYPOTHESIS_PROFILE`` overrides the choice. Every
example that hypothesis finds is kept as an explicit test (``@example`` or a plain test).

The data are found through ``RATINGDIST_DATA_DIR`` (a folder holding the data files) or, when that
is unset, fetched into the user cache. Missing data skip the tests that need them, except on CI
(``CI`` set to anything but ``""``, ``"0"`` or ``"false"``), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from ratingdist import datasets
from ratingdist.data import RatingCounts
from ratingdist.ratings import Ratings


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _on_ci() else "dev"))


def _load(name: str) -> RatingCounts | Ratings:
    """Load dataset ``name``; skip (fail on CI) if it cannot be found."""
    data_dir = os.environ.get(datasets.DATA_DIR_ENV)
    fname = datasets.REGISTRY[name].fname
    if data_dir:
        if (Path(data_dir).expanduser() / fname).is_file():
            return datasets.load(name)
        problem = f"{fname} is not in {datasets.DATA_DIR_ENV}={data_dir}"
    else:
        try:
            return datasets.load(name)
        except (OSError, ValueError) as exc:  # network errors are OSErrors
            problem = f"{datasets.DATA_DIR_ENV} is unset and fetching {fname} failed ({exc})"
    message = (
        f"dataset {name!r} not found: {problem}; set {datasets.DATA_DIR_ENV} to a folder holding "
        f"{fname}"
    )
    if _on_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def koniq() -> RatingCounts:
    """KonIQ-10k: 10,073 images, c1..c5."""
    return _load("koniq10k")


@pytest.fixture(scope="session")
def vqeg() -> RatingCounts:
    """VQEG HDTV: 864 videos, 24 ratings each."""
    return _load("vqeg-hdtv")


@pytest.fixture(scope="session")
def nflx() -> Ratings:
    """Netflix public dataset (sureal file): 79 videos × 26 subjects, individual ratings."""
    return _load("nflx-public")


@pytest.fixture(scope="session")
def vqeg_hd3() -> Ratings:
    """VQEG HD3 (sureal file): 72 videos × 24 subjects, individual ratings."""
    return _load("vqeg-hd3")
