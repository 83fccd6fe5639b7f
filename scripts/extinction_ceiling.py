"""Study: how far systematic absences alone tell trigonal-P from hexagonal structures, against the model.

A trigonal structure on a primitive hexagonal lattice and a hexagonal one give lines at the same d (hkl and
khl, and hkl and hk-l, coincide), so what can separate them in a powder pattern is which lines a space group
forbids: e.g. P6₃/mmc has no 001 or hh0l lines of odd l, P-3m1 forbids none. A powder absence shows only when
every reflection at that d is absent (`powder_absences`). Grouping the hP-lattice space groups by the absences
they show (their powder extinction class) and calling each class by its majority system in the checkpoint's
training split gives the best an absences-only reading can do on that distribution (`absence_rule`). The
script scores that rule on the checkpoint's synthetic test split and on the AFLOW prototypes, and, given an
`xrdnet-eval` metrics.json of the checkpoint, the model on the same items: the fraction of hP-lattice items
not read across the pair (a trigonal-P structure read hexagonal or the reverse).

    python scripts/extinction_ceiling.py src/xrdnet/pretrained/crystal_system.ckpt --metrics outputs/eval/runs/<time>/metrics.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.symmetry.groups import SpaceGroup

from xrdnet.crystal import CRYSTAL_SYSTEMS, crystal_system_index, is_trigonal_p, same_lattice_confusion
from xrdnet.eval import real_peaks, training_split
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.structures.aflow import AflowPrototypes

MAX_INDEX = 3  # |h|, |k| <= 3 and |l| <= 6 hold every absence condition of the hP-lattice groups
MAX_L = 6


def system_of(space_group: int) -> str:
    return CRYSTAL_SYSTEMS[crystal_system_index(int(space_group))]


def on_hexagonal_lattice(space_group: int) -> bool:
    """A trigonal-P or a hexagonal space group: the two systems that share the primitive hexagonal lattice."""
    return is_trigonal_p(space_group) or system_of(space_group) == "hexagonal"


def powder_line(h: int, k: int, l: int) -> tuple[int, int]:
    """The line (h² + hk + k², |l|) a reflection falls on: all reflections of a hexagonal cell with these
    two numbers have the same d, 1/d² = 4(h² + hk + k²)/(3a²) + l²/c²."""
    return int(h * h + h * k + k * k), int(abs(l))


@lru_cache(maxsize=None)
def powder_absences(space_group: int) -> frozenset[tuple[int, int]]:
    """The lines (see powder_line) with |h|, |k| <= 3, |l| <= 6 that a space group's powder pattern lacks: every
    reflection on the line is systematically absent (some operation (R, t) with hR = h and h·t not an integer;
    pymatgen's operations, on hexagonal axes for these groups)."""
    operations = [(op.rotation_matrix, op.translation_vector) for op in SpaceGroup.from_int_number(space_group).symmetry_ops]
    allowed: set[tuple[int, int]] = set()
    present_or_absent: set[tuple[int, int]] = set()
    for hkl in itertools.product(range(-MAX_INDEX, MAX_INDEX + 1), repeat=2):
        for l in range(-MAX_L, MAX_L + 1):
            h = np.array((*hkl, l))
            if not h.any():
                continue
            line = powder_line(*h)
            present_or_absent.add(line)
            phases = [h @ t for rotation, t in operations if np.array_equal(h @ rotation, h)]
            if not any(abs(phase - round(phase)) > 1e-6 for phase in phases):
                allowed.add(line)
    return frozenset(present_or_absent - allowed)


def absence_rule(space_groups: np.ndarray) -> dict[frozenset, str]:
    """Extinction class -> the system ('trigonal' or 'hexagonal') most of the hP-lattice items of that class
    are, in the given items (the training split): the absences-only call."""
    votes: dict[frozenset, Counter] = {}
    for group in space_groups:
        if on_hexagonal_lattice(group):
            votes.setdefault(powder_absences(int(group)), Counter())[system_of(group)] += 1
    return {absences: count.most_common(1)[0][0] for absences, count in votes.items()}


def rule_accuracy(rule: dict[frozenset, str], space_groups: np.ndarray) -> tuple[float, int]:
    """(fraction of the hP-lattice items the absences-only rule calls right, their number); a class the rule has
    not seen is called hexagonal, the commoner system on this lattice."""
    groups = [int(g) for g in space_groups if on_hexagonal_lattice(g)]
    right = sum(rule.get(powder_absences(g), "hexagonal") == system_of(g) for g in groups)
    return right / max(len(groups), 1), len(groups)


def model_pair_accuracy(report: dict, n_hexagonal_lattice: int) -> float:
    """Fraction of a set's hP-lattice items the model did not read across the trigonal-P/hexagonal pair."""
    crossed = sum(same_lattice_confusion(row["true"], row["predicted"], row["space_group"])
                  for row in report["misclassified"])
    return 1 - crossed / max(n_hexagonal_lattice, 1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a checkpoint trained by xrdnet-train (its training split is read)")
    parser.add_argument("--metrics", type=Path, help="the metrics.json of `xrdnet-eval ckpt_path=<checkpoint>`")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    try:
        reports = json.loads(args.metrics.read_text())["sets"] if args.metrics else {}
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        parser.error(f"{args.metrics}: cannot read an xrdnet-eval metrics.json ({error!r})")
    try:
        predictor = CrystalSystemPredictor.from_checkpoint(args.checkpoint)
    except CheckpointError as error:
        raise SystemExit(str(error)) from None
    datamodule = training_split(args.checkpoint, predictor, args.data_dir)
    if datamodule is None:
        raise SystemExit(f"{args.checkpoint}: records no training data, so it has no training split to learn the rule on")
    groups = datamodule.peaks.space_groups
    train = groups[datamodule.split_indices["train"]]
    rule = absence_rule(train)
    sets = {"test": groups[datamodule.split_indices["test"]],
            "aflow_prototypes": real_peaks(args.data_dir, AflowPrototypes(), predictor).space_groups}

    print("extinction class (lines absent)  trigonal-P / hexagonal in training  called   space groups")
    train_groups = Counter(int(g) for g in train if on_hexagonal_lattice(g))
    members = {absences: sorted(g for g in train_groups if powder_absences(g) == absences) for absences in rule}
    counts: dict[frozenset, Counter] = {absences: Counter() for absences in rule}
    for group, count in train_groups.items():
        counts[powder_absences(group)][system_of(group)] += count
    for absences in sorted(rule, key=lambda absences: -counts[absences].total()):
        trigonal, hexagonal = counts[absences]["trigonal"], counts[absences]["hexagonal"]
        print(f"{len(absences):>31}  {trigonal:>10} / {hexagonal:<10}  {rule[absences]:<9} {members[absences]}")
    for name, set_groups in sets.items():
        accuracy, n = rule_accuracy(rule, set_groups)
        line = f"{name}: {n} hP-lattice items; absences alone {accuracy:.3f}"
        if name in reports:
            line += f"; the model {model_pair_accuracy(reports[name], n):.3f}"
        print(line)


if __name__ == "__main__":
    main()
