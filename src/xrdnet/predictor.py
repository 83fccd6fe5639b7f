"""Use a trained crystal-system classifier from its checkpoint alone.

A checkpoint written by xrdnet-train carries everything needed to make the model's inputs: the
2θ grid, wavelength, peak-profile settings, normalization, class names and the network config
(`hyper_parameters["data_info"]` and `["net"]`), plus the softmax temperature fitted on the
validation split. Loading uses torch's weights_only unpickler: no code from the file is run.

Inputs become profiles on the model's grid in one place, here: structures are simulated, CIFs read
and simulated, measured scans (any format of xrd.formats) preprocessed at the wavelength their file
records, the one given, or DEFAULT_WAVELENGTH.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np
import torch
from pymatgen.core import Structure

from xrdnet.data.features import feature_set, profile_features
from xrdnet.lit.classifier import CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_KEY, CrystalSystemClassifier
from xrdnet.utils.errors import first_line
from xrdnet.xrd.cell import IndexedCell, index_profile_systems, more_symmetric_cell, more_symmetric_systems
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import Radiation

CIF_SUFFIXES = (".cif",)
KALPHA2_CHOICES = ("auto", "strip", "keep")
# sample displacement of a measured scan: 'auto' removes the shift under which its lines index best
# (xrd.displacement), 'off' reads the scan as recorded
DISPLACEMENT_CHOICES = ("auto", "off")
DEFAULT_WAVELENGTH = "CuKa"  # for a scan whose file records no wavelength when none is given


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or not an xrdnet classifier."""


# networks a crystal-system checkpoint may name: nothing else is instantiated from a file
KNOWN_NETWORKS = ("xrdnet.models.cnn1d.CNN1D", "xrdnet.models.mlp.MLP")
_NOT_OURS = "not an xrdnet crystal-system checkpoint"


