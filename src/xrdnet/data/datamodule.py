"""XRDDataModule: cached peak-list datasets -> stratified splits -> rendered, augmented profiles."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

from xrdnet.crystal import AUXILIARY_TARGETS, CRYSTAL_SYSTEMS, NUM_CLASSES, auxiliary_label
from xrdnet.data.augment import PeakAugmenter
from xrdnet.data.dataset import (DEFAULT_CHUNK_SIZE, DEFAULT_MAX_SKIP_FRACTION, ITEM_ERRORS, MANIFEST_FILE, DatasetError,
                                  PeakListSet, build_or_load, dataset_folder)
from xrdnet.data.features import FEATURE_KINDS, cached_clean_features, cached_features, feature_files
from xrdnet.data.measurement import PeakListPool
from xrdnet.data.ranks import process_rank
from xrdnet.structures.base import StructureSource
from xrdnet.xrd.axis import ModelAxis
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import wavelength_name

log = logging.getLogger(__name__)


def split_fingerprint(peaks: PeakListSet, positions: np.ndarray) -> str:
    """sha256 of the (source index, label) pairs of the items at `positions`: which crystals a split holds."""
    pairs = np.stack([peaks.indices[positions], peaks.labels[positions]], axis=1).astype(np.int64)
    return hashlib.sha256(pairs[np.argsort(pairs[:, 0], kind="stable")].tobytes()).hexdigest()


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Split item indices into len(fractions) disjoint parts, each class divided in the same proportions.

    Deterministic for a given seed; every index lands in exactly one part. Within a class, the
    later parts (val, test) get at least one item when the class has enough items for all parts.
    """
    fractions = np.asarray(fractions, dtype=float)
    if fractions.min() < 0 or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {list(fractions)}")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in fractions]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        sizes = np.floor(fractions * len(members)).astype(int)
        if len(members) >= len(fractions):
            sizes[1:] = np.maximum(sizes[1:], (fractions[1:] > 0).astype(int))
        sizes[0] = len(members) - sizes[1:].sum()
        for part, chunk in zip(parts, np.split(members, np.cumsum(sizes)[:-1])):
            part.extend(chunk.tolist())
    return [np.sort(np.array(part, dtype=np.int64)) for part in parts]


class RenderedPeaks(Dataset):
    """Profiles rendered from stored peak lists on every access: augmented when an augmenter is given
    (its impurity pool, if it draws impurity phases, is set by whoever owns the split: XRDDataModule.load_split).

    Randomness comes from torch's generator, which Lightning seeds per run and per worker and which
    advances every epoch: runs are reproducible and epochs differ. Each fetch (an item, or a batch
    through __getitems__) seeds one numpy generator from it for all its draws.
    """

    def __init__(self, peaks: PeakListSet, indices: np.ndarray, grid: TwoThetaGrid, settings: ProfileSettings,
                 augmenter: PeakAugmenter | None, features: np.ndarray | None = None,
                 auxiliary_labels: np.ndarray | None = None):
        self.peaks, self.indices, self.grid, self.settings, self.augmenter = peaks, indices, grid, settings, augmenter
        # per-item features appended to each profile: (copies, len(peaks), n), one copy drawn per access; or None
        self.features = features
        # per-item finer labels (len(peaks),) for an auxiliary loss: items are then (profile, label, auxiliary label)
        self.auxiliary_labels = auxiliary_labels

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> tuple:
        return self._item(position, self._generator())

    def __getitems__(self, positions: list[int]) -> list[tuple]:
        """A batch of items (the DataLoader's batched fetch): one generator serves them all, since seeding
        one per item was a measurable part of the pipeline's cost (README, Performance)."""
        rng = self._generator()
        return [self._item(position, rng) for position in positions]

    def _generator(self) -> np.random.Generator | None:
        """A numpy generator seeded from torch's (None when nothing is drawn: clean renders of one feature copy)."""
        if self.augmenter is None and (self.features is None or len(self.features) == 1):
            return None
        return np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))

    def _item(self, position: int, rng: np.random.Generator | None) -> tuple:
        index = int(self.indices[position])
        two_theta, intensity = self.peaks.peaks(index)
        wavelength = self.peaks.wavelength_angstrom
        if self.augmenter is None:
            profile = render_profile(two_theta, intensity, self.grid, self.settings, wavelength)
        else:
            profile = self.augmenter(two_theta, intensity, wavelength, rng)
        if self.features is not None:
            copy = int(rng.integers(len(self.features))) if len(self.features) > 1 else 0
            profile = np.concatenate([profile, self.features[copy, index]])
        item = torch.from_numpy(np.asarray(profile, dtype=np.float32)), int(self.peaks.labels[index])
        return item if self.auxiliary_labels is None else (*item, int(self.auxiliary_labels[index]))


