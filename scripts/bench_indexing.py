"""Cost of the indexing feature sets per pattern, this tree beside another checkout, in one process.

Both versions describe the same line lists (see check_indexing_equivalence.py), alternating pattern
by pattern, on one core (OMP_NUM_THREADS=1), so a loaded machine slows both alike: read the ratio.
Each pattern's time is the best of --repeats calls.

The last line is machine-readable: speedup_<set>=<baseline ms / this tree's ms> for each set.

Example (main before the fits were made cheaper: git worktree add --detach /tmp/base 546e371):
    PYTHONPATH=src python scripts/bench_indexing.py --baseline-src /tmp/base/src --items 300
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # one core, before numpy starts its thread pool

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_indexing_equivalence import (DEFAULT_PEAKS, KINDS, baseline_feature_functions,  # noqa: E402
                                        feature_functions, line_lists)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-src", required=True, metavar="DIR", help="the other checkout's src folder")
    parser.add_argument("--peaks", default=DEFAULT_PEAKS, help=f"peak-list set folder (default {DEFAULT_PEAKS})")
    parser.add_argument("--items", type=int, default=300, help="patterns (default 300)")
    parser.add_argument("--repeats", type=int, default=2, help="calls per pattern and version, best kept (default 2)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    args = parser.parse_args(argv)

    from xrdnet.xrd.indexing import peak_list_features

    versions = {"baseline": baseline_feature_functions(args.baseline_src), "this tree": feature_functions()}
    lists, wavelength, _ = line_lists(args.peaks, args.items)
    print(f"{len(lists)} patterns, best of {args.repeats} calls each, ms per pattern")
    print(f"{'set':12s} {'baseline':>9s} {'this tree':>9s} {'speed-up':>8s}")
    ratios = {}
    for kind in args.kinds:
        spent = dict.fromkeys(versions, 0.0)
        for version in versions.values():  # warm-up: trial assignments are chosen on first use
            peak_list_features(*lists[0], wavelength, describe=version[kind])
        for two_theta, heights in lists:
            for name, version in versions.items():
                best = np.inf
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    peak_list_features(two_theta, heights, wavelength, describe=version[kind])
                    best = min(best, time.perf_counter() - start)
                spent[name] += best
        before, after = (1e3 * spent[name] / len(lists) for name in versions)
        ratios[kind] = before / after
        print(f"{kind:12s} {before:9.2f} {after:9.2f} {before / after:7.2f}x", flush=True)
    print(" ".join(f"speedup_{kind}={ratio:.2f}" for kind, ratio in ratios.items()))


if __name__ == "__main__":
    main()
