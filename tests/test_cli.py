"""The ``ratingdist`` command: every subcommand on both datasets, clear errors on bad input."""

from __future__ import annotations

import contextlib
import io
import json
import re
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


#: ``ratingdist SUB: error: ...``, SUB being the subcommand (``plot pp``) or nothing.
ERROR_LINE = re.compile(r"ratingdist( [a-z-]+)*: error: \S.*")


def assert_one_line_error(out: subprocess.CompletedProcess, *fragments: str) -> None:
    assert out.returncode == 2
    assert_one_line(out.stderr, *fragments)


def assert_one_line(stderr: str, *fragments: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and ERROR_LINE.fullmatch(lines[0]), stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


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
class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


#: The note of a first fit that compiles the kernels.
COMPILING = "ratingdist: compiling kernels on first use (once, 10-30 s)...\n"


@pytest.mark.parametrize(("tty", "compiled", "note"), [
    (True, False, COMPILING), (True, True, ""), (False, False, ""), (False, True, ""),
])
def test_compile_note_only_on_a_terminal_and_only_before_the_cache_holds_the_kernels(
    count_table, monkeypatch, capsys, tty, compiled, note
):
    monkeypatch.setattr(rd.fitting, "kernels_compiled", lambda families: compiled)
    err = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["compare", str(count_table), "--families", "normal", "--no-progress"]) == 0
    assert err.getvalue() == note
    assert "normal" in capsys.readouterr().out


def test_first_fit_compiles_the_other_kernels_in_a_second_process(monkeypatch):
    from ratingdist import cli

    started = []
    monkeypatch.setattr(rd.fitting, "kernels_compiled", lambda families: False)
    monkeypatch.setattr(cli.subprocess, "Popen", lambda args, **kw: started.append(args) or 1)
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    assert cli._prepare_kernels(["normal", "beta", "maxent", "gsd"]) == 1
    # the GSD's kernels share the solver with the quantized families': compiled here
    assert started == [[sys.executable, "-m", "ratingdist.precompile", "maxent"]]
    assert cli._prepare_kernels(["maxent", "normal", "gsd"]) == 1
    assert started[-1][3:] == ["normal", "gsd"]
    assert cli._prepare_kernels(["gsd", "normal"]) is None  # one solver: nothing to share
    assert cli._prepare_kernels(["normal", "beta"]) is None
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 1)
    assert cli._prepare_kernels(["normal", "gsd"]) is None
    monkeypatch.setattr(rd.fitting, "kernels_compiled", lambda families: True)
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    assert cli._prepare_kernels(["normal", "gsd"]) is None
    assert len(started) == 2


def test_precompile_fits_the_probe_with_the_families_named():
    from ratingdist import precompile

    assert precompile.main(["maxent", "gsd"]) == 0
    assert rd.fitting.kernels_compiled(["maxent", "gsd"])


def test_kernels_compiled_after_a_fit_of_every_family():
    """Every fitting kernel has run in this process, so Numba's on-disk cache holds it."""
    rd.fit_all(np.array([[0, 1, 5, 3, 1], [2, 0, 0, 0, 7]]))
    assert rd.fitting.kernels_compiled()
    assert rd.fitting.kernels_compiled(["gsd", "beta"])


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
    back = rd.FitResult.from_table(table[table["family"] == "beta"])  # limits (∞) survive Excel
    assert back.limit.any() and np.array_equal(np.isinf(back.params), np.isinf(beta.params))
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
    assert_one_line(capsys.readouterr().err, *fragments)


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


# -- argument errors: one line, exit 2 ---------------------------------------------------------
BAD_ARGUMENTS = [
    ([], "ratingdist", "required: COMMAND"),
    (["frobnicate", "koniq10k"], "ratingdist", "invalid choice: 'frobnicate'"),
    (["compare"], "ratingdist compare", "required: SOURCE"),
    (["compare", "koniq10k", "--families", "weibull"], "ratingdist compare",
     "invalid choice: 'weibull'"),
    (["compare", "koniq10k", "--frobnicate"], "ratingdist compare",
     "unrecognized arguments: --frobnicate"),
    (["fit", "{counts}", "-o", "fits.json"], "ratingdist fit", "--output must end in .csv"),
    (["qoe", "koniq10k", "--quantile", "1.5"], "ratingdist qoe", "must lie in [0, 1]: '1.5'"),
    (["qoe", "{counts}", "--family", "gsd", "--quantile", "0.1"], "ratingdist qoe",
     "gsd family has no continuous latent quality"),
    (["compare", "{counts}", "-K", "0"], "ratingdist compare", "must be >= 1"),
    (["compare", "{counts}", "-K", "7"], "ratingdist compare", "has 5 categories, not -K 7"),
    (["evaluate", "koniq10k", "--repeats", "0"], "ratingdist evaluate", "must be >= 1"),
    (["evaluate", "{counts}", "-o", "-", "--per-stimulus", "-"], "ratingdist evaluate",
     "cannot both be -"),
    (["plot"], "ratingdist plot", "required: KIND"),
    (["plot", "heatmap", "koniq10k", "-o", "x.png"], "ratingdist plot", "invalid choice"),
    (["plot", "pp", "koniq10k", "--alpha", "0", "-o", "x.png"], "ratingdist plot pp",
     "strictly between 0 and 1"),
    (["plot", "observed-vs-fitted", "koniq10k", "-o", "x.png"],
     "ratingdist plot observed-vs-fitted", "required: --stimuli"),
    (["plot", "gtest-cdf", "{counts}", "-o", "-"], "ratingdist plot gtest-cdf",
     "--output must end in"),
    (["plot", "model-difference", "gsd", "-o", "x.png"], "ratingdist plot model-difference",
     "at least two families"),
]


