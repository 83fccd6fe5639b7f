"""SyntheticStructures: reproducible by (seed, index), labels checked against SpacegroupAnalyzer, clear errors."""

from __future__ import annotations

import json
import pickle
import time

import numpy as np
import pytest

from xrdnet.crystal import BRAVAIS_LATTICES, CRYSTAL_SYSTEMS, bravais_lattice_index, class_index, crystal_system_index
from xrdnet.structures import StructureError, StructureSource, SyntheticStructures, synthetic
from xrdnet.structures.base import GenerationError
from xrdnet.utils.time_limit import TimeLimitExceeded, time_limit


def _same(a, b) -> bool:
    return (
        a.name == b.name and a.label == b.label and a.space_group == b.space_group
        and [s.symbol for s in a.structure.species] == [s.symbol for s in b.structure.species]
        and np.allclose(a.structure.lattice.matrix, b.structure.lattice.matrix)
        and np.allclose(a.structure.frac_coords, b.structure.frac_coords)
    )


@pytest.mark.parametrize("generator", ["fast", "pyxtal"])
def test_same_seed_same_structures_other_seed_other_structures(generator):
    n = 8 if generator == "fast" else 3
    first = [SyntheticStructures(n, seed=1, generator=generator).get(i) for i in range(n)]
    again = [SyntheticStructures(n, seed=1, generator=generator).get(i) for i in range(n)]
    other = [SyntheticStructures(n, seed=2, generator=generator).get(i) for i in range(n)]
    assert all(_same(a, b) for a, b in zip(first, again))
    assert not any(_same(a, b) for a, b in zip(first, other))


def test_an_item_depends_only_on_seed_and_index():
    source = SyntheticStructures(10, seed=5)
    alone = SyntheticStructures(10, seed=5).get(7)
    for index in range(7):
        source.get(index)
    assert _same(source.get(7), alone)
    assert _same(pickle.loads(pickle.dumps(source)).get(7), alone)  # what worker processes receive
    assert source.get(25).name == source.item_name(25) == "synthetic-000025"  # past n: fresh crystals for training


def test_both_generators_build_the_same_spec():
    fast, pyxtal = SyntheticStructures(4, 3, generator="fast"), SyntheticStructures(4, 3, generator="pyxtal")
    for index in range(4):
        a, b = fast.get(index), pyxtal.get(index)
        assert a.meta["sites"] == b.meta["sites"] and a.meta["generating_space_group"] == b.meta["generating_space_group"]
        assert a.structure.composition == b.structure.composition


@pytest.mark.parametrize("system", CRYSTAL_SYSTEMS)
def test_labels_agree_with_spacegroup_analyzer_in_every_system(system):
    source = SyntheticStructures(10, seed=11, systems=[system])
    items = [source.get(i) for i in range(len(source))]
    for item in items:
        assert isinstance(source, StructureSource)
        assert item.label == crystal_system_index(item.space_group) == class_index(item.meta["detected_system"])
        assert item.meta["generating_system"] == system
    # measured mismatch rate: 0-3% per system; 10 items allow one
    assert sum(item.label == class_index(system) for item in items) >= 9


@pytest.mark.parametrize("system", CRYSTAL_SYSTEMS)
def test_pyxtal_labels_agree_in_every_system(system):
    item = SyntheticStructures(1, seed=4, systems=[system], generator="pyxtal").get(0)
    assert item.meta["generating_system"] == system
    assert item.label == class_index(system) == class_index(item.meta["detected_system"])


def _first_mismatch(source: SyntheticStructures, limit: int = 300) -> int:
    for index in range(limit):
        if source.get(index).meta["relabelled"]:
            return index
    raise AssertionError("no mismatching item found")


def test_mismatch_is_relabelled_or_dropped():
    # tetragonal cells can come out cubic (c close to a, all atoms on special positions)
    relabel = SyntheticStructures(300, seed=0, systems=["tetragonal"], max_atoms=8)
    index = _first_mismatch(relabel)
    item = relabel.get(index)
    assert item.meta["generating_system"] == "tetragonal" and item.label != class_index("tetragonal")
    assert item.label == crystal_system_index(item.meta["detected_space_group"]) and item.space_group == item.meta["detected_space_group"]
    drop = SyntheticStructures(300, seed=0, systems=["tetragonal"], max_atoms=8, on_mismatch="drop")
    with pytest.raises(StructureError, match=rf"synthetic-{index:06d}: generated in space group \d+ \(tetragonal\)"):
        drop.get(index)


def test_elements_are_drawn_only_from_the_given_list():
    source = SyntheticStructures(10, seed=0, elements=["Zn", "O", "S"])
    for i in range(10):
        assert {s.symbol for s in source.get(i).structure.species} <= {"Zn", "O", "S"}


