"""Build, cache and load datasets of simulated peak lists.

A dataset is one folder under the data root, named `<source kind>-<hash of its config>`:

    arrays.npz     labels, space groups, item names and the ragged peak lists
                   (peak_offsets[i]:peak_offsets[i+1] slices peak_two_theta / peak_intensity)
    manifest.json  generating config, cache key, package versions, seed, counts per class,
                   skipped items with reasons, build time

Peak lists (2θ in degrees, intensity scaled to max 100) are stored rather than rendered profiles so
that augmentation can re-render them differently every epoch. The folder is built under a temporary
name and renamed into place, so a half-built dataset is never mistaken for a cache hit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import platform
import shutil
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.structures.base import StructureSource
from xrdnet.utils.atomic import atomic_path, write_json_atomic
from xrdnet.utils.errors import first_line
from xrdnet.xrd.peaks import XRDSimulator

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
ARRAYS_FILE = "arrays.npz"
MANIFEST_FILE = "manifest.json"
_VERSIONED_PACKAGES = ("xrdnet", "pymatgen", "pyxtal", "numpy", "spglib")


@dataclass
class PeakListSet:
    """Peak lists of a built dataset, in memory, as ragged arrays (RenderedPeaks makes the torch Dataset).

    indices: (n,) item index in the source; labels: (n,) class indices into CRYSTAL_SYSTEMS;
    space_groups: (n,); names: (n,) item names.
    """

    indices: np.ndarray
    labels: np.ndarray
    space_groups: np.ndarray
    names: np.ndarray
    peak_offsets: np.ndarray
    peak_two_theta: np.ndarray
    peak_intensity: np.ndarray
    wavelength_angstrom: float
    manifest: dict

    def __len__(self) -> int:
        return len(self.labels)

    def peaks(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(2θ in degrees, intensity 0-100) of item `index`."""
        start, stop = self.peak_offsets[index], self.peak_offsets[index + 1]
        return self.peak_two_theta[start:stop], self.peak_intensity[start:stop]

    @classmethod
    def load(cls, folder: str | os.PathLike) -> PeakListSet:
        folder = Path(folder)
        manifest_path = folder / MANIFEST_FILE
        if not manifest_path.exists():
            raise FileNotFoundError(f"{folder}: not a dataset folder (no {MANIFEST_FILE})")
        manifest = json.loads(manifest_path.read_text())
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as arrays:
            return cls(
                indices=arrays["indices"],
                labels=arrays["labels"].astype(np.int64),
                space_groups=arrays["space_groups"],
                names=arrays["names"],
                peak_offsets=arrays["peak_offsets"],
                peak_two_theta=arrays["peak_two_theta"],
                peak_intensity=arrays["peak_intensity"],
                wavelength_angstrom=float(manifest["simulation"]["wavelength_angstrom"]),
                manifest=manifest,
            )


def cache_key(source: StructureSource, simulator: XRDSimulator) -> dict:
    """Everything that determines the dataset's content; its hash names the cache folder."""
    return {
        "format_version": FORMAT_VERSION,
        "source": source.describe(),
        "simulation": simulation_config(simulator),
    }


def simulation_config(simulator: XRDSimulator) -> dict:
    return {
        "wavelength_angstrom": simulator.wavelength_angstrom,
        "two_theta_range": list(simulator.two_theta_range),
        "engine": simulator.engine,
        "debye_waller_factors": simulator.debye_waller_factors,
    }


def dataset_folder(root: str | os.PathLike, source: StructureSource, simulator: XRDSimulator) -> Path:
    key = cache_key(source, simulator)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return Path(root) / f"{source.kind}-{digest}"


