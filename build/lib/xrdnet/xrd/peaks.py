"""Structure -> powder diffraction peak list, with the engine the configuration names.

Two engines compute the same kinematic peak list (`engine` names them in configs, checkpoints and
dataset cache keys):
- 'fast': xrdnet.xrd.kinematic, the vectorized engine that training data is simulated with (default);
- 'pymatgen': xrdnet.xrd.pymatgen_engine, pymatgen's XRDCalculator, the reference it reproduces.
Each is a function (structure, wavelength Å, (2θ min, 2θ max), debye_waller_factors) -> PeakList.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymatgen.core import Structure

from xrdnet.xrd.kinematic import kinematic_peaks
from xrdnet.xrd.peak_list import PeakList
from xrdnet.xrd.pymatgen_engine import pymatgen_peaks
from xrdnet.xrd.wavelengths import resolve_wavelength

DEFAULT_WAVELENGTH = "CuKa"
DEFAULT_TWO_THETA_RANGE = (5.0, 90.0)
DEFAULT_ENGINE = "fast"

ENGINES: dict[str, Callable[..., PeakList]] = {"fast": kinematic_peaks, "pymatgen": pymatgen_peaks}


class NoPeaksError(ValueError):
    """A structure has no reflection inside the requested 2θ range at the requested wavelength."""


class XRDSimulator:
    """Simulate the powder peak list of a structure at one wavelength over one 2θ range.

    Args:
        wavelength: line name ('CuKa', 'MoKa', ...) or value in Å.
        two_theta_range: (min, max) in degrees.
        engine: 'fast' (the vectorized kinematic engine, default) or 'pymatgen' (the reference).
        debye_waller_factors: optional {element symbol: B in Å²}.
    """

    def __init__(
        self,
        wavelength: str | float = DEFAULT_WAVELENGTH,
        two_theta_range: tuple[float, float] = DEFAULT_TWO_THETA_RANGE,
        engine: str = DEFAULT_ENGINE,
        debye_waller_factors: dict[str, float] | None = None,
    ):
        self.wavelength_angstrom = resolve_wavelength(wavelength)
        low, high = (float(v) for v in two_theta_range)
        if not 0 <= low < high <= 180:
            raise ValueError(f"2θ range must satisfy 0 <= min < max <= 180 degrees, got {two_theta_range}")
        self.two_theta_range = (low, high)
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
