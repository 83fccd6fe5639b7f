"""The powder peak list every XRD engine returns, and what the engines share about it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Fraction of (Σ occupancy·Z)² below which an unscaled intensity is round-off of a systematic absence:
# |F|² of a real reflection is of order (Σ Z)² times the Lorentz-polarization factor (>= 2), so this
# is far below any real reflection and far above float64 round-off.
ABSENT_FLOOR_FRACTION = 1e-12


@dataclass(frozen=True)
class PeakList:
    """Powder diffraction peaks of one structure.

    two_theta: peak positions, degrees, ascending.
    intensity: integrated intensities scaled so the strongest peak is 100.
    d_spacing: interplanar spacings, Å.
    hkls: Miller indices of the reflection family of each peak (may be empty when not computed).
    wavelength: X-ray wavelength, Å.
    """

    two_theta: np.ndarray
    intensity: np.ndarray
    d_spacing: np.ndarray
    wavelength: float
    hkls: tuple[tuple[tuple[int, ...], ...], ...] = field(default=())

    @classmethod
    def empty(cls, wavelength_angstrom: float) -> PeakList:
        """No peaks: nothing but systematic absences (or nothing at all) in range."""
        empty = np.zeros(0)
        return cls(two_theta=empty, intensity=empty, d_spacing=empty, wavelength=wavelength_angstrom)

    def __len__(self) -> int:
        return len(self.two_theta)

    def strongest(self) -> tuple[float, float]:
        """(2θ in degrees, intensity) of the strongest peak."""
        index = int(np.argmax(self.intensity))
        return float(self.two_theta[index]), float(self.intensity[index])
