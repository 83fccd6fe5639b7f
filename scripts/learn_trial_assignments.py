"""Learn `indexing_v12`'s trial assignments from synthetic crystals' own picked lines (`xrdnet.xrd.learned_assignments`).

Builds (or reuses) the synthetic set of LEARN_SEED with the default data config's simulation, renders each
orthorhombic and monoclinic crystal's clean profile and picks its lines as `indexing_v9` does, indexes its
first lines with the crystal's true cell, and keeps the assignments that name the lines of the most crystals.
Writes the arrays atomically to ASSIGNMENTS_FILE and prints the sha256 to set as ASSIGNMENTS_SHA256.

    python scripts/learn_trial_assignments.py            # 60,000 crystals: ~2 min to build, ~2 min to learn
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
from xrdnet.xrd import indexing
from xrdnet.xrd import learned_assignments as learned
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.trial_assignments import cover_line_lists

# the default data config's grid, clean profile and simulation range (the grid widened for augmentation)
GRID = TwoThetaGrid(5.0, 90.0, 0.04)
PROFILE = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
SIMULATION_RANGE = (4.92, 90.63)

SYSTEMS = {  # system -> (reflections, coefficients, true parameters of a reciprocal metric, assignments kept)
    "orthorhombic": (learned.orthorhombic_hkl(), learned.orthorhombic_coefficients, learned.orthorhombic_parameters,
                     learned.ORTHORHOMBIC_ASSIGNMENTS),
    "monoclinic": (learned.monoclinic_hkl(), learned.monoclinic_coefficients, learned.monoclinic_parameters,
                   learned.MONOCLINIC_ASSIGNMENTS),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crystals", type=int, default=60000, help="synthetic crystals of seed LEARN_SEED")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--out", default=str(learned.ASSIGNMENTS_FILE))
    args = parser.parse_args()
    source = SyntheticStructures(args.crystals, seed=learned.LEARN_SEED)
    dataset = build_or_load(args.data_dir, source, XRDSimulator(two_theta_range=SIMULATION_RANGE))
    wavelength = dataset.wavelength_angstrom
    pick = feature_set("indexing_v9").pick
    arrays = {}
    for system, (hkl, coefficients, parameters, n_assignments) in SYSTEMS.items():
        table = coefficients(hkl)
        items = np.flatnonzero(dataset.labels == CRYSTAL_SYSTEMS.index(system))
        line_lists, skipped = [], 0
        for item in tqdm(items, desc=f"index {system} lines", unit="crystal"):
            params = parameters(learned.reciprocal_metric(source.get(int(dataset.indices[item])).structure))
            if params is None:  # the conventional cell is not of the labelled system's form
                skipped += 1
                continue
            profile = render_profile(*dataset.peaks(int(item)), GRID, PROFILE, wavelength)
            two_theta = indexing.pick_peaks(profile, GRID.points, **pick)[0][:learned.N_ASSIGNMENT_LINES]
            line_lists.append(learned.index_lines_with_cell(indexing.q_squared(two_theta, wavelength),
                                                            indexing.q_squared_tolerance(two_theta, wavelength),
                                                            table @ params))
        positions, reflections = cover_line_lists(line_lists, table, n_assignments)
        arrays.update({f"{system}_hkl": hkl, f"{system}_positions": positions, f"{system}_reflections": reflections})
        print(f"{system}: {len(line_lists)} crystals ({skipped} skipped), {len(positions)} assignments")
    with atomic_path(args.out, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    with open(args.out, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    print(f"wrote {args.out}\nsha256 {digest}")


if __name__ == "__main__":
    main()
