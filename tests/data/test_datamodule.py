"""XRDDataModule: stratified, seeded, leak-free splits; augmentation changes profiles, not labels;
one process prepares the data; on-the-fly crystals are shared out over DDP ranks and loader workers."""

import json
import multiprocessing as mp
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist
from pymatgen.core import Lattice, Structure

from xrdnet.data.datamodule import SPARE_OFFSET, XRDDataModule, stratified_split
from xrdnet.data.ranks import prepare_data_once
from xrdnet.xrd.wavelengths import d_to_two_theta, two_theta_to_d

needs_fork = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs the fork start method")

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


def test_load_split_splits_without_rendering_and_setup_keeps_that_split(tmp_path, toy_source):
    datamodule = make_datamodule(tmp_path, toy_source)
    split = {part: indices.copy() for part, indices in datamodule.load_split().items()}
    assert not hasattr(datamodule, "val_set") and datamodule.training_data_record() is not None
    assert np.array_equal(np.sort(np.concatenate(list(split.values()))), np.arange(len(toy_source)))
    datamodule.setup("fit")  # a module only split is not set up: setup renders, on that same split
    assert len(datamodule.val_set) == len(split["val"])
    assert all(np.array_equal(datamodule.split_indices[part], split[part]) for part in split)


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


def test_loader_batches_come_from_the_batched_fetch_and_are_reproducible_by_seed(tmp_path, toy_source, monkeypatch):
    datamodule = make_datamodule(tmp_path, toy_source, batch_size=8)
    datamodule.setup("fit")
    train_set = datamodule.train_set
    fetched = []
    batched_fetch = type(train_set).__getitems__
    monkeypatch.setattr(type(train_set), "__getitems__", lambda self, positions: fetched.append(list(positions))
                        or batched_fetch(self, positions))

    def first_batch():
        torch.manual_seed(0)
        return next(iter(torch.utils.data.DataLoader(train_set, batch_size=8, sampler=list(range(8)))))

    (profiles, labels), (again, _) = first_batch(), first_batch()
    assert fetched == [list(range(8))] * 2  # one batched fetch per batch, not eight single ones
    assert torch.equal(profiles, again)
    assert labels.tolist() == [int(datamodule.peaks.labels[train_set.indices[p]]) for p in range(8)]
    # the same item four times in one batch: four draws of its augmentation, not one repeated
    repeated = [profile for profile, _ in train_set.__getitems__([0, 0, 0, 0])]
    assert all(not torch.allclose(repeated[i], repeated[j]) for i in range(4) for j in range(i))


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


# every draw of the augmenter switched off but the impurity phase's, at a fixed 5 %
NOTHING_BUT_IMPURITY = {"zero_shift_deg": 0, "strain": 0, "crystallite_size_nm": None, "intensity_jitter": 0,
                        "max_counts": None, "gaussian_noise": 0, "background": 0, "impurity_fraction": [0.05, 0.05]}


def test_on_the_fly_crystals_get_impurity_lines_from_the_fixed_training_split(tmp_path, LatticeSource):
    source = LatticeSource(n=28)
    renders = {}
    for probability in (0.0, 1.0):
        datamodule = make_datamodule(tmp_path, source, train_mode="on_the_fly", fresh_per_epoch=7,
                                     augment={**NOTHING_BUT_IMPURITY, "impurity_probability": probability})
        datamodule.setup("fit")
        renders[probability] = [profile for profile, _ in datamodule.train_set]
    pool = datamodule.train_set.augmenter.impurity_pool
    assert pool is not None and np.array_equal(pool.indices, datamodule.split_indices["train"])
    # the same crystals and draws, plus a second phase's lines at 5 % of the strongest
    changed = [float((with_impurity - plain).abs().max()) for plain, with_impurity in zip(renders[0.0], renders[1.0])]
    assert all(0.005 < change < 0.2 for change in changed), changed


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


def test_a_finite_source_is_refused_for_on_the_fly_training_in_one_line(tmp_path, LatticeSource):
    with pytest.raises(ValueError, match="only its 28 items") as refused:
        make_datamodule(tmp_path, LatticeSource(n=28, unbounded=False), train_mode="on_the_fly")
    assert "\n" not in str(refused.value)


def _wait_then_load(tmp_path, source, result_path) -> None:
    """A rank other than local rank 0: building the dataset or computing features here fails the test."""
    from xrdnet.data import dataset as dataset_module
    from xrdnet.data import features as features_module

    def forbidden(*args, **kwargs):
        raise AssertionError("a rank other than 0 built data")

    dataset_module._build = features_module._compute = forbidden
    datamodule = make_datamodule(tmp_path, source, features="indexing", feature_copies=1)
    prepare_data_once(SimpleNamespace(local_rank=1, global_rank=1), datamodule, poll_s=0.05)
    datamodule.setup("fit")
    np.save(result_path, datamodule.feature_table)


@needs_fork
def test_only_local_rank_0_prepares_data_and_features_the_others_wait_and_load(tmp_path, LatticeSource):
    source = LatticeSource(n=28)
    waiting = mp.get_context("fork").Process(target=_wait_then_load, args=(tmp_path, source, tmp_path / "rank1.npy"))
    waiting.start()
    time.sleep(1.0)  # rank 1 arrives first: it must wait rather than build
    assert waiting.is_alive()
    datamodule = make_datamodule(tmp_path, source, features="indexing", feature_copies=1)
    prepare_data_once(SimpleNamespace(local_rank=0, global_rank=0), datamodule)
    datamodule.setup("fit")
    waiting.join(timeout=120)
    assert waiting.exitcode == 0
    np.testing.assert_array_equal(np.load(tmp_path / "rank1.npy"), datamodule.feature_table)


