"""Benchmark: pyxtal vs the fast generator on the same sampled crystal specs, in one process.

For each item the spec (space group, Wyckoff sites, elements) comes from SyntheticStructures.spec, then
both generators build it from the same seed (pyxtal over all specs, then fast over all specs); only the generator call is timed (spec -> pymatgen
Structure), after the fast generator's per-space-group tables are filled (a one-off cost, printed). pyxtal runs under the source's per-item time limit; an item that hits it counts at the limit.
Prints the crystal-system histograms (generating, and detected by SpacegroupAnalyzer for each generator),
p50/p99/max ms per structure, and as its last line: `speedup=<p50 pyxtal / p50 fast> p99_ms=<fast p99>`.

    python scripts/bench_generate.py            # 300 specs, about a minute on one core
    python scripts/bench_generate.py --n 1000 --seed 3
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections import Counter

import numpy as np

from xrdnet.crystal import CRYSTAL_SYSTEMS, crystal_system_index
from xrdnet.structures.base import GenerationError, StructureError, detect_space_group
from xrdnet.structures.pyxtal_backend import generate_with_pyxtal
from xrdnet.structures.synthetic import SyntheticStructures
from xrdnet.structures.wyckoff_placement import place_on_wyckoff_positions, preload
from xrdnet.utils.time_limit import TimeLimitExceeded, time_limit


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="number of specs (default 300, ~1 min)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-atoms", type=int, default=40)
    parser.add_argument("--symprec", type=float, default=0.1, help="SpacegroupAnalyzer tolerance, Å")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per pyxtal item")
    return parser.parse_args()


def timed(generate, spec, rng, limit):
    """(milliseconds, structure or None); a timeout counts as `limit`."""
    start = time.perf_counter()
    try:
        with time_limit(limit):
            structure = generate(spec, rng)
    except TimeLimitExceeded:
        return limit * 1000.0, None
    except GenerationError:
        structure = None
    return (time.perf_counter() - start) * 1000.0, structure


def main() -> None:
    args = parse_args()
    warnings.filterwarnings("ignore")
    source = SyntheticStructures(args.n, args.seed, max_atoms=args.max_atoms)
    generators = {"pyxtal": (generate_with_pyxtal, args.time_limit), "fast": (place_on_wyckoff_positions, None)}
    times = {name: [] for name in generators}
    detected = {name: Counter() for name in generators}
    failed = Counter()
    generating = Counter()
    specs = [source.spec(index) for index in range(args.n)]
    # The fast generator's per-space-group tables are a once-per-process cost: fill them before timing.
    start = time.perf_counter()
    preload({spec.space_group for spec in specs})
    preload_ms = (time.perf_counter() - start) * 1000
    # one generator after the other over the same specs, so pyxtal's garbage does not land in the fast timings
    for name, (generate, limit) in generators.items():
        gc.collect()
        for index, spec in enumerate(specs):
            ms, structure = timed(generate, spec, np.random.default_rng([args.seed, index, 1]), limit)
            times[name].append(ms)
            if structure is None:
                failed[name] += 1
                continue
            try:
                detected[name][crystal_system_index(detect_space_group(name, structure, args.symprec))] += 1
            except StructureError:
                failed[name] += 1
    for spec in specs:
        generating[spec.system] += 1

    print(f"{args.n} specs, seed {args.seed}, max_atoms {args.max_atoms}, symprec {args.symprec} Å; "
          f"fast tables for {len({s.space_group for s in specs})} space groups preloaded in {preload_ms:.0f} ms")
    print(f"{'system':<13}{'spec':>7}{'pyxtal':>8}{'fast':>7}   (detected by SpacegroupAnalyzer)")
    for k, system in enumerate(CRYSTAL_SYSTEMS):
        print(f"{system:<13}{generating[k]:>7}{detected['pyxtal'][k]:>8}{detected['fast'][k]:>7}")
    print(f"{'failed':<13}{'':>7}{failed['pyxtal']:>8}{failed['fast']:>7}")
    stats = {}
    for name, values in times.items():
        values = np.asarray(values)
        stats[name] = {q: float(np.percentile(values, q)) for q in (50, 99)}
        print(f"{name:<7} ms/structure: p50 {stats[name][50]:8.2f}  p99 {stats[name][99]:8.2f}  "
              f"max {values.max():8.1f}  mean {values.mean():8.2f}")
    mean_ratio = np.mean(times["pyxtal"]) / np.mean(times["fast"])
    print(f"mean-time ratio (throughput) {mean_ratio:.1f}x; p50 ratio below")
    print(f"speedup={stats['pyxtal'][50] / stats['fast'][50]:.1f} p99_ms={stats['fast'][99]:.2f}")


if __name__ == "__main__":
    main()
