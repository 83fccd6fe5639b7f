"""Check that the indexing feature sets give the same vectors as a reference, pattern by pattern.

Speed work on `xrdnet.xrd.indexing` and its kin must not change what the features are. This script
computes the feature sets (`indexing` ... `indexing_v7`) on line lists of items of a cached
peak-list set and compares them with reference vectors: a saved .npz (written by --write with the
reference code on the path) or another checkout's code imported alongside (--baseline-src).

Line lists: each item's simulated lines between 5 and 90° 2θ, lines closer than 0.08° merged (a
rendered peak would hold them), those of >= 1 % of the strongest, positions jittered by 0.01°
(seeded per item), at most 30: what peak picking on a render gives, without rendering.

Examples (the reference code: a checkout of it, e.g. main before the fits were made cheaper,
git worktree add --detach /tmp/base 546e371):
    # reference vectors with its code, then the check of this tree against them
    PYTHONPATH=/tmp/base/src python scripts/check_indexing_equivalence.py --write /tmp/indexing_ref.npz
    PYTHONPATH=src python scripts/check_indexing_equivalence.py --reference /tmp/indexing_ref.npz
    # or against its code directly, imported beside this tree's
    PYTHONPATH=src python scripts/check_indexing_equivalence.py --baseline-src /tmp/base/src
    # the test fixture (tests/xrd/data), with the reference code on the path
    PYTHONPATH=/tmp/base/src python scripts/check_indexing_equivalence.py --write-fixture FIXTURE.npz
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np

DEFAULT_PEAKS = "/work/fresh/data/synthetic-4e8c50488d68"
KINDS = ("indexing", "indexing_v2", "indexing_v3", "indexing_v4", "indexing_v5", "indexing_v6", "indexing_v7")
# module and function of each feature set (as registered in xrdnet.data.features)
_DESCRIBE = {"indexing": ("indexing", "line_features"), "indexing_v2": ("indexing_low", "line_features_v2"),
             "indexing_v3": ("indexing_ortho", "line_features_v3"),
             "indexing_v4": ("indexing_impurity", "line_features_v4"), "indexing_v5": ("indexing_wide", "line_features_v5"),
             "indexing_v6": ("indexing_wide", "line_features_v6"), "indexing_v7": ("indexing_wide", "line_features_v7")}
TOLERANCE = 1e-9  # largest absolute difference allowed in any feature


def feature_functions() -> dict:
    """{kind: describe(Q², heights, tol)} of the xrdnet on the path."""
    return {kind: getattr(importlib.import_module(f"xrdnet.xrd.{module}"), name)
            for kind, (module, name) in _DESCRIBE.items()}


def baseline_feature_functions(src: str | Path) -> dict:
    """{kind: describe} of another checkout's xrdnet (its src folder), imported beside the one on the path.

    The checkout's modules are imported with its folder first on sys.path and xrdnet's modules out of
    sys.modules, then the modules already imported are put back: each copy keeps the references to
    its own modules it was imported with.
    """
    src = str(Path(src).resolve())
    if not (Path(src) / "xrdnet" / "xrd" / "indexing.py").is_file():
        raise SystemExit(f"{src}: no xrdnet/xrd/indexing.py there (give a checkout's src folder)")
    ours = lambda: [name for name in sys.modules if name == "xrdnet" or name.startswith("xrdnet.")]
    saved = {name: sys.modules.pop(name) for name in ours()}
    sys.path.insert(0, src)
    try:
        functions = feature_functions()
        if not all(Path(f.__code__.co_filename).resolve().is_relative_to(src) for f in functions.values()):
            raise SystemExit(f"{src}: its xrdnet was not the one imported")
    finally:
        sys.path.remove(src)
        for name in ours():
            del sys.modules[name]
        sys.modules.update(saved)
    return functions


def merged_lines(two_theta: np.ndarray, intensity: np.ndarray, jitter_seed: int | None = None,
                 max_lines: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(2θ ascending, heights) of lines: 5-90°, lines closer than 0.08° merged, >= 1 % of the strongest,
    positions jittered by 0.01° with the seed (none without), at most max_lines."""
    two_theta, intensity = np.asarray(two_theta, dtype=float), np.asarray(intensity, dtype=float)
    keep = (two_theta > 5.0) & (two_theta < 90.0)
    two_theta, intensity = two_theta[keep], intensity[keep]
    order = np.argsort(two_theta, kind="stable")
    two_theta, intensity = two_theta[order], intensity[order]
    groups = np.concatenate([[0], np.cumsum(np.diff(two_theta) > 0.08)])
    weight = np.bincount(groups, intensity)
    position = np.bincount(groups, intensity * two_theta) / np.maximum(weight, 1e-12)
    heights = weight / weight.max()
    keep = heights >= 0.01
    position = position[keep]
    if jitter_seed is not None:
        position = position + np.random.default_rng(jitter_seed).normal(0.0, 0.01, keep.sum())
    return position[:max_lines], heights[keep][:max_lines]


