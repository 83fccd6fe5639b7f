"""Learn a table of trial assignments from synthetic crystals' own picked lines (`xrdnet.xrd.learned_assignments`).

Builds (or reuses) the table's learning crystals - LEARN_SEED's default-generator crystals, then for `v13` also
LARGE_LEARN_SEED's crystals of up to LARGE_MAX_ATOMS atoms, for `v14` LONG_LEARN_SEED's longer cells - with the
default data config's simulation, renders each orthorhombic and monoclinic crystal's clean profile and picks its
lines as `indexing_v9` does, indexes its first lines with the crystal's true cell, and keeps the assignments that
name the lines of the most crystals.
Writes the arrays atomically to the table's file (or --out) and prints the sha256 to set in the table.

    python scripts/learn_trial_assignments.py v12   # indexing_v12's: 60,000 crystals, ~4 min
    python scripts/learn_trial_assignments.py v13   # indexing_v13's: 180,000 + 40,000 large-cell crystals, ~12 min
    python scripts/learn_trial_assignments.py v14   # indexing_v14's: 60,000 + 60,000 longer-cell crystals, ~4 min
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np
from tqdm.auto import tqdm

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.data.dataset import build_or_load
from xrdnet.data.features import feature_set
from xrdnet.structures.synthetic import SyntheticStructures
from xrdnet.utils.atomic import atomic_path
from xrdnet.xrd import indexing, indexing_low, indexing_ortho
from xrdnet.xrd import learned_assignments as learned
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.trial_assignments import cover_line_lists

# the default data config's grid, clean profile and simulation range (the grid widened for augmentation)
GRID = TwoThetaGrid(5.0, 90.0, 0.04)
PROFILE = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
SIMULATION_RANGE = (4.92, 90.63)

SYSTEMS = {  # system -> (reflections, coefficients, true parameters of a reciprocal metric)
    "orthorhombic": (learned.orthorhombic_hkl(), indexing_ortho.orthorhombic_coefficients, learned.orthorhombic_parameters),
    "monoclinic": (learned.monoclinic_hkl(), indexing_low.monoclinic_coefficients, learned.monoclinic_parameters),
}


def learning_sources(crystals: int, large_crystals: int = 0, long_crystals: int = 0) -> list[SyntheticStructures]:
    """The synthetic crystals a table is learned from: default-generator ones, then large- and longer-cell ones."""
    sources = [SyntheticStructures(crystals, seed=learned.LEARN_SEED)]
    if large_crystals:
        sources.append(SyntheticStructures(large_crystals, seed=learned.LARGE_LEARN_SEED,
                                           max_atoms=learned.LARGE_MAX_ATOMS))
    if long_crystals:
        sources.append(SyntheticStructures(long_crystals, seed=learned.LONG_LEARN_SEED,
                                           axis_ratio=learned.LONG_AXIS_RATIO))
    return sources


def indexed_first_lines(source: SyntheticStructures, data_dir: str) -> dict[str, list[list[int]]]:
    """Per system, each of the source's crystals of that system: the reflection index of its first picked lines."""
    dataset = build_or_load(data_dir, source, XRDSimulator(two_theta_range=SIMULATION_RANGE))
    wavelength = dataset.wavelength_angstrom
    pick = feature_set("indexing_v9").pick
    out = {}
    for system, (hkl, coefficients, parameters) in SYSTEMS.items():
        table = coefficients(hkl)
        items = np.flatnonzero(dataset.labels == CRYSTAL_SYSTEMS.index(system))
        line_lists, skipped = [], 0
        for item in tqdm(items, desc=f"index {system} lines (seed {source.seed})", unit="crystal"):
            params = parameters(learned.reciprocal_metric(source.get(int(dataset.indices[item])).structure))
            if params is None:  # the conventional cell is not of the labelled system's form
                skipped += 1
                continue
            profile = render_profile(*dataset.peaks(int(item)), GRID, PROFILE, wavelength)
            two_theta = indexing.pick_peaks(profile, GRID.points, **pick)[0][:learned.N_ASSIGNMENT_LINES]
            line_lists.append(learned.index_lines_with_cell(indexing.q_squared(two_theta, wavelength),
                                                            indexing.q_squared_tolerance(two_theta, wavelength),
                                                            table @ params))
        print(f"{system} (seed {source.seed}): {len(line_lists)} crystals ({skipped} skipped)")
        out[system] = line_lists
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table", choices=sorted(learned.TABLES), help="which stored table to learn")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--out", default=None, help="where to write it (default: the table's file in the package)")
    args = parser.parse_args()
    table = learned.TABLES[args.table]
    sources = learning_sources(table.crystals, table.large_crystals, table.long_crystals)
    lists = [indexed_first_lines(source, args.data_dir) for source in sources]
    arrays = {}
    for system, (hkl, coefficients, _) in SYSTEMS.items():
        line_lists = [crystal for per_source in lists for crystal in per_source[system]]
        positions, reflections = cover_line_lists(line_lists, coefficients(hkl), table.assignments[system])
        arrays.update({f"{system}_hkl": hkl, f"{system}_positions": positions, f"{system}_reflections": reflections})
        print(f"{system}: {len(line_lists)} crystals, {len(positions)} assignments")
    out = args.out or table.path
    with atomic_path(out, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    with open(out, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    print(f"wrote {out}\nsha256 {digest}")


if __name__ == "__main__":
    main()
