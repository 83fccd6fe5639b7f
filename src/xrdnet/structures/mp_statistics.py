"""Which space groups and Wyckoff-site combinations real crystals use: Materials Project statistics from pyxtal.

pyxtal ships `pyxtal/database/spg_num_wps_mp.csv` with columns `spg,n_atoms,wps,count`. One row is one
way Materials Project structures occupy a space group, and `count` is how many MP structures do so:

- `spg`: International Tables space-group number. 225 of the 230 occur; 1 (P1), 168, 184, 207, 222 do not,
  so P1 is never generated (triclinic is always P-1).
- `wps`: dash-separated indices into pyxtal's `Group(spg).Wyckoff_positions` (equivalently `Group(spg)[i]`),
  one per occupied site, repeated when several sites sit on the same kind of position. pyxtal orders
  the positions by decreasing multiplicity, so 0 is the general position and the last index is
  ITA letter 'a' (in Fm-3m, 0 = 192l ... 9 = 8c, 10 = 4b, 11 = 4a; "9-10-11" is the Heusler c+b+a).
  Rhombohedral groups are in the hexagonal setting (R-3m 3a, 3b, 6c, ...).
- `n_atoms`: atoms in the conventional cell, equal to the sum of the sites' multiplicities (checked for
  all 12,593 rows).

Crystal systems are sampled with the MP weights (system_weights="mp") or uniformly first and then by MP
weight within the system ("uniform").
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from xrdnet.crystal import CRYSTAL_SYSTEMS, bravais_lattice_index, class_index, crystal_system_index

MP_STATISTICS_FILE = "pyxtal/database/spg_num_wps_mp.csv"
SYSTEM_WEIGHTINGS = ("mp", "uniform")


@dataclass(frozen=True)
class WyckoffCombination:
    """One row of the MP table: a space group and the Wyckoff positions its sites occupy."""

    space_group: int
    wyckoff_indices: tuple[int, ...]  # into pyxtal Group(space_group).Wyckoff_positions; 0 = general position
    n_atoms: int  # atoms in the conventional cell
    count: int  # number of Materials Project structures with this combination

    @property
    def system(self) -> int:
        return crystal_system_index(self.space_group)


@dataclass(frozen=True)
class CrystalSpec:
    """What to build: a space group, occupied Wyckoff positions and the element on each (same order)."""

    space_group: int
    wyckoff_indices: tuple[int, ...]
    species: tuple[str, ...]

    @property
    def system(self) -> int:
        return crystal_system_index(self.space_group)

    def wyckoff_labels(self) -> tuple[str, ...]:
        """pyxtal labels such as '4a' (multiplicity + letter), one per site."""
        group = pyxtal_group(self.space_group)
        return tuple(group[i].get_label() for i in self.wyckoff_indices)

    def multiplicities(self) -> tuple[int, ...]:
        group = pyxtal_group(self.space_group)
        return tuple(group[i].multiplicity for i in self.wyckoff_indices)

    def describe(self) -> str:
        """E.g. '225 Na:4a Cl:4b', for logs and error messages."""
        return f"{self.space_group} " + " ".join(f"{el}:{wp}" for el, wp in zip(self.species, self.wyckoff_labels()))


@lru_cache(maxsize=None)
def pyxtal_group(space_group: int):
    """pyxtal's Group (Wyckoff positions and their symmetry operations), loaded once per process."""
    from pyxtal.symmetry import Group

    return Group(int(space_group))


@lru_cache(maxsize=1)
def load_mp_combinations() -> tuple[WyckoffCombination, ...]:
    """All rows of pyxtal's MP Wyckoff statistics."""
    text = resources.files("pyxtal").joinpath("database", "spg_num_wps_mp.csv").read_text()
    rows = csv.DictReader(text.splitlines())
    return tuple(
        WyckoffCombination(
            space_group=int(row["spg"]),
            wyckoff_indices=tuple(int(i) for i in row["wps"].split("-")),
            n_atoms=int(row["n_atoms"]),
            count=int(row["count"]),
        )
        for row in rows
    )


