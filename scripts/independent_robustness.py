"""Independent robustness check: a checkpoint on measured-style scans of the 288 AFLOW prototypes made by
xrayutilities (not xrdnet's simulator), scored through xrdnet-predict's preprocessing.

Conditions (xrdnet.robustness.CONDITIONS), one change each from a reference scan (CuKα1, 0.1° FWHM,
1e4 counts for the strongest line, 5 % background, 5-90° at 0.01°): peak width 0.03-0.5°, Kα2 on
(stripped as predict does by default, or kept), counts 1e2-1e6, a 50 % background, a low-angle rise,
sample displacement ±0.2 mm, a 5 % impurity phase, a partial range 10-80°, and MoKα scans over 2-45°
at 0.005° (Kα1 only, Kα2 stripped, Kα2 kept). The first row is the checkpoint's accuracy on its own
clean renders of the same crystals (what xrdnet-eval reports). The xrayutilities peak lists are
cached in --cache-dir (the first run simulates them, a few minutes).

--source synthetic-val is the screen to choose augmentations and features on, keeping the AFLOW
prototypes the report set: the same conditions and renderer on a seeded random --n of the synthetic
validation crystals of the dataset the checkpoint was trained on (rebuilt from its saved data config
in --data-dir, its split checked as xrdnet-eval checks it). Those peak lists are xrdnet's own
simulator's, so the screen is not independent: it tests the renderer's scans, noise and predict's
preprocessing, not the physics.

    pip install -e '.[robustness]'
    python scripts/independent_robustness.py                       # the shipped model
    python scripts/independent_robustness.py --ckpt best.ckpt --out outputs/robustness.md
    python scripts/independent_robustness.py --ckpt best.ckpt --source synthetic-val --n 600
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from xrdnet.eval import SplitMismatchError, training_split
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.pretrained import shipped_checkpoint
from xrdnet.robustness import CONDITIONS, clean_accuracy, markdown_table, prototype_peak_lists, score_conditions, validation_items
from xrdnet.utils.atomic import write_text_atomic

SOURCES = ("aflow", "synthetic-val")
DEFAULT_SCREEN_ITEMS = 600
CLEAN_ROW = "clean renders, xrdnet's own simulator (xrdnet-eval)"


def aflow_table(predictor, ckpt, args) -> tuple[str, list[str]]:
    """The table on the AFLOW prototypes' xrayutilities peak lists, and the prototypes xrayutilities could not read."""
    import numpy as np

    from xrdnet.data.dataset import build_or_load
    from xrdnet.structures.aflow import AflowPrototypes
    from xrdnet.xrd.independent import line_wavelength

    peak_lists, labels, _, skipped = prototype_peak_lists(args.cache_dir, args.n, args.workers)
    peaks = build_or_load(args.data_dir, AflowPrototypes(), predictor.simulator)
    first = np.flatnonzero(peaks.indices < (args.n or len(peaks.indices)))  # the prototypes the lists are of
    rows = [(CLEAN_ROW, clean_accuracy(predictor, peaks, first))]
    rows += score_conditions(predictor, peak_lists, labels, line_wavelength(), args.conditions, seed=args.seed)
    header = (f"{len(labels)} AFLOW prototypes simulated by xrayutilities ({len(skipped)} it could not read), "
              f"checkpoint {ckpt}, seed {args.seed}")
    return markdown_table(rows, header), skipped


def screen_items(ckpt, predictor, data_dir: str, count: int, seed: int):
    """(the checkpoint's training data module, its dataset loaded and split, and the validation item indices
    the screen scores)."""
    datamodule = training_split(ckpt, predictor, data_dir)
    if datamodule is None:
        raise CheckpointError(f"{ckpt}: records no training-data config, so its validation split cannot be rebuilt")
    return datamodule, validation_items(datamodule.split_indices["val"], count, seed)


def synthetic_val_table(predictor, ckpt, args) -> str:
    """The table on a random --n of the synthetic validation crystals (xrdnet's own peak lists)."""
    datamodule, items = screen_items(ckpt, predictor, args.data_dir, args.n or DEFAULT_SCREEN_ITEMS, args.seed)
    peaks = datamodule.peaks
    rows = [(CLEAN_ROW, clean_accuracy(predictor, peaks, items))]
    rows += score_conditions(predictor, [peaks.peaks(int(i)) for i in items], peaks.labels[items],
                             peaks.wavelength_angstrom, conditions=args.conditions, seed=args.seed)
    header = (f"screen: {len(items)} synthetic validation crystals of dataset "
              f"{datamodule.training_data_record()['dataset']} (xrdnet's own peak lists, not independent), "
              f"checkpoint {ckpt}, seed {args.seed}")
    return markdown_table(rows, header)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", default=None, help="checkpoint to score (default: the shipped model)")
    parser.add_argument("--source", choices=SOURCES, default="aflow",
                        help="aflow: xrayutilities' AFLOW prototypes (the report); synthetic-val: the screen")
    parser.add_argument("--n", type=int, default=None,
                        help=f"aflow: first N prototypes (default all 288); synthetic-val: N random validation "
                             f"crystals (default {DEFAULT_SCREEN_ITEMS})")
    parser.add_argument("--seed", type=int, default=0, help="noise, impurity and screen-item draws (default 0)")
    parser.add_argument("--cache-dir", default="data/independent", help="xrayutilities peak-list cache")
    parser.add_argument("--data-dir", default="data", help="dataset cache, shared with xrdnet-train and xrdnet-eval")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes simulating peak lists")
    parser.add_argument("--out", default="outputs/independent_robustness.md", help="Markdown table written here")
    parser.add_argument("--conditions", nargs="+", metavar="TEXT",
                        help="only the conditions whose name contains one of these (e.g. impurity 'counts 1e2')")
    args = parser.parse_args(argv)
    chosen = [c for c in CONDITIONS if not args.conditions or any(text in c.name for text in args.conditions)]
    if not chosen:
        parser.error(f"--conditions {' '.join(args.conditions)}: no condition's name contains any of them; "
                     f"names: {'; '.join(c.name for c in CONDITIONS)}")
    args.conditions = chosen
    if args.n is not None and args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}")
    warnings.filterwarnings("ignore")

    try:
        ckpt = args.ckpt or shipped_checkpoint()
        predictor = CrystalSystemPredictor.from_checkpoint(ckpt)
    except (CheckpointError, FileNotFoundError) as error:
        parser.error(str(error))
    skipped: list[str] = []
    try:
        if args.source == "aflow":
            table, skipped = aflow_table(predictor, ckpt, args)
        else:
            table = synthetic_val_table(predictor, ckpt, args)
    except (ImportError, CheckpointError, SplitMismatchError) as error:  # no xrayutilities; no or another split
        parser.error(str(error))
    print(table, end="")
    for line in skipped:
        print(f"skipped {line}")
    write_text_atomic(args.out, table)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
