"""MP Wyckoff statistics: what the table's columns mean, and the sampler's weights and filters."""

from __future__ import annotations

import numpy as np
import pytest

from xrdnet.crystal import BRAVAIS_LATTICES, CRYSTAL_SYSTEMS, bravais_lattice_index
from xrdnet.structures.mp_statistics import (
    CombinationSampler,
    WyckoffCombination,
    assign_species,
    load_mp_combinations,
    pyxtal_group,
)


def test_n_atoms_is_the_sum_of_the_wyckoff_multiplicities_of_every_row():
    rows = load_mp_combinations()
    assert len(rows) == 12593
    for row in rows:
        group = pyxtal_group(row.space_group)
        assert sum(group[i].multiplicity for i in row.wyckoff_indices) == row.n_atoms, row


def test_wyckoff_index_zero_is_the_general_position_and_the_last_is_letter_a():
    # Fm-3m: general position 192l, then down to 4a; "9-10-11" is the Heusler (full) arrangement 8c + 4b + 4a
    group = pyxtal_group(225)
    assert (group[0].multiplicity, group[0].letter) == (192, "l")
    assert [group[i].get_label() for i in (9, 10, 11)] == ["8c", "4b", "4a"]
    heusler = [r for r in load_mp_combinations() if r.space_group == 225 and r.wyckoff_indices == (9, 10, 11)]
    assert heusler and heusler[0].n_atoms == 16
    # rhombohedral groups are in the hexagonal setting: R-3m 3a holds 3 atoms in the conventional cell
    assert pyxtal_group(166)[-1].get_label() == "3a"


def test_p1_is_absent_so_triclinic_is_always_p_minus_1():
    groups = {r.space_group for r in load_mp_combinations()}
    assert 1 not in groups and 2 in groups and len(groups) == 225


def test_mp_weights_follow_the_counts():
    sampler = CombinationSampler(max_atoms=40)
    rows = [r for r in load_mp_combinations() if r.n_atoms <= 40]
    cubic_share = sum(r.count for r in rows if r.system == 6) / sum(r.count for r in rows)
    assert sampler.system_probabilities()["cubic"] == pytest.approx(cubic_share)
    rng = np.random.default_rng(0)
    drawn = [sampler.sample(rng) for _ in range(4000)]
    assert all(c.n_atoms <= 40 for c in drawn)
    assert np.mean([c.system == 6 for c in drawn]) == pytest.approx(cubic_share, abs=0.03)


def test_uniform_weighting_gives_every_system_the_same_share():
    sampler = CombinationSampler(max_atoms=40, system_weights="uniform")
    assert list(sampler.system_probabilities().values()) == pytest.approx([1 / 7] * 7)


def lattice_shares(sampler: CombinationSampler) -> dict[str, float]:
    shares = dict.fromkeys(BRAVAIS_LATTICES, 0.0)
    for combination, p in zip(sampler.combinations, sampler.probabilities):
        shares[BRAVAIS_LATTICES[bravais_lattice_index(combination.space_group)]] += float(p)
    return shares


def test_a_lattice_floor_raises_the_rare_lattices_and_keeps_mp_weights_within_each():
    mp, floored = CombinationSampler(max_atoms=40), CombinationSampler(max_atoms=40, lattice_floor=0.02)
    before, after = lattice_shares(mp), lattice_shares(floored)
    # MP leaves body-centred cubic and face-centred orthorhombic cells of <= 40 atoms under half a percent
    assert before["cI"] < 0.005 and before["oF"] < 0.005
    assert after["cI"] == pytest.approx(0.02) and after["oF"] == pytest.approx(0.02)
    assert min(after.values()) >= 0.02 - 1e-12 and sum(after.values()) == pytest.approx(1.0)
    # the lattices above the floor keep their MP proportions to one another
    assert after["cF"] / after["mP"] == pytest.approx(before["cF"] / before["mP"])
    cubic_i = [i for i, c in enumerate(mp.combinations) if BRAVAIS_LATTICES[bravais_lattice_index(c.space_group)] == "cI"]
    np.testing.assert_allclose(floored.probabilities[cubic_i] / after["cI"], mp.probabilities[cubic_i] / before["cI"])
    rng = np.random.default_rng(0)
    drawn = [floored.sample(rng) for _ in range(5000)]
    assert np.mean([BRAVAIS_LATTICES[bravais_lattice_index(c.space_group)] == "cI" for c in drawn]) == pytest.approx(0.02, abs=0.008)
    np.testing.assert_array_equal(CombinationSampler(max_atoms=40, lattice_floor=0.0).probabilities, mp.probabilities)
    with pytest.raises(ValueError, match="lattice_floor 0.1 times the 15 lattices present must lie in"):
        CombinationSampler(max_atoms=40, lattice_floor=0.1)


def test_a_lattice_scaled_down_under_the_floor_is_raised_too():
    from xrdnet.structures.mp_statistics import _with_lattice_floor

    # aP 0.25 raised to 0.3 leaves 0.7 for cF 0.26 and cI 0.49: cF would get 0.243, under the floor, so it is raised too
    shares = _with_lattice_floor(np.array([0.25, 0.26, 0.49]), [2, 225, 229], floor=0.3)
    np.testing.assert_allclose(shares, [0.3, 0.3, 0.4])
    np.testing.assert_allclose(_with_lattice_floor(np.array([0.05, 0.9, 0.05]), [2, 225, 229], floor=0.3), [0.3, 0.4, 0.3])


def test_systems_filter_keeps_only_those_systems():
    sampler = CombinationSampler(max_atoms=20, systems=["Trigonal", "cubic"])
    assert {CRYSTAL_SYSTEMS[c.system] for c in sampler.combinations} == {"trigonal", "cubic"}


def test_impossible_filters_are_clear_errors():
    # one-atom cells occur in MP only in P2/m, P4/mmm, P6/mmm and Pm-3m
    with pytest.raises(ValueError, match="no MP Wyckoff combination has <= 1 atoms in the systems orthorhombic"):
        CombinationSampler(max_atoms=1, systems=["orthorhombic"])
    with pytest.raises(ValueError, match="unknown crystal system 'cubical'"):
        CombinationSampler(max_atoms=20, systems=["cubical"])
    with pytest.raises(ValueError, match="system_weights"):
        CombinationSampler(max_atoms=20, system_weights="flat")


def test_assign_species_uses_each_chosen_element_and_only_given_ones():
    combo = WyckoffCombination(225, (9, 10, 11), 16, 1)
    elements = ("Cu", "Mn", "Al", "Fe", "Si")
    for seed in range(50):
        spec = assign_species(combo, elements, np.random.default_rng(seed))
        assert len(spec.species) == 3 and set(spec.species) <= set(elements)
        assert spec.multiplicities() == (8, 4, 4)
    one_site = WyckoffCombination(229, (1,), 48, 1)
    assert len(assign_species(one_site, elements, np.random.default_rng(0)).species) == 1
