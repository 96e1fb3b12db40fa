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
    if "import torch" in block and importlib.util.find_spec("torch") is None:
        pytest.skip("the example needs the optional PyTorch extra")
    exec(compile(block, f"README.md[python {index}]", "exec"), {})
