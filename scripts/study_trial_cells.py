"""Solve rate and cost of lattice fits with different trial cells, on the synthetic validation split.

Solve rate: share of validation items of a class whose fit indexes >= 95 % of the first 20 lines with
ln M >= 3, on exact line lists (the simulated lines of >= 1 % of the strongest, lines closer than the
0.05° tolerance merged into the stronger one) and on rendered ones (lines picked from the clean
pseudo-Voigt render the features use, by its maxima and, as `indexing_v8` does, by its curvature too). Cost: ms per pattern of the whole feature vector of each set,
measured side by side in one process (alternating per pattern) on the same rendered profiles, so a
loaded machine slows both alike: read the ratio.

Examples:
    PYTHONPATH=src python scripts/study_trial_cells.py --items 300 --timing 500
    # as indexing_v4-v7 fit (2 of 20 lines may stay unindexed: solved = >= 85 % indexed, ln M >= 3)
    PYTHONPATH=src python scripts/study_trial_cells.py --unindexed 0.1 --classes orthorhombic monoclinic triclinic
    # indexing_v9 against v7/v8 on the curvature-picked lines of the 80,000-crystal set of the best recipe
    PYTHONPATH=src python scripts/study_trial_cells.py --synthetic data/synthetic-77a24faabd14 --unindexed 0.1 \
        --classes orthorhombic monoclinic triclinic --timing 300
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def exact_lines(two_theta: np.ndarray, intensity: np.ndarray, min_fraction: float = 0.01,
                merge_deg: float = 0.05) -> np.ndarray:
    """Line positions (degrees 2θ, ascending) of lines >= min_fraction of the strongest, near ones merged."""
    order = np.argsort(two_theta)
    two_theta, intensity = two_theta[order], intensity[order]
    keep = intensity >= min_fraction * intensity.max()
    two_theta, intensity = two_theta[keep], intensity[keep]
    out, strength = [], []
    for position, height in zip(two_theta, intensity):
        if out and position - out[-1] < merge_deg:
            if height > strength[-1]:
                out[-1], strength[-1] = position, height
            continue
        out.append(position)
        strength.append(height)
    return np.array(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", default="/work/main/data/synthetic-5df1562c6f13")
    parser.add_argument("--items", type=int, default=300, help="validation items per class for the solve rate")
    parser.add_argument("--timing", type=int, default=500, help="validation profiles for the cost comparison")
    parser.add_argument("--classes", nargs="*", default=["orthorhombic", "monoclinic"])
    parser.add_argument("--unindexed", type=float, default=0.0,
                        help="fraction of the fitted lines a fit may leave unindexed (indexing_v4/v5: 0.1)")
    parser.add_argument("--baseline-indexing", default=None,
                        help="another checkout's indexing.py (e.g. /work/main/src/xrdnet/xrd/indexing.py), timed alongside")
    args = parser.parse_args(argv)

    from xrdnet.crystal import CRYSTAL_SYSTEMS
    from xrdnet.data.datamodule import stratified_split
    from xrdnet.data.dataset import PeakListSet
    from xrdnet.xrd import indexing, indexing_low, indexing_ortho, indexing_wide, learned_assignments
    from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

    dataset = PeakListSet.load(args.synthetic)
    _, val, _ = stratified_split(dataset.labels, [0.8, 0.1, 0.1], seed=0)
    grid = TwoThetaGrid(5.0, 90.0, 0.04)
    settings = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
    wavelength = dataset.wavelength_angstrom
    fits = {"orthorhombic (indexing)": indexing.FAMILIES["orthorhombic"],
            "orthorhombic (indexing_v3)": indexing_ortho.orthorhombic_family(),
            "orthorhombic (indexing_v5)": indexing_ortho.wide_orthorhombic_family(),
            "orthorhombic (indexing_v7)": indexing_ortho.widest_orthorhombic_family(),
            "monoclinic (indexing_v2)": indexing_low.monoclinic_family(),
            "monoclinic (indexing_v6)": indexing_low.monoclinic_family(indexing_wide.MONOCLINIC_ASSIGNMENTS),
            "monoclinic (indexing_v7)": indexing_wide.wide_monoclinic_family(),
            "orthorhombic (indexing_v9)": indexing_wide.refined_orthorhombic_family(),
            "monoclinic (indexing_v9)": indexing_wide.refined_monoclinic_family(),
            "orthorhombic (indexing_v12)": learned_assignments.learned_orthorhombic_family(),
            "monoclinic (indexing_v12)": learned_assignments.learned_monoclinic_family(),
            "orthorhombic (indexing_v13)": learned_assignments.learned_orthorhombic_family("v13"),
            "monoclinic (indexing_v13)": learned_assignments.learned_monoclinic_family("v13")}

    def solved(family, two_theta):
        q2 = indexing.q_squared(two_theta, wavelength)[:indexing.N_FIT_LINES]
        tol = indexing.q_squared_tolerance(two_theta, wavelength)[:indexing.N_FIT_LINES]
        fit = indexing.fit_family(family, q2, tol, args.unindexed)
        return fit is not None and fit.fraction_indexed >= 0.95 - args.unindexed and fit.log_m >= 3.0

    print("| class | lines | " + " | ".join(fits) + " |")
    print("|---|---|" + "---|" * len(fits))
    for name in args.classes:
        items = val[dataset.labels[val] == CRYSTAL_SYSTEMS.index(name)][:args.items]
        lists = {"exact": [], "rendered": [], "rendered, curvature": []}
        for item in items:
            two_theta, intensity = dataset.peaks(int(item))
            lists["exact"].append(exact_lines(two_theta, intensity))
            profile = render_profile(two_theta, intensity, grid, settings, wavelength)
            lists["rendered"].append(indexing.pick_peaks(profile, grid.points)[0])
            lists["rendered, curvature"].append(indexing.pick_peaks(profile, grid.points, curvature=True)[0])
        for kind, line_lists in lists.items():
            rates = [np.mean([solved(family, lines) for lines in line_lists]) for family in fits.values()]
            print(f"| {name} ({len(items)}) | {kind} | " + " | ".join(f"{r:.3f}" for r in rates) + " |", flush=True)

    from xrdnet.data.features import FEATURE_SETS

    # feature set -> (describe, peak-search options); indexing_v2 is left out (not a default at any time)
    sets = {kind: (FEATURE_SETS[kind].describe, FEATURE_SETS[kind].pick) for kind in
            ("indexing", "indexing_v3", "indexing_v4", "indexing_v5", "indexing_v6", "indexing_v7", "indexing_v8",
                     "indexing_v9", "indexing_v12", "indexing_v13")}
    if args.baseline_indexing:
        import importlib.util

        spec = importlib.util.spec_from_file_location("baseline_indexing", args.baseline_indexing)
        baseline = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = baseline  # its dataclasses look their module up
        spec.loader.exec_module(baseline)
        sets = {"indexing (baseline)": (baseline.line_features, {}), **sets}
    items = val[:args.timing]
    profiles = [render_profile(*dataset.peaks(int(i)), grid, settings, wavelength) for i in items]
    spent = dict.fromkeys(sets, 0.0)
    for profile in profiles:
        for kind, (describe, pick) in sets.items():
            start = time.perf_counter()
            indexing.indexing_features(profile, grid.points, wavelength, describe=describe, **pick)
            spent[kind] += time.perf_counter() - start
    ms = {kind: seconds / len(profiles) * 1e3 for kind, seconds in spent.items()}
    print(f"\nms per pattern over {len(profiles)} validation profiles (peak picking + features): "
          + ", ".join(f"{k} {v:.2f}" for k, v in ms.items()) + "; ratios to indexing: " + ", ".join(f"{k} {v / ms['indexing']:.3f}" for k, v in ms.items()))


if __name__ == "__main__":
    main()
