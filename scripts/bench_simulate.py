#!/usr/bin/env python
"""Benchmark the kinematic XRD engine (engine 'fast') against pymatgen's XRDCalculator on the same structures.

The reference is the project's pymatgen engine (xrdnet.xrd.pymatgen_engine.pymatgen_peaks:
XRDCalculator plus dropping round-off of systematic absences), which the kinematic engine stands in for.
Both engines run in this process on one thread, one whole pass over a set after the other, each
on fresh copies of the structures (new Lattice objects, so no cached lattice data is shared),
after one warm-up call each; each structure's time is the fastest of --repeats passes (the
machine may be shared). Agreement is checked on every peak above --threshold percent of the
strongest, in both directions (a peak of either list must have a partner in the other within
1e-3° 2θ). The last line is
`speedup_vs_pymatgen=<x> max_dtheta=<deg> max_dI=<v>`, with x the ratio of total times.

    python scripts/bench_simulate.py                  # 288 AFLOW prototypes + 200 random crystals, ~1-2 min
    python scripts/bench_simulate.py --n-synthetic 1000
"""

from __future__ import annotations

import os

# One thread everywhere, set before numpy loads its BLAS.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
from pymatgen.core import Structure  # noqa: E402

from xrdnet.xrd.kinematic import kinematic_peaks  # noqa: E402
from xrdnet.xrd.peak_list import PeakList  # noqa: E402
from xrdnet.xrd.pymatgen_engine import pymatgen_peaks  # noqa: E402
from xrdnet.xrd.wavelengths import resolve_wavelength  # noqa: E402

MATCH_TOLERANCE_DEG = 1e-3
SYNTHETIC_ELEMENTS = (
    "Li Na K Rb Be Mg Ca Sr Ba B Al Ga In C Si Ge Sn Pb N P As Sb Bi O S Se Te F Cl Br I "
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Ru Rh Pd Ag Cd Hf Ta W Pt Au La Ce Nd"
).split()


def aflow_structures() -> list[tuple[str, Structure]]:
    """The 288 AFLOW prototypes shipped with pymatgen, named by their AFLOW label."""
    from pymatgen.analysis import prototypes

    path = os.path.join(os.path.dirname(prototypes.__file__), "aflow_prototypes.json.gz")
    with gzip.open(path, "rt") as handle:
        library = json.load(handle)  # plain JSON: much faster than monty's loadfn of the StructureNLs
    return [(entry["tags"]["aflow"], Structure.from_dict(entry["snl"])) for entry in library]


def synthetic_structures(n: int, seed: int, generator: str) -> list[tuple[str, Structure]]:
    """n random crystals from xrdnet.structures.synthetic (items it skips are replaced by later ones),
    or straight from pyxtal when that module is not there."""
    try:
        from xrdnet.structures.base import StructureError
        from xrdnet.structures.synthetic import SyntheticStructures
    except ImportError:
        return _pyxtal_structures(n, seed)
    source = SyntheticStructures(n, seed=seed, generator=generator)
    structures: list[tuple[str, Structure]] = []
    index = 0
    while len(structures) < n and index < 3 * n + 10:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                structures.append((f"synthetic-{index}", source.get(index).structure))
        except StructureError:
            pass
        index += 1
    return structures


def _pyxtal_structures(n: int, seed: int) -> list[tuple[str, Structure]]:
    """n random pyxtal crystals over all 230 space groups, 1-3 elements, small Wyckoff multiplicities."""
    from pyxtal import pyxtal
    from pyxtal.symmetry import Group

    rng = np.random.default_rng(seed)
    structures: list[tuple[str, Structure]] = []
    while len(structures) < n:
        space_group = int(rng.integers(1, 231))
        multiplicities = sorted({w.multiplicity for w in Group(space_group).Wyckoff_positions})[:3]
        elements = [str(e) for e in rng.choice(SYNTHETIC_ELEMENTS, int(rng.integers(1, 4)), replace=False)]
        counts = [int(rng.choice(multiplicities)) * int(rng.integers(1, 3)) for _ in elements]
        crystal = pyxtal()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                crystal.from_random(3, space_group, elements, counts, random_state=int(rng.integers(2**31)))
        except Exception:  # incompatible composition for this group: draw again
            continue
        if crystal.valid:
            structures.append((f"pyxtal-{len(structures)}-spg{space_group}", crystal.to_pymatgen()))
    return structures


