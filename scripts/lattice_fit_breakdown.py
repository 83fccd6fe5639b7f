"""Study: how a checkpoint's monoclinic and orthorhombic calls follow its own lattice fits.

For each crystal of a system with a fit of its own (monoclinic, orthorhombic), the checkpoint's indexing
features say whether that fit found a cell: "solved" is >= 85 % of the first 20 picked lines indexed with de
Wolff ln M >= 3, the features' own forgiving fit on all lines (as `scripts/study_trial_cells.py --unindexed
0.1` counts). The model is scored apart where its fit is solved and where it is not, on N fresh synthetic
crystals of the checkpoint's generator (another seed than it trained on) and on the AFLOW prototypes; the AFLOW
structures whose fit failed are listed with whether `xrd.cell.index_lines` finds their cell from exact line
lists (pymatgen's lines >= 1 % of the strongest, merged within 0.05 degrees): a miss there too is the trial
search's, not the peak picking's.

    python scripts/lattice_fit_breakdown.py                      # the shipped model
    python scripts/lattice_fit_breakdown.py outputs/xrd_best/runs/<time>/checkpoints/epoch_021.ckpt --fresh 3000
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from pymatgen.analysis.diffraction.xrd import XRDCalculator

from xrdnet.crystal import CRYSTAL_SYSTEMS, class_index
from xrdnet.data.features import feature_set
from xrdnet.eval import fresh_synthetic, real_profiles
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.pretrained import SHIPPED_CHECKPOINT
from xrdnet.structures.aflow import AflowPrototypes
from xrdnet.xrd.cell import index_lines
from xrdnet.xrd.indexing_wide import FEATURE_NAMES_V6
from study_trial_cells import exact_lines

FITTED_SYSTEMS = ("monoclinic", "orthorhombic")
MIN_FRACTION_INDEXED = 0.85  # 2 of the first 20 lines may stay unindexed, as the features' fits allow
MIN_LOG_M = 3.0


def fit_solved(features: np.ndarray, system: str) -> np.ndarray:
    """(n,) True where the features' fit of `system` on all picked lines (FEATURE_NAMES_V6 layout) found a cell."""
    column = {name: i for i, name in enumerate(FEATURE_NAMES_V6)}
    fraction = features[:, column[f"all_{system}_fraction_indexed"]]
    log_m = features[:, column[f"all_{system}_log_m"]]
    return (fraction >= MIN_FRACTION_INDEXED) & (log_m >= MIN_LOG_M)


def breakdown(labels: np.ndarray, calls: np.ndarray, solved: np.ndarray, system: str) -> dict:
    """For the items of `system`: how many, the fraction with a solved fit, and the model's accuracy with and without."""
    mine = labels == class_index(system)
    right = calls == labels

    def share(mask):
        return (int(right[mine & mask].sum()), int((mine & mask).sum()))

    return {"n": int(mine.sum()), "solved": float(solved[mine].mean()) if mine.any() else float("nan"),
            "right_when_solved": share(solved), "right_when_not": share(~solved),
            "mistakes_by_call": {CRYSTAL_SYSTEMS[c]: int(n) for c, n in zip(*np.unique(calls[mine & ~right], return_counts=True))}}


def print_breakdown(title: str, labels: np.ndarray, calls: np.ndarray, features: np.ndarray) -> None:
    print(f"== {title}: {len(labels)} crystals, accuracy {float((calls == labels).mean()):.4f}")
    for system in FITTED_SYSTEMS:
        row = breakdown(labels, calls, fit_solved(features, system), system)
        (a, b), (c, d) = row["right_when_solved"], row["right_when_not"]
        print(f"  {system:<13} {row['n']:>5}  fit solved {row['solved']:.3f}  right when solved {a}/{b}  "
              f"right when not {c}/{d}  mistakes by call {row['mistakes_by_call']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", nargs="?", default=str(SHIPPED_CHECKPOINT), help="default: the shipped model")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--fresh", type=int, default=3000, metavar="N", help="fresh synthetic crystals to score")
    parser.add_argument("--fresh-seed", type=int, default=1)
    args = parser.parse_args()
    try:
        predictor = CrystalSystemPredictor.from_checkpoint(args.checkpoint)
    except CheckpointError as error:
        raise SystemExit(str(error)) from None
    kind = predictor.feature_kind
    if kind is None or feature_set(kind).size != len(FEATURE_NAMES_V6):
        parser.error(f"{args.checkpoint}: needs a model reading monoclinic fits (indexing_v6 or later), not {kind!r}")
    try:
        fresh = fresh_synthetic(predictor, args.fresh, args.fresh_seed)
    except ValueError as error:
        parser.error(f"fresh crystals: {error}")
    aflow = AflowPrototypes()
    for title, source in ((f"{args.fresh} fresh synthetic crystals (seed {args.fresh_seed})", fresh), ("AFLOW prototypes", aflow)):
        profiles, labels, names, _ = real_profiles(args.data_dir, source, predictor)
        inputs = predictor.model_inputs(profiles)
        with torch.no_grad():
            calls = predictor.module.predict_proba(torch.as_tensor(inputs)).numpy().argmax(1)
        features = inputs[:, -len(FEATURE_NAMES_V6):]
        print_breakdown(title, labels, calls, features)
    # (the AFLOW prototypes' arrays, read last) whose own fit failed: the search's miss or the picking's?
    calculator = XRDCalculator(wavelength=predictor.wavelength_angstrom)
    two_theta_range = (float(predictor.grid.points[0]), float(predictor.grid.points[-1]))
    for system in FITTED_SYSTEMS:
        for i in np.flatnonzero((labels == class_index(system)) & ~fit_solved(features, system)):
            pattern = calculator.get_pattern(aflow.get(int(i)).structure, two_theta_range=two_theta_range)
            cell = index_lines(exact_lines(np.asarray(pattern.x), np.asarray(pattern.y)), predictor.wavelength_angstrom, system)
            print(f"  {system} fit unsolved: {names[i]:<36} called {CRYSTAL_SYSTEMS[calls[i]]:<13} "
                  f"exact lines: {'cell found, ' + cell.describe() if cell is not None else 'no cell either'}")

if __name__ == "__main__":
    main()
