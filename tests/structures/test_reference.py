"""The well-known structures are what their names say: composition, space group found again, sensible bonds."""

import pytest
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.structures.reference import REFERENCE_STRUCTURES

FORMULAS = {"Si (diamond)": "Si8", "NaCl (rock salt)": "Na4 Cl4", "CsCl": "Cs1 Cl1", "TiO2 (rutile)": "Ti2 O4",
            "TiO2 (anatase)": "Ti4 O8", "ZnO (wurtzite)": "Zn2 O2", "C (graphite)": "C4",
            "Al2O3 (corundum)": "Al12 O18", "CaCO3 (calcite)": "Ca6 C6 O18", "SiO2 (alpha-quartz)": "Si3 O6",
            "Mg2SiO4 (forsterite)": "Mg8 Si4 O16", "ZrO2 (baddeleyite)": "Zr4 O8"}


@pytest.mark.parametrize("reference", REFERENCE_STRUCTURES, ids=lambda r: r.name)
def test_reference_structure_has_its_formula_space_group_and_no_clashing_atoms(reference):
    structure = reference.structure()
    assert structure.composition.formula == FORMULAS[reference.name]
    analyzer = SpacegroupAnalyzer(structure, symprec=0.1)
    assert analyzer.get_space_group_number() == reference.space_group
    assert CRYSTAL_SYSTEMS[reference.label] == analyzer.get_crystal_system()
    distances = structure.distance_matrix[structure.distance_matrix > 0]
    assert distances.min() > 1.2  # shortest bond here is C-O in calcite, 1.29 Å


def test_reference_set_covers_six_crystal_systems():
    assert {CRYSTAL_SYSTEMS[r.label] for r in REFERENCE_STRUCTURES} == set(CRYSTAL_SYSTEMS) - {"triclinic"}
