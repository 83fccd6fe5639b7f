"""Powder-indexing features of every item of a peak-list set, computed once from clean renders and cached.

The features (`xrdnet.xrd.indexing`: lattice-family figures of merit of the picked line positions)
cost milliseconds per pattern, too much to recompute for every augmented training sample, so each
item gets them once from its clean render, in parallel with a progress bar, saved beside the
dataset as `indexing_features-<key>.npy`. The key hashes the indexing code, the 2θ grid and the peak
profile, so a change to any of them computes them anew.
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

from xrdnet.data.dataset import PeakListSet
from xrdnet.utils.atomic import atomic_path
from xrdnet.xrd import indexing
from xrdnet.xrd.indexing import N_FEATURES, indexing_features
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

log = logging.getLogger(__name__)

FEATURE_KINDS = ("indexing",)


def feature_key(grid: TwoThetaGrid, settings: ProfileSettings) -> str:
    """Hash of what determines the features: the indexing code, the grid and the clean peak profile."""
    code = hashlib.sha1(inspect.getsource(indexing).encode()).hexdigest()
    description = json.dumps({"code": code, "grid": grid.to_dict(), "profile": settings.to_dict()}, sort_keys=True)
    return hashlib.sha1(description.encode()).hexdigest()[:12]


def profile_features(profiles: np.ndarray, grid: TwoThetaGrid, wavelength_angstrom: float) -> np.ndarray:
    """(n, N_FEATURES) float32 indexing features of (n, grid points) profiles on `grid`."""
    points = grid.points
    rows = [indexing_features(profile, points, wavelength_angstrom) for profile in np.atleast_2d(profiles)]
    return np.asarray(rows, dtype=np.float32).reshape(-1, N_FEATURES)


def cached_features(peaks: PeakListSet, folder: str | os.PathLike, grid: TwoThetaGrid, settings: ProfileSettings,
                    num_workers: int | None = None) -> np.ndarray:
    """(len(peaks), N_FEATURES) float32 features of every item's clean render, from `folder` or computed there."""
    path = Path(folder) / f"indexing_features-{feature_key(grid, settings)}.npy"
    if path.is_file():
        try:
            features = np.load(path, allow_pickle=False)
            if features.shape == (len(peaks), N_FEATURES):
                return features
            log.warning("%s: shape %s does not match %d items; computing again", path, features.shape, len(peaks))
        except (OSError, ValueError) as error:
            log.warning("%s: unreadable (%s); computing again", path, str(error).splitlines()[0])
    features = _compute(peaks, grid, settings, num_workers)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, features)
    return features


_WORKER: dict = {}


def _compute(peaks: PeakListSet, grid: TwoThetaGrid, settings: ProfileSettings, num_workers: int | None) -> np.ndarray:
    if num_workers is None:
        num_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    out = np.zeros((len(peaks), N_FEATURES), dtype=np.float32)
    chunks = np.array_split(np.arange(len(peaks)), max(1, len(peaks) // 64))
    with tqdm(total=len(peaks), desc="indexing features", unit="pattern", dynamic_ncols=True) as bar:
        if num_workers <= 1 or len(peaks) < 256:
            _init_worker(peaks, grid, settings)
            for chunk in chunks:
                out[chunk] = _features_of_chunk(chunk)
                bar.update(len(chunk))
            return out
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(num_workers, initializer=_init_worker, initargs=(peaks, grid, settings)) as pool:
            for chunk, rows in zip(chunks, pool.imap(_features_of_chunk, chunks)):
                out[chunk] = rows
                bar.update(len(chunk))
    return out


def _init_worker(peaks: PeakListSet, grid: TwoThetaGrid, settings: ProfileSettings) -> None:
    _WORKER.update(peaks=peaks, grid=grid, settings=settings)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _features_of_chunk(items: np.ndarray) -> np.ndarray:
    peaks, grid, settings = _WORKER["peaks"], _WORKER["grid"], _WORKER["settings"]
    profiles = [render_profile(*peaks.peaks(int(i)), grid, settings, peaks.wavelength_angstrom) for i in items]
    return profile_features(np.array(profiles), grid, peaks.wavelength_angstrom)