@pytest.mark.parametrize(("args", "prog", "fragment"), BAD_ARGUMENTS,
                         ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_bad_argument_is_one_line_naming_the_help(args, prog, fragment, count_table, capsys):
    argv = [a.format(counts=count_table) for a in args]
    try:
        status = main(argv)  # errors found after parsing
    except SystemExit as exit_info:  # argparse's own
        status = exit_info.code
    assert status == 2
    captured = capsys.readouterr()
    line = assert_one_line(captured.err, fragment)
    assert line.startswith(f"{prog}: error: ") and line.endswith(f"(see {prog} --help)")
    assert captured.out == ""


def test_bad_arguments_in_a_fresh_process(tmp_path):
    out = run("compare", "koniq10k", "--families", "weibull", cwd=tmp_path)
    assert_one_line_error(out, "invalid choice: 'weibull'", "(see ratingdist compare --help)")
    assert out.stdout == ""
    out = run(cwd=tmp_path)
    assert_one_line_error(out, "(see ratingdist --help)")


# -- input errors: one line, exit 2 --------------------------------------------------------------
def test_unknown_dataset_name_suggests_the_nearest(capsys):
    assert main(["compare", "koniq"]) == 2
    assert_one_line(capsys.readouterr().err, "'koniq' is neither a dataset",
                    "did you mean koniq10k?")


@pytest.mark.parametrize(
    "error",
    [FileNotFoundError("/data/KonIQ-10k.csv: no such file in RATINGDIST_DATA_DIR=/data"),
     ValueError("/data/KonIQ-10k.csv: sha256 ... does not match"),
     KeyError("/data/KonIQ-10k.csv: no such file")],
)
def test_errors_of_the_dataset_loader_are_one_line(monkeypatch, capsys, error):
    def load(name):
        raise error

    monkeypatch.setattr(rd.datasets, "load", load)
    assert main(["compare", "koniq10k"]) == 2
    line = assert_one_line(capsys.readouterr().err, "/data/KonIQ-10k.csv")
    assert line.startswith("ratingdist compare: error: /data/KonIQ-10k.csv")  # no quotes


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "cannot read it"), ("id,c1,c2,c3\n", "no stimuli"), ("stimulus,rating\n", "no stimuli"),
     ("stimulus,rating\na,6\n", "rating 6 is outside 1..5"),
     ("stimulus,rating,subject\na,5,s1\na,4,s1\n", "subject 's1': rated twice"),
     ("image,video,rating\na,b,5\n", "'image' and 'video' could both be the stimulus column"),
     ("clip,rating\na,5\n", "need a stimulus column"),
     ("clip,grade\na,5\n", "no count columns c1..cK or n1..nK and no rating column")],
    ids=["empty", "header-only-counts", "header-only-long", "out-of-range", "rated-twice",
         "ambiguous", "no-stimulus", "no-rating"],
)
def test_bad_rating_files_are_one_line(tmp_path, capsys, content, fragment):
    path = tmp_path / "ratings.csv"
    path.write_text(content)
    assert main(["fit", str(path), "--families", "normal"]) == 2
    captured = capsys.readouterr()
    assert_one_line(captured.err, "ratings.csv", fragment)
    assert captured.out == ""