def lines_of(peaks, item: int, max_lines: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Lines of item `item` of a peak-list set, as described above (jitter seeded by the item)."""
    return merged_lines(*peaks.peaks(item), jitter_seed=item, max_lines=max_lines)


# the test fixture: textbook structures of each family, one with 4 % of a second phase, and synthetic items,
# 6743 among them: its strong lines give a tetragonal trial cell of A ~ 1e-8 (x beyond −1e9 in far rows)
FIXTURE_STRUCTURES = ("Si (diamond)", "NaCl (rock salt)", "TiO2 (rutile)", "TiO2 (anatase)", "ZnO (wurtzite)",
                      "Al2O3 (corundum)", "Mg2SiO4 (forsterite)", "ZrO2 (baddeleyite)")
FIXTURE_ITEMS = (6743, 22104, 1582)


def fixture_lines(peaks_folder: str) -> tuple[list[str], list, float]:
    """(names, [(2θ, heights)], wavelength in Å) of the test fixture's line lists."""
    from xrdnet.data.dataset import PeakListSet
    from xrdnet.structures.reference import REFERENCE_STRUCTURES
    from xrdnet.xrd.peaks import XRDSimulator

    peaks = PeakListSet.load(peaks_folder)
    simulator = XRDSimulator(peaks.wavelength_angstrom)
    reference = {r.name: r for r in REFERENCE_STRUCTURES}
    simulated = {name: simulator.simulate(reference[name].structure()) for name in FIXTURE_STRUCTURES}
    names, lists = [], []
    for name, lines in simulated.items():
        names.append(name)
        lists.append(merged_lines(lines.two_theta, lines.intensity))
    main, second = simulated["NaCl (rock salt)"], simulated["TiO2 (rutile)"]
    names.append("NaCl + 4 % rutile")
    lists.append(merged_lines(np.concatenate([main.two_theta, second.two_theta]),
                              np.concatenate([main.intensity, 0.04 * second.intensity * main.intensity.max() / second.intensity.max()])))
    for item in FIXTURE_ITEMS:
        names.append(f"synthetic item {item}")
        lists.append(lines_of(peaks, item))
    return names, lists, peaks.wavelength_angstrom


def write_fixture(path: str, peaks_folder: str) -> None:
    """Save the fixture's line lists (NaN-padded) and their vectors of each feature set, by the code on the path."""
    from xrdnet.utils.atomic import atomic_path

    names, lists, wavelength = fixture_lines(peaks_folder)
    two_theta = np.full((len(lists), 30), np.nan)
    heights = np.full((len(lists), 30), np.nan)
    for row, (positions, strengths) in enumerate(lists):
        two_theta[row, :positions.size], heights[row, :strengths.size] = positions, strengths
    vectors = {kind: features(describe, lists, wavelength) for kind, describe in feature_functions().items()}
    with atomic_path(Path(path), suffix=".npz") as tmp:
        np.savez(tmp, names=np.array(names), two_theta=two_theta, heights=heights, wavelength=wavelength, **vectors)
    print(f"wrote {path}: {len(names)} line lists")


def sample_items(n_items: int, n_total: int, seed: int = 0) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).permutation(n_total)[:n_items])