def build_or_load(
    root: str | os.PathLike,
    source: StructureSource,
    simulator: XRDSimulator,
    num_workers: int | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> PeakListSet:
    """Load the cached dataset for (source, simulator) from `root`, building it first when absent."""
    folder = dataset_folder(root, source, simulator)
    if not rebuild and (folder / MANIFEST_FILE).exists():
        dataset = PeakListSet.load(folder)
        if dataset.manifest.get("cache_key") == json.loads(json.dumps(cache_key(source, simulator))):
            log.info("Reusing dataset %s (%d items)", folder, len(dataset))
            return dataset
        log.warning("Dataset %s does not match its config; rebuilding", folder)
    build_dataset(folder, source, simulator, num_workers=num_workers, progress=progress)
    return PeakListSet.load(folder)


def build_dataset(
    folder: str | os.PathLike,
    source: StructureSource,
    simulator: XRDSimulator,
    num_workers: int | None = None,
    progress: bool = True,
    indices: Sequence[int] | None = None,
) -> dict:
    """Simulate every item of `source` (or `indices` of it) and write the dataset folder atomically.

    Items that fail (unreadable structure, no peaks in range, ...) are skipped and listed with their
    reason in the manifest; the rest of the batch is kept. Returns the manifest.
    """
    folder = Path(folder)
    indices = list(range(len(source))) if indices is None else list(indices)
    started = time.time()
    records, skipped = [], []
    for outcome in _simulate_all(source, simulator, indices, num_workers, progress):
        (records if outcome["ok"] else skipped).append(outcome)
    if not records:
        reasons = "; ".join(s["reason"] for s in skipped[:3])
        raise RuntimeError(f"{source.kind}: no item could be simulated ({len(skipped)} skipped; e.g. {reasons})")
    relabelled = sum(1 for r in records if r["meta"].get("relabelled"))
    manifest = _manifest(source, simulator, [r["label"] for r in records], skipped, relabelled, len(indices),
                         time.time() - started)
    manifest["indices"] = [indices[0], indices[-1] + 1] if indices == list(range(indices[0], indices[-1] + 1)) else None
    _write_folder(folder, records, manifest)
    if skipped:
        log.warning("%s: skipped %d of %d items (reasons in %s)", source.kind, len(skipped), len(indices), folder / MANIFEST_FILE)
    return manifest


def _simulate_all(source, simulator, indices, num_workers, progress) -> Iterable[dict]:
    num_workers = _default_workers() if num_workers is None else num_workers
    bar = tqdm(total=len(indices), desc=f"simulate {source.kind}", unit="structure", disable=not progress, dynamic_ncols=True)
    try:
        if num_workers <= 1 or len(indices) < 8:
            for index in indices:
                yield _simulate_item(source, simulator, index)
                bar.update()
            return
        chunk = max(1, min(32, len(indices) // (num_workers * 8)))
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(num_workers, initializer=_init_worker, initargs=(source, simulator)) as pool:
            for outcome in pool.imap(_simulate_in_worker, indices, chunksize=chunk):
                yield outcome
                bar.update()
    finally:
        bar.close()


_WORKER_STATE: dict[str, Any] = {}


def _init_worker(source, simulator) -> None:
    _WORKER_STATE["source"], _WORKER_STATE["simulator"] = source, simulator
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _simulate_in_worker(index: int) -> dict:
    return _simulate_item(_WORKER_STATE["source"], _WORKER_STATE["simulator"], index)


def _simulate_item(source: StructureSource, simulator: XRDSimulator, index: int) -> dict:
    # sources that can name an item without building it (a CIF's file name) make skip reports readable
    name = source.item_name(index) if hasattr(source, "item_name") else f"{source.kind}[{index}]"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            item = source.get(index)
            name = item.name
            peaks = simulator.simulate(item.structure)
    except Exception as error:  # a batch job reports a bad item and carries on
        return {"ok": False, "index": index, "name": name, "reason": first_line(error, with_type=True)}
    return {
        "ok": True,
        "index": index,
        "name": item.name,
        "label": item.label,
        "space_group": item.space_group,
        "two_theta": peaks.two_theta.astype(np.float32),
        "intensity": peaks.intensity.astype(np.float32),
        "meta": item.meta,
    }


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _manifest(source, simulator, labels, skipped, n_relabelled, n_requested, seconds) -> dict:
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(CRYSTAL_SYSTEMS))
    return {
        "cache_key": json.loads(json.dumps(cache_key(source, simulator))),
        "source": source.describe(),
        "simulation": simulation_config(simulator),
        "seed": source.describe().get("seed"),
        "n_requested": int(n_requested),
        "n_items": int(len(labels)),
        "n_skipped": len(skipped),
        "n_relabelled": int(n_relabelled),
        "counts_per_class": {name: int(count) for name, count in zip(CRYSTAL_SYSTEMS, counts)},
        "skipped": [{"index": s["index"], "name": s["name"], "reason": s["reason"]} for s in skipped],
        "versions": _package_versions(),
        "python": platform.python_version(),
        "build_seconds": round(seconds, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _package_versions() -> dict[str, str]:
    versions = {}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _write_folder(folder: Path, records: list[dict], manifest: dict) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_arrays(staging / ARRAYS_FILE, records)
        write_json_atomic(staging / MANIFEST_FILE, manifest)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_arrays(path: Path, records: list[dict]) -> None:
    lengths = np.array([len(r["two_theta"]) for r in records], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            indices=np.array([r["index"] for r in records], dtype=np.int64),
            labels=np.array([r["label"] for r in records], dtype=np.int8),
            space_groups=np.array([r["space_group"] for r in records], dtype=np.int16),
            names=np.array([r["name"] for r in records], dtype=str),
            peak_offsets=offsets,
            peak_two_theta=np.concatenate([r["two_theta"] for r in records]).astype(np.float32),
            peak_intensity=np.concatenate([r["intensity"] for r in records]).astype(np.float32),
        )


# ---- sharded builds: split the index range over processes or nodes, then merge ---------------------

def shard_range(n: int, shard: int, num_shards: int) -> range:
    """Contiguous block of item indices (and so of per-item seeds) that shard `shard` of `num_shards` builds."""
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard must be in 0..{num_shards - 1}, got {shard}")
    bounds = np.linspace(0, n, num_shards + 1).round().astype(int)
    return range(int(bounds[shard]), int(bounds[shard + 1]))


def shard_folder(root: str | os.PathLike, source: StructureSource, simulator: XRDSimulator, shard: int, num_shards: int) -> Path:
    folder = dataset_folder(root, source, simulator)
    return folder.parent / f"{folder.name}.shards" / f"{shard:03d}-of-{num_shards:03d}"


def build_shard(root, source: StructureSource, simulator: XRDSimulator, shard: int, num_shards: int,
                num_workers: int | None = None, progress: bool = True) -> Path:
    """Build one shard of a dataset (e.g. one per node); merge_shards joins them afterwards."""
    folder = shard_folder(root, source, simulator, shard, num_shards)
    build_dataset(folder, source, simulator, num_workers=num_workers, progress=progress,
                  indices=shard_range(len(source), shard, num_shards))
    return folder


def merge_shards(root, source: StructureSource, simulator: XRDSimulator, num_shards: int) -> PeakListSet:
    """Join all shards into the dataset folder; the result equals a single-process build.

    Items are ordered by their index in the source, and every item depends only on its own index,
    so the merged arrays are identical to what one process would have written.
    """
    shards = [shard_folder(root, source, simulator, k, num_shards) for k in range(num_shards)]
    missing = [str(f) for f in shards if not (f / MANIFEST_FILE).exists()]
    if missing:
        raise FileNotFoundError(f"cannot merge: {len(missing)} shard(s) not built yet, e.g. {missing[0]}")
    parts = [PeakListSet.load(f) for f in shards]
    records, skipped, relabelled, seconds = [], [], 0, 0.0
    for part in parts:
        relabelled += part.manifest["n_relabelled"]
        skipped += part.manifest["skipped"]
        seconds += part.manifest["build_seconds"]
        for i in range(len(part)):
            two_theta, intensity = part.peaks(i)
            records.append({"index": int(part.indices[i]), "label": int(part.labels[i]), "space_group": int(part.space_groups[i]),
                            "name": str(part.names[i]), "two_theta": two_theta, "intensity": intensity})
    records.sort(key=lambda r: r["index"])
    skipped.sort(key=lambda s: s["index"])
    manifest = _manifest(source, simulator, [r["label"] for r in records], skipped, relabelled, len(source), seconds)
    manifest["indices"] = [0, len(source)]
    manifest["merged_from_shards"] = num_shards
    folder = dataset_folder(root, source, simulator)
    _write_folder(folder, records, manifest)
    shutil.rmtree(folder.parent / f"{folder.name}.shards", ignore_errors=True)
    return PeakListSet.load(folder)
