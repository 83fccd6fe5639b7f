"""Build, cache and load datasets of simulated peak lists.

A dataset is one folder under the data root, named `<source kind>-<hash of its config>`:

    arrays.npz     labels, space groups, item names and the ragged peak lists
                   (peak_offsets[i]:peak_offsets[i+1] slices peak_two_theta / peak_intensity)
    manifest.json  generating config, cache key, package versions, seed, counts per class,
                   skipped items with reasons, build time, sha256 of arrays.npz

Peak lists (2θ in degrees, intensity scaled to max 100) are stored rather than rendered profiles so
that augmentation can re-render them differently every epoch. The folder is built under a temporary
name and renamed into place, so a half-built dataset is never mistaken for a cache hit. Builds hold
a file lock (`<folder>.lock`): concurrent builders of one dataset (sweep jobs, DDP ranks) wait for
the first and reuse its folder. Finished chunks of items go to `.<folder>.partial/` as they complete,
so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing as mp
import os
import platform
import re
import shutil
import time
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from tqdm.auto import tqdm

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.structures.base import GenerationError, StructureError, StructureSource
from xrdnet.utils.atomic import atomic_path, write_json_atomic
from xrdnet.utils.errors import first_line
from xrdnet.utils.threads import single_threaded_worker
from xrdnet.utils.time_limit import TimeLimitExceeded
from xrdnet.xrd.kinematic import UnsupportedStructureError
from xrdnet.xrd.peaks import NoPeaksError, XRDSimulator

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
ARRAYS_FILE = "arrays.npz"
MANIFEST_FILE = "manifest.json"
_VERSIONED_PACKAGES = ("xrdnet", "pymatgen", "pyxtal", "numpy", "spglib")
# packages whose versions shape the data (structure generation, symmetry labels, random streams,
# simulation): part of the cache key, so an upgrade builds anew instead of reusing other-version data
DATA_PACKAGES = ("pymatgen", "pyxtal", "spglib", "numpy")
DEFAULT_CHUNK_SIZE = 2000
DEFAULT_MAX_SKIP_FRACTION = 0.05

# What a bad item raises (unreadable or unphysical structure, no peaks in range, generator gave up):
# such items are skipped and reported. Anything else is a bug and stops the build with its traceback.
ITEM_ERRORS = (StructureError, GenerationError, NoPeaksError, UnsupportedStructureError, TimeLimitExceeded)


class DatasetError(RuntimeError):
    """A dataset cannot be built or loaded; the message names the source or folder and the problem, on one line."""


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
        """Load a dataset folder; DatasetError for an unreadable manifest or arrays, or a checksum mismatch."""
        folder = Path(folder)
        manifest_path = folder / MANIFEST_FILE
        if not manifest_path.exists():
            raise FileNotFoundError(f"{folder}: not a dataset folder (no {MANIFEST_FILE})")
        try:
            manifest = json.loads(manifest_path.read_text())
            wavelength = float(manifest["simulation"]["wavelength_angstrom"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DatasetError(f"{folder}: {MANIFEST_FILE} is unreadable ({first_line(error, with_type=True)})") from None
        arrays_path = folder / ARRAYS_FILE
        expected = manifest.get("arrays_sha256")  # absent in folders built before checksums were recorded
        if expected is not None and arrays_path.exists() and file_sha256(arrays_path) != expected:
            raise DatasetError(f"{folder}: {ARRAYS_FILE} does not match the sha256 in {MANIFEST_FILE} "
                               f"(truncated or modified)")
        try:
            with np.load(arrays_path, allow_pickle=False) as arrays:
                return cls(
                    indices=arrays["indices"],
                    labels=arrays["labels"].astype(np.int64),
                    space_groups=arrays["space_groups"],
                    names=arrays["names"],
                    peak_offsets=arrays["peak_offsets"],
                    peak_two_theta=arrays["peak_two_theta"],
                    peak_intensity=arrays["peak_intensity"],
                    wavelength_angstrom=wavelength,
                    manifest=manifest,
                )
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
            raise DatasetError(f"{folder}: {ARRAYS_FILE} is unreadable ({first_line(error, with_type=True)})") from None


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(source: StructureSource, simulator: XRDSimulator) -> dict:
    """Everything that determines the dataset's content; its hash names the cache folder.

    FORMAT_VERSION stands for this project's generation and simulation code (a test pins the engine's
    output to it); the versions of DATA_PACKAGES for the libraries that shape the data.
    """
    return {
        "format_version": FORMAT_VERSION,
        "source": source.describe(),
        "simulation": simulation_config(simulator),
        "packages": _package_versions(DATA_PACKAGES),
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
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_skip_fraction: float | None = DEFAULT_MAX_SKIP_FRACTION,
) -> PeakListSet:
    """Load the cached dataset for (source, simulator) from `root`, building it first when absent.

    A folder that does not match its config, or whose manifest or arrays are damaged, is rebuilt
    (one warning names it and the problem). Processes building the same dataset at once take turns
    on its lock: one builds, the others then load its folder.
    """
    folder = dataset_folder(root, source, simulator)
    key = json.loads(json.dumps(cache_key(source, simulator)))
    if not rebuild:
        # without the lock: a finished folder is never modified in place, only replaced by a rename
        dataset = _cached(folder, key, report=False)
        if dataset is not None:
            log.info("Reusing dataset %s (%d items)", folder, len(dataset))
            return dataset
    with build_lock(folder):
        if not rebuild:
            dataset = _cached(folder, key, report=True)
            if dataset is not None:  # another process built it while this one waited
                log.info("Reusing dataset %s (%d items)", folder, len(dataset))
                return dataset
        _build(folder, source, simulator, num_workers, progress, None, chunk_size, max_skip_fraction)
    return PeakListSet.load(folder)


@contextlib.contextmanager
def build_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the lock of every build of `folder` (the file `<folder>.lock` beside it), waiting for it if need be."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder.parent / f"{folder.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("Dataset %s is being built by another process; waiting for it", folder)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _cached(folder: Path, key: dict, report: bool) -> PeakListSet | None:
    """The dataset in `folder` if it is intact and matches `key`; else None (with one warning if `report`)."""
    if not (folder / MANIFEST_FILE).exists():
        return None
    try:
        dataset = PeakListSet.load(folder)
    except (DatasetError, FileNotFoundError) as error:
        problem = str(error)
    else:
        if dataset.manifest.get("cache_key") == key:
            return dataset
        problem = f"{folder}: does not match its config"
    if report:
        log.warning("Dataset %s; rebuilding", problem)
    return None


def build_dataset(
    folder: str | os.PathLike,
    source: StructureSource,
    simulator: XRDSimulator,
    num_workers: int | None = None,
    progress: bool = True,
    indices: Sequence[int] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_skip_fraction: float | None = DEFAULT_MAX_SKIP_FRACTION,
) -> dict:
    """Simulate every item of `source` (or `indices` of it) and write the dataset folder atomically.

    Items that fail with a data error (ITEM_ERRORS: unreadable structure, no peaks in range, ...) are
    skipped and listed with their reason in the manifest; any other error stops the build. More than
    `max_skip_fraction` of the items skipped (None: no limit) stops it with the commonest reasons.
    Every `chunk_size` items are written to `.<folder>.partial/` as they finish; a build that was
    interrupted resumes from them, with the same result. Returns the manifest.
    """
    folder = Path(folder)
    with build_lock(folder):
        return _build(folder, source, simulator, num_workers, progress, indices, chunk_size, max_skip_fraction)


def _build(folder: Path, source, simulator, num_workers, progress, indices, chunk_size, max_skip_fraction) -> dict:
    # the caller holds build_lock(folder)
    indices = list(range(len(source))) if indices is None else [int(i) for i in indices]
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    started = time.time()
    partial = _PartialBuild(folder, cache_key(source, simulator), indices, chunk_size)
    chunks = [indices[start:start + chunk_size] for start in range(0, len(indices), chunk_size)]
    done = partial.finished_chunks(len(chunks))
    if done:
        log.info("%s: resuming the build from %d of %d finished chunks in %s", folder, len(done), len(chunks), partial.folder)
    todo = [k for k in range(len(chunks)) if k not in done]
    pending = [index for k in todo for index in chunks[k]]
    outcomes = _simulate_all(source, simulator, pending, num_workers, progress)
    try:
        for k in todo:
            chunk = [next(outcomes) for _ in chunks[k]]
            done[k] = ([o for o in chunk if o["ok"]], [o for o in chunk if not o["ok"]])
            partial.write_chunk(k, *done[k])
            if len(done) < len(chunks):
                # already certain to exceed the limit: stop now rather than after the whole build
                _check_skips(source, [s for _, part in done.values() for s in part], len(indices), max_skip_fraction,
                             partial, final=False)
    finally:
        outcomes.close()  # stops the worker pool
    records = [r for k in range(len(chunks)) for r in done[k][0]]
    skipped = [s for k in range(len(chunks)) for s in done[k][1]]
    if not records:
        reasons = "; ".join(s["reason"] for s in skipped[:3])
        partial.remove()
        raise DatasetError(f"{source.kind}: no item could be simulated ({len(skipped)} skipped; e.g. {reasons})")
    _check_skips(source, skipped, len(indices), max_skip_fraction, partial, final=True)
    relabelled = sum(1 for r in records if r["meta"].get("relabelled"))
    manifest = _manifest(source, simulator, [r["label"] for r in records], skipped, relabelled, len(indices),
                         time.time() - started)
    manifest["indices"] = [indices[0], indices[-1] + 1] if indices == list(range(indices[0], indices[-1] + 1)) else None
    if done and len(todo) < len(chunks):
        manifest["resumed_chunks"] = len(chunks) - len(todo)
    _write_folder(folder, records, manifest)
    partial.remove()
    if skipped:
        log.warning("%s: skipped %d of %d items (reasons in %s)", source.kind, len(skipped), len(indices), folder / MANIFEST_FILE)
    return manifest


def _check_skips(source, skipped: list[dict], n_requested: int, max_skip_fraction: float | None, partial, final: bool) -> None:
    """DatasetError naming the commonest reasons when more than max_skip_fraction of the items were skipped."""
    if max_skip_fraction is None or len(skipped) <= max_skip_fraction * n_requested:
        return
    partial.remove()
    kinds = Counter(_reason_kind(s) for s in skipped)
    top = "; ".join(f"{count}× {reason}" for reason, count in kinds.most_common(3))
    count = f"{len(skipped)}" if final else f"at least {len(skipped)}"
    raise DatasetError(
        f"{source.kind}: {count} of {n_requested} items skipped ({len(skipped) / n_requested:.1%}), more than "
        f"max_skip_fraction={max_skip_fraction:g}; top reasons: {top}"
    )


def _reason_kind(skip: dict) -> str:
    """A skip reason with the item's name and numbers blanked, so that reasons of one kind count together."""
    reason = skip["reason"].replace(str(skip["name"]), "<item>")
    return re.sub(r"\d+(\.\d+)?", "#", reason)