@pytest.mark.parametrize(("options", "message"), [
    ({"elements": ["Fe", "Xx"]}, "unknown element symbol 'Xx'"),
    ({"elements": []}, "elements: the list is empty"),
    ({"generator": "ase"}, "generator must be one of"),
    ({"on_mismatch": "ignore"}, "on_mismatch must be one of"),
    ({"systems": ["hexagonl"]}, "unknown crystal system 'hexagonl'"),
    ({"pseudo_symmetric": 1.5}, "pseudo_symmetric is a probability"),
    ({"pseudo_symmetric": 0.2, "generator": "pyxtal"}, "pseudo_symmetric cells need generator=fast"),
])
def test_bad_configuration_is_a_clear_error(options, message):
    with pytest.raises(ValueError, match=message):
        SyntheticStructures(5, seed=0, **options)


def test_items_that_cannot_be_built_raise_structure_error_after_bounded_attempts(monkeypatch):
    calls = []

    def never(spec, rng):
        calls.append(spec)
        raise GenerationError(f"no arrangement of {spec.describe()}")

    monkeypatch.setitem(synthetic._GENERATOR_FUNCTIONS, "fast", never)
    with pytest.raises(StructureError, match=r"synthetic-000003: 2 attempts failed; last: no arrangement of"):
        SyntheticStructures(5, seed=0, max_attempts=2).get(3)
    assert len(calls) == 2


def test_time_limit_interrupts_a_long_call():
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            while time.perf_counter() - start < 10:
                pass
    with time_limit(None):  # no limit: the block runs normally
        pass


def test_describe_is_json_and_names_the_settings():
    described = SyntheticStructures(50, seed=3, generator="pyxtal").describe()
    assert json.loads(json.dumps(described)) == described
    assert described["seed"] == 3 and described["generator"] == "pyxtal" and described["n"] == 50


def test_pseudo_symmetric_cells_are_a_dataset_of_their_own_drawn_from_the_same_specs():
    default, pseudo = SyntheticStructures(4, seed=1), SyntheticStructures(4, seed=1, pseudo_symmetric=0.5)
    assert "pseudo_symmetric" not in default.describe()  # datasets built before the option keep their names
    assert pseudo.describe()["pseudo_symmetric"] == 0.5
    # the same specs (space group, sites, elements); cells drawn otherwise once the option is on
    assert [pseudo.spec(i) for i in range(4)] == [default.spec(i) for i in range(4)]
    lattices = [(default.get(i).structure.lattice.abc, pseudo.get(i).structure.lattice.abc) for i in range(4)]
    assert any(np.abs(np.subtract(*pair)).max() > 1e-6 for pair in lattices)


def test_a_wider_axis_ratio_draws_longer_cells_from_the_same_specs():
    default, wide = SyntheticStructures(200, seed=2), SyntheticStructures(200, seed=2, axis_ratio=3.0)
    assert "axis_ratio" not in default.describe()  # datasets built before the option keep their names
    assert wide.describe()["axis_ratio"] == 3.0
    assert [wide.spec(i) for i in range(200)] == [default.spec(i) for i in range(200)]

    def elongation(source):  # longest over shortest axis of the non-cubic cells
        abc = [np.array(source.get(i).structure.lattice.abc) for i in range(200) if source.spec(i).system != class_index("cubic")]
        return np.array([a.max() / a.min() for a in abc])

    # per axis log-uniform in (1/2, 2) puts ~6 % of the cells past 3:1, in (1/3, 3) ~25 %
    assert np.mean(elongation(default) > 3) < 0.12 < 0.18 < np.mean(elongation(wide) > 3)


def test_a_lattice_floor_is_a_dataset_of_its_own_with_more_body_centred_cubic_crystals():
    default, floored = SyntheticStructures(3000, seed=4), SyntheticStructures(3000, seed=4, lattice_floor=0.02)
    assert "lattice_floor" not in default.describe()  # datasets built before the option keep their names
    assert floored.describe()["lattice_floor"] == 0.02

    def body_centred_cubic(source):
        return sum(BRAVAIS_LATTICES[bravais_lattice_index(source.spec(i).space_group)] == "cI" for i in range(3000))

    # 0.4 % against 2 % of 3,000 draws: ~11 against ~60
    assert body_centred_cubic(default) < 30 < body_centred_cubic(floored)


def test_bad_axis_ratios_are_clear_errors():
    with pytest.raises(ValueError, match="axis_ratio must be >= 1, got 0.5"):
        SyntheticStructures(4, seed=0, axis_ratio=0.5)
    with pytest.raises(ValueError, match="axis_ratio needs generator=fast"):
        SyntheticStructures(4, seed=0, axis_ratio=3.0, generator="pyxtal")
