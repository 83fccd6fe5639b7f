"""Study: checkpoints' accuracy by Bravais lattice, on their synthetic validation split and on the AFLOW prototypes.

The seven systems hide how often each lattice occurs: the generator samples space groups with Materials Project
weights, which leave body-centred cubic (cI) and face-centred orthorhombic (oF) cells of <= 40 atoms at 0.4 % and
0.2 % of the crystals, while a catalogue of structure types holds far more of them. For each lattice
(`xrdnet.crystal.BRAVAIS_LATTICES`, hP split into trigonal-P and hexagonal): its share of the set, the accuracy
and what its mistakes are called. Clean renders, as validation reads them; features computed as xrdnet-predict does.

    python scripts/lattice_breakdown.py                       # the shipped model, its whole validation split
    python scripts/lattice_breakdown.py A.ckpt --validation 2000 --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from xrdnet.crystal import BRAVAIS_LATTICES, CRYSTAL_SYSTEMS, bravais_lattice_index
from xrdnet.data.datamodule import render_all
from xrdnet.eval import real_profiles
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.pretrained import SHIPPED_CHECKPOINT
from xrdnet.structures.aflow import AflowPrototypes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measured_robustness import validation_items  # the sibling study's validation draw


def lattice_rows(calls: np.ndarray, labels: np.ndarray, space_groups) -> list[str]:
    """One line per Bravais lattice present: count, share, accuracy and the systems its mistakes are called."""
    lattices = np.array([bravais_lattice_index(int(group)) for group in space_groups])
    right = calls == labels
    rows = []
    for index, name in enumerate(BRAVAIS_LATTICES):
        members = lattices == index
        if not members.any():
            continue
        called = Counter(CRYSTAL_SYSTEMS[c] for c in calls[members & ~right])
        mistakes = ", ".join(f"{system} {n}" for system, n in called.most_common())
        rows.append(f"  {name:<13} n={members.sum():<5} share {members.mean():6.1%}  accuracy {right[members].mean():.3f}"
                    + (f"   called {mistakes}" if mistakes else ""))
    return rows


def _probabilities(predictor: CrystalSystemPredictor, profiles: np.ndarray, workers: int) -> np.ndarray:
    """Calibrated probabilities, the features (tens of ms a pattern) computed over `workers` processes; the network
    runs here, not in forked workers, where torch's threads may hang."""
    if workers <= 1:
        return predictor.predict_proba(profiles)
    with mp.get_context("fork").Pool(workers) as pool:
        inputs = np.concatenate(pool.map(predictor.model_inputs, np.array_split(profiles, 8 * workers)))
    with torch.no_grad():
        return np.concatenate([predictor.module.predict_proba(torch.as_tensor(inputs[i:i + 512])).numpy()
                               for i in range(0, len(inputs), 512)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", default=[str(SHIPPED_CHECKPOINT)])
    parser.add_argument("--validation", type=int, default=0, metavar="N",
                        help="N crystals of each checkpoint's validation split (0: all of it)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the validation draw")
    parser.add_argument("--workers", type=int, default=1, help="processes computing the features")
    parser.add_argument("--data-dir", default="data", help="dataset cache, shared with xrdnet-eval (default data/)")
    args = parser.parse_args(argv)
    if args.validation < 0 or args.workers < 1:
        parser.error("--validation must be >= 0 and --workers >= 1")
    warnings.filterwarnings("ignore")
    aflow = AflowPrototypes()
    aflow_groups = {item.name: item.space_group for item in map(aflow.get, range(len(aflow)))}
    for path in args.checkpoints:
        try:
            predictor = CrystalSystemPredictor.from_checkpoint(path)
        except CheckpointError as error:
            raise SystemExit(str(error)) from None
        peaks, items, described = validation_items(path, predictor, args.data_dir, args.validation, args.seed)
        profiles, labels = (t.numpy() for t in render_all(peaks, items, predictor.grid, predictor.settings).tensors)
        calls = _probabilities(predictor, profiles, args.workers).argmax(1)
        print(f"\n{path}\n{len(items)} {described}: accuracy {np.mean(calls == labels):.3f}")
        print("\n".join(lattice_rows(calls, labels, peaks.space_groups[items])))
        profiles, labels, names, _ = real_profiles(args.data_dir, aflow, predictor)
        calls = _probabilities(predictor, profiles, args.workers).argmax(1)
        print(f"{len(labels)} AFLOW prototypes (report only): accuracy {np.mean(calls == labels):.3f}")
        print("\n".join(lattice_rows(calls, labels, [aflow_groups[name] for name in names])))


if __name__ == "__main__":
    main()
