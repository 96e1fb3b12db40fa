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


def console_commands() -> list[tuple[str, str]]:
    """(command, shown output) of every ``$ ratingdist ...`` line in a console block that
    shows its output (the Dask example, which needs Parquet files, shows none)."""
    pairs = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = part.partition("\n")
            if command.startswith("ratingdist ") and shown.strip():
                pairs.append((command, shown))
    return pairs


def test_readme_has_console_examples():
    assert len(console_commands()) >= 10


@pytest.mark.data
@pytest.mark.parametrize(("command", "shown"), console_commands(),
                         ids=[c for c, _ in console_commands()])
def test_readme_console_output_is_what_the_command_prints(command, shown, tmp_path, koniq):
    """Every shown output is the output of a run (stdout and stderr as a terminal shows them)."""
    import os
    import shutil
    import subprocess
    import sys

    assert shutil.which("bash")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    run = subprocess.run(["bash", "-c", f"({command}) 2>&1"], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=600)
    assert run.stdout.rstrip() == shown.rstrip()
