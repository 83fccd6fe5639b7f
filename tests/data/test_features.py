"""Indexing features beside the profile: cached once per dataset, and the predictor computes the same ones."""

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from xrdnet.config import CONFIG_DIR
from xrdnet.data import features as feature_module
from xrdnet.data.datamodule import XRDDataModule
from xrdnet.predictor import CrystalSystemPredictor
from xrdnet.train import train
from xrdnet.xrd.indexing import N_FEATURES
from xrdnet.xrd.profile import render_profile


def make_datamodule(tmp_path, source, **overrides) -> XRDDataModule:
    settings = dict(source=source, data_dir=str(tmp_path), batch_size=16, build_workers=1, features="indexing",
                    profile={"shape": "pseudo_voigt", "crystallite_size_nm": 25.0})
    return XRDDataModule(**{**settings, **overrides})


def test_features_ride_after_the_profile_and_are_computed_once(tmp_path, toy_source, monkeypatch):
    datamodule = make_datamodule(tmp_path, toy_source)
    datamodule.setup("fit")
    inputs, _ = datamodule.val_set.tensors
    assert inputs.shape[1] == datamodule.grid.n_points + N_FEATURES
    assert len(list(tmp_path.glob("*/indexing_features-*.npy"))) == 1
    assert datamodule.feature_table.shape == (1, len(toy_source), N_FEATURES)
    info = datamodule.describe()["features"]
    assert len(info["mean"]) == len(info["scale"]) == N_FEATURES and min(info["scale"]) > 0
    training_input, _ = datamodule.train_set[0]
    assert training_input.shape == (datamodule.grid.n_points + N_FEATURES,)

    def no_recompute(*args, **kwargs):
        raise AssertionError("features were computed again although they are cached")

    monkeypatch.setattr(feature_module, "_compute", no_recompute)
    again = make_datamodule(tmp_path, toy_source)
    again.setup("fit")
    np.testing.assert_array_equal(again.feature_table, datamodule.feature_table)


def test_augmented_feature_copies_are_reproducible_and_differ_from_the_clean_ones(tmp_path, toy_source):
    augment = {"max_counts": [1000.0, 1000.0], "gaussian_noise": 0.01}
    datamodule = make_datamodule(tmp_path, toy_source, feature_copies=2, augment=augment)
    datamodule.setup("fit")
    table = datamodule.feature_table
    assert table.shape == (3, len(toy_source), N_FEATURES)
    train = datamodule.split_indices["train"]
    assert not np.allclose(table[1, train], table[0, train]) and not np.allclose(table[2, train], table[1, train])
    # augmented copies exist for the training items alone, the only ones training draws
    held_out = np.setdiff1d(np.arange(len(toy_source)), train)
    assert np.isfinite(table[1:, train]).all() and np.isnan(table[1:, held_out]).all()
    every_item = feature_module.cached_features(datamodule.peaks, tmp_path / "every", datamodule.grid,
                                                datamodule.settings, num_workers=1, augmenter=datamodule.augmenter,
                                                copies=2, seed=datamodule.split_seed, kind="indexing")
    np.testing.assert_array_equal(every_item[:, train], table[:, train])  # an item's copy is seeded by the item alone
    other = make_datamodule(tmp_path / "again", toy_source, feature_copies=2, augment=augment)
    other.setup("fit")
    np.testing.assert_array_equal(other.feature_table, table)  # seeded per (split seed, copy, item)
    inputs, _ = datamodule.val_set.tensors  # evaluation reads the clean copy
    np.testing.assert_array_equal(inputs[:, datamodule.grid.n_points:].numpy(), table[0][datamodule.split_indices["val"]])


def test_testing_reads_clean_features_without_computing_the_augmented_copies(tmp_path, toy_source):
    # xrdnet-eval sets a training data module up for "test": the augmented copies (minutes for a large set) are
    # for training only, so they are neither computed nor written then; a later "fit" adds them
    augment = {"max_counts": [1000.0, 1000.0], "gaussian_noise": 0.01}
    datamodule = make_datamodule(tmp_path, toy_source, feature_copies=1, augment=augment)
    datamodule.setup("test")
    assert datamodule.feature_table.shape == (1, len(toy_source), N_FEATURES)
    assert len(list(tmp_path.glob("*/indexing_features-*.npy"))) == 1  # the clean copy alone
    clean_test_inputs = datamodule.test_set.tensors[0].numpy()
    datamodule.setup("fit")
    assert datamodule.feature_table.shape == (2, len(toy_source), N_FEATURES)
    assert len(list(tmp_path.glob("*/indexing_features-*.npy"))) == 2
    np.testing.assert_array_equal(datamodule.test_set.tensors[0].numpy(), clean_test_inputs)
    datamodule.setup("test")  # already set up with more: nothing is redone
    assert datamodule.feature_table.shape[0] == 2


