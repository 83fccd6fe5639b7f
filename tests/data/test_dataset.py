"""Dataset build, cache and manifest."""

import hashlib
import json
import logging
import multiprocessing as mp

import numpy as np
import pytest

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.data.dataset import (ARRAYS_FILE, FORMAT_VERSION, MANIFEST_FILE, DatasetError, PeakListSet, build_or_load,
                                 dataset_folder, file_sha256)
from xrdnet.xrd.peaks import XRDSimulator


def test_round_trip_keeps_every_peak_list(tmp_path, toy_source):
    simulator = XRDSimulator()
    dataset = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    assert len(dataset) == toy_source.n
    for index in (0, 13, 69):
        item = toy_source.get(index)
        expected = simulator.simulate(item.structure)
        two_theta, intensity = dataset.peaks(index)
        np.testing.assert_allclose(two_theta, expected.two_theta, atol=1e-4)
        np.testing.assert_allclose(intensity, expected.intensity, atol=1e-3)
        assert dataset.labels[index] == item.label
        assert dataset.names[index] == item.name


def test_manifest_records_config_counts_versions_and_skips(tmp_path, LatticeSource):
    source = LatticeSource(n=21, broken=(4, 9))
    simulator = XRDSimulator(wavelength="MoKa")
    build_or_load(tmp_path, source, simulator, num_workers=1, progress=False, max_skip_fraction=None)
    manifest = json.loads((dataset_folder(tmp_path, source, simulator) / MANIFEST_FILE).read_text())
    assert manifest["source"] == source.describe()
    assert manifest["simulation"]["wavelength_angstrom"] == pytest.approx(0.71073)
    assert manifest["seed"] == source.seed
    assert manifest["n_items"] == 19 and manifest["n_skipped"] == 2
    assert [s["index"] for s in manifest["skipped"]] == [4, 9]
    assert "deliberately broken" in manifest["skipped"][0]["reason"]
    assert sum(manifest["counts_per_class"].values()) == 19
    assert set(manifest["counts_per_class"]) == set(CRYSTAL_SYSTEMS)
    assert {"pymatgen", "numpy", "xrdnet"} <= set(manifest["versions"])


def test_matching_config_reuses_cache_and_changed_config_does_not(tmp_path, toy_source, monkeypatch, LatticeSource):
    simulator = XRDSimulator()
    first = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    import xrdnet.data.dataset as dataset_module

    def fail(*args, **kwargs):
        raise AssertionError("rebuilt a dataset whose cache matches")

    monkeypatch.setattr(dataset_module, "_build", fail)
    again = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    assert again.manifest["created"] == first.manifest["created"]
    monkeypatch.undo()

    changed = LatticeSource(n=toy_source.n, seed=1)
    assert dataset_folder(tmp_path, changed, simulator) != dataset_folder(tmp_path, toy_source, simulator)
    assert dataset_folder(tmp_path, toy_source, XRDSimulator(two_theta_range=(10, 80))) != dataset_folder(
        tmp_path, toy_source, simulator)
    rebuilt = build_or_load(tmp_path, changed, simulator, num_workers=1, progress=False)
    assert not np.array_equal(rebuilt.peak_two_theta[:20], first.peak_two_theta[:20])


def test_stale_manifest_triggers_rebuild(tmp_path, toy_source):
    simulator = XRDSimulator()
    build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    manifest_path = dataset_folder(tmp_path, toy_source, simulator) / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["cache_key"]["source"]["n"] = 999
    manifest_path.write_text(json.dumps(manifest))
    reloaded = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    assert reloaded.manifest["cache_key"]["source"]["n"] == toy_source.n


def test_parallel_build_equals_serial_build_and_leaves_no_temporaries(tmp_path, toy_source):
    simulator = XRDSimulator()
    serial = build_or_load(tmp_path / "serial", toy_source, simulator, num_workers=1, progress=False)
    parallel = build_or_load(tmp_path / "parallel", toy_source, simulator, num_workers=2, progress=False)
    np.testing.assert_array_equal(serial.peak_offsets, parallel.peak_offsets)
    np.testing.assert_array_equal(serial.peak_two_theta, parallel.peak_two_theta)
    np.testing.assert_array_equal(serial.labels, parallel.labels)
    leftovers = [p.name for p in (tmp_path / "parallel").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_source_with_no_usable_item_is_a_clear_error(tmp_path, LatticeSource):
    source = LatticeSource(n=3, broken=(0, 1, 2))
    with pytest.raises(RuntimeError, match="no item could be simulated"):
        build_or_load(tmp_path, source, XRDSimulator(), num_workers=1, progress=False)
    # the lock file stays (deleting it would race with a process waiting on it); nothing else may
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".lock"] == [], "a failed build left files behind"


