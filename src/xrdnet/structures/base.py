"""What every structure source yields: a structure with its crystal-system label."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pymatgen.core import Structure


class StructureError(ValueError):
    """An item cannot be used; the message names the item or file and the problem, on one line."""


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
    """An indexable, picklable collection of labelled structures (used from worker processes)."""

    kind: str

    def __len__(self) -> int: ...

    def get(self, index: int) -> LabeledStructure:
        """Item `index`, the same every time; raises StructureError for an item to skip."""

    def describe(self) -> dict:
        """JSON-able description of the source: part of the dataset's cache key and manifest."""
