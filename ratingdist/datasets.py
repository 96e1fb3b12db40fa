"""Public rating datasets: a registry of count files, fetched and checksum-verified on demand.

A dataset is found, in this order:

1. in the folder named by the environment variable ``RATINGDIST_DATA_DIR``, if it is set: its
   sha256 is verified and no network is used; a folder that lacks the file is an error (no
   silent download when a folder was named). A relative path is resolved once, against the
   working directory of the process that imported this module, and written back to the
   environment as an absolute path, so that child processes and notebook kernels started
   elsewhere find the same folder;
2. in the user cache (``pooch.os_cache("ratingdist")``), if a verified copy is there;
3. otherwise it is downloaded into the user cache with :func:`pooch.retrieve`, which verifies the
   checksum.

Hashes of local files are computed at most once per process for each path and modification
time, so repeated loading stays fast.

Examples
--------
>>> available()
('koniq10k', 'vqeg-hdtv', 'nflx-public', 'vqeg-hd3')
>>> counts = load("vqeg-hdtv")  # doctest: +SKIP
>>> counts, counts.ids[0]  # doctest: +SKIP
(RatingCounts(n=864, K=5, ratings=20736), np.int64(1000))
>>> load("nflx-public")  # doctest: +SKIP
Ratings(stimuli=79, subjects=26, ratings=2054, K=5, repetitions=1)
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pooch

from ratingdist._datadir import DATA_DIR_ENV, resolve_data_dir
from ratingdist.data import RatingCounts
from ratingdist.ratings import Ratings

resolve_data_dir()

_SOURCE = (
    "https://raw.githubusercontent.com/UniStuttgart-VISUS/"
    "maximum-entropy-and-quantized-metric-models-for-absolute-category-ratings/main/"
)
_REFERENCE_STUDY = (
    "Count file from the supplemental material of: D. Saupe, K. Rusek, D. Hägele, "
    'D. Weiskopf, L. Janowski, "Maximum entropy and quantized metric models for absolute '
    'category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.'
)


_SUREAL = "https://raw.githubusercontent.com/Netflix/sureal/master/resource/dataset/"
_SUREAL_PAPERS = (
    'Z. Li, C. G. Bampis, "Recover subjective quality scores from noisy measurements", Data '
    "Compression Conference 2017; Z. Li, C. G. Bampis, L. Janowski, I. Katsavounidis, "
    '"A simple model for subject behavior in subjective experiments", Human Vision and '
    "Electronic Imaging 2020. Dataset file of Netflix sureal (Apache License 2.0)."
)


@dataclass(frozen=True)
class Dataset:
    """Where a dataset's file lives and how to read it.

    Attributes
    ----------
    fname : str
        File name, in ``RATINGDIST_DATA_DIR`` and in the cache.
    url : str
        Public download address.
    sha256 : str
        Checksum of the file (hex).
    citation : str
        What to cite when the data are used.
    id_column : str or None
        Column of stimulus ids (count tables).
    count_columns : tuple of str
        Count columns, ratings 1..K (count tables).
    total_column : str or None
        Column of totals checked against the counts.
    kind : {"counts", "sureal"}
        A count table (loaded as :class:`~ratingdist.data.RatingCounts`) or a sureal dataset
        file of individual ratings (loaded as :class:`~ratingdist.ratings.Ratings`).
    """

    fname: str
    url: str
    sha256: str
    citation: str
    id_column: str | None = None
    count_columns: tuple[str, ...] = ()
    total_column: str | None = None
    kind: str = "counts"


#: The known datasets by name.
REGISTRY: dict[str, Dataset] = {
    "koniq10k": Dataset(
        fname="KonIQ-10k.csv",
        url=_SOURCE + "KonIQ-10k.csv",
        sha256="23c6090f9ff2c0c9bc7097b4ffcbd3a8a9c529ff4f8270a056e68c4062af0b64",
        citation=(
            'V. Hosu, H. Lin, T. Sziranyi, D. Saupe, "KonIQ-10k: An ecologically valid '
            'database for deep learning of blind image quality assessment", IEEE TIP 29 '
            "(2020) 4041–4056.\n" + _REFERENCE_STUDY
        ),
        id_column="image_name",
        count_columns=("c1", "c2", "c3", "c4", "c5"),
        total_column="c_total",
    ),
    "vqeg-hdtv": Dataset(
        fname="VQEG-HDTV.csv",
        url=_SOURCE + "VQEG-HDTV.csv",
        sha256="0ec95be4fda5b14a8d7bb17ab2ef080a7361ef125629e22f8d1f034d51bc6854",
        citation=(
            'Video Quality Experts Group, "Report on the validation of video quality models '
            'for high definition video content" (2010).\n' + _REFERENCE_STUDY
        ),
        id_column="PVS_id",
        count_columns=("n1", "n2", "n3", "n4", "n5"),
    ),
    "nflx-public": Dataset(
        fname="NFLX_dataset_public_raw.py",
        url=_SUREAL + "NFLX_dataset_public_raw.py",
        sha256="27d2f870308c75b56a43b7c98c0852a2d378b64788d6be58b9a74f622d5b268e",
        citation="Netflix public dataset: " + _SUREAL_PAPERS,
        kind="sureal",
    ),
    "vqeg-hd3": Dataset(
        fname="VQEGHD3_dataset_raw.py",
        url=_SUREAL + "VQEGHD3_dataset_raw.py",
        sha256="98702a34d87e00d43d031f3cfa43de957e5f28b022170ea7dc60239adaafafcd",
        citation=(
            'VQEG HD3 (Video Quality Experts Group, "Report on the validation of video quality '
            'models for high definition video content", 2010): ' + _SUREAL_PAPERS
        ),
        kind="sureal",
    ),
}


def available() -> tuple[str, ...]:
    """Names of the known datasets.

    Examples
    --------
    >>> available()
    ('koniq10k', 'vqeg-hdtv', 'nflx-public', 'vqeg-hd3')
    """
    return tuple(REGISTRY)


def citation(name: str) -> str:
    """What to cite when using dataset ``name``.

    Examples
    --------
    >>> citation("koniq10k").splitlines()[0][:30]
    'V. Hosu, H. Lin, T. Sziranyi, '
    """
    return _entry(name).citation


def path(name: str) -> Path:
    """Local path of dataset ``name``'s file, downloaded into the user cache if needed.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If ``name`` is unknown, or the file in ``RATINGDIST_DATA_DIR`` fails its checksum.
    FileNotFoundError
        If ``RATINGDIST_DATA_DIR`` is set and its folder lacks the file.

    Examples
    --------
    >>> path("koniq10k").name  # doctest: +SKIP
    'KonIQ-10k.csv'
    """
    entry = _entry(name)
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        local = Path(data_dir).expanduser() / entry.fname
        if not local.is_file():
            raise FileNotFoundError(
                f"{DATA_DIR_ENV}={data_dir} has no {entry.fname}; put the file there, or unset "
                f"{DATA_DIR_ENV} to download it into the user cache"
            )
        found = _sha256(local)
        if found != entry.sha256:
            raise ValueError(
                f"{local}: sha256 {found} does not match the expected {entry.sha256} for "
                f"{entry.fname}; replace this copy in {DATA_DIR_ENV}"
            )
        return local
    cache = Path(pooch.os_cache("ratingdist"))
    cached = cache / entry.fname
    if cached.is_file() and _sha256(cached) == entry.sha256:
        return cached
    with _quiet_pooch():
        fetched = pooch.retrieve(
            entry.url, known_hash=f"sha256:{entry.sha256}", path=cache, fname=entry.fname
        )
    return Path(fetched)


def load(name: str) -> RatingCounts | Ratings:
    """Load dataset ``name``: counts per stimulus, or individual ratings per subject.

    Parameters
    ----------
    name : str
        One of :func:`available`: ``"koniq10k"`` (10,073 images, about 100 crowdsourced ratings
        each, ids are file names) or ``"vqeg-hdtv"`` (864 videos, 24 lab ratings each, integer
        ids) as :class:`~ratingdist.data.RatingCounts`; ``"nflx-public"`` (79 videos, 26
        subjects) or ``"vqeg-hd3"`` (72 videos, 24 subjects), sureal dataset files, as
        :class:`~ratingdist.ratings.Ratings` (stimulus ids are sureal's ``asset_id``, contents
        its ``content_id``).

    Returns
    -------
    RatingCounts or Ratings

    Raises
    ------
    ValueError
        If ``name`` is unknown or the file fails its checksum.

    Examples
    --------
    >>> load("koniq10k")  # doctest: +SKIP
    RatingCounts(n=10073, K=5, ratings=1078154)
    """
    entry = _entry(name)
    if entry.kind == "sureal":
        return Ratings.from_sureal(path(name))
    return RatingCounts.from_table(
        path(name),
        columns=list(entry.count_columns),
        id_column=entry.id_column,
        total_column=entry.total_column,
    )


def _entry(name: str) -> Dataset:
    try:
        return REGISTRY[name]
    except KeyError:
        nearest = difflib.get_close_matches(str(name).lower(), REGISTRY, n=1, cutoff=0.5)
        hint = f"did you mean {nearest[0]!r}? " if nearest else ""
        raise ValueError(
            f"unknown dataset {name!r}; {hint}the known datasets are {', '.join(REGISTRY)}"
        ) from None


def _sha256(file: Path) -> str:
    """sha256 (hex) of a file, computed once per path, modification time and size."""
    stat = file.stat()
    return _hash_file(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _hash_file(file: str, mtime_ns: int, size: int) -> str:
    """sha256 of ``file``; ``mtime_ns`` and ``size`` only key the cache."""
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Silence pooch's download messages: the library prints nothing."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
