"""Where a checkpoint's mistakes sit by space group: how many line positions alone cannot settle.

Reads the metrics.json `xrdnet-eval` writes (every mistake, with its space group; for runs from before
eval recorded them, the cached datasets that hold the items are searched by name) and splits each set's
mistakes into:

- trigonal-P ↔ hexagonal: a trigonal structure with a primitive hexagonal lattice (not rhombohedral)
  read hexagonal, or a hexagonal one read trigonal (the model does not say which trigonal lattice). The two lattices are the same, so hkl and khl fall
  at the same d and the indexing sees the same lines; only intensities and absences can tell.
- rhombohedral ↔ hexagonal: an hR structure read hexagonal or the reverse; its lines obey −h+k+l = 3n
  on hexagonal axes, which a hexagonal-P fit leaves unindexed, so positions do separate them.
- pseudo-symmetric (runs whose mistakes carry `lines_admit_call`, recorded by xrdnet-eval since it
  fits each mistake's lines): a more symmetric system called whose lattice indexes the lines as fully as
  the true one's, e.g. an orthorhombic cell with a ≈ b within a line width read tetragonal. Positions
  alone make that call too (`xrdnet.xrd.cell.lines_admit_call`).
- the other confusions, by true → predicted class, with their commonest true space groups.

    python scripts/error_breakdown.py outputs/eval/runs/<time>/metrics.json
    python scripts/error_breakdown.py <metrics.json> --data-dir data --top 4   # data: for older runs only
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from xrdnet.crystal import same_lattice_confusion


PSEUDO_SYMMETRIC = "pseudo-symmetric"


def breakdown(mistakes: list[dict], space_group_of: dict[str, int]) -> dict:
    """Counts of the mistakes by kind (see the module docstring) and, per other confusion, its space groups."""
    kinds: Counter = Counter()
    others: dict[tuple[str, str], Counter] = {}
    unknown = 0
    for row in mistakes:
        group = row.get("space_group", space_group_of.get(row["name"]))
        if group is None:
            unknown += 1
            continue
        if {row["true"], row["predicted"]} == {"trigonal", "hexagonal"}:
            same_lattice = same_lattice_confusion(row["true"], row["predicted"], group)
            kinds["trigonal-P <-> hexagonal" if same_lattice else "rhombohedral <-> hexagonal"] += 1
            continue
        if row.get("lines_admit_call"):
            kinds[PSEUDO_SYMMETRIC] += 1
            continue
        others.setdefault((row["true"], row["predicted"]), Counter())[group] += 1
    return {"kinds": kinds, "others": others, "unknown": unknown}


def space_groups_by_name(data_dir: Path) -> dict[str, int]:
    """Item name -> space group over every cached dataset under data_dir (arrays.npz of each).

    A name two datasets give different space groups is left out (its mistakes count as unknown)."""
    found: dict[str, int] = {}
    clashing: set[str] = set()
    for arrays_path in sorted(data_dir.glob("*/arrays.npz")):
        with np.load(arrays_path, allow_pickle=False) as arrays:
            if "names" not in arrays or "space_groups" not in arrays:
                continue
            for name, group in zip(arrays["names"].tolist(), arrays["space_groups"].astype(int).tolist()):
                if found.setdefault(name, group) != group:
                    clashing.add(name)
    return {name: group for name, group in found.items() if name not in clashing}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("metrics", type=Path, help="metrics.json of an xrdnet-eval run")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="cached datasets holding the items")
    parser.add_argument("--top", type=int, default=3, help="space groups shown per other confusion")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.metrics.read_text())
    except (OSError, json.JSONDecodeError) as error:
        parser.error(f"{args.metrics}: cannot read an xrdnet-eval metrics.json ({error})")
    if not isinstance(results, dict) or not isinstance(results.get("sets"), dict):
        parser.error(f"{args.metrics}: not an xrdnet-eval metrics.json (no 'sets' of scored mistakes)")
    recorded = all("space_group" in row for report in results["sets"].values() for row in report["misclassified"])
    space_group_of = {} if recorded else space_groups_by_name(args.data_dir)
    if not recorded and not space_group_of:
        parser.error(f"{args.data_dir}: no cached dataset (*/arrays.npz) with item names and space groups")
    for name, report in results["sets"].items():
        mistakes = report["misclassified"]
        found = breakdown(mistakes, space_group_of)
        print(f"\n== {name}: {len(mistakes)} mistakes of {report['n']} (accuracy {report['accuracy']:.3f}) ==")
        fitted = any("lines_admit_call" in row for row in mistakes)
        for kind in ("trigonal-P <-> hexagonal", "rhombohedral <-> hexagonal") + ((PSEUDO_SYMMETRIC,) if fitted else ()):
            count = found["kinds"][kind]
            print(f"{kind:<28}{count:>6}  ({count / max(len(mistakes), 1):.0%} of the mistakes, "
                  f"{count / report['n']:.1%} of the set)")
        if fitted:
            unsettled = found["kinds"]["trigonal-P <-> hexagonal"] + found["kinds"][PSEUDO_SYMMETRIC]
            print(f"{'positions cannot settle':<28}{unsettled:>6}  (with every other mistake mended, accuracy "
                  f"{1 - unsettled / report['n']:.3f})")
        for (true, predicted), groups in sorted(found["others"].items(), key=lambda kv: -sum(kv[1].values())):
            common = ", ".join(f"{group} ({count})" for group, count in groups.most_common(args.top))
            print(f"{true + ' -> ' + predicted:<28}{sum(groups.values()):>6}  space groups: {common}")
        if found["unknown"]:
            print(f"{found['unknown']} mistakes name items in no cached dataset under {args.data_dir}")


if __name__ == "__main__":
    main()
