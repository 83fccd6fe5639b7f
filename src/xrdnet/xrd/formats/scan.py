"""What every instrument-file reader returns: a 2θ scan and, when the file records it, its radiation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xrdnet.xrd.measured import MIN_POINTS, PatternFileError, ascending_scan
from xrdnet.xrd.wavelengths import KALPHA2_RATIO, Radiation


@dataclass(frozen=True)
class MeasuredScan:
    """A powder scan: 2θ (degrees, ascending), intensity (counts or counts/s), the radiation the file
    records (None when it records none) and the file format it was read from."""

    two_theta: np.ndarray
    intensity: np.ndarray
    radiation: Radiation | None
    format: str


def checked_scan(path: Path, two_theta, intensity, radiation: Radiation | None, format: str) -> MeasuredScan:
    """A MeasuredScan from arrays read out of `path`; PatternFileError (one line, naming the file) when the
    arrays differ in length, hold fewer than MIN_POINTS points or non-finite values, or 2θ is not a scan."""
    two_theta = np.asarray(two_theta, dtype=float).ravel()
    intensity = np.asarray(intensity, dtype=float).ravel()
    if two_theta.size != intensity.size:
        raise PatternFileError(f"{path}: {two_theta.size} 2θ positions but {intensity.size} intensities")
    if two_theta.size < MIN_POINTS:
        raise PatternFileError(f"{path}: only {two_theta.size} data points; need at least {MIN_POINTS}")
    if not (np.all(np.isfinite(two_theta)) and np.all(np.isfinite(intensity))):
        raise PatternFileError(f"{path}: non-finite value (NaN or inf) in the data")
    two_theta, intensity = ascending_scan(path, two_theta, intensity)
    return MeasuredScan(two_theta, intensity, radiation, format)


def recorded_radiation(path: Path, kalpha1, kalpha2=None, ratio=None, single_line: bool = False) -> Radiation | None:
    """The Radiation a file records (values as found in it, Å), None when it records no Kα1.

    A Kα2 without a ratio gets the tube's usual KALPHA2_RATIO; single_line (a Kα1 monochromator named in the
    file) keeps Kα1 alone. Unreadable numbers raise PatternFileError naming the file.
    """
    if kalpha1 is None:
        return None
    try:
        kalpha1 = float(kalpha1)
        kalpha2 = None if kalpha2 in (None, "") or single_line else float(kalpha2)
        ratio = 0.0 if kalpha2 is None else (KALPHA2_RATIO if ratio in (None, "") else float(ratio))
        return Radiation(kalpha1, kalpha2 if ratio > 0 else None, ratio)
    except ValueError as error:
        raise PatternFileError(f"{path}: unreadable wavelength in the file ({error})") from None
