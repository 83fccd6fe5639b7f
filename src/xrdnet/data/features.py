"""Powder-indexing features of every item of a peak-list set, computed once from clean renders and cached.

The features (`xrdnet.xrd.indexing`: lattice-family figures of merit of the picked line positions)
cost milliseconds per pattern, too much to recompute for every augmented training sample, so each
item gets them once from its clean render, and optionally from a few augmented renders (noise,
background, broadening, Kα2: what a measurement does to the picked lines), in parallel with a
progress bar, saved beside the dataset as `<set>_features-<key>.npy`. The key hashes the feature set's
name and code, the 2θ grid, the peak profile and the augmentation, so a change to any of them computes them anew
(the code as a run first reads it: an edit mid-run waits for the next run).

Feature sets (data.features; a checkpoint records its set in data_info["features"]["kind"]):
    indexing     the 90 features of `xrdnet.xrd.indexing` (cubic ... primitive orthorhombic fits)
    indexing_v2  the same 90, then the monoclinic fit of `xrdnet.xrd.indexing_low`
    indexing_v3  the 90 of `indexing`, the orthorhombic fit's trial cells from `xrdnet.xrd.indexing_ortho`
    indexing_v4  indexing_v3 on all lines and on the strong lines, fits forgiving a few unindexed lines:
                 robust to an impurity phase (`xrdnet.xrd.indexing_impurity`)
    indexing_v5  indexing_v4 with a wider orthorhombic trial-cell search (`xrdnet.xrd.indexing_wide`)
    indexing_v6  indexing_v5, then a monoclinic fit on all and on the strong lines (`xrdnet.xrd.indexing_wide`)
    indexing_v7  indexing_v6 with wider orthorhombic and monoclinic trial-cell searches (`xrdnet.xrd.indexing_wide`)
    indexing_v8  indexing_v7 of the lines a nearly noiseless profile shows in its curvature too (blends and
                 shoulders resolved: `xrdnet.xrd.indexing.pick_peaks(curvature=True)`)
    indexing_v9  indexing_v8 with the orthorhombic and monoclinic fits refining 20 screened trial cells, not 6
    indexing_v10 indexing_v9 of a noisy scan's lines picked after noise-gated Savitzky-Golay smoothing
                 (`xrdnet.xrd.smoothing`); clean renders' features are indexing_v9's
    indexing_v11 indexing_v10 with the smoothing gated on the noise the curvature search sees, so a scan
                 averaged onto the grid from fine steps (10⁵ counts: not `is_noisy`) is smoothed too
    indexing_v12 indexing_v9 with the orthorhombic and monoclinic fits also trying trial assignments learned
                 from synthetic crystals' own picked lines (`xrdnet.xrd.learned_assignments`)
    indexing_v13 indexing_v12 with the assignments learned from three times as many crystals and from crystals
                 of up to 80 atoms (`xrdnet.xrd.learned_assignments.TABLES["v13"]`)
    indexing_v14 indexing_v12 with the assignments learned from longer-cell crystals too (axes up to 3x their
                 default spread: `xrdnet.xrd.learned_assignments.TABLES["v14"]`)
    indexing_v15 indexing_v14, then its orthorhombic and monoclinic cells' figures of merit counting only the
                 reflections a lattice centring allows (A, B, C, I, F; `xrdnet.xrd.indexing_centred`)
    indexing_v16 indexing_v14 with its monoclinic fit refining 100 screened trial cells, not 20
                 (`xrdnet.xrd.learned_assignments.MONOCLINIC_REFINED_V16`)
    indexing_v17 indexing_v16 with monoclinic trial cells from orthorhombic sub-metrics too, screened on their
                 own (`xrdnet.xrd.indexing_ortho_first`)
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
from tqdm.auto import tqdm

from xrdnet.data.augment import PeakAugmenter
from xrdnet.data.dataset import PeakListSet, build_lock
from xrdnet.utils.atomic import atomic_path
from xrdnet.utils.threads import single_threaded_worker
from xrdnet.xrd import (indexing, indexing_centred, indexing_impurity, indexing_low, indexing_ortho, indexing_ortho_first,
                       indexing_wide, learned_assignments, smoothing, trial_assignments)
from xrdnet.xrd.indexing import indexing_features
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class FeatureSet:
    """A named feature vector of a line list: describe(Q², heights, tolerances) -> (size,), and the code it runs."""

    describe: Callable[..., np.ndarray]
    size: int
    modules: tuple[ModuleType, ...]
    pick: dict = field(default_factory=dict)  # options of the peak search (`indexing.pick_peaks`)
    prepare: Callable[[np.ndarray], np.ndarray] | None = None  # applied to a profile before its peaks are picked

    def lines_of(self, profile: np.ndarray) -> np.ndarray:
        """The profile whose peaks this set picks: `prepare`d, or as it is."""
        return profile if self.prepare is None else self.prepare(profile)


def _learned_lines(table: str) -> Callable[..., np.ndarray]:
    """`learned_assignments.line_features` with TABLES[table]'s assignments (a partial: worker processes pickle it)."""
    return functools.partial(learned_assignments.line_features, table=table)