def _fresh_copy(structure: Structure) -> Structure:
    """A copy sharing nothing with `structure` (Structure.copy shares the Lattice and its cached values)."""
    return Structure.from_dict(structure.as_dict())


def time_engine(engine, structures: list[Structure], wavelength: float, two_theta_range, repeats: int):
    """(seconds per structure: the fastest of `repeats` passes, peak lists of the first pass).

    Every pass works on fresh copies of the structures; an exception is kept in place of its peak list.
    """
    engine(_fresh_copy(structures[0]), wavelength, two_theta_range)  # warm-up: lazy imports, first-call costs
    seconds = np.full(len(structures), np.inf)
    results: list = []
    for repeat in range(repeats):
        copies = [_fresh_copy(structure) for structure in structures]
        for index, structure in enumerate(copies):
            start = time.perf_counter()
            try:
                result = engine(structure, wavelength, two_theta_range)
            except Exception as error:  # reported per set, not fatal
                result = error
            seconds[index] = min(seconds[index], time.perf_counter() - start)
            if repeat == 0:
                results.append(result)
    return seconds, results


def compare(reference: PeakList, fast: PeakList, threshold: float) -> tuple[int, int, float, float]:
    """(missing, extra, max |Δ2θ| in degrees, max |ΔI|) over peaks above `threshold` on the 0-100 scale."""
    missing = extra = 0
    max_dtheta = max_dintensity = 0.0
    for one, other, is_reference in ((reference, fast, True), (fast, reference, False)):
        for two_theta, intensity in zip(one.two_theta, one.intensity):
            if intensity < threshold:
                continue
            nearest = int(np.argmin(np.abs(other.two_theta - two_theta))) if len(other) else -1
            if nearest < 0 or abs(other.two_theta[nearest] - two_theta) > MATCH_TOLERANCE_DEG:
                missing, extra = (missing + 1, extra) if is_reference else (missing, extra + 1)
                continue
            max_dtheta = max(max_dtheta, abs(other.two_theta[nearest] - two_theta))
            max_dintensity = max(max_dintensity, abs(other.intensity[nearest] - intensity))
    return missing, extra, max_dtheta, max_dintensity


@dataclass
class SetReport:
    name: str
    n: int
    pymatgen_s: float = 0.0
    fast_s: float = 0.0
    median_speedup: float = 0.0
    max_dtheta: float = 0.0
    max_dintensity: float = 0.0
    missing: int = 0
    extra: int = 0
    errors: list[str] = field(default_factory=list)


