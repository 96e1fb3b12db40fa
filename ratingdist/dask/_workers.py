"""Worker settings: one Numba thread per Dask thread, and a local cluster that uses them.

Dask runs one task per worker thread; every task calls Numba kernels that are themselves
parallel (``prange``). With NUMBA_NUM_THREADS equal to the worker's threads the two levels do
not oversubscribe the cores. Numba reads the variable when it is first imported, so it has to
be in the worker's environment at start-up (the nanny's ``env``, or the job script of a batch
cluster).

The compiled kernels are cached on disk (``cache=True``): next to the sources, or in
``NUMBA_CACHE_DIR`` where that is set (e.g. because the installation is read-only). Workers
that see the same cache directory as the process that compiled the kernels load them instead of
compiling; :func:`worker_environment` therefore passes ``NUMBA_CACHE_DIR`` on to the workers.
"""

from __future__ import annotations

import os
from typing import Any


def worker_environment(
    threads_per_worker: int = 1, cache_dir: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """Environment variables for a Dask worker process running ``threads_per_worker`` tasks.

    Parameters
    ----------
    threads_per_worker : the worker's task threads; Numba and OpenMP get as many.
    cache_dir : the Numba cache directory the workers share; None takes ``NUMBA_CACHE_DIR``
        of this process, and leaves it out if that is not set (the cache next to the sources).

    Examples
    --------
    >>> worker_environment(2, cache_dir="/shared/numba")
    {'NUMBA_NUM_THREADS': '2', 'OMP_NUM_THREADS': '2', 'NUMBA_CACHE_DIR': '/shared/numba'}
    """
    if isinstance(threads_per_worker, bool) or int(threads_per_worker) != threads_per_worker \
            or threads_per_worker < 1:
        raise ValueError(f"threads_per_worker must be a whole number >= 1, got "
                         f"{threads_per_worker!r}")
    n = str(int(threads_per_worker))
    env = {"NUMBA_NUM_THREADS": n, "OMP_NUM_THREADS": n}
    cache = os.environ.get("NUMBA_CACHE_DIR") if cache_dir is None else os.fspath(cache_dir)
    if cache:
        env["NUMBA_CACHE_DIR"] = cache
    return env


def local_cluster(n_workers: int = 2, threads_per_worker: int = 1, **kwargs: Any):
    """A ``distributed.LocalCluster`` of worker processes with :func:`worker_environment`.

    ``kwargs`` go to ``LocalCluster`` (e.g. ``memory_limit``, ``dashboard_address``); an
    ``env`` there adds to (or overrides) :func:`worker_environment`. Use it as a context manager
    with ``distributed.Client(cluster)``.
    """
    from distributed import LocalCluster

    env = {**worker_environment(threads_per_worker), **kwargs.pop("env", {})}
    kwargs.setdefault("dashboard_address", None)
    return LocalCluster(
        n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, env=env,
        **kwargs,
    )
