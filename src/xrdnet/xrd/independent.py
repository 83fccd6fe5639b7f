"""Peak lists from a simulator that is not xrdnet's: xrayutilities' powder model (optional extra [robustness]).

xrayutilities (Kriegner et al., J. Appl. Cryst. 46 (2013) 1162) reads the structure from a CIF with its
own parser and computes every allowed reflection with its own atomic form factors, including the
anomalous dispersion at the X-ray energy, and its own Lorentz-polarization factor
(1 + cos² 2θ) / (2 sin²θ cos θ): nothing of xrdnet's simulator (pymatgen's form factors, its peak
merging) is shared, so patterns built from these lists can show a gap between the two physics.
Equivalent reflections are merged here into one line per 2θ (within 1e-4°).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

CU_KA1_LINE = "CuKa1"  # xrayutilities' name of the line; 1.5405929 Å in its table


def _xrayutilities():
    try:
        import xrayutilities
    except ImportError:
        raise ImportError("the independent simulator needs xrayutilities: pip install -e '.[robustness]'") from None
    return xrayutilities


def independent_peaks(structure: Structure, line: str = CU_KA1_LINE, max_two_theta_deg: float = 100.0,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(2θ in degrees ascending, intensity with the strongest 100) of `structure`, by xrayutilities' powder model."""
    xu = _xrayutilities()
    from pymatgen.io.cif import CifWriter

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "structure.cif"
        path.write_text(str(CifWriter(structure)))  # xrayutilities reads CIFs from files only
        crystal = xu.materials.Crystal.fromCIF(str(path))
        powder = xu.simpack.PowderDiffraction(crystal, en=line, tt_cutoff=max_two_theta_deg)
        try:
            lines = [(2.0 * float(v["ang"]), float(v["r"])) for v in powder.data.values()]
        finally:
            powder.close()
    if not lines:
        return np.zeros(0), np.zeros(0)
    two_theta, strength = np.array(lines).T
    order = np.argsort(two_theta)
    two_theta, strength = two_theta[order], strength[order]
    # one line per position: reflections of one family come one by one
    starts = np.concatenate([[True], np.diff(two_theta) > 1e-4])
    merged = np.add.reduceat(strength, np.flatnonzero(starts))
    keep = merged > 1e-9 * merged.max()
    return two_theta[starts][keep], 100.0 * merged[keep] / merged.max()


def line_wavelength(line: str = CU_KA1_LINE) -> float:
    """Wavelength (Å) of an xrayutilities line name."""
    xu = _xrayutilities()
    return float(xu.utilities.en2lam(xu.utilities.energy(line)))