# Spare crystals (replacing the ones that cannot be used) have indices this much higher than the
# epochs' own: far above any epoch's, so a spare is never also an epoch's regular crystal.
SPARE_OFFSET = 2**40


class FreshCrystals(IterableDataset):
    """A new set of crystals every epoch, generated and simulated inside the loader workers.

    Item k of epoch e is source item `first_index + e * per_epoch + k`: every item depends only on its
    index, so runs are reproducible, epochs never repeat a crystal, and the index range starts after
    the fixed dataset's so validation and test crystals are never trained on. The items are dealt
    out like cards, so no two processes see the same crystal: DDP rank r of `world` takes k = r,
    r + world, ..., and its loader worker w of W every W-th of those. Every rank yields
    per_epoch // world items (DDP needs the same number of batches on every rank): a crystal that
    cannot be generated or has no peaks is replaced by the next spare of its (rank, worker) pair.
    """

    def __init__(self, source: StructureSource, simulator: XRDSimulator, augmenter: PeakAugmenter,
                 per_epoch: int, first_index: int, seed: int, auxiliary_target: str | None = None):
        self.source, self.simulator, self.augmenter = source, simulator, augmenter
        self.per_epoch, self.first_index, self.seed = per_epoch, first_index, seed
        self.auxiliary_target = auxiliary_target  # items are (profile, label, its auxiliary_label) when set
        self.epoch = 0
        # (rank, world size) of the process that iterates; set by EpochAwareLoader in the main
        # process, since loader workers started by spawn do not see torch.distributed's group
        self.rank_and_world: tuple[int, int] | None = None

    def __len__(self) -> int:
        return self.per_epoch // (self.rank_and_world or process_rank())[1]

    def __iter__(self):
        worker = get_worker_info()
        worker_id, num_workers = (worker.id, worker.num_workers) if worker else (0, 1)
        rank, world = self.rank_and_world or process_rank()
        per_rank = self.per_epoch // world
        start = self.first_index + self.epoch * self.per_epoch
        quota = len(range(worker_id, per_rank, num_workers))
        m = worker_id
        while quota:
            k = rank + world * m  # this pair's m-th card: the m-th of rank r's, worker w's every W-th
            m += num_workers
            spare = k - world * per_rank
            if spare >= self.per_epoch:
                raise DatasetError(f"{self.source.kind}: on-the-fly epoch {self.epoch}: rank {rank}, worker {worker_id} "
                                   f"ran out of spare crystals: almost none can be used (check the source and 2θ range)")
            index = start + k if spare < 0 else self.first_index + SPARE_OFFSET + self.epoch * self.per_epoch + spare
            try:
                item = self.source.get(index)
                peaks = self.simulator.simulate(item.structure)
            except ITEM_ERRORS:  # a bad crystal is replaced by a spare; a bug stops training
                continue
            rng = np.random.default_rng([self.seed, self.epoch, k])
            profile = self.augmenter(peaks.two_theta, peaks.intensity, peaks.wavelength, rng)
            quota -= 1
            fetched = torch.from_numpy(np.asarray(profile, dtype=np.float32)), int(item.label)
            yield fetched if self.auxiliary_target is None else (
                *fetched, auxiliary_label(self.auxiliary_target, item.space_group))


class EpochAwareLoader(DataLoader):
    """DataLoader that tells its dataset the trainer's epoch each time an epoch's iteration starts."""

    def __init__(self, dataset: FreshCrystals, epoch_of_trainer, **kwargs):
        super().__init__(dataset, **kwargs)
        self.epoch_of_trainer = epoch_of_trainer

    def __iter__(self):
        self.dataset.epoch = self.epoch_of_trainer()
        self.dataset.rank_and_world = process_rank()
        return super().__iter__()


