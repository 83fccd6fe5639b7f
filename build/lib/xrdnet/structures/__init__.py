"""Where crystal structures come from: random MP-like crystals, a folder of CIFs, or the AFLOW prototypes.

Every source is a StructureSource (see base.py): len(), get(index) -> LabeledStructure, describe().
"""

from xrdnet.structures.aflow import AflowPrototypes
from xrdnet.structures.base import LabeledStructure, StructureError, StructureSource
from xrdnet.structures.cif import CifDirectory
from xrdnet.structures.synthetic import SyntheticStructures

__all__ = ["AflowPrototypes", "CifDirectory", "LabeledStructure", "StructureError", "StructureSource", "SyntheticStructures"]
