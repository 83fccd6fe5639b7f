"""The auxiliary symmetry target: Bravais lattices of space groups, training batches that carry them, and a
classifier whose second head is trained on them while only its 7 crystal-system outputs are read."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from xrdnet.crystal import (AUXILIARY_TARGETS, BRAVAIS_LATTICES, CRYSTAL_SYSTEMS, NUM_CLASSES, auxiliary_label,
                            bravais_lattice_index, crystal_system_index)
from xrdnet.data.datamodule import XRDDataModule
from xrdnet.lit.classifier import CrystalSystemClassifier

# the toy crystals of conftest.LatticeSource (a NaCl pair on each lattice) and their space groups
TOY_SPACE_GROUPS = {"triclinic": 2, "monoclinic": 10, "orthorhombic": 47, "tetragonal": 123, "trigonal": 160,
                    "hexagonal": 187, "cubic": 221}


def test_bravais_lattices_of_well_known_structures():
    lattices = {227: "cF", 225: "cF", 221: "cP", 229: "cI",  # Si, NaCl, CsCl, W
                136: "tP", 141: "tI",  # rutile, anatase
                167: "hR", 154: "hP-trigonal", 186: "hP-hexagonal",  # corundum, alpha-quartz, wurtzite
                62: "oP", 63: "oS", 38: "oS", 69: "oF", 71: "oI",  # olivine, alpha-U (Cmcm), Amm2, Fmmm, Immm
                15: "mS", 14: "mP", 2: "aP"}  # gypsum's C2/c, P2_1/c, P-1
    assert {group: BRAVAIS_LATTICES[bravais_lattice_index(group)] for group in lattices} == lattices


def test_space_groups_per_bravais_lattice_are_those_of_the_international_tables():
    counts = Counter(BRAVAIS_LATTICES[bravais_lattice_index(group)] for group in range(1, 231))
    assert counts == {"aP": 2, "mP": 8, "mS": 5, "oP": 30, "oS": 15, "oI": 9, "oF": 5, "tP": 49, "tI": 19, "hR": 7,
                      "hP-trigonal": 18, "hP-hexagonal": 27, "cP": 15, "cI": 10, "cF": 11}
    # every lattice class lies in one crystal system, so the finer label refines the system label
    systems = {}
    for group in range(1, 231):
        systems.setdefault(bravais_lattice_index(group), set()).add(crystal_system_index(group))
    assert all(len(found) == 1 for found in systems.values())


def test_auxiliary_labels_of_each_target_and_a_bad_target_or_group():
    assert auxiliary_label("space_group", 230) == 229 and auxiliary_label("space_group", 1) == 0
    assert auxiliary_label("lattice", 225) == BRAVAIS_LATTICES.index("cF")
    assert AUXILIARY_TARGETS == {"lattice": 15, "space_group": 230}
    with pytest.raises(ValueError, match="unknown auxiliary target 'laue'"):
        auxiliary_label("laue", 225)
    with pytest.raises(ValueError, match="1..230"):
        auxiliary_label("space_group", 0)


@pytest.fixture
def grouped_source(LatticeSource):
    """The toy crystals with their real space groups (conftest's leave it 0)."""

    @dataclasses.dataclass
    class GroupedLatticeSource(LatticeSource):
        def get(self, index):
            item = super().get(index)
            return dataclasses.replace(item, space_group=TOY_SPACE_GROUPS[item.meta["system"]])

    return GroupedLatticeSource(n=28)


def make_datamodule(tmp_path, source, **overrides) -> XRDDataModule:
    settings = dict(source=source, data_dir=str(tmp_path), grid={"step_deg": 0.1}, batch_size=8, build_workers=1,
                    augment={"zero_shift_deg": 0.2}, split_seed=1, auxiliary_target="lattice")
    return XRDDataModule(**{**settings, **overrides})


def expected_lattice(system_index: int) -> int:
    return bravais_lattice_index(TOY_SPACE_GROUPS[CRYSTAL_SYSTEMS[system_index]])


def test_training_batches_carry_each_crystals_lattice_and_evaluation_batches_do_not(tmp_path, grouped_source):
    datamodule = make_datamodule(tmp_path, grouped_source)
    datamodule.setup("fit")
    profiles, labels, lattices = next(iter(datamodule.train_dataloader()))
    assert lattices.tolist() == [expected_lattice(label) for label in labels.tolist()]
    assert len(set(lattices.tolist())) > 1
    assert len(next(iter(datamodule.val_dataloader()))) == 2
    assert datamodule.model_kwargs()["auxiliary_classes"] == len(BRAVAIS_LATTICES)
    plain = make_datamodule(tmp_path, grouped_source, auxiliary_target=None)
    plain.setup("fit")
    assert len(next(iter(plain.train_dataloader()))) == 2 and "auxiliary_classes" not in plain.model_kwargs()


def test_on_the_fly_crystals_carry_their_lattice_too(tmp_path, grouped_source):
    datamodule = make_datamodule(tmp_path, grouped_source, train_mode="on_the_fly", fresh_per_epoch=14)
    datamodule.setup("fit")
    items = list(datamodule.train_set)
    assert len(items) == 14 and all(len(item) == 3 for item in items)
    assert [item[2] for item in items] == [expected_lattice(item[1]) for item in items]


def test_an_unknown_auxiliary_target_is_refused_in_one_line(tmp_path, grouped_source):
    with pytest.raises(ValueError, match="unknown auxiliary_target 'centring'; options: lattice, space_group"):
        make_datamodule(tmp_path, grouped_source, auxiliary_target="centring")


def classifier(auxiliary_classes: int, weight: float = 0.5) -> CrystalSystemClassifier:
    net = {"_target_": "xrdnet.models.cnn1d.CNN1D", "channels": [4, 8], "kernel_size": 5, "head_length": 4,
           "head_hidden": 16, "dropout": 0.0}
    optimizer = {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-3}
    return CrystalSystemClassifier(net=net, optimizer=optimizer, input_length=64, auxiliary_classes=auxiliary_classes,
                                   auxiliary_weight=weight, label_smoothing=0.0).eval()


def test_the_auxiliary_head_adds_its_loss_in_training_and_is_never_read_as_a_crystal_system(monkeypatch):
    torch.manual_seed(0)
    module = classifier(len(BRAVAIS_LATTICES), weight=0.5)
    monkeypatch.setattr(module, "log", lambda *args, **kwargs: None)
    monkeypatch.setattr(module, "log_dict", lambda *args, **kwargs: None)
    profiles = torch.rand(6, 64)
    labels = torch.tensor([0, 1, 2, 3, 4, 6])
    lattices = torch.tensor([bravais_lattice_index(group) for group in (2, 14, 62, 136, 167, 225)])
    outputs = module.net(profiles)
    assert outputs.shape == (6, NUM_CLASSES + len(BRAVAIS_LATTICES))
    torch.testing.assert_close(module(profiles), outputs[:, :NUM_CLASSES])
    expected = (F.cross_entropy(outputs[:, :NUM_CLASSES], labels, weight=module.class_weights)
                + 0.5 * F.cross_entropy(outputs[:, NUM_CLASSES:], lattices))
    torch.testing.assert_close(module.training_step((profiles, labels, lattices), 0), expected)
    with pytest.raises(ValueError, match="no auxiliary labels; set data.auxiliary_target"):
        module.training_step((profiles, labels), 0)
    # a model without the head trains on the crystal systems alone
    plain = classifier(0)
    monkeypatch.setattr(plain, "log", lambda *args, **kwargs: None)
    monkeypatch.setattr(plain, "log_dict", lambda *args, **kwargs: None)
    assert plain.net(profiles).shape == (6, NUM_CLASSES)
    torch.testing.assert_close(plain.training_step((profiles, labels), 0),
                               F.cross_entropy(plain(profiles), labels, weight=plain.class_weights))


def test_a_checkpoint_of_a_model_with_the_head_loads_and_reads_seven_systems(tmp_path):
    import lightning

    module = classifier(AUXILIARY_TARGETS["space_group"])
    path = tmp_path / "model.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": lightning.__version__}, path)
    loaded = CrystalSystemClassifier.load_from_checkpoint(path, map_location="cpu", weights_only=True).eval()
    assert loaded.net(torch.rand(1, 64)).shape == (1, NUM_CLASSES + 230)
    profiles = torch.rand(3, 64)
    torch.testing.assert_close(loaded.predict_proba(profiles), module.predict_proba(profiles))
    assert loaded.predict_proba(profiles).shape == (3, NUM_CLASSES)
