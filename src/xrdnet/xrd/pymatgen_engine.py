"""The reference XRD engine: pymatgen's `XRDCalculator`.

Kinematic diffraction: atomic scattering factors from the International Tables fit,
Lorentz-polarization factor (1 + cos² 2θ) / (sin² θ cos θ), optional Debye-Waller factors, peaks
within 1e-5° merged, and intensities scaled so the strongest peak is 100.
"""

from __future__ import annotations

import numpy as np
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Structure

from xrdnet.utils.errors import first_line
from xrdnet.xrd.kinematic import UnsupportedStructureError
from xrdnet.xrd.peak_list import ABSENT_FLOOR_FRACTION, PeakList


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
            # pymatgen's complaint about the structure (e.g. no scattering coefficients for a species)
            raise UnsupportedStructureError(f"{structure.composition.reduced_formula}: {first_line(error)}") from None
        return PeakList.empty(wavelength_angstrom)
    intensity = np.asarray(pattern.y, dtype=float)
    real = intensity > absent_reflection_floor(structure)
    if not real.any():
        return PeakList.empty(wavelength_angstrom)
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
    """Unscaled intensity below which a reflection is round-off of a systematic absence (see ABSENT_FLOOR_FRACTION)."""
    electrons = sum(species.Z * occupancy for site in structure for species, occupancy in site.species.items())
    return ABSENT_FLOOR_FRACTION * float(electrons) ** 2
