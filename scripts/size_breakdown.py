"""Study: how checkpoints read crystals larger than the ones they trained on.

Scores each checkpoint on N fresh synthetic crystals of the generator it trained with (another seed), drawn with
up to --max-atoms atoms in the conventional cell instead of the training's limit (with MP weights, 40 atoms keeps
73 % of Materials Project's structures, 80 keeps 90 %, 120 keeps 97 %): accuracy by band of atoms per
conventional cell, each crystal system's recall in the band, and the confusion matrix of the crystals beyond the
training's largest. Clean renders, as validation reads them; the crystals are cached in --data-dir.

    python scripts/size_breakdown.py                            # the shipped model, 3,000 crystals up to 120 atoms
    python scripts/size_breakdown.py A.ckpt B.ckpt --fresh 2000 --max-atoms 80
"""

from __future__ import annotations

import argparse

import numpy as np

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.eval import fresh_synthetic, real_profiles
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.pretrained import SHIPPED_CHECKPOINT


def atoms_per_cell(source, names) -> np.ndarray:
    """Atoms in the conventional cell of each named item of a SyntheticStructures source (its Wyckoff multiplicities)."""
    index = {source.item_name(i): i for i in range(len(source))}
    return np.array([sum(source.spec(index[name]).multiplicities()) for name in names])


def band_edges(trained_max: int, max_atoms: int) -> list[tuple[int, int]]:
    """(lowest, highest) atoms of each band: the training's range, then steps of 20 up to max_atoms."""
    edges = [(1, trained_max)]
    while edges[-1][1] < max_atoms:
        low = edges[-1][1] + 1
        edges.append((low, min(low + 19, max_atoms)))
    return edges


def band_rows(calls: np.ndarray, labels: np.ndarray, atoms: np.ndarray, edges) -> list[str]:
    rows = []
    for low, high in edges:
        in_band = (atoms >= low) & (atoms <= high)
        if not in_band.any():
            continue
        recalls = [f"{CRYSTAL_SYSTEMS[s][:5]} {np.mean(calls[in_band & (labels == s)] == s):.2f} ({np.sum(in_band & (labels == s))})"
                   for s in range(len(CRYSTAL_SYSTEMS)) if np.any(in_band & (labels == s))]
        rows.append(f"  {low:>3}-{high:<3} atoms  n={in_band.sum():<5} accuracy {np.mean(calls[in_band] == labels[in_band]):.3f}   "
                    + "  ".join(recalls))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", default=[SHIPPED_CHECKPOINT])
    parser.add_argument("--fresh", type=int, default=3000, metavar="N", help="fresh synthetic crystals drawn")
    parser.add_argument("--max-atoms", type=int, default=120, help="most atoms in a fresh crystal's conventional cell")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fresh crystals (not the training's)")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    if args.fresh < 1 or args.max_atoms < 1:
        parser.error("--fresh and --max-atoms must be positive")
    for path in args.checkpoints:
        try:
            predictor = CrystalSystemPredictor.from_checkpoint(path)
            source = fresh_synthetic(predictor, args.fresh, args.seed, max_atoms=args.max_atoms)
        except (CheckpointError, ValueError) as error:
            raise SystemExit(f"{path}: {error}") from None
        trained_max = int(predictor.module.hparams.data_info["datamodule"]["source"].get("max_atoms", 40))
        profiles, labels, names, skipped = real_profiles(args.data_dir, source, predictor)
        atoms = atoms_per_cell(source, names)
        calls = predictor.predict_proba(profiles).argmax(1)
        print(f"\n{path}: trained on crystals of up to {trained_max} atoms; {len(labels)} fresh crystals (seed {args.seed}) "
              f"of up to {args.max_atoms}, {len(skipped)} skipped; accuracy {np.mean(calls == labels):.3f}")
        print("\n".join(band_rows(calls, labels, atoms, band_edges(trained_max, args.max_atoms))))
        beyond = atoms > trained_max
        if beyond.any():
            confusion = np.zeros((len(CRYSTAL_SYSTEMS), len(CRYSTAL_SYSTEMS)), dtype=int)
            np.add.at(confusion, (labels[beyond], calls[beyond]), 1)
            print(f"  beyond {trained_max} atoms, rows true, columns called ({', '.join(s[:5] for s in CRYSTAL_SYSTEMS)}):")
            for system, row in zip(CRYSTAL_SYSTEMS, confusion):
                print(f"    {system:<13}" + "".join(f"{n:>6}" for n in row))


if __name__ == "__main__":
    main()
