"""Tests of ratingdist.datasets: the registry, loading, checksums. No test touches the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pooch
import pytest

from ratingdist import datasets
from ratingdist.data import RatingCounts


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace pooch.retrieve by a fake that records its calls and writes nothing."""
    calls: list[dict] = []

    def fake_retrieve(url: str, **kwargs: object) -> str:
        calls.append({"url": url, **kwargs})
        raise OSError("network disabled in tests")

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    return calls


def test_registry() -> None:
    assert datasets.available() == ("koniq10k", "vqeg-hdtv", "nflx-public", "vqeg-hd3")
    assert datasets.REGISTRY["koniq10k"].fname == "KonIQ-10k.csv"
    assert datasets.REGISTRY["vqeg-hdtv"].fname == "VQEG-HDTV.csv"
    assert datasets.REGISTRY["nflx-public"].fname == "NFLX_dataset_public_raw.py"
    assert datasets.REGISTRY["vqeg-hd3"].fname == "VQEGHD3_dataset_raw.py"
    for name in datasets.available():
        entry = datasets.REGISTRY[name]
        source = "UniStuttgart-VISUS/" if entry.kind == "counts" else "Netflix/sureal/"
        assert entry.url.startswith("https://raw.githubusercontent.com/" + source)
        assert entry.url.endswith("/" + entry.fname)
        assert len(entry.sha256) == 64
    assert "KonIQ-10k" in datasets.citation("koniq10k")
    assert "Video Quality Experts Group" in datasets.citation("vqeg-hdtv")


@pytest.mark.parametrize("call", [datasets.load, datasets.path, datasets.citation])
def test_unknown_name(call) -> None:
    known = "koniq10k, vqeg-hdtv, nflx-public, vqeg-hd3"
    with pytest.raises(ValueError, match=rf"unknown dataset 'koniq'; .* {known}"):
        call("koniq")


def test_koniq(koniq: RatingCounts) -> None:
    assert len(koniq) == 10_073 and koniq.K == 5
    assert koniq.counts.shape == (10_073, 5)
    assert koniq.ids[0] == "10004473376.jpg"
    assert koniq.counts[0].tolist() == [0, 0, 25, 73, 7]
    raw = pd.read_csv(datasets.path("koniq10k"))
    assert koniq.ids.tolist() == raw["image_name"].tolist()
    assert koniq.n_ratings.tolist() == raw["c_total"].tolist()
    assert np.array_equal(koniq.counts, raw[[f"c{k}" for k in range(1, 6)]].to_numpy())


def test_vqeg(vqeg: RatingCounts) -> None:
    assert len(vqeg) == 864 and vqeg.K == 5
    assert vqeg.ids.dtype == np.int64
    assert vqeg.ids[0] == 1000
    assert vqeg.counts[0].tolist() == [0, 0, 0, 10, 14]
    raw = pd.read_csv(datasets.path("vqeg-hdtv"))
    assert vqeg.ids.tolist() == raw["PVS_id"].astype(int).tolist()
    assert np.array_equal(vqeg.n_ratings, raw[[f"n{k}" for k in range(1, 6)]].sum(axis=1))
    assert set(vqeg.n_ratings.tolist()) == {24}


def _copy(name: str, folder: Path) -> Path:
    """Copy dataset ``name``'s file (already found by its fixture) into ``folder``."""
    return Path(shutil.copy(datasets.path(name), folder / datasets.REGISTRY[name].fname))


def test_wrong_checksum(vqeg, tmp_path: Path, monkeypatch, no_network) -> None:
    copy = _copy("vqeg-hdtv", tmp_path)
    data = bytearray(copy.read_bytes())
    data[-2] = ord("5") if data[-2] != ord("5") else ord("6")
    copy.write_bytes(bytes(data))
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    expected = datasets.REGISTRY["vqeg-hdtv"].sha256
    with pytest.raises(ValueError, match=f"VQEG-HDTV.csv: sha256 [0-9a-f]{{64}} .*{expected}"):
        datasets.load("vqeg-hdtv")
    assert no_network == []


def test_local_copy_is_hashed_once_per_mtime(vqeg, tmp_path: Path, monkeypatch, no_network) -> None:
    copy = _copy("vqeg-hdtv", tmp_path)
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    assert datasets.path("vqeg-hdtv") == copy
    # same size and modification time: the cached hash is used, the change goes unseen
    stat = copy.stat()
    copy.write_bytes(copy.read_bytes().replace(b"1000.0", b"1009.0"))
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert datasets.path("vqeg-hdtv") == copy
    # a new modification time: hashed again, the change is caught
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(ValueError, match="does not match"):
        datasets.path("vqeg-hdtv")
    assert no_network == []


def test_fetch_when_not_local(tmp_path: Path, monkeypatch, no_network: list[dict]) -> None:
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / "cache" / project)
    with pytest.raises(OSError, match="network disabled"):
        datasets.path("koniq10k")
    entry = datasets.REGISTRY["koniq10k"]
    assert no_network == [
        {
            "url": entry.url,
            "known_hash": f"sha256:{entry.sha256}",
            "path": tmp_path / "cache" / "ratingdist",
            "fname": "KonIQ-10k.csv",
        }
    ]


def test_verified_cache_copy_needs_no_fetch(vqeg, tmp_path: Path, monkeypatch, no_network) -> None:
    cache = tmp_path / "ratingdist"
    cache.mkdir()
    copy = _copy("vqeg-hdtv", cache)
    monkeypatch.delenv(datasets.DATA_DIR_ENV)
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / project)
    assert datasets.path("vqeg-hdtv") == copy
    assert no_network == []


def test_a_data_dir_without_the_file_is_an_error_naming_both(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    expected = rf"RATINGDIST_DATA_DIR={tmp_path} has no KonIQ-10k.csv"
    with pytest.raises(FileNotFoundError, match=expected):
        datasets.load("koniq10k")


def test_unknown_names_suggest_the_nearest():
    with pytest.raises(ValueError, match="unknown dataset 'koniq'; did you mean 'koniq10k'"):
        datasets.load("koniq")
    with pytest.raises(ValueError, match=r"unknown dataset 'zzz'; the known datasets are"):
        datasets.load("zzz")


def test_a_relative_data_dir_is_made_absolute_for_child_processes(tmp_path):
    code = (
        "import os, subprocess, sys, ratingdist\n"
        "print(os.environ['RATINGDIST_DATA_DIR'])\n"
        "out = subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ[\"RATINGDIST_DATA_DIR\"])'], cwd='/', "
        "capture_output=True, text=True).stdout\n"
        "print(out.strip())\n"
    )
    (tmp_path / "data").mkdir()
    env = {**os.environ, datasets.DATA_DIR_ENV: "data",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str((tmp_path / "data").resolve())] * 2
