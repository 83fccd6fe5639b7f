"""Random crystals whose space groups and Wyckoff sites follow Materials Project statistics.

Item i is built from (seed, i) alone, so datasets can be built in parallel and in shards:
1. spec: rng([seed, i]) draws a Wyckoff combination (mp_statistics.CombinationSampler, MP weights,
   <= max_atoms atoms per conventional cell) and puts 1-4 elements on its sites;
2. structure: attempt k uses rng([seed, i, k + 1]) with the chosen generator, up to max_attempts;
3. label: the crystal system of the generating space group, checked with SpacegroupAnalyzer;
4. derivative (optional): rng([seed, i, DERIVATIVE_STREAM]) distorts a fraction of the crystals into a
   subgroup of a lower crystal system (derivatives.py), labelled by what SpacegroupAnalyzer finds;
5. sublattice (optional): rng([seed, i, SUBLATTICE_STREAM]) makes a fraction of the crystals sublattice
   crystals, their free sites near the points of a sub-cell (wyckoff_placement.SublatticePoint; fast generator).
"""

from __future__ import annotations

import time

import numpy as np
from pymatgen.core import Element, Structure

from xrdnet.crystal import CRYSTAL_SYSTEMS, class_index, crystal_system_index
from xrdnet.structures.base import GenerationError, LabeledStructure, StructureError, detect_space_group
from xrdnet.structures.derivatives import distort_into_subgroup
from xrdnet.structures.mp_statistics import MP_STATISTICS_FILE, CombinationSampler, CrystalSpec, assign_species
from xrdnet.structures.pyxtal_backend import generate_with_pyxtal
from xrdnet.structures.wyckoff_placement import AXIS_RATIO, SublatticePoint, element_radii, place_on_wyckoff_positions
from xrdnet.utils.time_limit import TimeLimitExceeded, time_limit

GENERATORS = ("pyxtal", "fast")
ON_MISMATCH = ("relabel", "drop")
DERIVATIVE_STREAM = 10_000  # rng([seed, i, DERIVATIVE_STREAM]) draws item i's derivative; attempts use 1..max_attempts
SUBLATTICE_STREAM = 10_001  # rng([seed, i, SUBLATTICE_STREAM]): is item i a sublattice crystal, and which

# Common inorganic elements: main-group solids, 3d/4d/5d metals, a few lanthanides; no H or noble gases.
DEFAULT_ELEMENTS: tuple[str, ...] = tuple(
    "Li Be B C N O F Na Mg Al Si P S Cl K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Rb Sr Y Zr Nb Mo "
    "Ru Rh Pd Ag Cd In Sn Sb Te I Cs Ba La Ce Nd Sm Gd Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi".split()
)

_GENERATOR_FUNCTIONS = {"pyxtal": generate_with_pyxtal, "fast": place_on_wyckoff_positions}


def validate_elements(elements) -> tuple[str, ...]:
    """Element symbols as a tuple; ValueError naming the first unknown symbol or one without radii."""
    symbols = tuple(str(e) for e in elements)
    if not symbols:
        raise ValueError("elements: the list is empty")
    for symbol in symbols:
        if not Element.is_valid_symbol(symbol):
            raise ValueError(f"elements: unknown element symbol {symbol!r}")
        element_radii(symbol)  # raises ValueError naming the element when pyxtal has no radii for it
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"elements: duplicate symbols in {list(symbols)}")
    return symbols


