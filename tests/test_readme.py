"""The README's Python examples run as written."""

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert python_blocks()


@pytest.mark.data
@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, koniq):
    block = python_blocks()[index]
    for extra in ("torch", "dask"):
        if f"import {extra}" in block and importlib.util.find_spec(extra) is None:
            pytest.skip(f"the example needs the optional {extra} extra")
    exec(compile(block, f"README.md[python {index}]", "exec"), {})
