"""X-ray wavelengths by anode line name or in ångström, and Bragg's law conversions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.diffraction.xrd import WAVELENGTHS

# pymatgen's table (Å): CuKa is the Kα1/Kα2 weighted mean 1.54184 Å.
WAVELENGTHS_ANGSTROM: dict[str, float] = dict(WAVELENGTHS)


def resolve_wavelength(wavelength: str | float) -> float:
    """Wavelength in Å from a line name ('CuKa', 'MoKa1', ...) or a number in Å (also as a string)."""
    if isinstance(wavelength, str):
        key = wavelength.strip()
        for name, value in WAVELENGTHS_ANGSTROM.items():
            if name.lower() == key.lower():
                return value
        try:
            wavelength = float(key)
        except ValueError:
            raise ValueError(
                f"unknown wavelength {key!r}: give a line name ({', '.join(WAVELENGTHS_ANGSTROM)}) or a value in Å"
            ) from None
    value = float(wavelength)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"wavelength must be a positive number of ångström, got {wavelength!r}")
    return value


def wavelength_name(wavelength: str | float) -> str:
    """Canonical label for a wavelength: the line name if it is one, else e.g. '1.2345A'."""
    value = resolve_wavelength(wavelength)
    for name, known in WAVELENGTHS_ANGSTROM.items():
        if isinstance(wavelength, str) and name.lower() == wavelength.strip().lower():
            return name
        if known == value and not isinstance(wavelength, str):
            return name
    return f"{value:g}A"


def two_theta_to_d(two_theta_deg: np.ndarray | float, wavelength_angstrom: float) -> np.ndarray:
    """Interplanar spacing d (Å) from the diffraction angle 2θ (degrees): λ = 2 d sin θ."""
    theta = np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0)
    return wavelength_angstrom / (2.0 * np.sin(theta))


def d_to_two_theta(d_angstrom: np.ndarray | float, wavelength_angstrom: float) -> np.ndarray:
    """Diffraction angle 2θ (degrees) of spacing d (Å); NaN where λ / 2d > 1 (no reflection)."""
    ratio = wavelength_angstrom / (2.0 * np.asarray(d_angstrom, dtype=float))
    # arcsin of the ratio clipped to ±1, NaN where it is above 1, without np.where/np.clip/errstate overheads:
    # this runs a few times per augmented training pattern
    if ratio.ndim == 0:
        return np.float64(2.0 * np.degrees(np.arcsin(max(float(ratio), -1.0))) if ratio <= 1.0 else np.nan)
    two_theta = np.maximum(ratio, -1.0)
    np.minimum(two_theta, 1.0, out=two_theta)
    np.arcsin(two_theta, out=two_theta)
    np.degrees(two_theta, out=two_theta)
    two_theta *= 2.0
    two_theta[~(ratio <= 1.0)] = np.nan
    return two_theta


def convert_two_theta(two_theta_deg: np.ndarray | float, from_wavelength: float, to_wavelength: float) -> np.ndarray:
    """Move 2θ (degrees) measured at one wavelength (Å) to where the same d spacing diffracts at another."""
    return d_to_two_theta(two_theta_to_d(two_theta_deg, from_wavelength), to_wavelength)


# A tube source without a monochromator emits Kα2 beside Kα1 at about half its intensity.
KALPHA2_RATIO = 0.5
# (λ(Kα2) − λ(Kα1)) / λ(Kα weighted mean) of the common anodes: the doublet's split is constant in d.
KALPHA_RELATIVE_SPLIT = {anode: (WAVELENGTHS_ANGSTROM[f"{anode}Ka2"] - WAVELENGTHS_ANGSTROM[f"{anode}Ka1"])
                         / WAVELENGTHS_ANGSTROM[f"{anode}Ka"] for anode in ("Cu", "Mo")}


def kalpha1_wavelength(wavelength_angstrom: float, relative_split: float, ratio: float = KALPHA2_RATIO) -> float:
    """λ1 (Å) of a Kα doublet whose intensity-weighted mean is wavelength_angstrom and (λ2 − λ1)/λ is relative_split."""
    return wavelength_angstrom * (1.0 - ratio * relative_split / (1.0 + ratio))


# the Kα weighted-mean lines of the table whose Kα1 and Kα2 it also holds ('CuKa', 'MoKa', ...): the known doublets
KALPHA_DOUBLET_NAMES = tuple(name for name in WAVELENGTHS_ANGSTROM
                             if name.endswith("Ka") and f"{name}1" in WAVELENGTHS_ANGSTROM)


def kalpha_relative_split(wavelength: str | float) -> float | None:
    """(λ2 − λ1)/λ of a Kα doublet named by its mean line ('CuKa', 'MoKa', ...); None for anything else."""
    if not isinstance(wavelength, str):
        return None
    key = wavelength.strip().lower()
    for name in KALPHA_DOUBLET_NAMES:
        if name.lower() == key:
            return (WAVELENGTHS_ANGSTROM[f"{name}2"] - WAVELENGTHS_ANGSTROM[f"{name}1"]) / WAVELENGTHS_ANGSTROM[name]
    return None


@dataclass(frozen=True)
class Radiation:
    """The wavelengths a scan was recorded with: Kα1 (Å), and for an unmonochromated tube Kα2 (Å) with
    its intensity ratio I(Kα2)/I(Kα1). A single line (Kα1 behind a monochromator, a synchrotron) has
    no Kα2 or a ratio of 0."""

    kalpha1_angstrom: float
    kalpha2_angstrom: float | None = None
    kalpha2_ratio: float = 0.0

    def __post_init__(self):
        lines = [self.kalpha1_angstrom] + [self.kalpha2_angstrom] * (self.kalpha2_angstrom is not None)
        if not all(np.isfinite(value) and value > 0 for value in lines):
            raise ValueError(f"wavelengths must be positive numbers of ångström, got {lines}")
        if not (np.isfinite(self.kalpha2_ratio) and 0.0 <= self.kalpha2_ratio <= 1.0):
            raise ValueError(f"Kα2/Kα1 intensity ratio must be within 0..1, got {self.kalpha2_ratio!r}")

    @classmethod
    def named(cls, wavelength: str | float) -> Radiation:
        """A line name ('CuKa' is the Kα1 + Kα2 doublet at KALPHA2_RATIO, 'CuKa1' one line) or a single value in Å."""
        mean = resolve_wavelength(wavelength)
        split = kalpha_relative_split(wavelength)
        if split is None:
            return cls(mean)
        kalpha1 = kalpha1_wavelength(mean, split)
        return cls(kalpha1, kalpha1 + split * mean, KALPHA2_RATIO)

    @property
    def doublet(self) -> bool:
        """Whether the scan holds a Kα2 line beside each Kα1 line."""
        return self.kalpha2_angstrom is not None and self.kalpha2_ratio > 0 and self.kalpha2_angstrom > self.kalpha1_angstrom

    @property
    def mean_angstrom(self) -> float:
        """Intensity-weighted mean wavelength (Å): (λ1 + ratio · λ2) / (1 + ratio), or λ1 for one line."""
        if not self.doublet:
            return float(self.kalpha1_angstrom)
        return float((self.kalpha1_angstrom + self.kalpha2_ratio * self.kalpha2_angstrom) / (1.0 + self.kalpha2_ratio))

    @property
    def relative_split(self) -> float | None:
        """(λ2 − λ1) / mean λ of the doublet; None for one line."""
        return (self.kalpha2_angstrom - self.kalpha1_angstrom) / self.mean_angstrom if self.doublet else None

    def describe(self) -> str:
        if not self.doublet:
            return f"{self.kalpha1_angstrom:.6g} A"
        return f"Ka1 {self.kalpha1_angstrom:.6g} A, Ka2 {self.kalpha2_angstrom:.6g} A, ratio {self.kalpha2_ratio:.3g}"


def kalpha_doublet(two_theta_deg: np.ndarray, intensity: np.ndarray, wavelength_angstrom: float,
                   relative_split: float, ratio: float = KALPHA2_RATIO) -> tuple[np.ndarray, np.ndarray]:
    """Lines simulated at the Kα weighted-mean wavelength λ (Å), each split into its Kα1 and Kα2 lines.

    With λ2 − λ1 = relative_split · λ and λ = (λ1 + ratio · λ2) / (1 + ratio), each d diffracts at
    2θ1 (λ1) with intensity I / (1 + ratio) and at 2θ2 (λ2) with ratio · I / (1 + ratio): the total
    is kept and the intensity-weighted wavelength stays λ. Kα2 lines past 2θ = 180° are dropped.
    Returns (2θ degrees, intensity) of the Kα1 lines followed by the Kα2 lines.
    """
    d = two_theta_to_d(two_theta_deg, wavelength_angstrom)
    intensity = np.asarray(intensity, dtype=float)
    lambda1 = kalpha1_wavelength(wavelength_angstrom, relative_split, ratio)
    lambda2 = lambda1 + relative_split * wavelength_angstrom
    two_theta = np.concatenate([d_to_two_theta(d, lambda1), d_to_two_theta(d, lambda2)])
    weights = np.concatenate([intensity / (1.0 + ratio), intensity * (ratio / (1.0 + ratio))])
    keep = np.isfinite(two_theta)
    return two_theta[keep], weights[keep]
