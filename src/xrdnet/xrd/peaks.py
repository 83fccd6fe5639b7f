"""Structure -> powder diffraction peak list.

The reference engine is pymatgen's `XRDCalculator` (kinematic diffraction: atomic scattering
factors from the International Tables fit, Lorentz-polarization factor
(1 + cos² 2θ) / (sin² θ cos θ), optional Debye-Waller factors, peaks within 1e-5° merged, and
intensities scaled so the strongest peak is 100). Engines are chosen by name so a faster engine
with the same physics can stand in for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Structure

from xrdnet.xrd.wavelengths import resolve_wavelength

DEFAULT_WAVELENGTH = "CuKa"
DEFAULT_TWO_THETA_RANGE = (5.0, 90.0)
# Fraction of (Σ Z)² below which an unscaled intensity is round-off of a systematic absence.
ABSENT_FLOOR_FRACTION = 1e-12


class NoPeaksError(ValueError):
    """A structure has no reflection inside the requested 2θ range at the requested wavelength."""


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

    def __len__(self) -> int:
        return len(self.two_theta)

    def strongest(self) -> tuple[float, float]:
        """(2θ in degrees, intensity) of the strongest peak."""
        index = int(np.argmax(self.intensity))
        return float(self.two_theta[index]), float(self.intensity[index])


def pymatgen_peaks(
    structure: Structure,
    wavelength_angstrom: float,
    two_theta_range: tuple[float, float],
    debye_waller_factors: dict[str, float] | None = None,
) -> PeakList:
    """Peak list from pymatgen's XRDCalculator (the reference engine).

    pymatgen scales the strongest peak to 100 even when every reflection in range is systematically
    absent, turning round-off (|F|² ~ 1e-25) into a full peak; unscaled intensities below
    `absent_reflection_floor` are dropped first, so such a range has no peaks.
    """
    calculator = XRDCalculator(wavelength=wavelength_angstrom, debye_waller_factors=debye_waller_factors)
    try:
        pattern = calculator.get_pattern(structure, scaled=False, two_theta_range=tuple(two_theta_range))
    except ValueError as error:
        # pymatgen fails while unpacking an empty peak table when no reflection lies in range
        if "not enough values to unpack" not in str(error):
            raise
        return _empty(wavelength_angstrom)
    intensity = np.asarray(pattern.y, dtype=float)
    real = intensity > absent_reflection_floor(structure)
    if not real.any():
        return _empty(wavelength_angstrom)
    intensity = intensity[real]
    return PeakList(
        two_theta=np.asarray(pattern.x, dtype=float)[real],
        intensity=100.0 * intensity / intensity.max(),
        d_spacing=np.asarray(pattern.d_hkls, dtype=float)[real],
        wavelength=wavelength_angstrom,
        hkls=tuple(tuple(tuple(int(i) for i in family["hkl"]) for family in peak)
                   for peak, keep in zip(pattern.hkls, real) if keep),
    )


def absent_reflection_floor(structure: Structure) -> float:
    """Unscaled intensity below which a reflection is round-off of a systematic absence.

    |F|² of a real reflection is of order (Σ Z)² times the Lorentz-polarization factor (>= 2); a
    fraction 1e-12 of (Σ Z)² is far below any real reflection and far above float64 round-off.
    """
    electrons = sum(species.Z * occupancy for site in structure for species, occupancy in site.species.items())
    return ABSENT_FLOOR_FRACTION * float(electrons) ** 2


def _empty(wavelength_angstrom: float) -> PeakList:
    empty = np.zeros(0)
    return PeakList(two_theta=empty, intensity=empty, d_spacing=empty, wavelength=wavelength_angstrom)


# name -> function(structure, wavelength Å, (2θ min, 2θ max), debye_waller_factors) -> PeakList
ENGINES: dict[str, Callable[..., PeakList]] = {"pymatgen": pymatgen_peaks}


def register_engine(name: str, engine: Callable[..., PeakList]) -> None:
    ENGINES[name] = engine


class XRDSimulator:
    """Simulate the powder peak list of a structure at one wavelength over one 2θ range.

    Args:
        wavelength: line name ('CuKa', 'MoKa', ...) or value in Å.
        two_theta_range: (min, max) in degrees.
        engine: name of a registered engine ('pymatgen' is the reference).
        debye_waller_factors: optional {element symbol: B in Å²}.
    """

    def __init__(
        self,
        wavelength: str | float = DEFAULT_WAVELENGTH,
        two_theta_range: tuple[float, float] = DEFAULT_TWO_THETA_RANGE,
        engine: str = "pymatgen",
        debye_waller_factors: dict[str, float] | None = None,
    ):
        self.wavelength_angstrom = resolve_wavelength(wavelength)
        low, high = (float(v) for v in two_theta_range)
        if not 0 <= low < high <= 180:
            raise ValueError(f"2θ range must satisfy 0 <= min < max <= 180 degrees, got {two_theta_range}")
        self.two_theta_range = (low, high)
        if engine not in ENGINES:
            _load_optional_engines()
        if engine not in ENGINES:
            raise ValueError(f"unknown XRD engine {engine!r}; available: {', '.join(sorted(ENGINES))}")
        self.engine = engine
        self.debye_waller_factors = dict(debye_waller_factors) if debye_waller_factors else None

    def simulate(self, structure: Structure) -> PeakList:
        """Peak list of `structure`; raises NoPeaksError when no reflection falls in the 2θ range."""
        peaks = ENGINES[self.engine](structure, self.wavelength_angstrom, self.two_theta_range, self.debye_waller_factors)
        if len(peaks) == 0:
            d_max = self.wavelength_angstrom / (2 * np.sin(np.radians(self.two_theta_range[1] / 2)))
            raise NoPeaksError(
                f"{structure.composition.reduced_formula}: no allowed reflection between 2θ = {self.two_theta_range[0]:g}° "
                f"and {self.two_theta_range[1]:g}° at λ = {self.wavelength_angstrom:g} Å (this range sees only d >= "
                f"{d_max:.3f} Å, and any reflection there is systematically absent)"
            )
        return peaks


def _load_optional_engines() -> None:
    """Import engine modules that register themselves (kept lazy so the reference path stays light)."""
    import xrdnet.xrd.fast_engine  # noqa: F401
