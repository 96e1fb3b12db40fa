"""The ``ratingdist`` command: compare and fit on a dataset, clear errors on bad input."""

import subprocess
import sys

import pandas as pd
import pytest

from ratingdist.cli import main


@pytest.mark.data
def test_compare_prints_one_row_per_family(vqeg, capsys):
    assert main(["compare", "vqeg-hdtv", "--families", "normal", "gsd"]) == 0
    out = capsys.readouterr().out
    assert "vqeg-hdtv: 864 stimuli, 20736 ratings" in out
    assert "normal" in out and "gsd" in out and "logistic" not in out


@pytest.mark.data
def test_fit_writes_a_table(vqeg, tmp_path):
    path = tmp_path / "fits.csv"
    assert main(["fit", "vqeg-hdtv", "--families", "maxent", "-o", str(path)]) == 0
    table = pd.read_csv(path)
    assert len(table) == 864 and set(table["family"]) == {"maxent"}


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "missing.csv")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("id,c1,c2,c3\na,1,-2,3\n")
    assert main(["compare", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "column 'c2'" in err[1]


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "ratingdist.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "compare" in out.stdout
