"""Benchmark: a parallel dataset build with BLAS on one thread per worker vs BLAS's own thread count, in one process.

numpy's OpenBLAS runs a thread per core in every pool worker unless the worker limits it
(`xrdnet.utils.threads.single_threaded_worker`, the build's worker initializer); on a 2-core machine two
workers then share the cores with four BLAS threads. Both variants build the same synthetic crystals
(the default source, default simulation) with one worker per core, in alternating rounds; a third
run with one worker gives the scaling. Last line: `speedup=<limited rate / unlimited rate>`.

    python scripts/bench_build_workers.py            # 1,500 crystals, 2 rounds, about a minute on 2 cores
    python scripts/bench_build_workers.py --n 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from xrdnet.data import dataset
from xrdnet.structures.synthetic import SyntheticStructures
from xrdnet.xrd.peaks import XRDSimulator


def build_rate(source, simulator, indices: list[int], workers: int, limit_threads: bool) -> float:
    """Crystals per second of dataset._simulate_all over `indices` with `workers` processes."""
    limited = dataset.single_threaded_worker
    if not limit_threads:
        dataset.single_threaded_worker = lambda: None  # the workers keep BLAS's default thread count
    try:
        started = time.perf_counter()
        outcomes = list(dataset._simulate_all(source, simulator, indices, workers, progress=False))
        elapsed = time.perf_counter() - started
    finally:
        dataset.single_threaded_worker = limited
    assert len(outcomes) == len(indices)
    return len(indices) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1500, help="crystals per build (default 1500)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both variants (default 2)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="pool workers (default: one per core)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    source = SyntheticStructures(n=args.n * (args.rounds * 2 + 1), seed=0)
    simulator = XRDSimulator("CuKa", (4.92, 90.63), engine="fast")  # the default run's simulation
    rates = {True: [], False: []}
    start = 0
    for round_ in range(args.rounds):
        for limit in ((False, True) if round_ % 2 == 0 else (True, False)):
            indices = list(range(start, start + args.n))  # other crystals each build: no warm caches shared
            start += args.n
            rates[limit].append(build_rate(source, simulator, indices, args.workers, limit))
            print(f"round {round_ + 1}: BLAS threads {'1 per worker' if limit else 'default'}: "
                  f"{rates[limit][-1]:.0f} crystals/s", flush=True)
    one = build_rate(source, simulator, list(range(start, start + args.n)), 1, True)
    print(f"one worker: {one:.0f} crystals/s")
    limited, unlimited = max(rates[True]), max(rates[False])
    print(f"{args.workers} workers, best of {args.rounds}: {unlimited:.0f} (default BLAS threads) -> "
          f"{limited:.0f} crystals/s (1 per worker); scaling over one worker {limited / one:.2f}x")
    print(f"speedup={limited / unlimited:.2f}")


if __name__ == "__main__":
    main()