class SyntheticStructures:
    """Random crystals from MP space-group/Wyckoff statistics; a StructureSource of `n` items.

    n: number of items (get() also accepts indices >= n: fresh crystals for on-the-fly training);
    seed: item i depends only on (seed, i); elements: symbols to draw from (default DEFAULT_ELEMENTS);
    max_atoms: most atoms in the conventional cell (40 keeps 73% of MP's structures);
    symprec: SpacegroupAnalyzer tolerance in Å for the label check;
    on_mismatch: "relabel" (use the detected system) or "drop" (StructureError) when the detected crystal
    system differs from the generating one; system_weights: "mp" or "uniform" (see mp_statistics);
    generator: "fast" (wyckoff_placement, default) or "pyxtal" (pyxtal_backend: pyxtal.from_random);
    systems: crystal-system names to restrict to (None: all seven); max_attempts: generation retries per item;
    time_limit_s: wall-clock cap per pyxtal item (all its attempts) in seconds (None: no cap);
    pseudo_symmetric: probability that a cell's metric is drawn near a higher-symmetry lattice's
    (wyckoff_placement.random_lattice; fast generator only; 0 keeps the default crystals);
    derivative: probability that a crystal is distorted into a maximal subgroup of a lower crystal system
    (derivatives.distort_into_subgroup); kept only when SpacegroupAnalyzer then finds a lower system than the
    parent's, otherwise the undistorted parent is the item (0 keeps the default crystals);
    derivative_parents: crystal-system names whose crystals may be distorted so (None: all);
    sublattice: probability that a crystal's free sites are drawn near the points of a sub-cell a/n, a
    superstructure of a small packing as many real crystals are (wyckoff_placement.SublatticePoint; fast
    generator only; its own random stream, so 0 keeps the default crystals and the others stay as they were);
    axis_ratio: each cell axis's random factor is log-uniform in (1/axis_ratio, axis_ratio) before the cell is
    scaled to its volume (wyckoff_placement.random_lattice; fast generator only; the default 2.0 keeps the
    default crystals, another value changes only the cells' shapes, from the same draws).

    Bounding the tail: the fast generator is bounded by construction (<= 20 cells x 20 points per site).
    pyxtal's own retry loops can take a minute on crowded combinations (36 sites in Pm, six 4e sites in
    I4/mmm); its attempts run under a SIGALRM `time_limit_s` and an item that runs out is skipped
    (StructureError). That cap is the one machine-dependent outcome.

    Label agreement, measured with scripts/label_agreement.py (symprec 0.1 Å, max_atoms 40, default
    elements). Mismatch = SpacegroupAnalyzer finds another crystal system than the generating one:

        generator, weights, n     all   tricl  monocl  orthor  tetrag  trigon  hexag  cubic
        fast,   mp,      3500   0.5%   0      0       1.0%    1.6%    1.0%    0      0
        fast,   uniform, 3500   0.4%   0      0.2%    1.2%    0.8%    0.6%    0      0
        pyxtal, mp,       500   0.2%   0      0       0.8%    0       0       0      0
        pyxtal, uniform,  700   0.3%   0      0       0       2.1%    0       0      0

    Mismatches always go up in symmetry (tetragonal -> cubic, orthorhombic -> tetragonal, trigonal ->
    hexagonal): all atoms on special positions in a cell whose random shape is within 0.1 Å of a higher
    metric. The exact space group matches for 94-95% (cubic 78-84%: SpacegroupAnalyzer often finds a
    supergroup when one element fills several special sites). pyxtal skipped 2 of 500 and 2 of 700 items
    at the 5 s limit; the fast generator skipped none of 7000.
    """

    kind = "synthetic"

    def __init__(
        self,
        n: int,
        seed: int,
        elements: list[str] | None = None,
        max_atoms: int = 40,
        symprec: float = 0.1,
        on_mismatch: str = "relabel",
        system_weights: str = "mp",
        generator: str = "fast",
        systems: list[str] | None = None,
        max_attempts: int = 3,
        time_limit_s: float | None = 5.0,
        pseudo_symmetric: float = 0.0,
        derivative: float = 0.0,
        derivative_parents: list[str] | None = None,
        sublattice: float = 0.0,
        axis_ratio: float = AXIS_RATIO,
        lattice_floor: float = 0.0,
    ):
        if int(n) < 0 or int(seed) < 0:
            raise ValueError(f"synthetic: n and seed must be >= 0, got n={n}, seed={seed}")
        if on_mismatch not in ON_MISMATCH:
            raise ValueError(f"synthetic: on_mismatch must be one of {ON_MISMATCH}, got {on_mismatch!r}")
        if generator not in GENERATORS:
            raise ValueError(f"synthetic: generator must be one of {GENERATORS}, got {generator!r}")
        if int(max_attempts) < 1:
            raise ValueError(f"synthetic: max_attempts must be >= 1, got {max_attempts}")
        if not 0.0 <= float(pseudo_symmetric) <= 1.0:
            raise ValueError(f"synthetic: pseudo_symmetric is a probability in [0, 1], got {pseudo_symmetric}")
        if not 0.0 <= float(derivative) <= 1.0:
            raise ValueError(f"synthetic: derivative is a probability in [0, 1], got {derivative}")
        if not 0.0 <= float(sublattice) <= 1.0:
            raise ValueError(f"synthetic: sublattice is a probability in [0, 1], got {sublattice}")
        if float(sublattice) > 0 and generator != "fast":
            raise ValueError("synthetic: sublattice crystals need generator=fast")
        if float(pseudo_symmetric) > 0 and generator != "fast":
            raise ValueError("synthetic: pseudo_symmetric cells need generator=fast")
        if not float(axis_ratio) >= 1.0:
            raise ValueError(f"synthetic: axis_ratio must be >= 1, got {axis_ratio}")
        if float(axis_ratio) != AXIS_RATIO and generator != "fast":
            raise ValueError("synthetic: axis_ratio needs generator=fast")
        self.n, self.seed = int(n), int(seed)
        self.elements = validate_elements(DEFAULT_ELEMENTS if elements is None else elements)
        self.max_atoms, self.symprec = int(max_atoms), float(symprec)
        self.on_mismatch, self.system_weights, self.generator = on_mismatch, system_weights, generator
        self.systems = None if systems is None else tuple(str(s).lower() for s in systems)
        self.max_attempts = int(max_attempts)
        self.time_limit_s = None if time_limit_s is None else float(time_limit_s)
        self.pseudo_symmetric = float(pseudo_symmetric)
        self.derivative = float(derivative)
        self.sublattice = float(sublattice)
        self.axis_ratio = float(axis_ratio)
        self.derivative_parents = None if derivative_parents is None else tuple(sorted(
            class_index(str(name)) for name in derivative_parents))
        self.lattice_floor = float(lattice_floor)
        self._sampler = CombinationSampler(self.max_atoms, self.systems, self.system_weights, self.lattice_floor)

    # items past n exist too (each a function of its index): on-the-fly training draws fresh crystals there
    unbounded = True

    def __len__(self) -> int:
        return self.n

    def item_name(self, index: int) -> str:
        """Name of item `index` without building it (used in skip reports)."""
        return f"synthetic-{index:06d}"

    def spec(self, index: int) -> CrystalSpec:
        """The space group, Wyckoff sites and elements of item `index` (depends only on seed and index)."""
        if index < 0:
            raise IndexError(f"synthetic: index must be >= 0, got {index}")
        rng = np.random.default_rng([self.seed, index])
        return assign_species(self._sampler.sample(rng), self.elements, rng)

    def build(self, index: int) -> tuple[CrystalSpec, Structure, int]:
        """Spec, structure and the attempt that succeeded; StructureError once the attempts or the time run out."""
        spec, name = self.spec(index), self.item_name(index)
        generate = _GENERATOR_FUNCTIONS[self.generator]
        limited = self.generator == "pyxtal" and self.time_limit_s is not None
        deadline = time.monotonic() + (self.time_limit_s or 0.0)
        reasons = []
        options = {"pseudo_symmetric": self.pseudo_symmetric} if self.pseudo_symmetric else {}
        if self.axis_ratio != AXIS_RATIO:
            options["axis_ratio"] = self.axis_ratio
        point = self.sublattice_point(index)
        for attempt in range(self.max_attempts):
            attempt_point = self._attempt_point(point, attempt)
            extra = {} if attempt_point is None else {"point": attempt_point}
            rng = np.random.default_rng([self.seed, index, attempt + 1])
            try:
                # the limit covers all attempts of the item together
                with time_limit(max(deadline - time.monotonic(), 1e-3) if limited else None):
                    return spec, generate(spec, rng, **options, **extra), attempt
            except TimeLimitExceeded:
                raise StructureError(f"{name}: pyxtal took longer than {self.time_limit_s:g} s on {spec.describe()}") from None
            except GenerationError as error:
                reasons.append(str(error))
        raise StructureError(f"{name}: {self.max_attempts} attempts failed; last: {reasons[-1]}")

    def get(self, index: int) -> LabeledStructure:
        name = self.item_name(index)
        spec, structure, attempt = self.build(index)
        detected = detect_space_group(name, structure, self.symprec)
        generating_system, detected_system = spec.system, crystal_system_index(detected)
        mismatch = generating_system != detected_system
        if mismatch and self.on_mismatch == "drop":
            raise StructureError(
                f"{name}: generated in space group {spec.space_group} ({CRYSTAL_SYSTEMS[generating_system]}) but "
                f"SpacegroupAnalyzer finds {detected} ({CRYSTAL_SYSTEMS[detected_system]}) at symprec={self.symprec:g}"
            )
        label, space_group = (detected_system, detected) if mismatch else (generating_system, spec.space_group)
        meta = {
            "generating_space_group": spec.space_group,
            "detected_space_group": detected,
            "generating_system": CRYSTAL_SYSTEMS[generating_system],
            "detected_system": CRYSTAL_SYSTEMS[detected_system],
            "relabelled": mismatch,
            "formula": structure.composition.reduced_formula,
            "sites": spec.describe().split(" ", 1)[1],
            "n_atoms": len(structure),
            "generator": self.generator,
            "attempt": attempt,
        }
        point = self._attempt_point(self.sublattice_point(index), attempt)
        if point is not None:
            meta.update(sublattice_divisions=point.divisions, sublattice_sigma=point.sigma)
        derived = self._derivative(index, structure, label)
        if derived is not None:
            structure, subgroup, space_group = derived
            meta.update(parent_space_group=meta["detected_space_group"], subgroup=subgroup,
                        detected_space_group=space_group, n_atoms=len(structure))
            label = crystal_system_index(space_group)
        return LabeledStructure(
            name=name,
            structure=structure,
            label=label,
            space_group=space_group,
            source=self.kind,
            meta=meta,
        )

    def sublattice_point(self, index: int) -> SublatticePoint | None:
        """The sub-cell item `index`'s free sites are drawn near, for the `sublattice` fraction of items."""
        if not self.sublattice:
            return None
        rng = np.random.default_rng([self.seed, index, SUBLATTICE_STREAM])
        return SublatticePoint.draw(rng) if rng.random() < self.sublattice else None

    def _attempt_point(self, point: SublatticePoint | None, attempt: int) -> SublatticePoint | None:
        """The sub-cell an attempt draws near: a sublattice crystal's sites crowd onto n³ points, so its last
        attempt draws them anywhere instead."""
        return point if attempt < self.max_attempts - 1 else None

    def _derivative(self, index: int, parent: Structure, parent_system: int) -> tuple[Structure, int, int] | None:
        """(distorted structure, subgroup it was built in, detected space group) for the `derivative` fraction of
        items whose distortion SpacegroupAnalyzer sees as a lower system; None keeps the parent."""
        if not self.derivative or (self.derivative_parents is not None and parent_system not in self.derivative_parents):
            return None
        # a stream of its own, so the option leaves every other draw of the item as it was
        rng = np.random.default_rng([self.seed, index, DERIVATIVE_STREAM])
        if rng.random() >= self.derivative:
            return None
        try:
            structure, _, subgroup = distort_into_subgroup(parent, rng)
        except GenerationError:
            return None  # no lower-system subgroup (triclinic parents) or no room: the parent is the item
        detected = detect_space_group(self.item_name(index), structure, self.symprec)
        if crystal_system_index(detected) >= parent_system:
            # under the tolerance the label stays the parent's, on a strained cell no real crystal of it has
            return None
        return structure, subgroup, detected

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "n": self.n,
            "seed": self.seed,
            "elements": list(self.elements),
            "max_atoms": self.max_atoms,
            "symprec": self.symprec,
            "on_mismatch": self.on_mismatch,
            "system_weights": self.system_weights,
            "generator": self.generator,
            "systems": None if self.systems is None else list(self.systems),
            "max_attempts": self.max_attempts,
            "time_limit_s": self.time_limit_s,
            "statistics": MP_STATISTICS_FILE,
            # only when on: the datasets built before the option keep their names
            **({"pseudo_symmetric": self.pseudo_symmetric} if self.pseudo_symmetric else {}),
            **({"derivative": self.derivative} if self.derivative else {}),
            **({"sublattice": self.sublattice} if self.sublattice else {}),
            **({"axis_ratio": self.axis_ratio} if self.axis_ratio != AXIS_RATIO else {}),
            **({"lattice_floor": self.lattice_floor} if self.lattice_floor else {}),
            **({"derivative_parents": [CRYSTAL_SYSTEMS[i] for i in self.derivative_parents]}
               if self.derivative and self.derivative_parents is not None else {}),
        }
