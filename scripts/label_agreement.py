"""Study: how often SpacegroupAnalyzer finds a different crystal system than the one a synthetic crystal was generated in.

Builds `--n` crystals with SyntheticStructures (on_mismatch="relabel", so every item is kept and both labels
are in its meta) and prints, per generating crystal system: items, crystal-system mismatches, exact
space-group matches, skipped items; then overall rates. Run it for both generators and both weightings:

    python scripts/label_agreement.py --generator fast --n 500
    python scripts/label_agreement.py --generator pyxtal --system-weights uniform --n 350 --json out.json
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.structures.base import StructureError
from xrdnet.structures.synthetic import GENERATORS, SyntheticStructures
from xrdnet.utils.atomic import write_json_atomic


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="crystals to build (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generator", choices=GENERATORS, default="fast")
    parser.add_argument("--system-weights", choices=("mp", "uniform"), default="mp")
    parser.add_argument("--symprec", type=float, default=0.1, help="SpacegroupAnalyzer tolerance, Å")
    parser.add_argument("--max-atoms", type=int, default=40)
    parser.add_argument("--json", help="also write the counts to this JSON file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    warnings.filterwarnings("ignore")
    source = SyntheticStructures(args.n, args.seed, max_atoms=args.max_atoms, symprec=args.symprec,
                                 system_weights=args.system_weights, generator=args.generator)
    items, mismatches, exact, skipped = Counter(), Counter(), Counter(), Counter()
    confusions = Counter()
    start = time.perf_counter()
    for index in range(args.n):
        system = CRYSTAL_SYSTEMS[source.spec(index).system]
        try:
            meta = source.get(index).meta
        except StructureError:
            skipped[system] += 1
            continue
        items[system] += 1
        exact[system] += meta["generating_space_group"] == meta["detected_space_group"]
        if meta["relabelled"]:
            mismatches[system] += 1
            confusions[(system, meta["detected_system"])] += 1
    seconds = time.perf_counter() - start

    print(f"generator={args.generator} system_weights={args.system_weights} n={args.n} seed={args.seed} "
          f"symprec={args.symprec} max_atoms={args.max_atoms} ({seconds:.0f} s)")
    print(f"{'system':<13}{'items':>6}{'mismatch':>10}{'rate':>8}{'exact spg':>11}{'skipped':>9}")
    for system in CRYSTAL_SYSTEMS:
        n = items[system]
        rate = f"{mismatches[system] / n:.1%}" if n else "-"
        exact_rate = f"{exact[system] / n:.1%}" if n else "-"
        print(f"{system:<13}{n:>6}{mismatches[system]:>10}{rate:>8}{exact_rate:>11}{skipped[system]:>9}")
    total = sum(items.values())
    print(f"{'all':<13}{total:>6}{sum(mismatches.values()):>10}{sum(mismatches.values()) / max(total, 1):>8.1%}"
          f"{sum(exact.values()) / max(total, 1):>11.1%}{sum(skipped.values()):>9}")
    for (generated, detected), count in confusions.most_common():
        print(f"  {generated} -> {detected}: {count}")
    if args.json:
        write_json_atomic(args.json, {
            "config": vars(args) | {"seconds": round(seconds, 1)},
            "items": dict(items), "mismatches": dict(mismatches), "exact_space_group": dict(exact),
            "skipped": dict(skipped), "confusions": {f"{a}->{b}": c for (a, b), c in confusions.items()},
        })


if __name__ == "__main__":
    main()