class CombinationSampler:
    """Draws Wyckoff combinations with MP frequencies, limited to small cells and chosen crystal systems.

    max_atoms: most atoms in the conventional cell; systems: crystal-system names to keep (None: all 7);
    system_weights: "mp" (systems as often as in MP) or "uniform" (each kept system equally often).
    lattice_floor: least share of the draws each Bravais lattice present gets (`xrdnet.crystal.BRAVAIS_LATTICES`):
    a lattice below it has its rows scaled up to it, MP weights kept within it, and the others scaled down. MP
    weights leave body-centred cubic and face-centred orthorhombic cells of <= 40 atoms at 0.4 % and 0.2 %.
    """

    def __init__(self, max_atoms: int, systems: list[str] | tuple[str, ...] | None = None, system_weights: str = "mp",
                 lattice_floor: float = 0.0):
        if system_weights not in SYSTEM_WEIGHTINGS:
            raise ValueError(f"system_weights must be one of {SYSTEM_WEIGHTINGS}, got {system_weights!r}")
        wanted = set(range(len(CRYSTAL_SYSTEMS))) if systems is None else {class_index(s) for s in systems}
        rows = [c for c in load_mp_combinations() if c.n_atoms <= max_atoms and c.system in wanted]
        if not rows:
            names = ", ".join(CRYSTAL_SYSTEMS[s] for s in sorted(wanted))
            raise ValueError(f"no MP Wyckoff combination has <= {max_atoms} atoms in the systems {names}")
        self.combinations = rows
        counts = np.array([c.count for c in rows], dtype=float)
        if system_weights == "uniform":
            # each present system gets the same total weight; MP weights within it
            systems_of_rows = np.array([c.system for c in rows])
            present = np.unique(systems_of_rows)
            for system in present:
                in_system = systems_of_rows == system
                counts[in_system] /= counts[in_system].sum() * len(present)
        self.probabilities = counts / counts.sum()
        if lattice_floor:
            self.probabilities = _with_lattice_floor(self.probabilities, [c.space_group for c in rows], lattice_floor)
        self._cumulative = np.cumsum(self.probabilities)

    def system_probabilities(self) -> dict[str, float]:
        """Probability of each crystal system under this sampler."""
        out = dict.fromkeys(CRYSTAL_SYSTEMS, 0.0)
        for combo, p in zip(self.combinations, self.probabilities):
            out[CRYSTAL_SYSTEMS[combo.system]] += float(p)
        return out

    def sample(self, rng: np.random.Generator) -> WyckoffCombination:
        position = int(np.searchsorted(self._cumulative, rng.random() * self._cumulative[-1], side="right"))
        return self.combinations[min(position, len(self.combinations) - 1)]


def _with_lattice_floor(probabilities: np.ndarray, space_groups: list[int], floor: float) -> np.ndarray:
    """Row probabilities whose Bravais lattices each hold at least `floor` of the total (see CombinationSampler)."""
    lattices = np.array([bravais_lattice_index(group) for group in space_groups])
    present = np.unique(lattices)
    if not 0.0 <= floor * len(present) <= 1.0:
        raise ValueError(f"lattice_floor {floor} times the {len(present)} lattices present must lie in [0, 1]")
    shares = np.array([probabilities[lattices == lattice].sum() for lattice in present])
    raised = shares < floor
    while True:
        # raised lattices get exactly the floor; the others share what is left in their MP proportions, which can
        # push one of them under the floor in turn
        rest = shares[~raised].sum()
        target = np.where(raised, floor, shares * (1.0 - floor * raised.sum()) / (rest if rest > 0 else 1.0))
        if not np.any(~raised & (target < floor)):
            break
        raised |= target < floor
    scale = dict(zip(present, target / shares))
    return probabilities * np.array([scale[lattice] for lattice in lattices])


# How many distinct elements a crystal gets, before capping at its number of sites (MP is mostly binary/ternary).
_SPECIES_COUNT_PROBABILITIES = {1: 0.15, 2: 0.35, 3: 0.35, 4: 0.15}


def assign_species(combo: WyckoffCombination, elements: tuple[str, ...], rng: np.random.Generator) -> CrystalSpec:
    """Put elements on the combination's sites: 1-4 distinct elements (never more than sites), each used at least once."""
    n_sites = len(combo.wyckoff_indices)
    counts, probabilities = zip(*_SPECIES_COUNT_PROBABILITIES.items())
    n_species = min(int(rng.choice(counts, p=probabilities)), n_sites, len(elements))
    chosen = [elements[i] for i in rng.choice(len(elements), size=n_species, replace=False)]
    owner = np.concatenate([np.arange(n_species), rng.integers(0, n_species, n_sites - n_species)])
    rng.shuffle(owner)
    return CrystalSpec(combo.space_group, combo.wyckoff_indices, tuple(chosen[k] for k in owner))