def test_wavelength_leaving_no_peaks_is_a_reported_skip(tmp_path, LatticeSource):
    # λ = 20 Å: 2θ <= 90° needs d >= 14 Å, far beyond these small cells -> every item skipped with a reason
    source = LatticeSource(n=3)
    with pytest.raises(RuntimeError, match="no allowed reflection between"):
        build_or_load(tmp_path, source, XRDSimulator(wavelength=20.0), num_workers=1, progress=False)


def test_load_of_non_dataset_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        PeakListSet.load(tmp_path)


def test_shard_and_merge_equals_single_process_build(tmp_path, LatticeSource):
    from xrdnet.data.dataset import build_shard, merge_shards, shard_range

    source = LatticeSource(n=23, broken=(5, 17))
    simulator = XRDSimulator()
    single = build_or_load(tmp_path / "single", source, simulator, num_workers=1, progress=False, max_skip_fraction=None)
    assert [len(shard_range(23, k, 3)) for k in range(3)] == [8, 7, 8]
    for shard in (2, 0, 1):  # build order must not matter
        build_shard(tmp_path / "sharded", source, simulator, shard, 3, num_workers=1, progress=False,
                    max_skip_fraction=None)
    merged = merge_shards(tmp_path / "sharded", source, simulator, 3)
    for field in ("indices", "labels", "space_groups", "names", "peak_offsets", "peak_two_theta", "peak_intensity"):
        np.testing.assert_array_equal(getattr(merged, field), getattr(single, field), err_msg=field)
    for key in ("cache_key", "counts_per_class", "skipped", "n_items", "n_skipped", "n_relabelled"):
        assert merged.manifest[key] == single.manifest[key], key
    # the merged folder is a cache hit for a normal build
    again = build_or_load(tmp_path / "sharded", source, simulator, num_workers=1, progress=False)
    assert again.manifest["merged_from_shards"] == 3


def test_merge_with_a_missing_shard_names_it(tmp_path, toy_source):
    from xrdnet.data.dataset import build_shard, merge_shards

    simulator = XRDSimulator()
    build_shard(tmp_path, toy_source, simulator, 0, 2, num_workers=1, progress=False)
    with pytest.raises(FileNotFoundError, match="001-of-002"):
        merge_shards(tmp_path, toy_source, simulator, 2)


ARRAY_FIELDS = ("indices", "labels", "space_groups", "names", "peak_offsets", "peak_two_theta", "peak_intensity")


def _assert_same_arrays(actual: PeakListSet, expected: PeakListSet) -> None:
    for field in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(actual, field), getattr(expected, field), err_msg=field)


def _build_in_child(root, source, result_path) -> None:
    dataset = build_or_load(root, source, XRDSimulator(), num_workers=1, progress=False)
    result_path.write_text(json.dumps({"created": dataset.manifest["created"],
                                       "arrays_sha256": dataset.manifest["arrays_sha256"], "n": len(dataset)}))


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs the fork start method")
def test_concurrent_builds_of_one_dataset_build_it_once(tmp_path, LatticeSource):
    calls = tmp_path / "calls.txt"
    # slow items keep the first build running while the second process arrives
    source = LatticeSource(n=28, delay_s=0.03, calls_file=str(calls))
    root = tmp_path / "data"
    ctx = mp.get_context("fork")
    children = [ctx.Process(target=_build_in_child, args=(root, source, tmp_path / f"result-{k}.json")) for k in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0]
    folder = dataset_folder(root, source, XRDSimulator())
    assert sorted(p.name for p in root.iterdir() if p.suffix != ".lock") == [folder.name]
    assert len(calls.read_text().split()) == source.n, "the dataset was built more than once"
    results = [json.loads((tmp_path / f"result-{k}.json").read_text()) for k in range(2)]
    assert results[0] == results[1]
    clean = build_or_load(tmp_path / "clean", LatticeSource(n=28), XRDSimulator(), num_workers=1, progress=False)
    _assert_same_arrays(PeakListSet.load(folder), clean)


