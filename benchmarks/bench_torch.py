"""Benchmark: (mean, variance) → pmf conversions per second with ratingdist.torch.

Run by hand (not part of the tests):

    python benchmarks/bench_torch.py [--families normal logistic ...] [--dtypes float32 float64]
        [--sizes 1e3 1e4 1e5 1e6 1e7] [--max-cpu-size 1e6] [--max-seconds 60] [--repeat 3]
        [--numba-size 1e5] [--no-cuda]

For every device (the CPU, and CUDA when ``torch.cuda.is_available()``), dtype, family and
batch size B it draws B pairs over the feasible region (ψ ~ U(1.05, 4.95), ρ ~ U(0.05, 0.95),
v = ρ·v_min + (1 − ρ)·v_max), makes one warm-up call of ``rdt.pmf_from_moments`` on them, then
times ``--repeat`` calls under ``torch.inference_mode()`` (synchronizing the device before
reading the clock) and reports the best as distributions per second. Sizes beyond
``--max-cpu-size`` are skipped on the CPU, and a (device, dtype, family) series stops growing
once one call takes longer than ``--max-seconds``. The Numba path
``rd.family(name).pmf_from_moments`` (float64, CPU) is timed at ``--numba-size`` in the same
run, with the ratio of the torch CPU float64 rate at that size to it.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import torch

import ratingdist as rd
import ratingdist.torch as rdt


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def pairs(n: int, dtype: torch.dtype, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    mean = 1.05 + 3.9 * torch.rand(n, generator=gen, dtype=torch.float64)
    rho = 0.05 + 0.9 * torch.rand(n, generator=gen, dtype=torch.float64)
    var = rdt.var_from_rho(mean, rho)
    return mean.to(dtype=dtype, device=device), var.to(dtype=dtype, device=device)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def seconds_per_call(family: str, mean, var, device: str, repeat: int) -> float:
    with torch.inference_mode():
        rdt.pmf_from_moments(family, mean, var)  # warm-up
        best = float("inf")
        for _ in range(repeat):
            sync(device)
            start = time.perf_counter()
            rdt.pmf_from_moments(family, mean, var)
            sync(device)
            best = min(best, time.perf_counter() - start)
    return best


def numba_rate(family: str, n: int, repeat: int) -> float:
    mean, var = (t.numpy() for t in pairs(n, torch.float64, "cpu"))
    fam = rd.family(family)
    fam.pmf_from_moments(mean[:100], var[:100])  # compile / load the kernels
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fam.pmf_from_moments(mean, var)
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=list(rd.FAMILIES))
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6, 1e7])
    parser.add_argument("--max-cpu-size", type=float, default=1e6)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--numba-size", type=float, default=1e5)
    parser.add_argument("--no-cuda", action="store_true", help="time the CPU only")
    args = parser.parse_args()

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.no_cuda else [])
    print(f"torch {torch.__version__}, numba {numba.__version__} ({numba.get_num_threads()} "
          f"threads), Python {platform.python_version()}")
    for device in devices:
        print(f"{device}: {device_name(device)}")
    print("\ndistributions per second of rdt.pmf_from_moments (best of "
          f"{args.repeat} calls after a warm-up)")
    print(f"{'device':6} {'dtype':8} {'family':15} {'B':>9} {'seconds':>9} {'per second':>11}")
    torch_rate = {}
    for device in devices:
        for dtype_name in args.dtypes:
            dtype = getattr(torch, dtype_name)
            for family in args.families:
                for size in args.sizes:
                    n = int(size)
                    if device == "cpu" and n > args.max_cpu_size:
                        break
                    mean, var = pairs(n, dtype, device)
                    spent = seconds_per_call(family, mean, var, device, args.repeat)
                    torch_rate[device, dtype_name, family, n] = n / spent
                    print(f"{device:6} {dtype_name:8} {family:15} {n:>9.0e} {spent:>9.4f} "
                          f"{n / spent:>11.3g}", flush=True)
                    del mean, var
                    if spent > args.max_seconds:
                        break
    n = int(args.numba_size)
    print(f"\nNumba path rd.family(name).pmf_from_moments, float64 CPU, B = {n:.0e}")
    print(f"{'family':15} {'per second':>11} {'torch CPU float64 / Numba':>26}")
    for family in args.families:
        rate = numba_rate(family, n, args.repeat)
        ours = torch_rate.get(("cpu", "float64", family, n))
        ratio = f"{ours / rate:.3g}" if ours else "n/a"
        print(f"{family:15} {rate:>11.3g} {ratio:>26}", flush=True)


if __name__ == "__main__":
    main()
