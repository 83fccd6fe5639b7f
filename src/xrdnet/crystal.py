"""The seven crystal systems: the project's class labels and the space-group ranges that define them.

Single source of truth for class names and their order. A space group (International Tables
number 1-230) belongs to exactly one crystal system:

    triclinic 1-2, monoclinic 3-15, orthorhombic 16-74, tetragonal 75-142,
    trigonal 143-167, hexagonal 168-194, cubic 195-230.
"""

from __future__ import annotations

import functools

CRYSTAL_SYSTEMS: tuple[str, ...] = (
    "triclinic",
    "monoclinic",
    "orthorhombic",
    "tetragonal",
    "trigonal",
    "hexagonal",
    "cubic",
)
NUM_CLASSES = len(CRYSTAL_SYSTEMS)

# Highest space-group number of each system, in CRYSTAL_SYSTEMS order.
_LAST_SPACE_GROUP = (2, 15, 74, 142, 167, 194, 230)


def crystal_system_index(space_group: int) -> int:
    """Class index (0-6) of the crystal system of an International Tables space-group number."""
    if not 1 <= int(space_group) <= 230:
        raise ValueError(f"space group number must be in 1..230, got {space_group}")
    for index, last in enumerate(_LAST_SPACE_GROUP):
        if space_group <= last:
            return index
    raise AssertionError("unreachable")


def class_index(name: str) -> int:
    """Class index of a crystal-system name (case-insensitive)."""
    try:
        return CRYSTAL_SYSTEMS.index(name.lower())
    except ValueError:
        raise ValueError(f"unknown crystal system {name!r}; expected one of {', '.join(CRYSTAL_SYSTEMS)}") from None


# the seven rhombohedral (hR) space groups; the other trigonal groups (143-167) sit on a primitive hexagonal lattice
RHOMBOHEDRAL_GROUPS = frozenset({146, 148, 155, 160, 161, 166, 167})


def is_trigonal_p(space_group: int) -> bool:
    """A trigonal space group on a primitive hexagonal lattice (hP): its lines are those of a hexagonal cell
    (hkl and khl at the same d), so line positions cannot tell it from a hexagonal structure."""
    return 143 <= int(space_group) <= 167 and int(space_group) not in RHOMBOHEDRAL_GROUPS


def same_lattice_confusion(true_system: str, predicted_system: str, space_group: int) -> bool:
    """A mistake between trigonal and hexagonal on the one lattice they share: a trigonal-P structure read
    hexagonal, or a hexagonal one read trigonal (the reading does not say which trigonal lattice)."""
    if {true_system, predicted_system} != {"trigonal", "hexagonal"}:
        return False
    return true_system == "hexagonal" or is_trigonal_p(space_group)


# Bravais lattices, with the primitive hexagonal lattice split by system (trigonal-P, hexagonal) so that every
# class names one crystal system; S: one-face-centred (A, B or C). Finer than the seven systems, they carry
# what the systems leave out: centring, seen in powder data as the lines its reflection conditions remove.
BRAVAIS_LATTICES: tuple[str, ...] = (
    "aP", "mP", "mS", "oP", "oS", "oI", "oF", "tP", "tI", "hR", "hP-trigonal", "hP-hexagonal", "cP", "cI", "cF",
)

# finer labels an auxiliary training target can use -> their number of classes
AUXILIARY_TARGETS = {"lattice": len(BRAVAIS_LATTICES), "space_group": 230}


def bravais_lattice_index(space_group: int) -> int:
    """Index into BRAVAIS_LATTICES of an International Tables space-group number (its symbol's centring letter)."""
    system = CRYSTAL_SYSTEMS[crystal_system_index(space_group)]
    centring = _centring_letter(int(space_group))
    if system == "trigonal":
        name = "hR" if centring == "R" else "hP-trigonal"
    elif system == "hexagonal":
        name = "hP-hexagonal"
    else:
        family = {"triclinic": "a", "monoclinic": "m", "orthorhombic": "o", "tetragonal": "t", "cubic": "c"}[system]
        name = family + ("S" if centring in "ABC" else centring)
    return BRAVAIS_LATTICES.index(name)


def auxiliary_label(target: str, space_group: int) -> int:
    """Class index of a space group under an AUXILIARY_TARGETS label: its Bravais lattice or the group itself (0-229)."""
    if target == "lattice":
        return bravais_lattice_index(space_group)
    if target == "space_group":
        crystal_system_index(space_group)  # range check
        return int(space_group) - 1
    raise ValueError(f"unknown auxiliary target {target!r}; options: {', '.join(AUXILIARY_TARGETS)}")


@functools.lru_cache(maxsize=None)
def _centring_letter(space_group: int) -> str:
    from pymatgen.symmetry.groups import SpaceGroup

    return SpaceGroup.from_int_number(space_group).symbol[0]
