"""The Python API: predict crystal systems and simulate profiles from a notebook, without Hydra.

    import xrdnet
    model = xrdnet.load_model()                  # the shipped model, or load_model("run/checkpoints/best.ckpt")
    result = model.predict(structure)            # a pymatgen Structure, a CIF or scan file, or a list of them
    result.top, result.probabilities             # 'cubic', {'triclinic': 0.01, ..., 'cubic': 0.93}
    result.cell                                  # the cubic cell that indexes its lines (or None)
    result.more_symmetric_cell                   # (system, cell) an indexing program would report instead (or None)
    model.predict_pattern(two_theta, intensity, wavelength="CuKa")
    two_theta, intensity = xrdnet.simulate(structure)   # the profile on the model's 2θ grid

Everything goes through CrystalSystemPredictor, so a notebook sees exactly what xrdnet-predict sees.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from xrdnet.predictor import CrystalSystemPredictor, DEFAULT_WAVELENGTH
from xrdnet.xrd.cell import IndexedCell
from xrdnet.xrd.wavelengths import Radiation

Input = Structure | str | os.PathLike


@dataclass(frozen=True)
class Prediction:
    """Calibrated crystal-system probabilities of one input.

    probabilities: class name -> probability, in the model's class order (they sum to 1).
    source: what was predicted (a file path, or the structure's formula).
    preprocessing: what was done to a measured scan (wavelength used and where it came from, background,
    Kα2, grid coverage), or how a structure was turned into a profile.
    cell: the cell of the top crystal system that indexes the pattern's lines (`xrdnet.xrd.cell`), or None.
    more_symmetric_cell: (crystal system, cell) of a more symmetric system whose cell indexes the lines about as well,
    the one an indexing program would report (`xrdnet.xrd.cell.more_symmetric_cell`), or None. The call stays the
    model's; xrdnet-predict prints the same note.
    """

    probabilities: dict[str, float]
    source: str
    preprocessing: dict = field(default_factory=dict)
    cell: IndexedCell | None = None
    more_symmetric_cell: tuple[str, IndexedCell] | None = None

    @property
    def top(self) -> str:
        """The most probable crystal system."""
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def top_probability(self) -> float:
        return self.probabilities[self.top]

    def ranked(self, k: int | None = None) -> list[tuple[str, float]]:
        """(crystal system, probability) from the most probable down, the first k (all by default)."""
        return sorted(self.probabilities.items(), key=lambda item: -item[1])[:k]

    def as_dict(self) -> dict:
        return {"source": self.source, "top": self.top, "probabilities": dict(self.probabilities),
                "preprocessing": dict(self.preprocessing), "cell": None if self.cell is None else self.cell.as_dict(),
                "more_symmetric_cell": None if self.more_symmetric_cell is None else {
                    "crystal_system": self.more_symmetric_cell[0], **self.more_symmetric_cell[1].as_dict()}}

    def __str__(self) -> str:
        listed = ", ".join(f"{name} {p:.2f}" for name, p in self.ranked(3))
        return f"{self.source}: {listed}"


class Model:
    """A crystal-system classifier loaded from its checkpoint (see load_model)."""

    def __init__(self, predictor: CrystalSystemPredictor, checkpoint: Path):
        self.predictor = predictor
        self.checkpoint = checkpoint

    @property
    def class_names(self) -> list[str]:
        return list(self.predictor.class_names)

    @property
    def two_theta(self) -> np.ndarray:
        """The model's 2θ grid (degrees) at its wavelength."""
        return self.predictor.grid.points

    @property
    def wavelength_angstrom(self) -> float:
        """The wavelength (Å) the model's patterns are simulated at; measured scans are moved to it."""
        return self.predictor.wavelength_angstrom

    def predict(self, item: Input | Sequence[Input], wavelength: str | float | None = None,
                background: str = "rolling_ball", kalpha2: str = "auto",
                displacement: str = "auto") -> Prediction | list[Prediction]:
        """Prediction of a Structure, a CIF path or a scan file path (.xrdml, .brml, .ras, .gsa, .fxye, .xy, ...);
        a list of them gives a list. A scan is read at `wavelength` when given, else at the wavelength its file
        records, else CuKa; `background`, `kalpha2` and `displacement` are those of xrdnet-predict. ValueError
        naming the input when one cannot be read."""
        items = [item] if isinstance(item, (Structure, str, os.PathLike)) else list(item)
        profiles, sources, steps = [], [], []
        for one in items:
            if isinstance(one, Structure):
                profiles.append(self.predictor.profile_of_structure(one))
                sources.append(one.composition.reduced_formula)
                steps.append({"source": "simulated from the structure"})
            else:
                profile, done = self.predictor.profile_of_file(one, wavelength, background, kalpha2, displacement)
                profiles.append(profile)
                sources.append(str(one))
                steps.append(done)
        results = self._predictions(profiles, sources, steps)
        return results[0] if isinstance(item, (Structure, str, os.PathLike)) else results

    def predict_pattern(self, two_theta, intensity, wavelength: str | float = DEFAULT_WAVELENGTH,
                        background: str = "rolling_ball", kalpha2: str = "auto", displacement: str = "auto") -> Prediction:
        """Prediction of a measured pattern: 2θ (degrees) and intensity arrays recorded at `wavelength` (a line
        name such as 'CuKa', 'MoKa1', or Å), preprocessed as xrdnet-predict does."""
        from xrdnet.xrd.formats.scan import checked_scan

        scan = checked_scan(Path("pattern"), two_theta, intensity, None, "arrays")
        profile, done = self.predictor.profile_of_scan(scan.two_theta, scan.intensity, Radiation.named(wavelength),
                                                       background, kalpha2, displacement)
        return self._predictions([profile], ["pattern"], [{**done, "wavelength_from": "given"}])[0]

    def simulate(self, structure: Structure | str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
        """(2θ in degrees, intensity scaled to maximum 1) of a structure (or CIF path) on the model's grid,
        simulated with the model's wavelength and peak profile."""
        if not isinstance(structure, Structure):
            from xrdnet.structures.cif import read_cif

            structure = read_cif(Path(structure))
        return self.two_theta.copy(), self.predictor.profile_of_structure(structure)

    def _predictions(self, profiles: list[np.ndarray], sources: list[str], steps: list[dict]) -> list[Prediction]:
        probabilities = self.predictor.predict_proba(np.stack(profiles))
        predictions = []
        for profile, row, source, done in zip(profiles, probabilities, sources, steps):
            cell, simpler = self.predictor.call_cells(profile, self.class_names[int(np.argmax(row))])
            predictions.append(Prediction({name: float(p) for name, p in zip(self.class_names, row)}, source, done,
                                          cell, simpler))
        return predictions

    def __repr__(self) -> str:
        return f"Model({str(self.checkpoint)!r}, classes={len(self.class_names)}, λ={self.wavelength_angstrom:g} Å)"


def load_model(checkpoint: str | os.PathLike | None = None, device: str = "cpu") -> Model:
    """The classifier in a checkpoint written by xrdnet-train, or the model shipped with xrdnet when none is
    given. Raises CheckpointError (a ValueError) with one line when the file is not an xrdnet checkpoint."""
    if checkpoint is None:
        from xrdnet.pretrained import shipped_checkpoint

        checkpoint = shipped_checkpoint()
    return Model(CrystalSystemPredictor.from_checkpoint(checkpoint, map_location=device), Path(checkpoint))


@lru_cache(maxsize=1)
def _shipped_model() -> Model:
    return load_model()


def simulate(structure: Structure | str | os.PathLike, model: Model | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(2θ in degrees, intensity) of a structure or CIF on a model's grid (the shipped model's by default)."""
    return (model or _shipped_model()).simulate(structure)
