"""``_kernels.cache.on_disk`` against Numba's own cache: a new ``cache=True`` function is not
held until its first call compiles and saves it, and is held afterwards, also by a fresh
dispatcher of the same source (as in a new process)."""

from __future__ import annotations

import importlib.util

from ratingdist._kernels.cache import on_disk

SOURCE = '''
import numba

@numba.njit(cache=True)
def twice(x):
    return 2 * x
'''


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_held_only_after_the_first_compilation(tmp_path):
    path = tmp_path / "kernel_cache_probe.py"
    path.write_text(SOURCE)
    first = load(path, "kernel_cache_probe")
    assert not on_disk([first.twice])
    assert first.twice(3) == 6
    assert on_disk([first.twice])
    again = load(path, "kernel_cache_probe_again")  # a new dispatcher, as in a new process
    assert on_disk([again.twice])


def test_plain_functions_need_no_compilation():
    assert on_disk([len, print])