def line_lists(peaks_folder: str, n_items: int, seed: int = 0) -> tuple[list, float, np.ndarray]:
    """([(2θ, heights)] of n_items items, wavelength in Å, the item indices)."""
    from xrdnet.data.dataset import PeakListSet

    peaks = PeakListSet.load(peaks_folder)
    items = sample_items(n_items, len(peaks), seed)
    return [lines_of(peaks, int(i)) for i in items], peaks.wavelength_angstrom, items


def features(describe, lists, wavelength: float) -> np.ndarray:
    from xrdnet.xrd.indexing import peak_list_features

    return np.array([peak_list_features(two_theta, heights, wavelength, describe=describe)
                     for two_theta, heights in lists])


def compare(kind: str, found: np.ndarray, expected: np.ndarray, items: np.ndarray) -> bool:
    if found.shape != expected.shape:
        print(f"{kind}: shape {found.shape}, reference {expected.shape}  FAIL")
        return False
    difference = np.abs(found - expected)
    difference[np.isnan(found) & np.isnan(expected)] = 0.0
    worst = np.nanmax(np.where(np.isnan(difference), np.inf, difference), axis=1)
    bad = np.flatnonzero(worst > TOLERANCE)
    exact = int(np.sum(np.all(found == expected, axis=1)))
    print(f"{kind}: {len(found)} patterns, largest |difference| {worst.max():.3g}, bit-identical {exact}, "
          f"over {TOLERANCE:g}: {len(bad)}" + (f" (items {items[bad[:10]].tolist()})" if len(bad) else "") +
          ("  FAIL" if len(bad) else "  ok"))
    return not len(bad)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peaks", default=DEFAULT_PEAKS, help=f"peak-list set folder (default {DEFAULT_PEAKS})")
    parser.add_argument("--items", type=int, default=500, help="patterns (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="which items (default 0)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--write", metavar="NPZ", help="save this code's vectors as the reference")
    source.add_argument("--reference", metavar="NPZ", help="compare with vectors saved by --write")
    source.add_argument("--baseline-src", metavar="DIR", help="compare with another checkout's src folder")
    source.add_argument("--write-fixture", metavar="NPZ", help="save the test fixture's lines and vectors")
    args = parser.parse_args(argv)

    if args.write_fixture:
        write_fixture(args.write_fixture, args.peaks)
        return 0

    baseline = baseline_feature_functions(args.baseline_src) if args.baseline_src else None
    lists, wavelength, items = line_lists(args.peaks, args.items, args.seed)
    ours = feature_functions()
    if args.write:
        from xrdnet.utils.atomic import atomic_path

        vectors = {kind: features(ours[kind], lists, wavelength) for kind in args.kinds}
        with atomic_path(Path(args.write), suffix=".npz") as tmp:
            np.savez(tmp, items=items, **vectors)
        print(f"wrote {args.write}: {', '.join(f'{k} {v.shape}' for k, v in vectors.items())}")
        return 0
    if args.reference:
        try:
            stored = np.load(args.reference, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise SystemExit(f"{args.reference}: unreadable ({str(error).splitlines()[0]})") from None
        if "items" not in stored or not np.array_equal(stored["items"], items):
            raise SystemExit(f"{args.reference}: made from other items (give its --items/--seed/--peaks)")
        expected = {kind: stored[kind] for kind in args.kinds if kind in stored}
        missing = set(args.kinds) - set(expected)
        if missing:
            raise SystemExit(f"{args.reference}: no vectors of {', '.join(sorted(missing))}")
    else:
        expected = {kind: features(baseline[kind], lists, wavelength) for kind in args.kinds}
    ok = [compare(kind, features(ours[kind], lists, wavelength), expected[kind], items) for kind in args.kinds]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
