"""Study: how checkpoints read clean patterns whose lines are narrower or wider than their own clean renders.

Each structure is simulated with the first checkpoint's settings and rendered clean at every Scherrer crystallite
size asked (pseudo-Voigt as the checkpoint's own clean renders, FWHM = K λ / (L cos θ)), and each checkpoint reads
every rendering, its indexing features picked from that rendering. Broader lines blend neighbours into one
maximum, so the picked lines, and the cells the fits find, change with the width; a model should not care
within the widths real scans have. With --validation N the patterns are N crystals of the first checkpoint's
synthetic validation split (seeded by --seed), the set to choose on; without it, the 288 AFLOW prototypes
(report only).

    python scripts/width_sensitivity.py --validation 1500 --sizes 25,60,85,150          # the shipped model
    python scripts/width_sensitivity.py --validation 0 --sizes 25,85 A.ckpt B.ckpt      # the whole validation split
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from xrdnet.data.dataset import build_or_load
from xrdnet.data.datamodule import render_all
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.pretrained import SHIPPED_CHECKPOINT
from xrdnet.structures.aflow import AflowPrototypes
from measured_robustness import validation_items  # the sibling study's validation draw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ckpts", nargs="*", default=[str(SHIPPED_CHECKPOINT)], help="checkpoints (default: the shipped model)")
    parser.add_argument("--sizes", default="25,60,85,150", help="Scherrer crystallite sizes (nm), comma-separated")
    parser.add_argument("--validation", type=int, default=None, metavar="N",
                        help="N crystals of the first checkpoint's validation split (0: all of it); default: the AFLOW prototypes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="data", help="dataset cache, shared with xrdnet-eval (default data/)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    try:
        predictors = [CrystalSystemPredictor.from_checkpoint(path) for path in args.ckpts]
        sizes = [float(size) for size in args.sizes.split(",")]
        # ProfileSettings refuses a size that is not a positive number of nm
        renders = [[predictor.settings.with_crystallite_size(size) for predictor in predictors] for size in sizes]
    except (CheckpointError, ValueError) as error:
        parser.error(str(error))
    first = predictors[0]
    if args.validation is None:
        peaks = build_or_load(args.data_dir, AflowPrototypes(), first.simulator)
        items, what = np.arange(len(peaks)), "AFLOW prototypes"
    else:  # 0 (or less): the whole split
        peaks, items, what = validation_items(args.ckpts[0], first, args.data_dir, args.validation, args.seed)
    print(f"{len(items)} {what}")
    print("| Scherrer size | FWHM at 40° | " + " | ".join(args.ckpts) + " |")
    print("|---:|---:|" + "---:|" * len(predictors))
    for size, settings_of in zip(sizes, renders):
        row = []
        for predictor, settings in zip(predictors, settings_of):
            profiles, labels = render_all(peaks, items, predictor.grid, settings).tensors
            probabilities = predictor.predict_proba(profiles.numpy())
            row.append(float((probabilities.argmax(1) == labels.numpy()).mean()))
        width = float(settings_of[0].fwhm_at(40.0, first.wavelength_angstrom))
        print(f"| {size:g} nm | {width:.2f}° | " + " | ".join(f"{value:.4f}" for value in row) + " |", flush=True)


if __name__ == "__main__":
    main()