def render_all(peaks: PeakListSet, indices: np.ndarray, grid: TwoThetaGrid, settings: ProfileSettings,
               features: np.ndarray | None = None) -> TensorDataset:
    """Render fixed (unaugmented) profiles once, for validation and test sets; per-item `features` appended."""
    profiles = np.stack(
        [render_profile(*peaks.peaks(int(i)), grid, settings, peaks.wavelength_angstrom) for i in indices]
    ) if len(indices) else np.zeros((0, grid.n_points), dtype=np.float32)
    if features is not None:
        profiles = np.concatenate([profiles, features[indices]], axis=1)
    return TensorDataset(torch.from_numpy(profiles.astype(np.float32)), torch.from_numpy(peaks.labels[indices].astype(np.int64)))


class XRDDataModule(LightningDataModule):
    """Train/val/test profiles of a structure source, plus a real-structure test set.

    Args:
        source: where training structures come from (e.g. SyntheticStructures).
        real_source: real structures tested after training (AFLOW prototypes by default); never trained on.
        data_dir: dataset cache root.
        simulation: XRDSimulator settings: wavelength (name or Å), two_theta_range (degrees), engine.
        grid: TwoThetaGrid settings (start_deg, stop_deg, step_deg).
        profile: ProfileSettings (peak shape and width) for clean renders.
        augment: PeakAugmenter settings for training renders; null for none.
        axis: ModelAxis settings (kind, n_points, intensity): the axis the network reads the 2θ
            profiles on; applied inside the model, so every path that feeds it 2θ profiles agrees.
        features: a feature set appended to each item's profile (xrdnet.data.features, from its
            clean render, cached beside the dataset): 'indexing' (the 90 of the shipped model) or
            'indexing_v2' (those and the monoclinic fit) or 'indexing_v3' (the 90 with better
            orthorhombic trial cells) or 'indexing_v4' (indexing_v3 on all lines and on the strong
            lines, robust to an impurity phase) or 'indexing_v5' (indexing_v4 with a wider
            orthorhombic trial search) or 'indexing_v6' (indexing_v5 and a monoclinic fit) or
            'indexing_v7' (indexing_v6 with wider orthorhombic and monoclinic trial searches) or 'indexing_v8'
            (indexing_v7 of the lines found in the curvature too) or 'indexing_v9' (indexing_v8 refining more
            orthorhombic and monoclinic trial cells) or 'indexing_v10' (indexing_v9 of a noisy scan
            smoothed first, see xrdnet.xrd.smoothing) or 'indexing_v11' (indexing_v10 with the smoothing
            gated on the noise the curvature search sees) or 'indexing_v12' (indexing_v9 also trying trial
            assignments learned from synthetic crystals' lines, see xrdnet.xrd.learned_assignments) or
            'indexing_v13' (indexing_v12 learned from more and from larger crystals) or 'indexing_v14'
            (indexing_v12 learned from longer-cell crystals too) or 'indexing_v15' (indexing_v14 with its
            orthorhombic and monoclinic cells scored under each lattice centring, see
            xrdnet.xrd.indexing_centred) or 'indexing_v16' (indexing_v14 with its monoclinic fit refining 100
            screened trial cells, not 20) or 'indexing_v17' (indexing_v16 with monoclinic trial cells from
            orthorhombic sub-metrics too, see xrdnet.xrd.indexing_ortho_first); null for none.
        feature_copies: augmented renders per item whose features training draws from besides the
            clean one (validation and test use the clean one).
        split: train/val/test fractions, stratified by class.
        split_seed: seed of the split (separate from the training seed so sweeps share one split).
        batch_size, num_workers: DataLoader settings.
        class_weighting: pass inverse-frequency class weights to the loss.
        build_workers: processes for the dataset build (default: all cores).
        build_chunk_size: items per chunk a dataset build writes as it goes; an interrupted build
            resumes from the finished chunks.
        max_skip_fraction: a build that has to skip more than this fraction of its items (structures
            that cannot be generated or read, no peaks in range) stops, naming the commonest reasons;
            null: no limit.
        train_mode: 'cached' trains on the fixed dataset's training split, re-rendered with fresh
            augmentation every epoch; 'on_the_fly' generates `fresh_per_epoch` new crystals every
            epoch in the loader workers (val/test stay the fixed dataset's splits); it needs a
            source with items past its length (`unbounded`, e.g. synthetic).
        fresh_per_epoch: crystals per epoch in on_the_fly mode, shared out over the DDP ranks.
        auxiliary_target: a finer label of each training crystal (xrdnet.crystal.AUXILIARY_TARGETS: 'lattice',
            its Bravais lattice; 'space_group') that training batches carry as a third element, for the
            model's auxiliary loss; validation and test batches stay (profile, label). null: none.

    `simulation.two_theta_range` null or absent: the grid's range, widened by what augmentation can
    move a peak by (PeakAugmenter.simulation_range), so every peak that can reach the grid is simulated.
    """

    def __init__(
        self,
        source: StructureSource,
        real_source: StructureSource | None = None,
        data_dir: str = "data",
        simulation: dict | None = None,
        grid: dict | None = None,
        profile: dict | None = None,
        augment: dict | None = None,
        axis: dict | None = None,
        features: str | None = None,
        feature_copies: int = 0,
        split: Sequence[float] = (0.8, 0.1, 0.1),
        split_seed: int = 0,
        batch_size: int = 128,
        num_workers: int = 0,
        class_weighting: bool = True,
        build_workers: int | None = None,
        train_mode: str = "cached",
        fresh_per_epoch: int = 10000,
        build_chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_skip_fraction: float | None = DEFAULT_MAX_SKIP_FRACTION,
        auxiliary_target: str | None = None,
    ):
        super().__init__()
        self.source, self.real_source, self.data_dir = source, real_source, data_dir
        self.grid = TwoThetaGrid(**(grid or {}))
        self.settings = ProfileSettings(**(profile or {}))
        self.augment_config = dict(augment) if augment else None
        self.augmenter = PeakAugmenter(grid=self.grid, settings=self.settings, **(self.augment_config or {}))
        simulation = dict(simulation or {})
        if simulation.get("two_theta_range") is None:
            simulation["two_theta_range"] = (self.augmenter.simulation_range() if self.augment_config
                                             else (self.grid.start_deg, self.grid.stop_deg))
        self.simulator = XRDSimulator(**simulation)
        self.axis = ModelAxis(**(axis or {}))
        if features is not None and features not in FEATURE_KINDS:
            raise ValueError(f"unknown features {features!r}; options: {', '.join(FEATURE_KINDS)} or null")
        if features and train_mode == "on_the_fly":
            raise ValueError("features are computed once per cached item; on_the_fly training cannot use them")
        self.features, self.feature_copies = features, int(feature_copies)
        self.feature_table: np.ndarray | None = None
        self.feature_mean: np.ndarray | None = None
        self.feature_scale: np.ndarray | None = None
        self.split, self.split_seed = tuple(split), split_seed
        self.batch_size, self.num_workers = batch_size, num_workers
        self.class_weighting, self.build_workers = class_weighting, build_workers
        self.build_chunk_size, self.max_skip_fraction = int(build_chunk_size), max_skip_fraction
        if train_mode not in ("cached", "on_the_fly"):
            raise ValueError(f"train_mode must be 'cached' or 'on_the_fly', got {train_mode!r}")
        if train_mode == "on_the_fly" and not getattr(source, "unbounded", False):
            raise ValueError(f"train_mode=on_the_fly needs new crystals every epoch, but the {source.kind} source has "
                             f"only its {len(source)} items; use train_mode=cached or a synthetic source")
        self.train_mode, self.fresh_per_epoch = train_mode, fresh_per_epoch
        if auxiliary_target is not None and auxiliary_target not in AUXILIARY_TARGETS:
            raise ValueError(f"unknown auxiliary_target {auxiliary_target!r}; options: {', '.join(AUXILIARY_TARGETS)} or null")
        self.auxiliary_target = auxiliary_target
        self.peaks: PeakListSet | None = None
        self.real_peaks: PeakListSet | None = None
        self.split_indices: dict[str, np.ndarray] = {}
        self.is_set_up = False  # setup() has rendered the splits (load_split() alone only loads and splits)
        self._loaded: dict[str, PeakListSet] = {}  # dataset folder -> its data, loaded once per process

    # ---- data -------------------------------------------------------------------------------
    def _load(self, source: StructureSource) -> PeakListSet:
        # after prepare_data this only loads; without it (a rank that did not wait) the build lock lets
        # one process build while the others wait, then load
        folder = str(dataset_folder(self.data_dir, source, self.simulator))
        if folder not in self._loaded:
            self._loaded[folder] = build_or_load(self.data_dir, source, self.simulator, num_workers=self.build_workers,
                                                 chunk_size=self.build_chunk_size, max_skip_fraction=self.max_skip_fraction)
        return self._loaded[folder]

    def _sources(self) -> list[tuple[StructureSource, int]]:
        """(source, augmented feature copies) of every dataset this module uses."""
        sources = [(self.source, self.feature_copies)]
        if self.real_source is not None:
            sources.append((self.real_source, 0))
        return sources

    def prepare_data(self) -> None:
        """Build or find every dataset and its cached features: run by one process per node (see data.ranks)."""
        if self.is_set_up:  # xrdnet-train loads the data before the Trainer exists
            return
        for source, copies in self._sources():
            peaks = self._load(source)
            if self.features:
                self._features(peaks, source, copies)

    def is_prepared(self) -> bool:
        """Whether prepare_data's files are all in place, so that setup only has to load them."""
        for source, copies in self._sources():
            folder = dataset_folder(self.data_dir, source, self.simulator)
            if not (folder / MANIFEST_FILE).is_file():
                return False
            # (the split, which names the items with augmented feature copies, needs the dataset first)
            if self.features and not all(path.is_file() for path in feature_files(
                    folder, self.grid, self.settings, self.augmenter, copies, self.split_seed, self.features,
                    self._copy_items(copies))):
                return False
        return True

    def load_split(self) -> dict[str, np.ndarray]:
        """Load the dataset (self.peaks) and split it: 'train'/'val'/'test' -> item indices; nothing is rendered."""
        if self.peaks is None:
            self.peaks = self._load(self.source)
            train, val, test = stratified_split(self.peaks.labels, self.split, self.split_seed)
            self.split_indices = {"train": train, "val": val, "test": test}
            if self.augmenter.impurity_probability and len(train):
                # impurity phases come from training items only (training renders, on-the-fly crystals, feature copies)
                self.augmenter.set_impurity_pool(PeakListPool(self.peaks, train))
        return self.split_indices

    def setup(self, stage: str | None = None) -> None:
        # testing, validating and predicting read clean features only: the augmented copies, minutes of
        # work for a large set, are computed for training ("fit", or no stage given)
        copies = self.feature_copies if stage in (None, "fit") else 0
        if self.is_set_up and (self.feature_table is None or len(self.feature_table) > copies):
            return
        train, val, test = (self.load_split()[part] for part in ("train", "val", "test"))
        real_features = None
        augmenter = self.augmenter
        if self.features:
            # copy 0: clean renders (validation, test, and the standardization); the rest: augmented ones
            self.feature_table = self._features(self.peaks, self.source, copies)
            self.feature_mean = self.feature_table[0, train].mean(axis=0)
            self.feature_scale = self.feature_table[0, train].std(axis=0) + 1e-6
        if self.train_mode == "on_the_fly":
            self.train_set = FreshCrystals(self.source, self.simulator, augmenter, self.fresh_per_epoch,
                                           first_index=len(self.source), seed=self.split_seed,
                                           auxiliary_target=self.auxiliary_target)
        else:
            auxiliary_labels = None if self.auxiliary_target is None else np.array(
                [auxiliary_label(self.auxiliary_target, group) for group in self.peaks.space_groups], dtype=np.int64)
            self.train_set = RenderedPeaks(self.peaks, train, self.grid, self.settings,
                                           augmenter if self.augment_config else None, self.feature_table,
                                           auxiliary_labels)
        clean_features = None if self.feature_table is None else self.feature_table[0]
        self.val_set = render_all(self.peaks, val, self.grid, self.settings, clean_features)
        self.test_set = render_all(self.peaks, test, self.grid, self.settings, clean_features)
        if self.real_source is not None:
            self.real_peaks = self._load(self.real_source)
            if self.features:
                real_features = self._features(self.real_peaks, self.real_source, 0)[0]
            self.real_set = render_all(self.real_peaks, np.arange(len(self.real_peaks)), self.grid, self.settings,
                                       real_features)
        counts = {name: int(c) for name, c in zip(CRYSTAL_SYSTEMS, np.bincount(self.peaks.labels[train], minlength=NUM_CLASSES))}
        log.info("split sizes train/val/test = %d/%d/%d; train counts %s", len(train), len(val), len(test), counts)
        self.is_set_up = True

    def _features(self, peaks: PeakListSet, source: StructureSource, copies: int) -> np.ndarray:
        folder = dataset_folder(self.data_dir, source, self.simulator)
        # load_split also sets the impurity pool: the augmented copies see impurity lines too, otherwise
        # the feature branch would only ever learn from single-phase line lists
        return cached_features(peaks, folder, self.grid, self.settings, num_workers=self.build_workers,
                               augmenter=self.augmenter, copies=copies, seed=self.split_seed, kind=self.features,
                               copy_items=self._copy_items(copies))

    def cached_clean_features(self) -> np.ndarray | None:
        """(items, size) clean features of every item of the loaded dataset if a run has cached them, else None."""
        if not self.features:
            return None
        self.load_split()
        folder = dataset_folder(self.data_dir, self.source, self.simulator)
        return cached_clean_features(self.peaks, folder, self.grid, self.settings, self.features)

    def _copy_items(self, copies: int) -> np.ndarray | None:
        """Items with augmented feature copies: the training split's, the only ones training draws."""
        return self.load_split()["train"] if copies else None

    # ---- loaders ----------------------------------------------------------------------------
    def _loader(self, dataset, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0, drop_last=False)

    def train_dataloader(self) -> DataLoader:
        if isinstance(self.train_set, FreshCrystals):
            # workers are started afresh each epoch so they see the new epoch number
            return EpochAwareLoader(self.train_set, self._trainer_epoch, batch_size=self.batch_size,
                                    num_workers=self.num_workers, persistent_workers=False)
        return self._loader(self.train_set, shuffle=True)

    def _trainer_epoch(self) -> int:
        trainer = getattr(self, "trainer", None)
        return int(trainer.current_epoch) if trainer is not None else 0

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=max(self.batch_size, 256))

    def test_dataloader(self) -> list[DataLoader]:
        loaders = [DataLoader(self.test_set, batch_size=max(self.batch_size, 256))]
        if self.real_source is not None:
            loaders.append(DataLoader(self.real_set, batch_size=max(self.batch_size, 256)))
        return loaders

    # ---- what the model needs to know -------------------------------------------------------
    def class_weights(self) -> list[float] | None:
        """Inverse-frequency weights of the training split, mean 1 over the classes present."""
        if not self.class_weighting:
            return None
        counts = np.bincount(self.peaks.labels[self.split_indices["train"]], minlength=NUM_CLASSES).astype(float)
        weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / NUM_CLASSES, 0.0)
        present = weights > 0
        weights[present] /= weights[present].mean()
        return weights.round(6).tolist()

    def describe(self) -> dict:
        """How model inputs are made: stored in checkpoints so a model can be used without this config."""
        return {
            "grid": self.grid.to_dict(),
            "wavelength_angstrom": self.simulator.wavelength_angstrom,
            "wavelength": wavelength_name(self.simulator.wavelength_angstrom),
            "two_theta_range": list(self.simulator.two_theta_range),
            "engine": self.simulator.engine,
            "profile": self.settings.to_dict(),
            "axis": self.axis.to_dict(),
            "features": None if self.feature_mean is None else {
                "kind": self.features, "mean": self.feature_mean.round(6).tolist(),
                "scale": self.feature_scale.round(6).tolist()},
            "normalization": "max",
            "class_names": list(CRYSTAL_SYSTEMS),
            "training_data": self.training_data_record(),
        }

    def training_data_record(self) -> dict | None:
        """Which dataset (its cache folder's name) and which held-out crystals a model trained on this data saw
        as test split; xrdnet-eval compares it with the split it rebuilds. None before setup."""
        if self.peaks is None:
            return None
        return {"dataset": dataset_folder(self.data_dir, self.source, self.simulator).name,
                "test_split_sha256": split_fingerprint(self.peaks, self.split_indices["test"])}

    def model_kwargs(self) -> dict:
        kwargs = {"input_length": self.grid.n_points, "class_weights": self.class_weights(), "data_info": self.describe()}
        if self.auxiliary_target is not None:  # training batches carry the finer label as a third element
            kwargs["auxiliary_classes"] = AUXILIARY_TARGETS[self.auxiliary_target]
        return kwargs
