"""XRDDataModule: stratified, seeded, leak-free splits; augmentation changes profiles, not labels."""

import numpy as np
import pytest
import torch

from xrdnet.data.datamodule import XRDDataModule, stratified_split

FRACTIONS = (0.8, 0.1, 0.1)


def test_split_is_stratified_disjoint_complete_and_seeded():
    rng = np.random.default_rng(0)
    labels = rng.choice(7, size=1000, p=[0.05, 0.3, 0.25, 0.15, 0.1, 0.05, 0.1])
    train, val, test = stratified_split(labels, FRACTIONS, seed=3)
    assert len(set(train) & set(val)) == len(set(train) & set(test)) == len(set(val) & set(test)) == 0
    assert sorted(np.concatenate([train, val, test])) == list(range(1000))
    for label in range(7):
        share = [np.mean(labels[part] == label) for part in (train, val, test)]
        overall = np.mean(labels == label)
        assert all(abs(s - overall) < 0.03 for s in share), (label, share, overall)
    again = stratified_split(labels, FRACTIONS, seed=3)
    other = stratified_split(labels, FRACTIONS, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))
    assert not np.array_equal(val, other[1])


def test_small_classes_still_reach_val_and_test():
    labels = np.array([0] * 3 + [1] * 50)
    train, val, test = stratified_split(labels, FRACTIONS, seed=0)
    assert (labels[val] == 0).sum() == 1 and (labels[test] == 0).sum() == 1 and (labels[train] == 0).sum() == 1


def test_bad_fractions_are_rejected():
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(np.zeros(10, dtype=int), (0.8, 0.3, 0.1), seed=0)


def make_datamodule(tmp_path, source, **overrides) -> XRDDataModule:
    settings = dict(source=source, data_dir=str(tmp_path), grid={"step_deg": 0.1}, batch_size=16, build_workers=1,
                    augment={"zero_shift_deg": 0.2}, split_seed=1)
    settings.update(overrides)
    return XRDDataModule(**settings)


def test_datamodule_splits_have_no_overlap_and_cover_the_dataset(tmp_path, toy_source):
    datamodule = make_datamodule(tmp_path, toy_source)
    datamodule.prepare_data()
    datamodule.setup("fit")
    parts = datamodule.split_indices
    names = {k: set(datamodule.peaks.names[v]) for k, v in parts.items()}
    assert not (names["train"] & names["val"]) and not (names["train"] & names["test"]) and not (names["val"] & names["test"])
    assert sum(len(v) for v in parts.values()) == len(toy_source)
    profiles, labels = next(iter(datamodule.val_dataloader()))
    assert profiles.shape[1] == datamodule.grid.n_points and torch.allclose(profiles.amax(1), torch.ones(len(profiles)))
    weights = datamodule.class_weights()
    assert len(weights) == 7 and np.isclose(np.mean(weights), 1.0)


def test_augmentation_changes_profiles_but_not_labels(tmp_path, toy_source):
    datamodule = make_datamodule(tmp_path, toy_source)
    datamodule.setup("fit")
    train_set = datamodule.train_set
    torch.manual_seed(0)
    first = [train_set[i] for i in range(10)]
    second = [train_set[i] for i in range(10)]
    assert all(a[1] == b[1] for a, b in zip(first, second))
    assert all(a[1] == datamodule.peaks.labels[train_set.indices[i]] for i, a in enumerate(first))
    assert any(not torch.allclose(a[0], b[0]) for a, b in zip(first, second)), "augmentation did not change profiles"
    torch.manual_seed(0)
    replay = [train_set[i] for i in range(10)]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, replay)), "augmentation is not reproducible by seed"


def test_on_the_fly_mode_is_reproducible_and_new_every_epoch(tmp_path, toy_source, LatticeSource):
    source = LatticeSource(n=28)
    datamodule = make_datamodule(tmp_path, source, train_mode="on_the_fly", fresh_per_epoch=14)
    datamodule.setup("fit")
    dataset = datamodule.train_set

    def epoch(number):
        dataset.epoch = number
        return list(dataset)

    epoch0, epoch0_again, epoch1 = epoch(0), epoch(0), epoch(1)
    assert len(epoch0) == 14
    assert all(torch.equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(epoch0, epoch0_again))
    assert not any(torch.allclose(a[0], b[0]) for a, b in zip(epoch0, epoch1))
    # the fresh crystals start after the fixed dataset, so val/test crystals are never trained on
    assert dataset.first_index == len(source)


def test_build_settings_reach_the_dataset_build_and_a_loaded_datamodule_does_not_load_again(tmp_path, LatticeSource,
                                                                                            monkeypatch):
    from xrdnet.data import datamodule as datamodule_module
    from xrdnet.data.dataset import DatasetError

    source = LatticeSource(n=28, broken=(3, 10))  # 7 % skipped
    with pytest.raises(DatasetError, match="max_skip_fraction=0.05"):
        make_datamodule(tmp_path, source).prepare_data()
    datamodule = make_datamodule(tmp_path, source, max_skip_fraction=0.1, build_chunk_size=5)
    datamodule.prepare_data()
    datamodule.setup("fit")
    assert datamodule.peaks.manifest["n_skipped"] == 2
    # trainer.fit calls prepare_data and setup again after xrdnet-train has loaded the data
    monkeypatch.setattr(datamodule_module, "build_or_load", lambda *args, **kwargs: pytest.fail("loaded again"))
    datamodule.prepare_data()
    datamodule.setup("fit")