def load_classifier(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> CrystalSystemClassifier:
    """The classifier stored in an xrdnet checkpoint, in eval mode, with its calibrated temperature."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path}: cannot read checkpoint: {first_line(error)}") from None
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not hparams or "data_info" not in hparams or "net" not in hparams or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path}: {_NOT_OURS} (no data_info/net hyperparameters)")
    version = checkpoint.get(CHECKPOINT_FORMAT_KEY, 0)
    if not isinstance(version, int) or version > CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: {_NOT_OURS} this xrdnet reads (format {version!r}; this version reads "
                              f"up to {CHECKPOINT_FORMAT}: upgrade xrdnet)")
    init_args = {k: v for k, v in hparams.items() if k != "class_names"}
    unknown = sorted(set(init_args) - set(inspect.signature(CrystalSystemClassifier).parameters))
    if unknown:
        raise CheckpointError(f"{path}: {_NOT_OURS} (unknown hyperparameters {', '.join(unknown)})")
    network = hparams["net"].get("_target_") if isinstance(hparams["net"], dict) else None
    if network not in KNOWN_NETWORKS:
        raise CheckpointError(f"{path}: {_NOT_OURS} (network {network!r} is not one of {', '.join(KNOWN_NETWORKS)})")
    try:
        module = CrystalSystemClassifier(**init_args)
        module.load_state_dict(checkpoint["state_dict"])
    except (TypeError, ValueError, KeyError, RuntimeError) as error:  # a changed or damaged network
        raise CheckpointError(f"{path}: {_NOT_OURS} this xrdnet can rebuild ({first_line(error)})") from None
    return module.eval()


class CrystalSystemPredictor:
    """Turn structures or profiles into crystal-system probabilities the way the model was trained."""

    def __init__(self, module: CrystalSystemClassifier):
        self.module = module
        info = module.hparams.data_info
        self.class_names: list[str] = list(info.get("class_names") or module.hparams.class_names)
        self.grid = TwoThetaGrid.from_dict(info["grid"])
        self.settings = ProfileSettings.from_dict(info["profile"])
        self.wavelength_angstrom = float(info["wavelength_angstrom"])
        self.two_theta_range = tuple(info.get("two_theta_range") or (self.grid.start_deg, self.grid.stop_deg))
        self.engine = info.get("engine", "pymatgen")

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, map_location: str = "cpu") -> CrystalSystemPredictor:
        return cls(load_classifier(path, map_location))

    @property
    def simulator(self) -> XRDSimulator:
        return XRDSimulator(self.wavelength_angstrom, self.two_theta_range, engine=self.engine)

    def profile_of_structure(self, structure: Structure) -> np.ndarray:
        """Clean simulated profile of a structure on the model's grid (raises NoPeaksError)."""
        peaks = self.simulator.simulate(structure)
        return render_profile(peaks.two_theta, peaks.intensity, self.grid, self.settings, self.wavelength_angstrom)

    @property
    def reads_features(self) -> bool:
        """Whether the model reads powder-indexing features beside the profile."""
        return bool(self.module.hparams.data_info.get("features"))

    @property
    def feature_kind(self) -> str | None:
        """The feature set the model was trained on (None: it reads the profile alone); checkpoints from before
        sets had names read 'indexing'."""
        return (self.module.hparams.data_info["features"].get("kind") or "indexing") if self.reads_features else None

    def model_inputs(self, profiles: np.ndarray, feature_profiles: np.ndarray | None = None,
                     features: np.ndarray | None = None) -> np.ndarray:
        """What the model reads for profiles (n, grid points): the profiles, with their indexing features if it uses them.

        feature_profiles: profiles (n, grid points) to take the indexing features from instead (default: the
        profiles themselves); studies use it to tell which input carries a loss, e.g. a noisy scan read with
        the features of its clean render.
        features: the features (n, size) themselves, already computed with the model's set (a training run's cache).
        """
        profiles = np.asarray(profiles, dtype=np.float32).reshape(-1, self.grid.n_points)
        if not self.reads_features:
            return profiles
        if features is None:
            source = profiles if feature_profiles is None else np.asarray(feature_profiles, dtype=np.float32).reshape(profiles.shape)
            features = profile_features(source, self.grid, self.wavelength_angstrom, self.feature_kind)
        elif features.shape != (len(profiles), self.module.feature_mean.numel()):
            raise ValueError(f"features of shape {features.shape} for {len(profiles)} profiles; the model reads "
                             f"{self.module.feature_mean.numel()} per profile")
        return np.concatenate([profiles, np.asarray(features, dtype=np.float32)], axis=1)

    def cell(self, profile: np.ndarray, crystal_system: str) -> IndexedCell | None:
        """The cell of `crystal_system` that indexes the lines of a profile on the model's grid, picked as the
        model's feature set picks them (None: no cell of that system indexes them, or triclinic)."""
        return self.cells(profile, (crystal_system,))[crystal_system]

    def call_cells(self, profile: np.ndarray, crystal_system: str) -> tuple[IndexedCell | None, tuple[str, IndexedCell] | None]:
        """`cell` of the called crystal_system, and (system, cell) of a more symmetric system whose cell an indexing
        program would report instead (`xrd.cell.more_symmetric_cell`; None when none does), the lines picked once."""
        cells = self.cells(profile, (crystal_system, *more_symmetric_systems(crystal_system)))
        return cells[crystal_system], more_symmetric_cell(crystal_system, cells)

    def cells(self, profile: np.ndarray, crystal_systems) -> dict[str, IndexedCell | None]:
        """`cell` of each of crystal_systems, the profile's lines picked once."""
        if not self.reads_features:
            return index_profile_systems(profile, self.grid.points, self.wavelength_angstrom, crystal_systems)
        features = feature_set(self.feature_kind)
        return index_profile_systems(features.lines_of(profile), self.grid.points, self.wavelength_angstrom,
                                     crystal_systems, **features.pick)

    @torch.no_grad()
    def predict_proba(self, profiles: np.ndarray, feature_profiles: np.ndarray | None = None,
                      features: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities (n, 7) of profiles (n, grid points); feature_profiles, features: see `model_inputs`."""
        batch = torch.as_tensor(self.model_inputs(profiles, feature_profiles, features))
        return self.module.predict_proba(batch.to(self.module.device)).cpu().numpy()

    def profile_of_scan(self, two_theta: np.ndarray, intensity: np.ndarray, radiation: Radiation,
                        background: str = "rolling_ball", kalpha2: str = "auto",
                        displacement: str = "auto") -> tuple[np.ndarray, dict]:
        """Model input of a measured scan recorded with `radiation`, and what was done to it.

        The scan is moved to the model's wavelength (Bragg's law), its background removed, its Kα2
        stripped (kalpha2 'auto': when the scan shows a doublet, or, when it cannot tell, when the
        radiation is one, see scan_radiation_kalpha2; 'strip'; 'keep'), resampled onto the
        model's grid and scaled to maximum 1 (xrd.measured.preprocess_measured); with displacement
        'auto', a sample-displacement shift c·cosθ under which the lines index better is removed
        (xrd.displacement; "displacement_shift_deg" is c on the model's 2θ axis, 0 when none).
        """
        from xrdnet.xrd.displacement import correct_displacement
        from xrdnet.xrd.measured import grid_coverage, preprocess_measured

        if displacement not in DISPLACEMENT_CHOICES:
            raise ValueError(f"unknown displacement choice {displacement!r}; options: {', '.join(DISPLACEMENT_CHOICES)}")
        radiation, strip, seen = scan_radiation_kalpha2(two_theta, intensity, radiation, kalpha2)
        profile = preprocess_measured(two_theta, intensity, radiation.mean_angstrom, self.grid,
                                      target_wavelength_angstrom=self.wavelength_angstrom, background=background,
                                      kalpha2_split=radiation.relative_split if strip else None,
                                      kalpha2_ratio=radiation.kalpha2_ratio)
        shift = 0.0
        if displacement == "auto":
            profile, fit = correct_displacement(profile, self.grid.points, self.wavelength_angstrom)
            shift = fit.shift_deg
        coverage = grid_coverage(two_theta, radiation.mean_angstrom, self.grid, self.wavelength_angstrom)
        return profile, {"background": background, "kalpha2": "stripped" if strip else "kept", "kalpha2_seen": seen,
                         "displacement_shift_deg": round(shift, 3), "coverage": round(coverage, 3),
                         "wavelength_angstrom": round(radiation.mean_angstrom, 6), "wavelength": radiation.describe()}

    def profile_of_file(self, path: str | os.PathLike, wavelength: str | float | None = None,
                        background: str = "rolling_ball", kalpha2: str = "auto",
                        displacement: str = "auto") -> tuple[np.ndarray, dict]:
        """Model input of a CIF (simulated) or a measured scan file, and what was done to it.

        A scan is read at `wavelength` when given, else at the wavelength its file records, else at
        DEFAULT_WAVELENGTH; "wavelength_from" says which. Raises ValueError with one line naming the file.
        """
        from xrdnet.structures.cif import read_cif
        from xrdnet.xrd.formats import read_scan

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        if path.suffix.lower() in CIF_SUFFIXES:
            return self.profile_of_structure(read_cif(path)), {"source": "simulated from the CIF"}
        scan = read_scan(path)
        radiation, origin = scan_radiation(scan.radiation, wavelength)
        try:
            profile, steps = self.profile_of_scan(scan.two_theta, scan.intensity, radiation, background, kalpha2,
                                                  displacement)
        except ValueError as error:
            raise ValueError(f"{path}: {first_line(error)}") from None
        return profile, {"format": scan.format, **steps, "wavelength_from": origin}


def scan_radiation(recorded: Radiation | None, wavelength: str | float | None) -> tuple[Radiation, str]:
    """The radiation to read a scan at and where it comes from: 'given' (wavelength), 'file' or 'default'."""
    if wavelength is not None:
        return Radiation.named(wavelength), "given"
    if recorded is not None:
        return recorded, "file"
    return Radiation.named(DEFAULT_WAVELENGTH), f"default {DEFAULT_WAVELENGTH}"


def scan_radiation_kalpha2(two_theta: np.ndarray, intensity: np.ndarray, radiation: Radiation,
                           choice: str) -> tuple[Radiation, bool, str]:
    """(the radiation to read a scan at, whether to strip Kα2, what the scan showed).

    'strip' and 'keep' are followed as given ("not looked"). 'auto' asks the scan (xrd.doublet) whether
    it holds the Kα doublet its radiation names or, for a single line at an anode's Kα1 or Kα mean, that
    anode's doublet: a "doublet" is stripped, "one line" is read as the Kα1 line alone, and a scan that
    "cannot tell" (lines broader than the split, noise) is read as its radiation says. A line of no
    known anode is "not looked" at.
    """
    from xrdnet.xrd.doublet import candidate_doublet, doublet_evidence, kalpha1_alone
    from xrdnet.xrd.measured import subtract_background

    strip = kalpha2_to_strip(choice, radiation)
    doublet = candidate_doublet(radiation) if choice == "auto" else None
    if doublet is None:
        return radiation, strip, "not looked"
    two_theta = np.asarray(two_theta, dtype=float)
    seen = doublet_evidence(two_theta, subtract_background(two_theta, np.asarray(intensity, dtype=float)),
                            doublet).verdict
    if seen == "doublet":
        return doublet, True, seen
    if seen == "one line":
        return kalpha1_alone(doublet), False, seen
    return radiation, strip, seen


def kalpha2_to_strip(choice: str, radiation: Radiation) -> bool:
    """Whether to strip Kα2: 'auto' when the radiation is a doublet, 'strip' (a doublet is needed), 'keep' never."""
    if choice not in KALPHA2_CHOICES:
        raise ValueError(f"unknown Kα2 choice {choice!r}; options: {', '.join(KALPHA2_CHOICES)}")
    if choice == "strip" and not radiation.doublet:
        raise ValueError(f"Kα2 stripping needs a Kα doublet (CuKa, MoKa, ... or a file recording Kα2), "
                         f"got {radiation.describe()}")
    return choice != "keep" and radiation.doublet
