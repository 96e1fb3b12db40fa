"""Parallel loops over stimuli: a sequential Numba kernel run on blocks of rows by threads.

A row kernel is a ``nogil`` Numba function ``kernel(start, stop, *args)`` that processes rows
start..stop − 1 and writes their results into output arrays among ``args``. :func:`run_rows`
splits the rows into blocks and runs them on ``numba.get_num_threads()`` threads (so
``NUMBA_NUM_THREADS`` and ``numba.set_num_threads`` apply as for ``prange``). Rows are
independent, so the results do not depend on the number of threads or on the blocks.

Why not ``parallel=True`` with ``prange``: Numba compiles a parfor's body as a separate gufunc
and links the whole call tree below it (solvers, special functions) into both the gufunc and
the calling function, each optimized and code-generated on its own; a sequential kernel holds
the tree once. Compiled on their own over an already compiled tree, a pmf driver took 1.3 s
as a ``prange`` loop and 0.45 s as a row kernel, a loop around the solver 2.4–3.2 s and 0.8 s;
at run time both use all threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

#: Blocks per thread (rows differ in cost, and inputs often come sorted by kind, so that costly
#: rows sit together: with 16 blocks each the threads finish within about 2 % of each other on
#: the adversarial catalog of ``tests/adversarial.py``, 4–5 % with 4).
BLOCKS_PER_THREAD = 16
#: Fewest rows per block; smaller inputs run in the calling thread.
MIN_BLOCK_ROWS = 16

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The shared pool, as many threads as Numba may use (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=numba.config.NUMBA_NUM_THREADS, thread_name_prefix="ratingdist"
            )
        return _pool


def run_rows(kernel: Callable, n: int, *args) -> None:
    """Run ``kernel(start, stop, *args)`` over the rows 0..n − 1 in blocks on the threads.

    The calling thread and ``numba.get_num_threads() − 1`` pool threads take the next block
    until none is left.
    """
    threads = numba.get_num_threads()
    blocks = min(threads * BLOCKS_PER_THREAD, n // MIN_BLOCK_ROWS)
    if threads == 1 or blocks <= 1:
        kernel(0, n, *args)
        return
    edges = [n * b // blocks for b in range(blocks + 1)]
    todo = iter(range(blocks))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                b = next(todo, None)
            if b is None:
                return
            kernel(edges[b], edges[b + 1], *args)

    futures = [_executor().submit(work) for _ in range(min(threads, blocks) - 1)]
    try:
        work()
    finally:
        for future in futures:
            future.result()
