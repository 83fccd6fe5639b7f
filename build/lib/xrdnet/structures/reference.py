"""Well-known crystal structures built from their space group, cell and Wyckoff positions.

A sanity set that needs no file: each entry is a textbook structure (room-temperature cell and
positions from the standard crystallographic literature, ICSD-level precision is not the point)
with the crystal system its space group fixes. pymatgen's `Structure.from_spacegroup` expands the
asymmetric unit with the space group's operations (ITA standard settings, origin choice 1 where
there are two, rhombohedral groups on hexagonal axes).
"""

from __future__ import annotations

from dataclasses import dataclass

from pymatgen.core import Lattice, Structure

from xrdnet.crystal import crystal_system_index
from xrdnet.structures.base import LabeledStructure


@dataclass(frozen=True)
class ReferenceStructure:
    """A named structure: space group number, cell (Å, degrees) and the asymmetric unit."""

    name: str
    space_group: int
    lattice: Lattice
    species: tuple[str, ...]
    fractional_coords: tuple[tuple[float, float, float], ...]

    def structure(self) -> Structure:
        return Structure.from_spacegroup(self.space_group, self.lattice, list(self.species),
                                         [list(c) for c in self.fractional_coords])

    @property
    def label(self) -> int:
        """Class index of the crystal system of the space group."""
        return crystal_system_index(self.space_group)

    def labeled(self) -> LabeledStructure:
        return LabeledStructure(self.name, self.structure(), self.label, self.space_group, "reference")


_cubic, _tetragonal, _hexagonal = Lattice.cubic, Lattice.tetragonal, Lattice.hexagonal

REFERENCE_STRUCTURES: tuple[ReferenceStructure, ...] = (
    ReferenceStructure("Si (diamond)", 227, _cubic(5.431), ("Si",), ((0, 0, 0),)),
    ReferenceStructure("NaCl (rock salt)", 225, _cubic(5.640), ("Na", "Cl"), ((0, 0, 0), (0.5, 0.5, 0.5))),
    ReferenceStructure("CsCl", 221, _cubic(4.123), ("Cs", "Cl"), ((0, 0, 0), (0.5, 0.5, 0.5))),
    ReferenceStructure("TiO2 (rutile)", 136, _tetragonal(4.594, 2.959), ("Ti", "O"), ((0, 0, 0), (0.3053, 0.3053, 0))),
    ReferenceStructure("TiO2 (anatase)", 141, _tetragonal(3.785, 9.514), ("Ti", "O"), ((0, 0, 0), (0, 0, 0.2081))),
    ReferenceStructure("ZnO (wurtzite)", 186, _hexagonal(3.250, 5.207), ("Zn", "O"),
                       ((1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.382))),
    ReferenceStructure("C (graphite)", 194, _hexagonal(2.464, 6.711), ("C", "C"), ((0, 0, 0.25), (1 / 3, 2 / 3, 0.25))),
    ReferenceStructure("Al2O3 (corundum)", 167, _hexagonal(4.759, 12.991), ("Al", "O"),
                       ((0, 0, 0.35216), (0.30624, 0, 0.25))),
    ReferenceStructure("CaCO3 (calcite)", 167, _hexagonal(4.990, 17.062), ("Ca", "C", "O"),
                       ((0, 0, 0), (0, 0, 0.25), (0.2578, 0, 0.25))),
    ReferenceStructure("SiO2 (alpha-quartz)", 154, _hexagonal(4.913, 5.405), ("Si", "O"),
                       ((0.4697, 0, 2 / 3), (0.4135, 0.2669, 0.7857))),
    ReferenceStructure("Mg2SiO4 (forsterite)", 62, Lattice.orthorhombic(10.19, 5.98, 4.75),
                       ("Mg", "Mg", "Si", "O", "O", "O"),
                       ((0, 0, 0), (0.2774, 0.25, 0.9915), (0.0940, 0.25, 0.4262), (0.0913, 0.25, 0.7657),
                        (0.4474, 0.25, 0.2215), (0.1628, 0.0331, 0.2777))),
    ReferenceStructure("ZrO2 (baddeleyite)", 14, Lattice.monoclinic(5.150, 5.212, 5.317, 99.23), ("Zr", "O", "O"),
                       ((0.2754, 0.0395, 0.2083), (0.0700, 0.3317, 0.3447), (0.4496, 0.7569, 0.4792))),
)