def benchmark_set(name, named_structures, wavelength, two_theta_range, threshold, repeats) -> SetReport:
    names = [n for n, _ in named_structures]
    structures = [s for _, s in named_structures]
    reference_s, references = time_engine(pymatgen_peaks, structures, wavelength, two_theta_range, repeats)
    fast_s, fasts = time_engine(kinematic_peaks, structures, wavelength, two_theta_range, repeats)
    report = SetReport(name, len(structures), float(reference_s.sum()), float(fast_s.sum()),
                       float(np.median(reference_s / fast_s)))
    for label, reference, fast in zip(names, references, fasts):
        if isinstance(reference, Exception) or isinstance(fast, Exception):
            report.errors.append(f"{label}: pymatgen {reference!r:.80} / fast {fast!r:.80}")
            continue
        missing, extra, dtheta, dintensity = compare(reference, fast, threshold)
        report.missing += missing
        report.extra += extra
        report.max_dtheta = max(report.max_dtheta, dtheta)
        report.max_dintensity = max(report.max_dintensity, dintensity)
        if missing or extra or dintensity > 0.5:
            report.errors.append(f"{label}: missing {missing}, extra {extra}, max dI {dintensity:.3g}")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-synthetic", type=int, default=200, help="random crystals (default 200)")
    parser.add_argument("--generator", choices=("pyxtal", "fast"), default="pyxtal",
                        help="generator of xrdnet.structures.synthetic for the random crystals (default pyxtal)")
    parser.add_argument("--no-aflow", action="store_true", help="skip the 288 AFLOW prototypes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random crystals")
    parser.add_argument("--wavelength", default="CuKa", help="line name or Å (default CuKa)")
    parser.add_argument("--two-theta", type=float, nargs=2, default=(5.0, 90.0), metavar=("MIN", "MAX"),
                        help="2θ range in degrees (default 5 90)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timing passes per engine; each structure keeps its fastest (default 3)")
    parser.add_argument("--threshold", type=float, default=1.0,
                        help="compare peaks above this intensity on the 0-100 scale (default 1, i.e. 1%%)")
    args = parser.parse_args(argv)
    try:
        wavelength = resolve_wavelength(args.wavelength)
    except ValueError as error:
        parser.error(str(error))
    two_theta_range = tuple(args.two_theta)
    if not 0 <= two_theta_range[0] < two_theta_range[1] <= 180:
        parser.error(f"--two-theta must satisfy 0 <= MIN < MAX <= 180 degrees, got {two_theta_range}")

    sets = []
    if not args.no_aflow:
        sets.append(("AFLOW", aflow_structures()))
    if args.n_synthetic > 0:
        start = time.perf_counter()
        synthetic = synthetic_structures(args.n_synthetic, args.seed, args.generator)
        if synthetic:
            sets.append(("synthetic", synthetic))
            sizes = [len(structure) for _, structure in synthetic]
            print(f"generated {len(synthetic)} random crystals ({args.generator}; {np.median(sizes):g} atoms "
                  f"median, {max(sizes)} max) in {time.perf_counter() - start:.1f} s")
    if not sets:
        parser.error("nothing to benchmark: give --n-synthetic > 0 or drop --no-aflow")

    reports = [benchmark_set(name, structures, wavelength, two_theta_range, args.threshold, max(1, args.repeats))
               for name, structures in sets]
    print(f"\nλ = {wavelength:g} Å, 2θ {two_theta_range[0]:g}-{two_theta_range[1]:g}°, "
          f"peaks above {args.threshold:g} %, one thread, best of {max(1, args.repeats)} passes; "
          "speedup = total pymatgen time / total fast time")
    header = (f"{'set':10s} {'n':>5s} {'pymatgen s':>11s} {'fast s':>8s} {'speedup':>8s} {'median x':>9s} "
              f"{'max d2θ °':>10s} {'max dI':>8s} {'missing':>8s} {'extra':>6s}")
    print(header)
    print("-" * len(header))
    for r in reports:
        print(f"{r.name:10s} {r.n:5d} {r.pymatgen_s:11.3f} {r.fast_s:8.3f} {r.pymatgen_s / r.fast_s:8.1f} "
              f"{r.median_speedup:9.1f} {r.max_dtheta:10.2e} {r.max_dintensity:8.1e} {r.missing:8d} {r.extra:6d}")
    for r in reports:
        for line in r.errors[:10]:
            print(f"  {r.name}: {line}")
    total_reference = sum(r.pymatgen_s for r in reports)
    total_fast = sum(r.fast_s for r in reports)
    max_dtheta = max(r.max_dtheta for r in reports)
    max_dintensity = max(r.max_dintensity for r in reports)
    print(f"speedup_vs_pymatgen={total_reference / total_fast:.1f} "
          f"max_dtheta={max_dtheta:.2e} max_dI={max_dintensity:.2e}")


if __name__ == "__main__":
    main()
