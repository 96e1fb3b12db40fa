"""The ``ratingdist`` command: every subcommand on both datasets, clear errors on bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

import ratingdist as rd
from ratingdist.cli import main

#: KonIQ-10k image 10004473376.jpg (notes.md §1.5).
EXAMPLE_ID, EXAMPLE = "10004473376.jpg", [0, 0, 25, 73, 7]


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``python -m ratingdist.cli ARGS`` in a fresh process (the environment is inherited)."""
    out = subprocess.run(
        [sys.executable, "-m", "ratingdist.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=600,
    )
    assert "Traceback" not in out.stderr, out.stderr
    return out


def assert_one_line_error(out: subprocess.CompletedProcess, *fragments: str) -> None:
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ratingdist: error: "), out.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def assert_image(path, min_ink: float = 0.03) -> None:
    pixels = image.imread(path)[..., :3]
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert (pixels < 0.98).any(axis=-1).mean() > min_ink


@pytest.fixture
def count_table(tmp_path):
    path = tmp_path / "counts.csv"
    pd.DataFrame({"id": ["img", "other", "flat"], "c1": [0, 5, 0], "c2": [0, 13, 0],
                  "c3": [25, 6, 12], "c4": [73, 0, 12], "c5": [7, 0, 0]}).to_csv(path, index=False)
    return path


# -- compare and fit -------------------------------------------------------------------------
@pytest.mark.data
def test_compare_prints_one_row_per_family(vqeg, capsys):
    assert main(["compare", "vqeg-hdtv", "--families", "normal", "gsd"]) == 0
    out = capsys.readouterr().out
    assert "vqeg-hdtv: 864 stimuli, 20736 ratings" in out
    assert "normal" in out and "gsd" in out and "logistic" not in out


@pytest.mark.data
def test_compare_on_koniq_ranks_logit_logistic_first(koniq):
    out = run("compare", "koniq10k", "--families", "gsd", "logit-logistic", "beta")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "koniq10k: 10073 stimuli, 1078154 ratings, bounds=natural"
    assert [line.split()[0] for line in lines[2:]] == ["logit-logistic", "beta", "gsd"]
    assert out.stderr == ""  # no progress bar when stderr is not a terminal


@pytest.mark.data
def test_compare_writes_a_table_with_reference_bounds(vqeg, tmp_path):
    path = tmp_path / "compare.csv"
    assert main(["compare", "vqeg-hdtv", "--bounds", "reference", "-o", str(path)]) == 0
    table = pd.read_csv(path)
    assert table["family"].iloc[0] == "beta" and len(table) == 7
    expected = rd.compare(rd.fit_all(vqeg, bounds="reference"))
    assert np.allclose(table["aic"], expected["aic"])


@pytest.mark.data
def test_fit_writes_a_table(vqeg, tmp_path):
    path = tmp_path / "fits.csv"
    assert main(["fit", "vqeg-hdtv", "--families", "maxent", "-o", str(path)]) == 0
    table = pd.read_csv(path)
    assert len(table) == 864 and set(table["family"]) == {"maxent"}


@pytest.mark.data
def test_fit_writes_xlsx_and_parquet(vqeg, koniq, tmp_path):
    xlsx = tmp_path / "fits.xlsx"
    out = run("fit", "vqeg-hdtv", "--families", "beta", "gsd", "-o", str(xlsx))
    assert out.returncode == 0 and out.stdout.strip() == f"wrote 1728 rows to {xlsx}"
    table = pd.read_excel(xlsx)
    assert table.groupby("family").size().to_dict() == {"beta": 864, "gsd": 864}
    beta = rd.fit(vqeg, "beta")
    assert np.allclose(table.loc[table["family"] == "beta", "nll"], beta.nll)
    parquet = tmp_path / "fits.parquet"
    assert main(["fit", "koniq10k", "--families", "logit-logistic", "-o", str(parquet)]) == 0
    back = rd.FitResult.from_table(pd.read_parquet(parquet))
    assert len(back) == 10073 and back.summary["aic"] == pytest.approx(1875827.4043, abs=1e-3)


def test_fit_reads_count_tables_in_every_format(count_table, tmp_path):
    table = pd.read_csv(count_table)
    table.to_parquet(tmp_path / "counts.parquet", index=False)
    table.to_excel(tmp_path / "counts.xlsx", index=False)
    for source in (count_table, tmp_path / "counts.parquet", tmp_path / "counts.xlsx"):
        out = tmp_path / "fit.csv"
        assert main(["fit", str(source), "--families", "normal", "-o", str(out)]) == 0
        assert pd.read_csv(out)["id"].tolist() == ["img", "other", "flat"]


def test_progress_bar_on_request(count_table, capsys):
    assert main(["compare", str(count_table), "--families", "normal", "gsd", "--progress"]) == 0
    assert "fitting" in capsys.readouterr().err
    assert main(["compare", str(count_table), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


# -- qoe -----------------------------------------------------------------------------------
@pytest.mark.data
def test_qoe_latent_quantiles_of_the_worked_example(koniq):
    out = run("qoe", "koniq10k", "--family", "normal", "--stimuli", EXAMPLE_ID,
              "--quantile", "0.1", "0.5", "0.9", "--level-reached-by", "0.9", "--gob", "--pow")
    assert out.returncode == 0, out.stderr
    header, columns, row = out.stdout.splitlines()
    assert header.startswith("koniq10k: 1 stimuli, 105 ratings") and "latent quantiles" in header
    assert columns.split() == ["id", "n", "mos", "quantile_0.1", "quantile_0.5", "quantile_0.9",
                               "level_reached_by_0.9", "gob", "pow"]
    values = row.split()
    assert values[:3] == [EXAMPLE_ID, "105", "3.8286"]
    assert [round(float(v), 2) for v in values[3:7]] == [3.25, 3.82, 4.40, 3.25]  # notes §1.5


@pytest.mark.data
def test_qoe_table_for_all_stimuli(vqeg, tmp_path):
    path = tmp_path / "qoe.parquet"
    assert main(["qoe", "vqeg-hdtv", "-o", str(path)]) == 0
    table = pd.read_parquet(path)
    res = rd.fit(vqeg, "logit-logistic")
    assert table.columns.tolist() == ["id", "n", "mos", "quantile_0.1", "quantile_0.5",
                                      "quantile_0.9", "gob", "pow"]
    assert table["id"].tolist() == vqeg.ids.tolist()
    assert np.allclose(table["quantile_0.1"], rd.qoe.quantile(res, 0.1))
    assert np.allclose(table["gob"], rd.qoe.gob(res))
    assert np.allclose(table["mos"], rd.qoe.mos(vqeg))


@pytest.mark.data
def test_qoe_category_quantiles_of_a_discrete_family(vqeg):
    out = run("qoe", "vqeg-hdtv", "--family", "gsd", "--kind", "category", "--stimuli", "1001",
              "1000", "--level-reached-by", "0.9", "--share-reaching", "3")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[2:]]
    assert [r[0] for r in rows] == ["1001", "1000"]
    res = rd.fit(vqeg[[1, 0]], "gsd")
    expected = rd.qoe.level_reached_by(res, 0.9, kind="category")
    assert [float(r[3]) for r in rows] == expected.tolist()


# -- plot ----------------------------------------------------------------------------------
@pytest.mark.data
def test_plot_main_figure_on_koniq(koniq, tmp_path):
    path = tmp_path / "gtest.png"
    out = run("plot", "gtest-cdf", "koniq10k", "-o", str(path), "--dpi", "80")
    assert out.returncode == 0 and out.stdout.strip() == f"wrote {path}"
    assert_image(path)


@pytest.mark.data
@pytest.mark.parametrize(
    "args",
    [
        ["gtest-cdf", "vqeg-hdtv", "--bounds", "reference"],
        ["psi-v", "vqeg-hdtv", "--families", "beta", "gsd", "--full-region"],
        ["observed-vs-fitted", "vqeg-hdtv", "--stimuli", "1001", "1002"],
        ["pp", "vqeg-hdtv", "--alpha", "0.1"],
        ["latent-density", "vqeg-hdtv", "--family", "beta", "--stimuli", "1001", "1002"],
        ["model-difference", "normal", "maxent", "--grid", "40"],
        ["model-difference", "normal", "beta", "gsd", "--metric", "aitchison", "--grid", "30"],
    ],
    ids=lambda a: "-".join(a[:2]),
)
def test_plot_every_kind(vqeg, tmp_path, args):
    path = tmp_path / "figure.png"
    assert main(["plot", *args, "-o", str(path), "--dpi", "60"]) == 0
    assert_image(path)


@pytest.mark.data
def test_plot_latent_density_in_a_fresh_process(vqeg, tmp_path):
    path = tmp_path / "density.pdf"
    out = run("plot", "latent-density", "vqeg-hdtv", "--stimuli", "1001", "-o", str(path))
    assert out.returncode == 0 and path.read_bytes().startswith(b"%PDF")


# -- evaluate --------------------------------------------------------------------------------
@pytest.mark.data
def test_evaluate_prints_the_summary_and_writes_tables(vqeg, tmp_path):
    summary, per_stimulus = tmp_path / "summary.csv", tmp_path / "stimuli.parquet"
    out = run("evaluate", "vqeg-hdtv", "--families", "beta", "--train-sizes", "5", "--repeats",
              "2", "--methods", "mle", "posterior", "--per-stimulus", str(per_stimulus))
    assert out.returncode == 0
    assert "vqeg-hdtv: 864 stimuli" in out.stdout and "beta/posterior" in out.stdout
    assert "best family predictor per train size" in out.stdout
    assert main(["evaluate", "vqeg-hdtv", "--families", "beta", "--train-sizes", "5",
                 "--repeats", "2", "--methods", "mle", "posterior", "-o", str(summary)]) == 0
    table = pd.read_csv(summary)
    expected = rd.evaluation.predictive_experiment(
        vqeg, ["beta"], [5], repeats=2, methods=["mle", "posterior"]
    ).summary
    np.testing.assert_allclose(table["mean_nll"], expected["mean_nll"], rtol=1e-12)
    stimuli = pd.read_parquet(per_stimulus)
    assert len(stimuli) == 864 * len(expected) and set(stimuli["train_size"]) == {5}


@pytest.mark.data
def test_evaluate_bad_arguments(vqeg):
    assert_one_line_error(run("evaluate", "vqeg-hdtv", "--train-sizes", "30"),
                          "no stimulus has more than 30 ratings")
    assert_one_line_error(run("evaluate", "vqeg-hdtv", "-o", "summary.txt"), "--output must end")
    assert run("evaluate", "vqeg-hdtv", "--train-sizes", "0").returncode == 2



# -- bad input -------------------------------------------------------------------------------
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "missing.csv")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("id,c1,c2,c3\na,1,-2,3\n")
    assert main(["compare", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "column 'c2'" in err[1]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["compare", "nosuch"], ["'nosuch' is neither a dataset"]),
        (["compare", "{dir}/binary.csv"], ["binary.csv: cannot read it", "UnicodeDecodeError"]),
        (["compare", "{dir}/empty.csv"], ["empty.csv: cannot read it"]),
        (["compare", "{dir}/broken.xlsx"], ["broken.xlsx: cannot read it"]),
        (["compare", "{dir}/nocounts.csv"], ["no count columns"]),
        (["fit", "{counts}", "-o", "{dir}/out.json"], ["--output must end in .csv"]),
        (["qoe", "{counts}", "--stimuli", "img", "nope"], ["unknown stimulus id 'nope'"]),
        (["qoe", "{counts}", "--family", "gsd", "--quantile", "0.1"],
         ["gsd family has no continuous latent quality", "--kind category"]),
        (["plot", "latent-density", "{counts}", "--family", "maxent", "--stimuli", "img",
          "-o", "{dir}/x.png"], ["maxent family has no continuous latent quality"]),
        (["plot", "latent-density", "{counts}", "--stimuli", "flat", "-o", "{dir}/x.png"],
         ["is a limit"]),
        (["plot", "gtest-cdf", "{counts}", "-o", "{dir}/x.docx"], ["--output must end in"]),
        (["plot", "gtest-cdf", "{counts}", "-o", "{dir}/no/such/dir/x.png"],
         ["No such file or directory"]),
        (["plot", "model-difference", "gsd", "-o", "{dir}/x.png"], ["at least two families"]),
    ],
)
def test_bad_input_gives_one_line(tmp_path, count_table, args, fragments, capsys):
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\xff\xfe")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    (tmp_path / "nocounts.csv").write_text("x,y\n1,2\n")
    argv = [a.format(dir=tmp_path, counts=count_table) for a in args]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ratingdist: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_bad_input_in_a_fresh_process(tmp_path, count_table):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,c1,c2,c3\na,1,x,3\n")
    assert_one_line_error(run("fit", str(bad), "-o", str(tmp_path / "f.csv")), "bad.csv", "'c2'")
    assert_one_line_error(run("compare", str(tmp_path / "missing.csv")), "missing.csv")
    assert_one_line_error(
        run("plot", "observed-vs-fitted", str(count_table), "--stimuli", "x", "-o",
            str(tmp_path / "f.png")),
        "unknown stimulus id 'x'",
    )


@pytest.mark.data
def test_unknown_stimulus_of_a_dataset(vqeg):
    assert_one_line_error(run("qoe", "vqeg-hdtv", "--stimuli", "1000", "99999"),
                          "unknown stimulus id '99999'", "ids look like 1000, 1001, 1002")


@pytest.mark.parametrize(
    "args",
    [
        ["compare"],
        ["frobnicate", "koniq10k"],
        ["compare", "koniq10k", "--families", "weibull"],
        ["qoe", "koniq10k", "--quantile", "1.5"],
        ["plot", "pp", "koniq10k", "--alpha", "0", "-o", "x.png"],
        ["plot", "observed-vs-fitted", "koniq10k", "-o", "x.png"],  # --stimuli is required
        ["plot", "heatmap", "koniq10k", "-o", "x.png"],
    ],
)
def test_argument_errors_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ratingdist") and "error:" in err


def test_console_script_runs():
    out = run("--help")
    assert out.returncode == 0
    assert all(cmd in out.stdout for cmd in ("compare", "fit", "qoe", "plot"))
    out = run("plot", "--help")
    assert out.returncode == 0 and "model-difference" in out.stdout
