"""The notebooks run top to bottom and are committed with their outputs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
#: Seconds one cell may take (the slowest cells take well under a minute).
CELL_TIMEOUT = 600
#: The datasets (fixtures of tests/conftest.py) that a notebook reads; by default the counts.
DATASETS = {"04_subjects": ("nflx", "vqeg_hd3")}


def execute(notebook: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell in a ``python3`` kernel started in ``cwd``; raises on a cell error.

    The kernel inherits the environment (``RATINGDIST_DATA_DIR``); with ipykernel installed in
    the running environment the ``python3`` kernel is this interpreter.
    """
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(cwd)}})
    return client.execute()


def test_there_are_notebooks():
    names = [path.name for path in NOTEBOOKS]
    assert "01_reference_study.ipynb" in names and "02_qoe_quantiles.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert cells and all(cell.execution_count is not None for cell in cells)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    errors = [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert not errors
    assert any("image/png" in o.get("data", {}) for cell in cells for o in cell.outputs)


@pytest.mark.slow
def test_kernel_is_the_running_interpreter(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys\nprint(sys.executable)")]
    )
    out = execute(notebook, tmp_path).cells[0].outputs[0]["text"].strip()
    assert Path(out).resolve() == Path(sys.executable).resolve()


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, request):
    for fixture in DATASETS.get(path.stem, ("koniq", "vqeg")):
        request.getfixturevalue(fixture)  # skips (fails on CI) without the data
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    notebook = execute(nbformat.read(copy, as_version=4), tmp_path)
    errors = [o for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"]
    assert not errors
