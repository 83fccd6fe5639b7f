"""Score checkpoints alone and as an ensemble (the mean of their calibrated probabilities).

Sets: the synthetic validation split (where an ensemble is chosen or not), the synthetic test split,
and the AFLOW prototypes (report only). The checkpoints must read the same inputs (grid, profile
settings, feature set) and come from the same dataset and split, as seeds of one recipe do.

    python scripts/score_ensemble.py --data-dir data outputs/xrd_best/runs/A/checkpoints/epoch_016.ckpt \\
        outputs/xrd_best/runs/B/checkpoints/epoch_016.ckpt

With --cross the checkpoints may come from other datasets (another generator setting, say): all are
scored on the first one's validation and test splits. Datasets of one seed share their items' space
groups, sites and elements index by index (and cubic crystals outright), so a model of the other
dataset has trained on relatives of most of those items: compare recipes on --fresh N crystals of
another seed, which none of them saw.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from xrdnet.data.datamodule import render_all
from xrdnet.eval import fresh_synthetic, real_profiles, training_split
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.structures.aflow import AflowPrototypes


def reads_same_inputs(predictors: list[CrystalSystemPredictor], same_split: bool = True) -> bool:
    """Same grid, profile, wavelength and feature set; with same_split, also the same training data (and so the
    same feature standardization, which otherwise follows each model's own data)."""
    infos = [dict(p.module.hparams.data_info) for p in predictors]
    if not same_split:
        for info in infos:
            info["features"] = (info.get("features") or {}).get("kind")
    keys = ("grid", "profile", "wavelength_angstrom", "features") + (("training_data",) if same_split else ())
    return all(all(info.get(key) == infos[0].get(key) for key in keys) for info in infos[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data-dir", default="data", help="dataset folder the checkpoints were trained from")
    parser.add_argument("--symprec", type=float, default=0.1, help="symmetry tolerance of the AFLOW labels (Å)")
    parser.add_argument("--cross", action="store_true",
                        help="checkpoints trained on other datasets too, all scored on the first one's splits")
    parser.add_argument("--fresh", type=int, default=0, metavar="N",
                        help="also score N fresh synthetic crystals no checkpoint trained on: the first checkpoint's "
                             "generator settings with seed --fresh-seed, --fresh-pseudo-symmetric, --fresh-derivative(-parents), --fresh-sublattice, --fresh-axis-ratio and --fresh-max-atoms")
    parser.add_argument("--fresh-seed", type=int, default=1)
    parser.add_argument("--fresh-pseudo-symmetric", type=float, default=0.0)
    parser.add_argument("--fresh-derivative", type=float, default=0.0)
    parser.add_argument("--fresh-sublattice", type=float, default=0.0)
    parser.add_argument("--fresh-axis-ratio", type=float, default=2.0)
    parser.add_argument("--fresh-max-atoms", type=int, default=None,
                        help="atoms per conventional cell at most (default: the checkpoint's generator's)")
    # one comma-separated word, so the list cannot swallow the checkpoints after it
    parser.add_argument("--fresh-derivative-parents", type=lambda text: text.split(","), default=None,
                        metavar="SYSTEM[,SYSTEM...]")
    args = parser.parse_args()
    try:
        predictors = [CrystalSystemPredictor.from_checkpoint(path) for path in args.checkpoints]
    except CheckpointError as error:
        raise SystemExit(str(error)) from None
    if not reads_same_inputs(predictors, same_split=not args.cross):
        parser.error("the checkpoints read different inputs" + ("" if args.cross else " or were trained on different splits"))
    first = predictors[0]
    datamodule = training_split(args.checkpoints[0], first, args.data_dir)
    sets = {}
    for stage, split in (("validate", "val"), ("test", "test")):
        # the split's items alone, as xrdnet-eval reads them: no feature pass over the whole dataset
        profiles, labels = render_all(datamodule.peaks, datamodule.split_indices[split], first.grid, first.settings).tensors
        sets[stage] = (torch.as_tensor(first.model_inputs(profiles.numpy())), labels.numpy())
    profiles, labels, _, _ = real_profiles(args.data_dir, AflowPrototypes(symprec=args.symprec), first)
    sets["aflow"] = (torch.as_tensor(first.model_inputs(profiles)), labels)
    if args.fresh:
        try:
            source = fresh_synthetic(first, args.fresh, args.fresh_seed, pseudo_symmetric=args.fresh_pseudo_symmetric,
                                     derivative=args.fresh_derivative, derivative_parents=args.fresh_derivative_parents,
                                     sublattice=args.fresh_sublattice, axis_ratio=args.fresh_axis_ratio,
                                     **({} if args.fresh_max_atoms is None else {"max_atoms": args.fresh_max_atoms}))
        except ValueError as error:
            parser.error(f"fresh crystals: {error}")
        profiles, labels, _, _ = real_profiles(args.data_dir, source, first)
        sets["fresh"] = (torch.as_tensor(first.model_inputs(profiles)), labels)
    print(f"{'set':<10}{'n':>6}  " + "  ".join(f"model {i + 1}" for i in range(len(predictors))) + "  ensemble")
    with torch.no_grad():
        for name, (inputs, labels) in sets.items():
            probabilities = [p.module.predict_proba(inputs).numpy() for p in predictors]
            alone = [float((p.argmax(1) == labels).mean()) for p in probabilities]
            together = float((np.mean(probabilities, axis=0).argmax(1) == labels).mean())
            print(f"{name:<10}{len(labels):>6}  " + "  ".join(f"{a:>7.4f}" for a in alone) + f"  {together:>8.4f}")


if __name__ == "__main__":
    main()