def test_interrupted_build_resumes_to_the_same_arrays(tmp_path, LatticeSource):
    simulator = XRDSimulator()
    build = dict(num_workers=1, progress=False, chunk_size=8)
    clean = build_or_load(tmp_path / "clean", LatticeSource(n=40, broken=(7,)), simulator, **build)
    with pytest.raises(KeyboardInterrupt):
        build_or_load(tmp_path / "resumed", LatticeSource(n=40, broken=(7,), raise_at=(21,)), simulator, **build)
    folder = dataset_folder(tmp_path / "resumed", LatticeSource(n=40, broken=(7,)), simulator)
    partial = folder.parent / f".{folder.name}.partial"
    assert not folder.exists()
    assert sorted(p.name for p in partial.glob("chunk-*.npz")) == ["chunk-00000.npz", "chunk-00001.npz"]

    calls = tmp_path / "calls.txt"
    resumed = build_or_load(tmp_path / "resumed", LatticeSource(n=40, broken=(7,), calls_file=str(calls)), simulator, **build)
    assert [int(i) for i in calls.read_text().split()] == list(range(16, 40)), "finished chunks were simulated again"
    _assert_same_arrays(resumed, clean)
    for key in ("cache_key", "counts_per_class", "skipped", "n_items", "n_skipped", "n_relabelled", "indices"):
        assert resumed.manifest[key] == clean.manifest[key], key
    assert resumed.manifest["resumed_chunks"] == 2
    assert not partial.exists()


def test_partial_chunks_of_another_config_are_not_reused(tmp_path, LatticeSource):
    simulator = XRDSimulator()
    with pytest.raises(KeyboardInterrupt):
        build_or_load(tmp_path, LatticeSource(n=24, raise_at=(20,)), simulator, num_workers=1, progress=False, chunk_size=8)
    calls = tmp_path / "calls.txt"
    # another chunk size splits the items differently: start afresh
    build_or_load(tmp_path, LatticeSource(n=24, calls_file=str(calls)), simulator, num_workers=1, progress=False, chunk_size=6)
    assert [int(i) for i in calls.read_text().split()] == list(range(24))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _drop_checksum_and_truncate_arrays(folder):
    # a folder written before manifests recorded the checksum
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    del manifest["arrays_sha256"]
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    _truncate(folder / ARRAYS_FILE)


@pytest.mark.parametrize("damage, problem", [
    (lambda folder: _truncate(folder / ARRAYS_FILE), "arrays.npz does not match the sha256 in manifest.json"),
    (lambda folder: _flip_last_byte(folder / ARRAYS_FILE), "arrays.npz does not match the sha256 in manifest.json"),
    (_drop_checksum_and_truncate_arrays, "arrays.npz is unreadable"),
    (lambda folder: _truncate(folder / MANIFEST_FILE), "manifest.json is unreadable"),
], ids=["truncated arrays", "modified arrays", "truncated arrays without checksum", "truncated manifest"])
def test_damaged_cache_is_rebuilt_after_one_warning(tmp_path, toy_source, caplog, damage, problem):
    simulator = XRDSimulator()
    first = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    folder = dataset_folder(tmp_path, toy_source, simulator)
    assert first.manifest["arrays_sha256"] == file_sha256(folder / ARRAYS_FILE)
    damage(folder)
    with caplog.at_level(logging.WARNING, logger="xrdnet.data.dataset"):
        rebuilt = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0], warnings
    assert str(folder) in warnings[0] and problem in warnings[0] and "rebuilding" in warnings[0]
    _assert_same_arrays(rebuilt, first)
    assert PeakListSet.load(folder).manifest["arrays_sha256"] == file_sha256(folder / ARRAYS_FILE)


@pytest.mark.parametrize("num_workers", [1, 2])
def test_a_bug_in_a_source_stops_the_build(tmp_path, LatticeSource, num_workers):
    source = LatticeSource(n=20, raise_at=(11,), error=TypeError)
    with pytest.raises(TypeError, match=r"toy\[11\]: raised on purpose"):
        build_or_load(tmp_path, source, XRDSimulator(), num_workers=num_workers, progress=False)
    assert not dataset_folder(tmp_path, source, XRDSimulator()).exists()