class _PartialBuild:
    """`.<folder>.partial/`: the finished chunks of an unfinished build, with the key they belong to.

    chunk-<k>.npz holds the peak lists of chunk k's simulated items (as in arrays.npz) plus its
    skipped items and relabelled flags; a chunk that cannot be read is simulated again.
    """

    def __init__(self, folder: Path, key: dict, indices: list[int], chunk_size: int):
        self.folder = folder.parent / f".{folder.name}.partial"
        self.key = json.loads(json.dumps({
            "cache_key": key, "chunk_size": chunk_size, "n_indices": len(indices),
            "indices_sha256": hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest(),
        }))
        key_path = self.folder / "build.json"
        try:
            matches = json.loads(key_path.read_text()) == self.key
        except (OSError, ValueError):
            matches = False
        if not matches:
            self.remove()
            self.folder.mkdir(parents=True)
            write_json_atomic(key_path, self.key)

    def _chunk_path(self, k: int) -> Path:
        return self.folder / f"chunk-{k:05d}.npz"

    def finished_chunks(self, n_chunks: int) -> dict[int, tuple[list[dict], list[dict]]]:
        done = {}
        for k in range(n_chunks):
            path = self._chunk_path(k)
            if not path.exists():
                continue
            try:
                done[k] = self._read_chunk(path)
            except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
                log.warning("%s: unreadable (%s); simulating its items again", path, first_line(error, with_type=True))
        return done

    def write_chunk(self, k: int, records: list[dict], skipped: list[dict]) -> None:
        skips = [{"index": s["index"], "name": s["name"], "reason": s["reason"]} for s in skipped]
        write_arrays(self._chunk_path(k), records,
                     relabelled=np.array([bool(r["meta"].get("relabelled")) for r in records], dtype=bool),
                     skipped=np.array(json.dumps(skips)))

    @staticmethod
    def _read_chunk(path: Path) -> tuple[list[dict], list[dict]]:
        with np.load(path, allow_pickle=False) as arrays:
            offsets, two_theta, intensity = arrays["peak_offsets"], arrays["peak_two_theta"], arrays["peak_intensity"]
            records = [
                {"ok": True, "index": int(index), "name": str(name), "label": int(label), "space_group": int(group),
                 "two_theta": two_theta[offsets[i]:offsets[i + 1]], "intensity": intensity[offsets[i]:offsets[i + 1]],
                 "meta": {"relabelled": bool(relabelled)}}
                for i, (index, name, label, group, relabelled) in enumerate(zip(
                    arrays["indices"], arrays["names"], arrays["labels"], arrays["space_groups"], arrays["relabelled"]))
            ]
            skipped = [{"ok": False, **s} for s in json.loads(str(arrays["skipped"]))]
        return records, skipped

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


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
    single_threaded_worker()
    _WORKER_STATE["source"], _WORKER_STATE["simulator"] = source, simulator


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
    except ITEM_ERRORS as error:  # a bad item is reported and the build carries on; other errors stop it
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