FEATURE_SETS: dict[str, FeatureSet] = {
    "indexing": FeatureSet(indexing.line_features, indexing.N_FEATURES, (indexing,)),
    "indexing_v2": FeatureSet(indexing_low.line_features_v2, indexing_low.N_FEATURES, (indexing, indexing_low, trial_assignments)),
    "indexing_v3": FeatureSet(indexing_ortho.line_features_v3, indexing_ortho.N_FEATURES, (indexing, indexing_ortho, trial_assignments)),
    "indexing_v4": FeatureSet(indexing_impurity.line_features_v4, indexing_impurity.N_FEATURES,
                              (indexing, indexing_ortho, trial_assignments, indexing_impurity)),
    "indexing_v5": FeatureSet(indexing_wide.line_features_v5, indexing_wide.N_FEATURES_V5,
                              (indexing, indexing_ortho, trial_assignments, indexing_impurity, indexing_wide)),
    "indexing_v6": FeatureSet(indexing_wide.line_features_v6, indexing_wide.N_FEATURES_V6,
                              (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide)),
    "indexing_v7": FeatureSet(indexing_wide.line_features_v7, indexing_wide.N_FEATURES_V6,
                              (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide)),
    # indexing_v7's numbers of lines found in the curvature too: blends and shoulders resolved in clean profiles
    "indexing_v8": FeatureSet(indexing_wide.line_features_v7, indexing_wide.N_FEATURES_V6,
                              (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide),
                              {"curvature": True}),
    # indexing_v8 with the orthorhombic and monoclinic fits refining more of their screened trial cells
    "indexing_v9": FeatureSet(indexing_wide.line_features_v9, indexing_wide.N_FEATURES_V6,
                              (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide),
                              {"curvature": True}),
    # indexing_v9 of a noisy scan smoothed first, where smoothing finds its lines again (clean renders: v9's)
    "indexing_v10": FeatureSet(indexing_wide.line_features_v9, indexing_wide.N_FEATURES_V6,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                smoothing),
                               {"curvature": True}, smoothing.smooth_noisy_profile),
    # indexing_v10 gated on what the curvature search sees, so scans averaged onto the grid from fine steps are
    # smoothed too (clean renders: v9's)
    "indexing_v11": FeatureSet(indexing_wide.line_features_v9, indexing_wide.N_FEATURES_V6,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                smoothing),
                               {"curvature": True}, smoothing.smooth_unresolved_profile),
    # indexing_v9 with trial assignments learned from synthetic crystals' picked lines tried too
    "indexing_v12": FeatureSet(_learned_lines("v12"), indexing_wide.N_FEATURES_V6,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                learned_assignments),
                               {"curvature": True}),
    # indexing_v12 with assignments learned from more crystals and from larger cells
    "indexing_v13": FeatureSet(_learned_lines("v13"), indexing_wide.N_FEATURES_V6,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                learned_assignments),
                               {"curvature": True}),
    # indexing_v12 with assignments learned from longer-cell crystals too
    "indexing_v14": FeatureSet(_learned_lines("v14"), indexing_wide.N_FEATURES_V6,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                learned_assignments),
                               {"curvature": True}),
    # indexing_v14 with its orthorhombic and monoclinic cells scored under each lattice centring too
    "indexing_v15": FeatureSet(indexing_centred.line_features_v15, indexing_centred.N_FEATURES_V15,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                learned_assignments, indexing_centred),
                               {"curvature": True}),
    # indexing_v14 with its monoclinic fit refining 100 screened trial cells, not 20
    "indexing_v16": FeatureSet(learned_assignments.line_features_v16, indexing_wide.N_FEATURES_V6,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                learned_assignments),
                               {"curvature": True}),
    # indexing_v16 with monoclinic trial cells from orthorhombic sub-metrics too, screened on their own
    "indexing_v17": FeatureSet(indexing_ortho_first.line_features_v17, indexing_ortho_first.N_FEATURES_V17,
                               (indexing, indexing_ortho, indexing_low, trial_assignments, indexing_impurity, indexing_wide,
                                learned_assignments, indexing_ortho_first),
                               {"curvature": True}),
}
FEATURE_KINDS = tuple(FEATURE_SETS)


