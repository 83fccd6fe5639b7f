"""The seven crystal systems: the project's class labels and the space-group ranges that define them.

Single source of truth for class names and their order. A space group (International Tables
number 1-230) belongs to exactly one crystal system:

    triclinic 1-2, monoclinic 3-15, orthorhombic 16-74, tetragonal 75-142,
    trigonal 143-167, hexagonal 168-194, cubic 195-230.
"""

from __future__ import annotations

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
