"""The 288 AFLOW prototype structures that ship with pymatgen: real structure types, labelled by SpacegroupAnalyzer.

Source: pymatgen/analysis/prototypes/aflow_prototypes.json.gz (Mehl et al., AFLOW Library of Crystallographic
Prototypes). Each entry carries tags: `aflow` (the label, e.g. AB_cF8_225_a_b), `pearson`, `strukturbericht`,
`mineral`. AFLOW labels are not unique (288 entries, 273 labels; e.g. AB2_oP6_58_a_g is marcasite FeS2 and
CaCl2), so an item's name is "<AFLOW label>-<reduced formula>", which is.

The label is the crystal system SpacegroupAnalyzer finds at `symprec`; the space group in the AFLOW label is
kept in meta. At symprec 0.1 Å they disagree for 9 entries, 4 of them across crystal systems:
    AB3_tI16_140_b_ah-U3Si (140 tetragonal -> 221 cubic), AB2_oI6_71_a_i-ReSi2 (71 -> 139 tetragonal),
    ABC2_aP16_1_4a_4a_8a-KAsSe2 (1 triclinic -> 9 monoclinic), AB2_aP12_1_4a_8a-FeS2 (pyrite as P1 -> 205 cubic);
and within one system Sn4Pt (41 -> 68), Ga4Ni (197 -> 217), Sn2Pd (41 -> 64), CoAs (33 -> 62), VAu2 (38 -> 63).
These structures are, within 0.1 Å, more symmetric than their labels say. Detected classes: triclinic 2,
monoclinic 23, orthorhombic 60, tetragonal 56, trigonal 37, hexagonal 42, cubic 68.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import resources

from xrdnet.crystal import CRYSTAL_SYSTEMS, crystal_system_index
from xrdnet.structures.base import LabeledStructure, detect_space_group

PROTOTYPES_FILE = "pymatgen/analysis/prototypes/aflow_prototypes.json.gz"


@lru_cache(maxsize=1)
def load_prototypes() -> tuple[dict, ...]:
    """The prototype entries ({'snl': StructureNL, 'tags': {...}}), loaded once per process (slow to parse)."""
    from monty.serialization import loadfn

    path = resources.files("pymatgen.analysis.prototypes").joinpath("aflow_prototypes.json.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(loadfn(str(path)))


def aflow_space_group(aflow_label: str) -> int:
    """Space-group number written in an AFLOW label: 'AB_cF8_225_a_b' -> 225."""
    return int(aflow_label.split("_")[2])


class AflowPrototypes:
    """The AFLOW prototypes as a StructureSource (symprec: SpacegroupAnalyzer tolerance in Å)."""

    kind = "aflow_prototypes"

    def __init__(self, symprec: float = 0.1):
        self.symprec = float(symprec)

    def __len__(self) -> int:
        return len(load_prototypes())

    def item_name(self, index: int) -> str:
        """'<AFLOW label>-<reduced formula>', unique over the 288 entries."""
        entry = load_prototypes()[index]
        return f"{entry['tags']['aflow']}-{entry['snl'].structure.composition.reduced_formula}"

    def get(self, index: int) -> LabeledStructure:
        entry = load_prototypes()[index]
        tags = entry["tags"]
        structure = entry["snl"].structure.copy()
        name = self.item_name(index)
        detected = detect_space_group(name, structure, self.symprec)
        labelled = aflow_space_group(tags["aflow"])
        meta = {
            "aflow": tags["aflow"],
            "pearson": tags.get("pearson", ""),
            "strukturbericht": tags.get("strukturbericht", ""),
            "mineral": tags.get("mineral", ""),
            "aflow_space_group": labelled,
            "detected_space_group": detected,
            "agrees_with_aflow": detected == labelled,
            "system_agrees_with_aflow": crystal_system_index(detected) == crystal_system_index(labelled),
            "aflow_system": CRYSTAL_SYSTEMS[crystal_system_index(labelled)],
            "n_atoms": len(structure),
        }
        return LabeledStructure(name, structure, crystal_system_index(detected), detected, self.kind, meta)

    def describe(self) -> dict:
        return {"kind": self.kind, "file": PROTOTYPES_FILE, "symprec": self.symprec}