def feature_set(kind: str) -> FeatureSet:
    if kind not in FEATURE_SETS:
        raise ValueError(f"unknown features {kind!r}; options: {', '.join(FEATURE_KINDS)}")
    return FEATURE_SETS[kind]


@functools.lru_cache(maxsize=None)
def code_hash(kind: str) -> str:
    """Hash of a feature set's source as this process first read it. Read once: `inspect.getsource` reads the
    files on disk, so an edit during a run would otherwise give its later steps a new key (a run that reads the
    training set's features again after the AFLOW set's computed all 80,000 crystals' a second time), and the
    features would be computed again by the code already loaded."""
    return hashlib.sha1("".join(inspect.getsource(module) for module in feature_set(kind).modules).encode()).hexdigest()


def feature_key(grid: TwoThetaGrid, settings: ProfileSettings, augmenter: PeakAugmenter | None = None,
                copies: int = 0, seed: int = 0, kind: str = "indexing", copy_items: np.ndarray | None = None) -> str:
    """Hash of what determines the features: the set and its code, the grid, the clean peak profile, the
    augmentation, and which items have augmented copies."""
    description = {"features": kind, "code": code_hash(kind), "grid": grid.to_dict(), "profile": settings.to_dict()}
    if feature_set(kind).pick:
        description["pick"] = feature_set(kind).pick
    if copies:
        description.update(augmenter=repr(augmenter), copies=copies, seed=seed)
        if copy_items is not None:
            description["copy_items"] = hashlib.sha1(np.asarray(copy_items, dtype=np.int64).tobytes()).hexdigest()
    return hashlib.sha1(json.dumps(description, sort_keys=True).encode()).hexdigest()[:12]


PROGRESS_PROFILES = 500  # feature sets of more profiles than this show a progress bar (~10 s and more of work)


def profile_features(profiles: np.ndarray, grid: TwoThetaGrid, wavelength_angstrom: float,
                     kind: str = "indexing") -> np.ndarray:
    """(n, size) float32 features of set `kind` of (n, grid points) profiles on `grid` (a progress bar for many)."""
    points, features = grid.points, feature_set(kind)
    profiles = np.atleast_2d(profiles)
    rows = [indexing_features(features.lines_of(profile), points, wavelength_angstrom, describe=features.describe,
                              **features.pick)
            for profile in tqdm(profiles, desc=f"{kind} features", unit="pattern",
                                disable=len(profiles) <= PROGRESS_PROFILES, mininterval=2.0)]
    return np.asarray(rows, dtype=np.float32).reshape(-1, features.size)


def cached_features(peaks: PeakListSet, folder: str | os.PathLike, grid: TwoThetaGrid, settings: ProfileSettings,
                    num_workers: int | None = None, augmenter: PeakAugmenter | None = None, copies: int = 0,
                    seed: int = 0, kind: str = "indexing", copy_items: np.ndarray | None = None) -> np.ndarray:
    """(1 + copies, len(peaks), size) float32 features of set `kind`, from `folder` or computed there.

    Copy 0 is every item's clean render; copy c ≥ 1 an augmented render of it (`augmenter`, random
    generator seeded by (seed, c, item), so the table is the same on every machine and run), for the
    items `copy_items` only (default: all; the others' rows are NaN): training draws augmented copies of
    its own items alone, and a fifth of the feature time went to copies of validation and test items.
    The clean and the augmented copies are cached in files of their own, so the clean ones serve either way.
    """
    if copies and augmenter is None:
        raise ValueError("augmented feature copies need an augmenter")
    size = feature_set(kind).size
    files = feature_files(folder, grid, settings, augmenter, copies, seed, kind, copy_items)
    clean = _cached(files[0], (1, len(peaks), size), lambda: _compute(peaks, grid, settings, num_workers, kind)[None])
    if not copies:
        return clean
    items = np.arange(len(peaks)) if copy_items is None else np.asarray(copy_items, dtype=np.int64)

    def augmented_copies() -> np.ndarray:
        table = np.full((copies, len(peaks), size), np.nan, dtype=np.float32)
        for copy in range(1, copies + 1):
            table[copy - 1, items] = _compute(peaks, grid, settings, num_workers, kind, augmenter, copy, seed, items)
        return table

    return np.concatenate([clean, _cached(files[1], (copies, len(peaks), size), augmented_copies)])