def test_csv_ids_are_read_as_written(tmp_path, capsys):
    counts = tmp_path / "counts.csv"
    counts.write_text("id,c1,c2,c3,c4,c5\n007,0,1,5,3,1\n010,2,4,3,1,0\n")
    out = tmp_path / "fit.csv"
    assert main(["fit", str(counts), "--families", "normal", "-o", str(out)]) == 0
    back = rd.FitResult.read_csv(out)
    assert back.counts.ids.tolist() == ["007", "010"]
    assert back.counts == rd.RatingCounts.from_table(counts)
    long = tmp_path / "long.csv"
    long.write_text("stimulus,rating\n007,5\n010,1\n007,4\n")
    capsys.readouterr()
    assert main(["fit", str(long), "--families", "gsd"]) == 0
    table = rd.FitResult.from_table(
        rd.read_csv_as_written(_text_file(tmp_path, capsys.readouterr().out))
    ).table
    assert table["id"].tolist() == ["007", "010"]


def test_a_ragged_csv_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "ragged.csv"
    path.write_text("id,c1,c2,c3\na,1,2,3,4\nb,1,1,1\n")
    assert main(["fit", str(path)]) == 2
    assert_one_line(capsys.readouterr().err, "line 2: 5 fields, but the header has 4")


def _text_file(folder, text: str):
    path = folder / "stdout.csv"
    path.write_text(text)
    return path


# -- stdout, version, help ------------------------------------------------------------------------
@pytest.mark.data
def test_fit_writes_csv_to_stdout_and_stops_quietly_at_a_closed_pipe(vqeg):
    out = subprocess.run(
        f"{sys.executable} -m ratingdist fit vqeg-hdtv --families normal gsd | head -n 3",
        shell=True, capture_output=True, text=True, timeout=600,
    )
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("id,family,bounds,c1,")
    assert lines[1].startswith("1000,normal,natural,0,0,0,10,14,")


