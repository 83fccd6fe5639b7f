"""What every structure source yields: a structure with its crystal-system label; the shared symmetry check and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pymatgen.core import Structure

from xrdnet.utils.errors import first_line


class StructureError(ValueError):
    """An item cannot be used; the message names the item or file and the problem, on one line."""


class GenerationError(RuntimeError):
    """A generator found no arrangement of a crystal spec within its tries (the next attempt may)."""


@dataclass
class LabeledStructure:
    """A crystal structure and its label.

    label: class index into xrdnet.crystal.CRYSTAL_SYSTEMS; space_group: the space group the label comes from.
    """

    name: str
    structure: Structure
    label: int
    space_group: int
    source: str
    meta: dict = field(default_factory=dict)


@runtime_checkable
class StructureSource(Protocol):
    """An indexable, picklable collection of labelled structures (used from worker processes).

    A source whose items go on past its length (each a function of its index) says so with a true
    `unbounded` attribute; only such a source can feed on-the-fly training.
    """

    kind: str

    def __len__(self) -> int: ...

    def get(self, index: int) -> LabeledStructure:
        """Item `index`, the same every time; raises StructureError for an item to skip."""

    def describe(self) -> dict:
        """JSON-able description of the source: part of the dataset's cache key and manifest."""


def detect_space_group(name: str, structure: Structure, symprec: float) -> int:
    """Space-group number pymatgen's SpacegroupAnalyzer (spglib) finds at `symprec` (Å); StructureError if none."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        number = SpacegroupAnalyzer(structure, symprec=symprec).get_space_group_number()
    except Exception as error:  # spglib fails on overlapping atoms and similar broken input
        raise StructureError(f"{name}: symmetry analysis failed: {first_line(error)}") from None
    if not number:
        raise StructureError(f"{name}: SpacegroupAnalyzer found no space group at symprec={symprec}")
    return int(number)