def cached_clean_features(peaks: PeakListSet, folder: str | os.PathLike, grid: TwoThetaGrid, settings: ProfileSettings,
                          kind: str) -> np.ndarray | None:
    """(len(peaks), size) clean features of set `kind` where `cached_features` has written them to `folder`, else
    None: nothing is computed (evaluating a model needs the test items' features, not the whole set's)."""
    table = _read(feature_files(folder, grid, settings, kind=kind)[0], (1, len(peaks), feature_set(kind).size), report=False)
    return None if table is None else table[0]


def feature_files(folder: str | os.PathLike, grid: TwoThetaGrid, settings: ProfileSettings,
                  augmenter: PeakAugmenter | None = None, copies: int = 0, seed: int = 0,
                  kind: str = "indexing", copy_items: np.ndarray | None = None) -> list[Path]:
    """The files cached_features keeps the clean copy of set `kind` in, then (with copies) the augmented ones."""
    files = [Path(folder) / f"{kind}_features-{feature_key(grid, settings, kind=kind)}.npy"]
    if copies:
        key = feature_key(grid, settings, augmenter, copies, seed, kind, copy_items)
        files.append(Path(folder) / f"{kind}_features-{key}.npy")
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
             kind: str, augmenter: PeakAugmenter | None = None, copy: int = 0, seed: int = 0,
             items: np.ndarray | None = None) -> np.ndarray:
    """(len(items), size) features of `items` (default: every item of `peaks`)."""
    if num_workers is None:
        num_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    items = np.arange(len(peaks)) if items is None else items
    out = np.zeros((len(items), feature_set(kind).size), dtype=np.float32)
    chunks = np.array_split(np.arange(len(items)), max(1, len(items) // 64))  # positions in `items`
    what = f"{kind} features" + (f" (augmented copy {copy})" if augmenter is not None else "")
    state = (peaks, grid, settings, kind, augmenter, copy, seed)
    with tqdm(total=len(items), desc=what, unit="pattern", dynamic_ncols=True) as bar:
        if num_workers <= 1 or len(items) < 256:
            _init_worker(*state)
            for chunk in chunks:
                out[chunk] = _features_of_chunk(items[chunk])
                bar.update(len(chunk))
            return out
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(num_workers, initializer=_init_pool_worker, initargs=state) as pool:
            for chunk, rows in zip(chunks, pool.imap(_features_of_chunk, [items[chunk] for chunk in chunks])):
                out[chunk] = rows
                bar.update(len(chunk))
    return out


def _init_worker(peaks: PeakListSet, grid: TwoThetaGrid, settings: ProfileSettings, kind: str,
                 augmenter: PeakAugmenter | None, copy: int, seed: int) -> None:
    _WORKER.update(peaks=peaks, grid=grid, settings=settings, kind=kind, augmenter=augmenter, copy=copy, seed=seed)


def _init_pool_worker(*state) -> None:
    single_threaded_worker()
    _init_worker(*state)


def _features_of_chunk(items: np.ndarray) -> np.ndarray:
    peaks, grid, settings, augmenter = _WORKER["peaks"], _WORKER["grid"], _WORKER["settings"], _WORKER["augmenter"]
    wavelength = peaks.wavelength_angstrom
    if augmenter is None:
        profiles = [render_profile(*peaks.peaks(int(i)), grid, settings, wavelength) for i in items]
    else:
        profiles = [augmenter(*peaks.peaks(int(i)), wavelength, np.random.default_rng([_WORKER["seed"], _WORKER["copy"], int(i)]))
                    for i in items]
    return profile_features(np.array(profiles), grid, wavelength, _WORKER["kind"])