def _package_versions(packages: Sequence[str] = _VERSIONED_PACKAGES) -> dict[str, str]:
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _write_folder(folder: Path, records: list[dict], manifest: dict) -> None:
    """Write the dataset to a staging folder, then swap it in by renames; the caller holds build_lock(folder)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.building-{os.getpid()}"
    retired = folder.parent / f".{folder.name}.old-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_arrays(staging / ARRAYS_FILE, records)
        write_json_atomic(staging / MANIFEST_FILE, {**manifest, "arrays_sha256": file_sha256(staging / ARRAYS_FILE)})
        if folder.exists():
            # renamed away rather than deleted in place, so no reader sees a half-deleted folder
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(folder, retired)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def write_arrays(path: Path, records: list[dict], **extra: np.ndarray) -> None:
    """The ragged peak-list arrays of `records` (plus `extra` arrays) as one .npz, written atomically."""
    lengths = np.array([len(r["two_theta"]) for r in records], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    empty = [np.zeros(0, dtype=np.float32)]
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            indices=np.array([r["index"] for r in records], dtype=np.int64),
            labels=np.array([r["label"] for r in records], dtype=np.int8),
            space_groups=np.array([r["space_group"] for r in records], dtype=np.int16),
            names=np.array([r["name"] for r in records], dtype=str),
            peak_offsets=offsets,
            peak_two_theta=np.concatenate([r["two_theta"] for r in records] + empty).astype(np.float32),
            peak_intensity=np.concatenate([r["intensity"] for r in records] + empty).astype(np.float32),
            **extra,
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
                num_workers: int | None = None, progress: bool = True, chunk_size: int = DEFAULT_CHUNK_SIZE,
                max_skip_fraction: float | None = DEFAULT_MAX_SKIP_FRACTION) -> Path:
    """Build one shard of a dataset (e.g. one per node); merge_shards joins them afterwards."""
    folder = shard_folder(root, source, simulator, shard, num_shards)
    build_dataset(folder, source, simulator, num_workers=num_workers, progress=progress,
                  indices=shard_range(len(source), shard, num_shards), chunk_size=chunk_size,
                  max_skip_fraction=max_skip_fraction)
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
    with build_lock(folder):
        _write_folder(folder, records, manifest)
    shutil.rmtree(folder.parent / f"{folder.name}.shards", ignore_errors=True)
    return PeakListSet.load(folder)
