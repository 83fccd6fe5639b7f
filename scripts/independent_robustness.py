"""Independent robustness check: a checkpoint on measured-style scans of the 288 AFLOW prototypes made by
xrayutilities (not xrdnet's simulator), scored through xrdnet-predict's preprocessing.

Conditions (xrdnet.robustness.CONDITIONS), one change each from a reference scan (0.1° FWHM, Kα1 only,
1e4 counts for the strongest line, 5 % background, 5-90° at 0.01°): peak width 0.03-0.5°, Kα2 on
(stripped as predict does by default, or kept), counts 1e2-1e6, a 50 % background, a low-angle rise,
sample displacement ±0.2 mm, a 5 % impurity phase, a partial range 10-80°. The first row is the
checkpoint's accuracy on its own clean renders of the same prototypes (what xrdnet-eval reports).
The xrayutilities peak lists are cached in --cache-dir (the first run simulates them, a few minutes).

    pip install -e '.[robustness]'
    python scripts/independent_robustness.py                       # the shipped model
    python scripts/independent_robustness.py --ckpt best.ckpt --out outputs/robustness.md
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.pretrained import shipped_checkpoint
from xrdnet.robustness import markdown_table, prototype_peak_lists, score_conditions
from xrdnet.utils.atomic import write_text_atomic
from xrdnet.xrd.independent import line_wavelength


def clean_accuracy(predictor, data_dir: str) -> float:
    """The checkpoint on its own clean renders of the AFLOW prototypes (xrdnet-eval's figure)."""
    from xrdnet.data.datamodule import render_all
    from xrdnet.data.dataset import build_or_load
    from xrdnet.structures.aflow import AflowPrototypes

    peaks = build_or_load(data_dir, AflowPrototypes(), predictor.simulator)
    profiles, labels = (t.numpy() for t in render_all(peaks, np.arange(len(peaks)), predictor.grid,
                                                      predictor.settings).tensors)
    return float((predictor.predict_proba(profiles).argmax(1) == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", default=None, help="checkpoint to score (default: the shipped model)")
    parser.add_argument("--n", type=int, default=None, help="first N prototypes only (default: all 288)")
    parser.add_argument("--seed", type=int, default=0, help="noise and impurity draws (default 0)")
    parser.add_argument("--cache-dir", default="data/independent", help="xrayutilities peak-list cache")
    parser.add_argument("--data-dir", default="data", help="dataset cache for the clean row, shared with xrdnet-eval")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes simulating peak lists")
    parser.add_argument("--out", default="outputs/independent_robustness.md", help="Markdown table written here")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    try:
        ckpt = args.ckpt or shipped_checkpoint()
        predictor = CrystalSystemPredictor.from_checkpoint(ckpt)
    except (CheckpointError, FileNotFoundError) as error:
        parser.error(str(error))
    try:
        peak_lists, labels, _, skipped = prototype_peak_lists(args.cache_dir, args.n, args.workers)
    except ImportError as error:
        parser.error(str(error))
    rows = [("clean renders, xrdnet's own simulator (xrdnet-eval)", clean_accuracy(predictor, args.data_dir))]
    rows += score_conditions(predictor, peak_lists, labels, line_wavelength(), seed=args.seed)
    header = (f"{len(labels)} AFLOW prototypes simulated by xrayutilities ({len(skipped)} it could not read), "
              f"checkpoint {ckpt}, seed {args.seed}")
    table = markdown_table(rows, header)
    print(table, end="")
    for line in skipped:
        print(f"skipped {line}")
    write_text_atomic(args.out, table)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