def _on_the_fly_rank(rank, world, tmp_path, LatticeSource) -> None:
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'process_group'}", rank=rank, world_size=world)
    try:
        # the source records every crystal it makes, from this rank's loader workers
        source = LatticeSource(n=14, broken=(17,), calls_file=str(tmp_path / f"calls-{rank}.txt"))
        datamodule = make_datamodule(tmp_path, source, train_mode="on_the_fly", fresh_per_epoch=13, num_workers=2,
                                     batch_size=4)
        datamodule.setup("fit")
        loader = datamodule.train_dataloader()
        labels = [int(label) for _, batch_labels in loader for label in batch_labels]
        (tmp_path / f"rank-{rank}.json").write_text(json.dumps({"items": len(labels), "len": len(loader.dataset)}))
    finally:
        dist.destroy_process_group()


@needs_fork
def test_a_waiting_rank_gives_up_in_one_line_when_rank_0_never_prepares_the_data(tmp_path, LatticeSource):
    from xrdnet.utils.errors import SetupError

    datamodule = make_datamodule(tmp_path, LatticeSource(n=28))  # nothing built: rank 0 "died" before it did
    with pytest.raises(SetupError, match=r"rank 1 waited 0\.0 min for rank 0 to prepare the data in .* gave up"):
        prepare_data_once(SimpleNamespace(local_rank=1, global_rank=1), datamodule, poll_s=0.05, timeout_min=0.01)
    assert not datamodule.is_prepared() and not list(tmp_path.glob("*/manifest.json")), "the waiting rank built data"


def test_on_the_fly_crystals_are_disjoint_over_ddp_ranks_and_loader_workers(tmp_path, LatticeSource):
    make_datamodule(tmp_path, LatticeSource(n=14, broken=(17,))).prepare_data()  # the fixed dataset, built once
    ctx = mp.get_context("fork")
    ranks = [ctx.Process(target=_on_the_fly_rank, args=(rank, 2, tmp_path, LatticeSource)) for rank in range(2)]
    for process in ranks:
        process.start()
    for process in ranks:
        process.join(timeout=180)
    assert [process.exitcode for process in ranks] == [0, 0]
    seen = [[int(i) for i in (tmp_path / f"calls-{rank}.txt").read_text().split()] for rank in range(2)]
    assert all(len(indices) == len(set(indices)) for indices in seen), "a crystal was made twice on one rank"
    assert not set(seen[0]) & set(seen[1]), "two ranks trained on the same crystal"
    first = 14  # fresh crystals start after the fixed dataset's 14
    regular = {i for indices in seen for i in indices if i < first + SPARE_OFFSET}
    assert regular == set(range(first, first + 12)), "13 per epoch over 2 ranks: 6 each, every one dealt once"
    spares = [i for indices in seen for i in indices if i >= first + SPARE_OFFSET]
    assert len(spares) == 1, "the broken crystal 17 is replaced by one spare"
    results = [json.loads((tmp_path / f"rank-{rank}.json").read_text()) for rank in range(2)]
    assert results == [{"items": 6, "len": 6}] * 2, "every rank yields the same number of items"


def test_simulated_range_follows_the_grid_plus_what_augmentation_moves_peaks_by(tmp_path, toy_source):
    augment = {"zero_shift_deg": 0.05, "strain": 0.005}
    datamodule = make_datamodule(tmp_path, toy_source, simulation={"wavelength": "MoKa"},
                                 grid={"start_deg": 2.0, "stop_deg": 45.0, "step_deg": 0.02}, augment=augment)
    low, high = datamodule.simulator.two_theta_range
    wavelength = datamodule.simulator.wavelength_angstrom
    # the outermost simulated peaks, strained and shifted towards the grid, land on its edges (to 0.01°)
    assert d_to_two_theta(two_theta_to_d(low, wavelength) * (1 - 0.005), wavelength) + 0.05 == pytest.approx(2.0, abs=0.011)
    assert d_to_two_theta(two_theta_to_d(high, wavelength) * (1 + 0.005), wavelength) - 0.05 == pytest.approx(45.0, abs=0.011)
    # physics: a 12 Å simple-cubic cell diffracts MoKα (0.711 Å) at 2θ(100) = 3.4°, below the old fixed 5°
    peaks = datamodule.simulator.simulate(Structure(Lattice.cubic(12.0), ["Cs"], [[0, 0, 0]]))
    assert peaks.two_theta.min() < 5.0
    assert peaks.two_theta.min() == pytest.approx(d_to_two_theta(12.0, wavelength), abs=1e-3)
    unaugmented = make_datamodule(tmp_path, toy_source, grid={"start_deg": 10.0, "stop_deg": 60.0}, augment=None)
    assert unaugmented.simulator.two_theta_range == (10.0, 60.0)
    explicit = make_datamodule(tmp_path, toy_source, simulation={"two_theta_range": [5.0, 90.0]})
    assert explicit.simulator.two_theta_range == (5.0, 90.0)  # checkpoints' stored configs keep their range