def test_augmented_feature_copies_carry_impurity_lines_of_training_items(tmp_path, toy_source):
    tables = {}
    for probability in (0.0, 1.0):
        augment = {"max_counts": [1e5, 1e5], "impurity_probability": probability, "impurity_fraction": [0.05, 0.05]}
        datamodule = make_datamodule(tmp_path / str(probability), toy_source, feature_copies=1, augment=augment)
        datamodule.prepare_data()  # features are computed here, before the training set exists
        datamodule.setup("fit")
        tables[probability] = datamodule.feature_table
    np.testing.assert_array_equal(tables[1.0][0], tables[0.0][0])  # the clean copy has no second phase
    changed = ~np.all(np.isclose(tables[1.0][1], tables[0.0][1]), axis=1)  # same draws but for the second phase
    assert changed.mean() > 0.5
    assert np.array_equal(datamodule.augmenter.impurity_pool.indices, datamodule.split_indices["train"])


def test_cubic_items_score_a_better_cubic_fit_than_the_others(tmp_path, toy_source):
    datamodule = make_datamodule(tmp_path, toy_source)
    datamodule.setup("fit")
    from xrdnet.xrd.indexing import FEATURE_NAMES

    log_m = datamodule.feature_table[0, :, FEATURE_NAMES.index("cubic_log_m")]
    cubic = datamodule.peaks.labels == 6
    assert np.median(log_m[cubic]) > np.median(log_m[~cubic]) + 1.0


def test_each_feature_set_has_its_own_key_and_width():
    from xrdnet.data.features import FEATURE_SETS, feature_key, profile_features
    from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid

    grid, settings = TwoThetaGrid(5.0, 90.0, 0.04), ProfileSettings()
    assert len({feature_key(grid, settings, kind=kind) for kind in FEATURE_SETS}) == len(FEATURE_SETS)
    profile = render_profile(np.array([20.0, 28.3, 33.0, 40.1, 47.5, 56.2]), np.array([100.0, 60, 40, 30, 20, 10]),
                             grid, settings, 1.54056)
    old, new = (profile_features(profile, grid, 1.54056, kind) for kind in ("indexing", "indexing_v2"))
    assert old.shape == (1, FEATURE_SETS["indexing"].size) and new.shape == (1, FEATURE_SETS["indexing_v2"].size)
    np.testing.assert_array_equal(new[:, : old.shape[1]], old)
    assert profile_features(profile, grid, 1.54056, "indexing_v3").shape == old.shape  # same layout, other fit
    with pytest.raises(ValueError, match="unknown features 'nope'"):
        profile_features(profile, grid, 1.54056, "nope")


def test_a_runs_feature_key_holds_when_the_code_on_disk_changes_under_it(monkeypatch):
    # a run reads its feature sets' source once: an edit mid-run must not send its later steps to compute
    # every feature again under a new key (the code that runs is the code imported)
    import inspect

    from xrdnet.data import features
    from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid

    grid, settings = TwoThetaGrid(5.0, 90.0, 0.04), ProfileSettings()
    before = features.feature_key(grid, settings, kind="indexing_v9")
    real_getsource = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda module: real_getsource(module) + "# edited\n")
    assert features.feature_key(grid, settings, kind="indexing_v9") == before
    features.code_hash.cache_clear()  # a new process reads the edited files: a new key
    try:
        assert features.feature_key(grid, settings, kind="indexing_v9") != before
    finally:
        monkeypatch.undo()
        features.code_hash.cache_clear()
    assert features.feature_key(grid, settings, kind="indexing_v9") == before


def test_features_on_the_fly_are_refused(tmp_path, toy_source):
    with pytest.raises(ValueError, match="on_the_fly training cannot use them"):
        make_datamodule(tmp_path, toy_source, train_mode="on_the_fly")