def test_too_many_skipped_items_stop_the_build_with_the_top_reasons(tmp_path, LatticeSource):
    source = LatticeSource(n=50, broken=(1, 3, 5, 18, 30))  # 10 %
    message = (r"toy_lattices: 5 of 50 items skipped \(10\.0%\), more than max_skip_fraction=0\.05; "
               r"top reasons: 5× StructureError: toy\[#\]: deliberately broken item$")
    with pytest.raises(DatasetError, match=message):
        build_or_load(tmp_path, source, XRDSimulator(), num_workers=1, progress=False)
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".lock"] == []
    # a build that is bound to exceed the limit stops at the first chunk that shows it
    calls = tmp_path / "calls.txt"
    with pytest.raises(DatasetError, match=r"at least 3 of 50 items skipped"):
        build_or_load(tmp_path, LatticeSource(n=50, broken=(1, 3, 5, 18, 30), calls_file=str(calls)), XRDSimulator(),
                      num_workers=1, progress=False, chunk_size=10)
    assert len(calls.read_text().split()) == 10
    # the limit is a setting
    allowed = build_or_load(tmp_path, source, XRDSimulator(), num_workers=1, progress=False, max_skip_fraction=0.1)
    assert allowed.manifest["n_skipped"] == 5


def test_a_few_skipped_items_pass(tmp_path, LatticeSource):
    dataset = build_or_load(tmp_path, LatticeSource(n=50, broken=(17,)), XRDSimulator(), num_workers=1, progress=False)
    assert dataset.manifest["n_skipped"] == 1 and len(dataset) == 49


# sha256 of the 'fast' engine's rounded peak lists of _fingerprint_structures(), per FORMAT_VERSION
ENGINE_FINGERPRINTS = {
    1: "af4cec7819774935a8bf538437a19e78c9be735a6106742981d94cabf98c6199",
}


def _fingerprint_structures(LatticeSource):
    from pymatgen.core import Lattice, Structure

    toys = LatticeSource()
    return {
        "Si": Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]]),
        "NaCl": Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "toy hexagonal": toys.get(5).structure,
        "toy monoclinic": toys.get(1).structure,
    }


def test_engine_output_is_pinned_to_the_format_version(LatticeSource):
    simulator = XRDSimulator(engine="fast")
    digest = hashlib.sha256()
    for name, structure in _fingerprint_structures(LatticeSource).items():
        peaks = simulator.simulate(structure)
        digest.update(name.encode())
        digest.update(np.round(peaks.two_theta, 3).astype(np.float64).tobytes())
        digest.update(np.round(peaks.intensity, 2).astype(np.float64).tobytes())
    fingerprint = digest.hexdigest()
    assert ENGINE_FINGERPRINTS.get(FORMAT_VERSION) == fingerprint, (
        f"the 'fast' engine's peak lists changed (fingerprint {fingerprint}); cached datasets would silently mix "
        f"old and new data: bump FORMAT_VERSION in xrdnet/data/dataset.py and record the fingerprint for the new "
        f"version in ENGINE_FINGERPRINTS here"
    )


def test_folder_from_before_checksums_is_still_reused(tmp_path, toy_source, monkeypatch):
    simulator = XRDSimulator()
    build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    manifest_path = dataset_folder(tmp_path, toy_source, simulator) / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    del manifest["arrays_sha256"]
    manifest_path.write_text(json.dumps(manifest))
    import xrdnet.data.dataset as dataset_module

    monkeypatch.setattr(dataset_module, "_build", lambda *args: pytest.fail("rebuilt an intact dataset"))
    assert len(build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)) == toy_source.n


def test_versions_of_the_packages_that_shape_the_data_are_in_the_cache_key(tmp_path, toy_source, monkeypatch):
    from importlib import metadata

    from xrdnet.data import dataset as dataset_module

    simulator = XRDSimulator()
    key = dataset_module.cache_key(toy_source, simulator)
    assert key["packages"] == {package: metadata.version(package) for package in ("pymatgen", "pyxtal", "spglib", "numpy")}
    built = build_or_load(tmp_path, toy_source, simulator, num_workers=1, progress=False)
    assert built.manifest["cache_key"]["packages"] == key["packages"]
    folder = dataset_folder(tmp_path, toy_source, simulator)
    # the same settings under another spglib: another folder, so data built by the old one is not reused
    installed = dataset_module._package_versions
    monkeypatch.setattr(dataset_module, "_package_versions",
                        lambda packages=dataset_module._VERSIONED_PACKAGES: {**installed(packages), "spglib": "0.0.1"})
    assert dataset_folder(tmp_path, toy_source, simulator) != folder
