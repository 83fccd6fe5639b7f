"""Powder-indexing features of every item of a peak-list set, computed once from clean renders and cached.

The features (`xrdnet.xrd.indexing`: lattice-family figures of merit of the picked line positions)
cost milliseconds per pattern, too much to recompute for every augmented training sample, so each
item gets them once from its clean render, and optionally from a few augmented renders (noise,
background, broadening, Kα2: what a measurement does to the picked lines), in parallel with a
progress bar, saved beside the dataset as `indexing_features-<key>.npy`. The key hashes the indexing
code, the 2θ grid, the peak profile and the augmentation, so a change to any of them computes them anew.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from xrdnet.data.augment import PeakAugmenter
from xrdnet.data.dataset import PeakListSet, build_lock
from xrdnet.utils.atomic import atomic_path
from xrdnet.xrd import indexing
from xrdnet.xrd.indexing import N_FEATURES, indexing_features
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

log = logging.getLogger(__name__)

FEATURE_KINDS = ("indexing",)


def feature_key(grid: TwoThetaGrid, settings: ProfileSettings, augmenter: PeakAugmenter | None = None,
                copies: int = 0, seed: int = 0) -> str:
    """Hash of what determines the features: the indexing code, the grid, the clean peak profile, the augmentation."""
    code = hashlib.sha1(inspect.getsource(indexing).encode()).hexdigest()
    description = {"code": code, "grid": grid.to_dict(), "profile": settings.to_dict()}
    if copies:
        description.update(augmenter=repr(augmenter), copies=copies, seed=seed)
    return hashlib.sha1(json.dumps(description, sort_keys=True).encode()).hexdigest()[:12]


def profile_features(profiles: np.ndarray, grid: TwoThetaGrid, wavelength_angstrom: float) -> np.ndarray:
    """(n, N_FEATURES) float32 indexing features of (n, grid points) profiles on `grid`."""
    points = grid.points
    rows = [indexing_features(profile, points, wavelength_angstrom) for profile in np.atleast_2d(profiles)]
    return np.asarray(rows, dtype=np.float32).reshape(-1, N_FEATURES)


def cached_features(peaks: PeakListSet, folder: str | os.PathLike, grid: TwoThetaGrid, settings: ProfileSettings,
                    num_workers: int | None = None, augmenter: PeakAugmenter | None = None, copies: int = 0,
                    seed: int = 0) -> np.ndarray:
    """(1 + copies, len(peaks), N_FEATURES) float32 features, from `folder` or computed there.

    Copy 0 is every item's clean render; copy c ≥ 1 an augmented render of it (`augmenter`, random
    generator seeded by (seed, c, item), so the table is the same on every machine and run). The clean
    and the augmented copies are cached in files of their own, so the clean ones serve either way.
    """
    if copies and augmenter is None:
        raise ValueError("augmented feature copies need an augmenter")
    files = feature_files(folder, grid, settings, augmenter, copies, seed)
    clean = _cached(files[0], (1, len(peaks), N_FEATURES), lambda: _compute(peaks, grid, settings, num_workers)[None])
    if not copies:
        return clean
    augmented = _cached(files[1], (copies, len(peaks), N_FEATURES),
                        lambda: np.stack([_compute(peaks, grid, settings, num_workers, augmenter, copy, seed)
                                          for copy in range(1, copies + 1)]))
    return np.concatenate([clean, augmented])


def feature_files(folder: str | os.PathLike, grid: TwoThetaGrid, settings: ProfileSettings,
                  augmenter: PeakAugmenter | None = None, copies: int = 0, seed: int = 0) -> list[Path]:
    """The files cached_features keeps the clean copy in, then (with copies) the augmented ones."""
    files = [Path(folder) / f"indexing_features-{feature_key(grid, settings)}.npy"]
    if copies:
        files.append(Path(folder) / f"indexing_features-{feature_key(grid, settings, augmenter, copies, seed)}.npy")
    return files


def _cached(path: Path, shape: tuple[int, ...], compute) -> np.ndarray:
    """The array in `path` if it has this shape, else computed and written there atomically.

    Computed under the file lock `<path>.lock`: jobs that need the same features at once (sweep jobs,
    the ranks of several nodes sharing data/) compute them once; the others wait and read the file.
    """
    features = _read(path, shape, report=True)
    if features is not None:
        return features
    with build_lock(path):
        features = _read(path, shape, report=False)
        if features is None:
            features = compute().astype(np.float32)
            with atomic_path(path, suffix=".npy") as tmp:
                np.save(tmp, features)
    return features


def _read(path: Path, shape: tuple[int, ...], report: bool) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        features = np.load(path, allow_pickle=False)
        if features.shape == shape:
            return features
        problem = f"shape {features.shape} is not {shape}"
    except (OSError, ValueError) as error:
        problem = f"unreadable ({str(error).splitlines()[0]})"
    if report:
        log.warning("%s: %s; computing again", path, problem)
    return None


_WORKER: dict = {}


def _compute(peaks: PeakListSet, grid: TwoThetaGrid, settings: ProfileSettings, num_workers: int | None,
             augmenter: PeakAugmenter | None = None, copy: int = 0, seed: int = 0) -> np.ndarray:
    if num_workers is None:
        num_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    out = np.zeros((len(peaks), N_FEATURES), dtype=np.float32)
    chunks = np.array_split(np.arange(len(peaks)), max(1, len(peaks) // 64))
    what = f"indexing features (augmented copy {copy})" if augmenter is not None else "indexing features"
    state = (peaks, grid, settings, augmenter, copy, seed)
    with tqdm(total=len(peaks), desc=what, unit="pattern", dynamic_ncols=True) as bar:
        if num_workers <= 1 or len(peaks) < 256:
            _init_worker(*state)
            for chunk in chunks:
                out[chunk] = _features_of_chunk(chunk)
                bar.update(len(chunk))
            return out
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(num_workers, initializer=_init_worker, initargs=state) as pool:
            for chunk, rows in zip(chunks, pool.imap(_features_of_chunk, chunks)):
                out[chunk] = rows
                bar.update(len(chunk))
    return out


def _init_worker(peaks: PeakListSet, grid: TwoThetaGrid, settings: ProfileSettings, augmenter: PeakAugmenter | None,
                 copy: int, seed: int) -> None:
    _WORKER.update(peaks=peaks, grid=grid, settings=settings, augmenter=augmenter, copy=copy, seed=seed)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _features_of_chunk(items: np.ndarray) -> np.ndarray:
    peaks, grid, settings, augmenter = _WORKER["peaks"], _WORKER["grid"], _WORKER["settings"], _WORKER["augmenter"]
    wavelength = peaks.wavelength_angstrom
    if augmenter is None:
        profiles = [render_profile(*peaks.peaks(int(i)), grid, settings, wavelength) for i in items]
    else:
        profiles = [augmenter(*peaks.peaks(int(i)), wavelength, np.random.default_rng([_WORKER["seed"], _WORKER["copy"], int(i)]))
                    for i in items]
    return profile_features(np.array(profiles), grid, wavelength)