def train_with_features(tmp_path, kind: str):
    """A one-epoch run on 140 crystals reading feature set `kind`; its checkpoint."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[
            f"paths.output_dir={tmp_path / 'run'}", f"paths.data_dir={tmp_path / 'data'}",
            f"paths.log_dir={tmp_path / 'outputs'}", "data.source.n=140", "data.real_source=null",
            "data.build_workers=1", "data.batch_size=32", "trainer.max_epochs=1", "callbacks.rich_progress_bar=null",
            f"data.features={kind}", "data.axis.kind=ln_q", "data.axis.n_points=512", "data.axis.intensity=sqrt",
            "model.net.channels=[8,16]", "model.net.head_hidden=32", "+model.net.extra_hidden=[16]",
        ])
    train(cfg)
    return next((tmp_path / "run" / "checkpoints").glob("epoch_*.ckpt"))


@pytest.mark.parametrize("kind", ["indexing", "indexing_v2", "indexing_v3", "indexing_v4", "indexing_v5", "indexing_v6", "indexing_v7", "indexing_v8", "indexing_v9", "indexing_v10", "indexing_v11", "indexing_v12", "indexing_v13", "indexing_v14", "indexing_v15", "indexing_v16"])
def test_a_checkpoint_with_features_predicts_from_profiles_as_it_was_trained(tmp_path, kind):
    predictor = CrystalSystemPredictor.from_checkpoint(train_with_features(tmp_path, kind))
    assert predictor.reads_features
    from xrdnet.data.features import feature_key

    assert predictor.module.hparams.data_info["features"]["kind"] == kind  # the checkpoint names its set
    # the clean copy (training also drew augmented ones)
    clean_key = feature_key(predictor.grid, predictor.settings, kind=kind)
    stored = next((tmp_path / "data").glob(f"synthetic-*/{kind}_features-{clean_key}.npy"))
    from xrdnet.data.dataset import PeakListSet

    peaks = PeakListSet.load(stored.parent)
    profiles = np.stack([render_profile(*peaks.peaks(i), predictor.grid, predictor.settings, peaks.wavelength_angstrom)
                         for i in range(5)])
    inputs = predictor.model_inputs(profiles)
    np.testing.assert_allclose(inputs[:, predictor.grid.n_points:], np.load(stored)[0, :5], rtol=1e-5, atol=1e-5)
    probabilities = predictor.predict_proba(profiles)
    assert probabilities.shape == (5, 7) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # the model reads the features: changing them changes its answer
    module = predictor.module
    shifted = torch.as_tensor(inputs).clone()
    shifted[:, predictor.grid.n_points:] += 3.0 * module.feature_scale
    assert not torch.allclose(module(torch.as_tensor(inputs)), module(shifted))


def test_many_profiles_show_their_feature_progress_and_a_few_do_not(capsys):
    from xrdnet.data.features import PROGRESS_PROFILES, profile_features
    from xrdnet.xrd.profile import TwoThetaGrid

    grid = TwoThetaGrid(5.0, 90.0, 0.04)
    flat = np.zeros((PROGRESS_PROFILES + 1, grid.n_points), dtype=np.float32)  # no lines: quick to describe
    assert profile_features(flat, grid, 1.5406, "indexing").shape == (PROGRESS_PROFILES + 1, 90)
    assert f"{PROGRESS_PROFILES + 1}/{PROGRESS_PROFILES + 1}" in capsys.readouterr().err
    profile_features(flat[:3], grid, 1.5406, "indexing")
    assert "indexing features" not in capsys.readouterr().err


def test_eval_reads_the_test_items_features_from_the_training_runs_cache(tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    from xrdnet import eval as evaluation

    checkpoint = train_with_features(tmp_path, "indexing")
    predictor = CrystalSystemPredictor.from_checkpoint(checkpoint)
    cfg = OmegaConf.create({"synthetic_test": True, "ckpt_path": str(checkpoint), "paths": {"data_dir": str(tmp_path / "data")}})
    profiles, labels, _, _, _, features = evaluation.labelled_profiles(cfg, predictor, {})["test"]
    # the cached rows are the test items' own: what the predictor computes from their clean renders
    computed = predictor.model_inputs(profiles)[:, predictor.grid.n_points:]
    np.testing.assert_allclose(features, computed, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(predictor.predict_proba(profiles, features=features), predictor.predict_proba(profiles),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="features of shape"):
        predictor.predict_proba(profiles, features=features[:, :-1])
    # and nothing is computed for them: the predictor's own feature pass is not called
    monkeypatch.setattr("xrdnet.predictor.profile_features", lambda *args: pytest.fail("features computed again"))
    assert evaluation.labelled_profiles(cfg, predictor, {})["test"][5] is not None
    # with no cache (another machine's data folder) the predictor computes them: None handed on
    for cached in (tmp_path / "data").glob("synthetic-*/indexing_features-*.npy"):
        cached.unlink()
    assert evaluation.labelled_profiles(cfg, predictor, {})["test"][5] is None