def test_fit_without_output_prints_csv(count_table, capsys):
    assert main(["fit", str(count_table), "--families", "normal"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    table = pd.read_csv(pd.io.common.StringIO(captured.out))
    expected = rd.fit(rd.RatingCounts.from_table(count_table), "normal").table
    assert table["id"].tolist() == ["img", "other", "flat"]
    np.testing.assert_allclose(table["nll"], expected["nll"], rtol=1e-12)


def test_dash_writes_any_table_to_stdout(count_table, capsys):
    assert main(["compare", str(count_table), "--families", "normal", "gsd", "-o", "-"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert sorted(table["family"]) == ["gsd", "normal"]
    assert main(["qoe", str(count_table), "--family", "beta", "--stimuli", "img", "-o", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "id,n,mos,quantile_0.1,quantile_0.5,quantile_0.9,gob,pow")


def test_version(capsys):
    out = run("--version")
    assert out.returncode == 0 and out.stdout == f"ratingdist {rd.__version__}\n"
    assert out.stderr == ""


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "ratingdist", "--help"], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0
    assert all(cmd in out.stdout for cmd in ("compare", "fit", "qoe", "evaluate", "plot",
                                             "subjects"))
    out = run("plot", "--help")
    assert out.returncode == 0 and "model-difference" in out.stdout
    out = run("compare", "--help")
    assert "--stimulus-col" in out.stdout and "long-format" in out.stdout


def test_the_parser_imports_no_numerical_library():
    """``--help`` stays fast: building the parser imports nothing beyond ``import ratingdist``."""
    code = (
        "import sys, ratingdist; before = set(sys.modules); import ratingdist.cli as cli; "
        "cli._parser().format_help(); print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    new = eval(out.stdout)
    heavy = ("numpy", "pandas", "numba", "scipy", "matplotlib", "tqdm", "ratingdist.fitting",
             "ratingdist.data")
    assert not [m for m in new if m.split(".")[0] in heavy or m in heavy], new


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["compare", "--help"], ["fit", "--help"], ["qoe", "--help"],
     ["evaluate", "--help"], ["plot", "--help"], ["plot", "pp", "--help"]],
)
def test_help_and_version_import_no_numerical_library(args):
    """``python -m ratingdist --help`` (and every ``SUB --help``, ``--version``) loads neither
    numpy, pandas, scipy nor Numba: the package namespace is lazy and the subcommands import
    what they need when they run. ``-X importtime`` lists every module the process imports."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "ratingdist", *args],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout
    imported = {line.rpartition("|")[2].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    assert "ratingdist.cli" in imported
    heavy = {"numpy", "pandas", "scipy", "numba", "matplotlib", "tqdm"}
    assert not {m for m in imported if m.split(".")[0] in heavy}


def test_the_parser_knows_the_library_names():
    from ratingdist import cli

    assert cli._FAMILIES == rd.FAMILIES
    assert cli._QUANTIZED == tuple(f for f in rd.FAMILIES if rd.family(f).is_latent)
    assert cli._METHODS == rd.evaluation.METHODS
    assert cli._DATASETS == rd.datasets.available()
    names = {"correlation": "correlation_screening", "quantized": "fit"}
    assert all(callable(getattr(rd.subjects, names.get(m, m))) for m in cli._MODELS)


# -- long-format rating files ------------------------------------------------------------------
@pytest.fixture
def long_ratings(tmp_path):
    """Long-format ratings of three stimuli by up to six subjects, with the usual column names."""
    rng = np.random.default_rng(7)
    rows = [(f"clip{s}.mp4", f"obs{u}", int(rng.integers(1, 6))) for s in range(3)
            for u in range(6 - s)]
    path = tmp_path / "ratings_long.csv"
    pd.DataFrame(rows, columns=["Video_ID", "observer", "Score"]).to_csv(path, index=False)
    return path


def test_compare_reads_long_format_ratings(long_ratings, tmp_path):
    out = run("compare", str(long_ratings), "--families", "normal", "gsd", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0]
    assert header == (f"{long_ratings} (long format: stimulus 'Video_ID', rating 'Score', "
                      "subject 'observer'): 3 stimuli, 15 ratings, bounds=natural")
    assert sorted(line.split()[0] for line in out.stdout.splitlines()[2:]) == ["gsd", "normal"]


def test_every_subcommand_reads_long_format_ratings(long_ratings, tmp_path, capsys):
    table = pd.read_csv(long_ratings)
    expected = rd.RatingCounts.from_ratings(table, "Video_ID", "Score", "observer")
    fits = tmp_path / "fits.csv"
    assert main(["fit", str(long_ratings), "--families", "beta", "-o", str(fits)]) == 0
    written = pd.read_csv(fits)
    assert written["id"].tolist() == expected.ids.tolist()
    assert written[[f"c{k}" for k in range(1, 6)]].to_numpy().tolist() == expected.counts.tolist()
    assert main(["qoe", str(long_ratings), "--stimuli", "clip1.mp4"]) == 0
    assert "clip1.mp4" in capsys.readouterr().out
    assert main(["evaluate", str(long_ratings), "--families", "normal", "--train-sizes", "2",
                 "--repeats", "1", "--methods", "mle", "-o", str(tmp_path / "e.csv")]) == 0
    figure = tmp_path / "f.png"
    assert main(["plot", "observed-vs-fitted", str(long_ratings), "--stimuli", "clip0.mp4",
                 "--families", "normal", "-o", str(figure), "--dpi", "50"]) == 0
    assert_image(figure, min_ink=0.01)


def test_long_format_columns_and_scale_by_option(tmp_path, capsys):
    path = tmp_path / "lab.parquet"
    pd.DataFrame({"pvs": ["a", "a", "b"], "mos_vote": [7, 6, 1], "who": [1, 2, 1]}).to_parquet(path)
    argv = ["fit", str(path), "--families", "normal", "--rating-col", "mos_vote",
            "--subject-col", "who", "-K", "7"]
    assert main(argv) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert table[[f"c{k}" for k in range(1, 8)]].to_numpy().tolist() == [
        [0, 0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 0, 0, 0]]
    assert main(argv[:-2]) == 2  # on the default 1..5 scale a 7 is out of range
    assert_one_line(capsys.readouterr().err, "lab.parquet", "rating 7 is outside 1..5")


def test_count_columns_win_over_long_format_names(count_table, capsys):
    """A count table with an ``id`` column is not long format (``id`` is a stimulus name)."""
    assert main(["fit", str(count_table), "--families", "normal"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("img,normal,")


# -- subjects ----------------------------------------------------------------------------------
def run_subjects(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``python -m ratingdist subjects ARGS`` in a fresh process."""
    out = subprocess.run([sys.executable, "-m", "ratingdist", "subjects", *args],
                         capture_output=True, text=True, cwd=cwd, timeout=600)
    assert "Traceback" not in out.stderr, out.stderr
    return out


@pytest.fixture(scope="module")
def panel() -> rd.Ratings:
    """30 stimuli of 10 source contents rated by 8 subjects with biases and spreads, in long
    format with the usual column names; subject 'obs6' is rejected by P.913."""
    rng = np.random.default_rng(6)
    bias = np.array([0.6, 0.0, -0.5, 0.0, 0.2, -0.2, 0.0, 0.3])
    sd = np.array([0.4, 0.6, 1.0, 0.5, 0.5, 0.8, 0.8, 0.5])
    u = rng.uniform(1.5, 4.5, (30, 1)) + bias + rng.normal(0, sd, (30, 8))
    u = np.clip(np.rint(u), 1, 5).astype(int)
    long = pd.DataFrame({"PVS_id": np.repeat([f"pvs{j:02d}" for j in range(30)], 8),
                         "observer": np.tile([f"obs{i}" for i in range(8)], 30),
                         "vote": u.ravel(), "src": np.repeat(np.arange(30) // 3, 8)})
    return rd.Ratings.from_long(long, stimulus="PVS_id", subject="observer", rating="vote",
                                content="src")


@pytest.fixture
def panel_files(panel, tmp_path) -> dict[str, object]:
    """The panel as a long CSV (detected names), a wide CSV and a sureal JSON file."""
    frame = panel.to_frame()
    long = tmp_path / "long.csv"
    frame.rename(columns={"stimulus": "PVS_id", "subject": "observer", "rating": "vote",
                          "content": "src"}).to_csv(long, index=False)
    wide = tmp_path / "wide.csv"
    frame.pivot(index="stimulus", columns="subject", values="rating").rename_axis(
        columns=None).reset_index().rename(columns={"stimulus": "clip"}).to_csv(wide,
                                                                                 index=False)
    videos = [{"asset_id": str(s), "content_id": int(c),
               "os": {str(k): int(v) for k, v in zip(g["subject"], g["rating"])}}
              for (s, c), g in frame.groupby(["stimulus", "content"], sort=False)]
    sureal = tmp_path / "panel.json"
    sureal.write_text(json.dumps({"dis_videos": videos}))
    return {"long": long, "wide": wide, "sureal": sureal}


def assert_tables_equal(prefix, res) -> None:
    """PREFIX_stimuli.csv and PREFIX_subjects.csv hold the analysis' tables."""
    for name in ("stimuli", "subjects"):
        written = pd.read_csv(f"{prefix}_{name}.csv", dtype={"id": str})
        expected = getattr(res, name)
        assert written.columns.tolist() == expected.columns.tolist()
        assert written["id"].tolist() == [str(i) for i in expected["id"]]
        numbers = expected.drop(columns="id").astype(float)
        np.testing.assert_allclose(written[numbers.columns].astype(float), numbers, rtol=1e-12)


def test_subjects_prints_the_subject_table_of_a_long_file(panel, panel_files):
    out = run_subjects(str(panel_files["long"]), "--model", "p913")
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0] == (f"{panel_files['long']} (long format: stimulus 'PVS_id', rating 'vote', "
                        "subject 'observer', content 'src'): 30 stimuli, 8 subjects, 240 "
                        "ratings")
    assert lines[1] == "p913: ITU-T P.913 §12.4 bias removal and screening, then MOS"
    assert lines[2].split() == ["id", "n", "bias", "p", "q", "outlier_share", "asymmetry",
                                "rejected"]
    rows = [line.split() for line in lines[3:-1]]
    res = rd.subjects.p913(panel)
    assert [r[0] for r in rows] == res.subjects["id"].tolist()
    np.testing.assert_allclose([float(r[2]) for r in rows], res.subjects["bias"], atol=5e-5)
    assert [r[-1] for r in rows] == [str(v) for v in res.subjects["rejected"]]
    assert lines[-1] == "rejected subjects (1 of 8): obs6"


@pytest.mark.parametrize("layout", ["long", "wide", "sureal"])
def test_subjects_writes_the_tables_of_every_layout(panel, panel_files, layout, tmp_path,
                                                    capsys):
    prefix = tmp_path / f"out_{layout}"
    argv = ["subjects", str(panel_files[layout]), "-o", str(prefix)]
    if layout == "wide":
        argv.append("--wide")
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"wrote 30 rows to {prefix}_stimuli.csv",
                     f"wrote 8 rows to {prefix}_subjects.csv",
                     "rejected subjects: none (p910 keeps every subject)"]
    assert_tables_equal(prefix, rd.subjects.p910(panel))


def test_subjects_runs_every_model(panel, panel_files, tmp_path, capsys):
    long = str(panel_files["long"])
    calls = {
        "mos": (["--ci", "t", "--level", "0.9"], rd.subjects.mos(panel, ci="t", level=0.9)),
        "bt500": ([], rd.subjects.bt500(panel)),
        "correlation": (["--correlation-method", "srcc"],
                        rd.subjects.correlation_screening(panel, method="srcc")),
        "mle": ([], rd.subjects.mle(panel)),
    }
    for model, (options, expected) in calls.items():
        prefix = tmp_path / model
        assert main(["subjects", long, "--model", model, *options, "-o", str(prefix)]) == 0
        assert_tables_equal(prefix, expected)
    written = pd.read_csv(tmp_path / "mle_contents.csv")
    np.testing.assert_allclose(written["ambiguity"], calls["mle"][1].contents["ambiguity"],
                               rtol=1e-12)
    capsys.readouterr()
    assert main(["subjects", long, "--model", "mle", "--no-content-ambiguity"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    summary = rd.subjects.mle(panel, content_ambiguity=False).summary
    assert header.startswith("mle_co: maximum likelihood without content ambiguity")
    assert f"{summary['n_iterations']} iterations, converged" in header
    assert f"log-likelihood {summary['loglikelihood']:.4f}" in header


def test_subjects_quantized_model(panel, panel_files, tmp_path, capsys):
    long = str(panel_files["long"])
    expected = rd.subjects.fit(panel, family="logistic", level=0.9)
    assert main(["subjects", long, "--model", "quantized", "--latent", "logistic",
                 "--level", "0.9", "-o", str(tmp_path / "q")]) == 0
    assert_tables_equal(tmp_path / "q", expected)
    capsys.readouterr()
    assert main(["subjects", long, "--model", "quantized"]) == 0
    lines = capsys.readouterr().out.splitlines()
    res = rd.subjects.fit(panel)
    assert lines[1].startswith("quantized: quantized subject model")
    per_rating = -res.nll / res.n_ratings
    assert f"per rating: log-likelihood of the categories {per_rating:.4f}" in lines[1]
    assert [line.split()[0] for line in lines[3:-1]] == [str(i) for i in res.subjects["id"]]
    assert lines[-1] == "rejected subjects: none (quantized keeps every subject)"


def test_subjects_reads_columns_named_by_option(tmp_path, capsys):
    path = tmp_path / "lab.xlsx"
    pd.DataFrame({"clip": ["007", "007", "8", "8", "8"], "who": [1, 2, 1, 2, 2],
                  "grade": [7, 6, 1, 2, 3], "pass": [0, 0, 0, 0, 1]}).to_excel(path, index=False)
    assert main(["subjects", str(path), "--model", "mos", "--stimulus-col", "clip",
                 "--subject-col", "who", "--rating-col", "grade", "--repetition-col", "pass",
                 "-K", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("2 stimuli, 2 subjects, 5 ratings")
    assert "repetition 'pass'" in lines[0]
    assert lines[-1] == "rejected subjects: none (mos keeps every subject)"


def test_subjects_keeps_ids_as_written(tmp_path, capsys):
    path = tmp_path / "long.csv"
    path.write_text("video,subject,rating\n007,01,5\n007,02,4\n8,01,2\n8,02,1\n")
    assert main(["subjects", str(path), "--model", "bt500", "-o", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r_stimuli.csv").read_text().splitlines()[1].startswith("007,")
    assert (tmp_path / "r_subjects.csv").read_text().splitlines()[1].startswith("01,")


@pytest.mark.data
def test_subjects_screenings_of_nflx_public(nflx):
    out = run_subjects("nflx-public", "--model", "bt500")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "nflx-public: 79 stimuli, 26 subjects, 2054 ratings"
    assert len(lines) == 2 + 1 + 26 + 1
    assert lines[-1] == "rejected subjects (1 of 26): 2"
    out = run_subjects("nflx-public", "--model", "p913")
    assert out.stdout.splitlines()[-1] == "rejected subjects (4 of 26): 3 4 9 12"


@pytest.mark.data
def test_subjects_models_of_vqeg_hd3(vqeg_hd3, tmp_path):
    out = run_subjects("vqeg-hd3", "-o", str(tmp_path / "hd3"))
    assert out.returncode == 0, out.stderr
    assert_tables_equal(tmp_path / "hd3", rd.subjects.p910(vqeg_hd3))
    out = run_subjects("vqeg-hd3", "--model", "mle")
    lines = out.stdout.splitlines()
    res = rd.subjects.mle(vqeg_hd3)
    assert lines[1].startswith(f"mle: maximum likelihood with content ambiguity (Li & Bampis "
                               f"2017); {res.summary['n_iterations']} iterations, converged")
    rows = [line.split() for line in lines[3:-1]]
    np.testing.assert_allclose([float(r[6]) for r in rows], res.subjects["inconsistency"],
                               atol=5e-5)


SUBJECTS_ERRORS = [
    (["koniq10k"], "holds rating counts per stimulus", False),
    (["nflx"], "did you mean nflx-public?", False),
    (["{dir}/nosub.csv"], "need a subject column", False),
    (["{dir}/bad.json"], "bad.json: cannot read it as a sureal dataset file", False),
    (["{dir}/bad.py"], "bad.py: cannot read it as a sureal dataset file", False),
    (["{dir}/out_of_range.csv"], "rating 6 is outside 1..5", False),
    (["{long}", "-o", "{dir}/x.csv"], "--output takes a prefix", True),
    (["{long}", "--model", "p910", "--ci", "t"], "--ci is for mos", True),
    (["{long}", "--correlation-method", "srcc"], "needs --model correlation", True),
    (["{long}", "--content-ambiguity"], "need --model mle", True),
    (["{long}", "--latent", "logistic"], "--latent needs --model quantized", True),
    (["{long}", "--model", "quantized", "--ci", "t"], "quantized intervals are Wald", True),
    (["{dir}/nosub.csv", "--model", "mle", "--subject-col", "stimulus"],
     "gives no source content per stimulus", True),
    (["{wide}", "--wide", "--rating-col", "x"], "--wide reads one column per subject", True),
    (["{sureal}", "--wide"], "is a sureal dataset file", True),
    (["nflx-public", "-K", "7"], "nflx-public is a dataset", True),
    (["{long}", "--model", "p911"], "invalid choice: 'p911'", True),
    (["{long}", "--level", "1"], "strictly between 0 and 1", True),
]


@pytest.mark.parametrize(("args", "fragment", "usage"), SUBJECTS_ERRORS,
                         ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_subjects_errors_are_one_line(panel_files, tmp_path, args, fragment, usage, capsys):
    (tmp_path / "nosub.csv").write_text("stimulus,rating\na,5\nb,4\n")
    (tmp_path / "out_of_range.csv").write_text("stimulus,subject,rating\na,x,6\n")
    (tmp_path / "bad.json").write_text('{"dis_videos": [')
    (tmp_path / "bad.py").write_text("dis_videos = [\n")
    argv = ["subjects", *(a.format(dir=tmp_path, **panel_files) for a in args)]
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse's own
        status = exit_info.code
    assert status == 2
    captured = capsys.readouterr()
    line = assert_one_line(captured.err, fragment)
    assert line.startswith("ratingdist subjects: error: ")
    assert line.endswith("(see ratingdist subjects --help)") == usage
    assert captured.out == ""


def test_subjects_error_in_a_fresh_process(tmp_path):
    out = run_subjects(str(tmp_path / "missing.csv"))
    assert_one_line_error(out, "'", "missing.csv' is neither a dataset")
    out = run_subjects("nflx-public", "--model", "frobnicate")
    assert_one_line_error(out, "invalid choice", "(see ratingdist subjects --help)")


# -- adaptive ----------------------------------------------------------------------------------
@pytest.fixture
def grouped_study(tmp_path):
    """Two labs rating the same 12 stimuli (lab B uses the middle categories more), as a count
    table with a lab column and as long-format ratings."""
    from .test_adaptive import simulate

    counts = simulate(5, n=12, G=2, tau=[[1.5, 2.5, 3.5, 4.5], [1.2, 2.2, 3.8, 4.8]])
    ids = [f"s{j}" for j in range(12)]
    rows = [{"lab": lab, "id": i, **{f"c{k + 1}": int(counts[g, j, k]) for k in range(5)}}
            for g, lab in enumerate("AB") for j, i in enumerate(ids)]
    table = tmp_path / "grouped.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    long = [{"lab": lab, "stimulus": i, "rating": k + 1}
            for g, lab in enumerate("AB") for j, i in enumerate(ids)
            for k in range(5) for _ in range(int(counts[g, j, k]))]
    long_path = tmp_path / "long.csv"
    pd.DataFrame(long).to_csv(long_path, index=False)
    return counts, table, long_path


def test_adaptive_prints_thresholds_lapses_and_the_lr_test(grouped_study, capsys):
    counts, _, long_path = grouped_study
    assert main(["adaptive", str(long_path), "--groups", "lab", "--thresholds", "per-group",
                 "--lapse", "shared", "--family", "logistic"]) == 0
    out = capsys.readouterr().out
    res = rd.fit_adaptive(counts, "logistic", thresholds="per-group", lapse="shared")
    assert "12 stimuli, 600 ratings, 2 groups; logistic, thresholds=per-group, lapse=shared" in out
    lines = out.splitlines()
    start = lines.index("thresholds (95 % Wald intervals; pinned ones fix the latent axis):") + 2
    printed = [float(line.split()[2]) for line in lines[start:start + 8]]
    np.testing.assert_allclose(printed, res.thresholds["value"], atol=5e-5)
    assert [line.split()[0] for line in lines[start:start + 8]] == ["A"] * 4 + ["B"] * 4
    test = res.lr_test()
    assert f"statistic {test['statistic']:.4f}, df {int(test['df'])}" in out
    assert "lapse:" in out and "extreme-response propensity" in out
    assert f"{res.aic:.4f}" in out and f"{res.fixed().aic:.4f}" in out


def test_adaptive_writes_the_tables(grouped_study, tmp_path, capsys):
    counts, table, long_path = grouped_study
    prefix = tmp_path / "out"
    assert main(["adaptive", str(table), "--groups", "lab", "--thresholds", "per-group",
                 "-o", str(prefix)]) == 0
    res = rd.fit_adaptive(counts, thresholds="per-group")
    th = pd.read_csv(f"{prefix}_thresholds.csv")
    np.testing.assert_allclose(th["value"], res.thresholds["value"], rtol=1e-12)
    assert th["group"].tolist() == ["A"] * 4 + ["B"] * 4
    ext = pd.read_csv(f"{prefix}_extreme.csv")
    np.testing.assert_allclose(ext["value"], res.extreme_response()["value"], rtol=1e-12)
    models = pd.read_csv(f"{prefix}_models.csv")
    np.testing.assert_allclose(models["aic"], [res.fixed().aic, res.aic], rtol=1e-12)
    lr = pd.read_csv(f"{prefix}_lr_test.csv")
    assert lr["statistic"][0] == pytest.approx(res.lr_test()["statistic"], rel=1e-12)
    assert len(pd.read_csv(f"{prefix}_stimuli.csv")) == 12
    assert pd.read_csv(f"{prefix}_lapse.csv").empty
    # the long-format ratings of the same study give the same fit
    assert main(["adaptive", str(long_path), "--groups", "lab", "--thresholds", "per-group",
                 "-o", str(tmp_path / "long")]) == 0
    th_long = pd.read_csv(tmp_path / "long_thresholds.csv")
    np.testing.assert_allclose(th_long["value"], th["value"], rtol=1e-9)


def test_adaptive_logit_logistic_thresholds_on_zero_one(grouped_study, tmp_path):
    counts, table, _ = grouped_study
    prefix = tmp_path / "ll"
    assert main(["adaptive", str(table), "--groups", "lab", "--family", "logit-logistic",
                 "-o", str(prefix)]) == 0
    th = pd.read_csv(f"{prefix}_thresholds.csv")
    res = rd.fit_adaptive(counts, "logit-logistic")
    np.testing.assert_allclose(th["value"], res.thresholds["value"], rtol=1e-12)
    assert th["value"].iloc[0] == 0.2 and th["value"].iloc[-1] == 0.8


def test_adaptive_bootstrap_intervals(grouped_study, tmp_path, capsys):
    counts, table, _ = grouped_study
    prefix = tmp_path / "b"
    assert main(["adaptive", str(table), "--groups", "lab", "--lapse", "shared",
                 "--bootstrap", "20", "--seed", "2", "-o", str(prefix)]) == 0
    boot = rd.fit_adaptive(counts, lapse="shared").bootstrap(20, seed=2)
    th = pd.read_csv(f"{prefix}_bootstrap_thresholds.csv")
    np.testing.assert_allclose(th["ci_high"], boot.thresholds["ci_high"], rtol=1e-12)
    la = pd.read_csv(f"{prefix}_bootstrap_lapse.csv")
    np.testing.assert_allclose(la["ci_high"], boot.lapse["ci_high"], rtol=1e-12)
    assert main(["adaptive", str(table), "--groups", "lab", "--bootstrap", "20"]) == 0
    assert "parametric bootstrap (20 of 20 studies refitted, seed 0" in capsys.readouterr().out
    assert main(["adaptive", str(table), "--groups", "lab", "--bootstrap", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "n_boot must be a whole number >= 20" in err[0]


@pytest.mark.data
def test_adaptive_vqeg_experiments_as_groups(vqeg, tmp_path):
    prefix = tmp_path / "vqeg"
    assert main(["adaptive", "vqeg-hdtv", "--groups", "experiment", "-o", str(prefix)]) == 0
    ext = pd.read_csv(f"{prefix}_extreme.csv")
    assert ext["group"].tolist() == [1, 2, 3, 4, 5, 6]
    assert ext["n_stimuli"].tolist() == [144] * 6
    groups = np.asarray(vqeg.ids) // 1000
    res = rd.fit_adaptive(vqeg, groups=groups)
    np.testing.assert_allclose(ext["value"], res.extreme_response()["value"], rtol=1e-12)


@pytest.mark.parametrize("args, fragments", [
    (["vqeg-hdtv", "--groups", "lab"], ["no grouping 'lab'", "--groups experiment"]),
    (["koniq10k", "--groups", "experiment"], ["dataset koniq10k has no grouping"]),
    (["{table}", "--groups", "country"], ["no group column 'country'", "'lab'"]),
    (["{table}", "--groups", "lab", "--lapse", "often"], ["invalid choice: 'often'"]),
])
def test_adaptive_bad_input_gives_one_line(grouped_study, args, fragments, capsys):
    _, table, _ = grouped_study
    argv = ["adaptive", *(a.replace("{table}", str(table)) for a in args)]
    with pytest.raises(SystemExit) if "often" in args else contextlib.nullcontext():
        status = main(argv)
        assert status == 2
    assert_one_line(capsys.readouterr().err, *fragments)
