"""AflowPrototypes: the 288 structure types shipped with pymatgen, labelled by SpacegroupAnalyzer."""

from __future__ import annotations

import pytest

from xrdnet.crystal import NUM_CLASSES, class_index, crystal_system_index
from xrdnet.structures import AflowPrototypes


@pytest.fixture(scope="module")
def items():
    source = AflowPrototypes()
    return [source.get(i) for i in range(len(source))]


def test_288_entries_with_unique_names_and_valid_labels(items):
    assert len(items) == 288
    assert len({i.name for i in items}) == 288
    assert [AflowPrototypes().item_name(k) for k in (0, 287)] == [items[0].name, items[287].name]
    for item in items:
        assert 0 <= item.label < NUM_CLASSES and item.label == crystal_system_index(item.space_group)
        assert item.source == "aflow_prototypes" and item.meta["detected_space_group"] == item.space_group
    assert {i.label for i in items} == set(range(NUM_CLASSES))


def test_known_prototypes(items):
    by_name = {i.name: i for i in items}
    rock_salt = by_name["AB_cF8_225_a_b-NaCl"]
    assert (rock_salt.space_group, rock_salt.label) == (225, class_index("cubic"))
    assert by_name["AB_hP6_154_a_b-HgS"].meta["mineral"] == "Cinnabar"
    assert by_name["AB_hP6_154_a_b-HgS"].label == class_index("trigonal")


def test_disagreements_with_the_aflow_label_are_the_documented_ones(items):
    disagree = {i.name for i in items if not i.meta["agrees_with_aflow"]}
    across_systems = {i.name for i in items if not i.meta["system_agrees_with_aflow"]}
    assert len(disagree) == 9
    assert across_systems == {
        "AB3_tI16_140_b_ah-U3Si", "AB2_oI6_71_a_i-ReSi2", "ABC2_aP16_1_4a_4a_8a-KAsSe2", "AB2_aP12_1_4a_8a-FeS2",
    }
