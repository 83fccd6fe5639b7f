"""Derivative crystals: a parent distorted into a maximal subgroup of a lower crystal system."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.diffraction.xrd import XRDCalculator

from xrdnet.crystal import crystal_system_index
from xrdnet.structures import SyntheticStructures
from xrdnet.structures.base import GenerationError, detect_space_group
from xrdnet.structures.derivatives import distort_into_subgroup, lower_system_subgroups
from xrdnet.structures.reference import REFERENCE_STRUCTURES

from test_synthetic import _same


def _reference(name: str):
    return next(ref for ref in REFERENCE_STRUCTURES if ref.name.startswith(name)).structure()


@pytest.mark.parametrize(("space_group", "subgroups"), [
    (194, {63, 163, 164}),  # P6_3/mmc: Cmcm, P-31c, P-3m1 (International Tables vol. A1)
    (225, {139, 166}),  # Fm-3m: I4/mmm, R-3m
    (139, {69, 71}),  # I4/mmm: Fmmm, Immm
    (2, set()),  # P-1: only P1, the same system
])
def test_lower_system_subgroups_are_the_maximal_t_subgroups_of_lower_systems(space_group, subgroups):
    assert set(lower_system_subgroups(space_group)) == subgroups


def _strongest_d(structure, count: int = 4) -> np.ndarray:
    pattern = XRDCalculator("CuKa").get_pattern(structure, two_theta_range=(10, 70))
    strongest = np.argsort(pattern.y)[::-1][:count]
    return np.asarray(pattern.d_hkls)[strongest]


def test_a_wurtzite_derivative_is_lower_in_symmetry_and_keeps_the_parent_pattern_near():
    parent = _reference("ZnO")
    found = 0
    for seed in range(40):  # about a third come out lower (Cmc2_1); the trigonal ones stay P6_3mc within 0.1 Å
        if found == 3:
            break
        try:
            child, g, h = distort_into_subgroup(parent, np.random.default_rng(seed))
        except GenerationError:
            continue
        assert g == 186 and crystal_system_index(h) < crystal_system_index(186)
        detected = detect_space_group("child", child, 0.1)
        if crystal_system_index(detected) >= crystal_system_index(186):
            continue  # distortion under the tolerance
        found += 1
        assert child.composition.reduced_formula == "ZnO"
        # strain <= 3 % per length: the volume per atom stays within 10 %, and the strong lines near the parent's
        assert abs(child.volume / len(child) / (parent.volume / len(parent)) - 1) < 0.10
        parent_d = XRDCalculator("CuKa").get_pattern(parent, two_theta_range=(10, 70)).d_hkls
        for d in _strongest_d(child):
            assert np.min(np.abs(np.asarray(parent_d) / d - 1)) < 0.035
    assert found == 3


def test_the_option_leaves_other_items_as_they_were_and_labels_derivatives_lower():
    default, derived = SyntheticStructures(16, seed=1), SyntheticStructures(16, seed=1, derivative=1.0)
    assert "derivative" not in default.describe()  # datasets built before the option keep their names
    assert derived.describe()["derivative"] == 1.0
    count = 0
    for i in range(16):
        plain, item = default.get(i), derived.get(i)
        assert _same(item, derived.get(i))  # a function of (seed, index)
        if "subgroup" not in item.meta:
            assert _same(item, plain)
            continue
        count += 1
        assert item.label < plain.label and item.meta["parent_space_group"] == plain.space_group
        assert item.label == crystal_system_index(detect_space_group(item.name, item.structure, 0.1))
    assert count >= 3


def test_a_bad_fraction_is_a_clear_error():
    with pytest.raises(ValueError, match="derivative is a probability"):
        SyntheticStructures(5, seed=0, derivative=1.5)


def test_derivative_parents_limit_which_crystals_are_distorted():
    everyone = SyntheticStructures(24, seed=1, derivative=1.0)
    high = SyntheticStructures(24, seed=1, derivative=1.0, derivative_parents=["Tetragonal", "trigonal", "hexagonal", "cubic"])
    assert high.describe()["derivative_parents"] == ["tetragonal", "trigonal", "hexagonal", "cubic"]
    parents = {"everyone": set(), "high": set()}
    for i in range(24):
        for key, source in (("everyone", everyone), ("high", high)):
            item = source.get(i)
            if "subgroup" in item.meta:
                parents[key].add(crystal_system_index(item.meta["parent_space_group"]))
    assert parents["high"] and min(parents["high"]) >= 3  # tetragonal (3) and up
    assert min(parents["everyone"]) < 3  # without the limit, orthorhombic and monoclinic parents too
    with pytest.raises(ValueError, match="unknown crystal system 'cubik'"):
        SyntheticStructures(5, seed=0, derivative=0.5, derivative_parents=["cubik"])
