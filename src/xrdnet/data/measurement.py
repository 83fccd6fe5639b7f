"""Random draws of how a diffractometer records a pattern, for the augmenter (PeakAugmenter).

Each function draws one effect from its range and applies it to a peak list or a scan; the physics
formulas are in xrdnet.xrd.instrument. Ranges (documented in configs/data/augment/instrument.yaml):
- Caglioti U, V, W (deg²): W log-uniform (FWHM at 2θ → 0 of sqrt(W): 0.003° for a synchrotron up to
  0.07° for a lab Bragg-Brentano diffractometer), U log-uniform, V = −2 c sqrt(U W) with c ~ U(0, 0.9),
  so the minimum of U t² + V t + W, W (1 − c²), stays positive (a real instrument's V is negative);
- sample displacement s (mm) uniform ±, goniometer radius R (mm) uniform;
- March-Dollase r log-uniform; the cached peak lists carry no hkl, so the angle α between each
  reflection's normal and the preferred direction is drawn per peak with cos α ~ U(0, 1) (a random
  direction): the spread of texture factors is right, their correlation between related reflections
  (h00, 2h00, ...) is not, and a multiplet's average over its members is replaced by one member;
- an impurity phase: another item's peaks, scaled so its strongest line is a fraction of the main one's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from xrdnet.xrd.instrument import displacement_shift_deg, march_dollase_weight
from xrdnet.xrd.profile import TwoThetaGrid


def log_uniform(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    return float(np.exp(rng.uniform(*np.log(bounds))))


def draw_caglioti(rng: np.random.Generator, u_bounds: Sequence[float], w_bounds: Sequence[float]) -> tuple[float, float, float]:
    """(U, V, W) in deg², with V < 0 and U tan²θ + V tanθ + W > 0 at every angle."""
    u, w = log_uniform(rng, u_bounds), log_uniform(rng, w_bounds)
    return u, -2.0 * rng.uniform(0.0, 0.9) * math.sqrt(u * w), w


def displace(two_theta: np.ndarray, rng: np.random.Generator, max_displacement_mm: float,
             radius_bounds_mm: Sequence[float]) -> np.ndarray:
    """Peaks moved by a sample displaced by s ~ U(±max) mm on a goniometer of radius R ~ U(bounds) mm."""
    shift = displacement_shift_deg(two_theta, rng.uniform(-max_displacement_mm, max_displacement_mm),
                                   rng.uniform(*radius_bounds_mm))
    return two_theta + shift


def textured(intensity: np.ndarray, rng: np.random.Generator, r_bounds: Sequence[float]) -> np.ndarray:
    """Intensities times the March-Dollase factor of r ~ log-U(bounds), each peak at a random α (module doc)."""
    return intensity * march_dollase_weight(rng.uniform(0.0, 1.0, intensity.size), log_uniform(rng, r_bounds))


def with_impurity(two_theta: np.ndarray, intensity: np.ndarray, impurity_two_theta: np.ndarray,
                  impurity_intensity: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Main peaks plus impurity peaks scaled so the impurity's strongest is `fraction` of the main strongest."""
    impurity_intensity = np.asarray(impurity_intensity, dtype=float)
    if impurity_intensity.size == 0 or impurity_intensity.max() <= 0 or intensity.size == 0:
        return two_theta, intensity
    scale = fraction * intensity.max() / impurity_intensity.max()
    return (np.concatenate([two_theta, np.asarray(impurity_two_theta, dtype=float)]),
            np.concatenate([intensity, impurity_intensity * scale]))


class PeakListPool:
    """Peak lists to draw impurity phases from: items `indices` of a dataset with a .peaks(i) method."""

    def __init__(self, peaks, indices: np.ndarray):
        if len(indices) == 0:
            raise ValueError("an impurity pool needs at least one peak list")
        self.peaks, self.indices = peaks, np.asarray(indices)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return self.peaks.peaks(int(self.indices[rng.integers(len(self.indices))]))


def scan_grid(grid: TwoThetaGrid, rng: np.random.Generator, step_bounds: Sequence[float] | None,
              partial: bool, start_bounds: Sequence[float], stop_bounds: Sequence[float]) -> tuple[TwoThetaGrid, int]:
    """The grid a scan is rendered on, and how many of the scan's points each of its points averages.

    The scan's step is log-uniform in step_bounds (or the model's), over a partial range (start, stop
    uniform in their bounds, inside the model grid) when `partial`, else the model's range. A scan k
    times finer than the model's step is averaged over k points by resample_to_grid before the model
    sees it: the same as rendering it at the model's step (peaks are never narrower than one step
    there) with 1/k of the noise variance of one point, which is how it is rendered (k returned), at
    an eighth of the cost for the finest steps.
    """
    step = log_uniform(rng, step_bounds) if step_bounds else grid.step_deg
    start, stop = grid.start_deg, grid.stop_deg
    if partial:
        start = max(start, rng.uniform(*start_bounds))
        stop = min(stop, rng.uniform(*stop_bounds))
        if stop - start < 10 * grid.step_deg:  # bounds that leave almost nothing: keep the whole range
            start, stop = grid.start_deg, grid.stop_deg
    averaged = int(round(grid.step_deg / step))  # as resample_to_grid counts them
    if averaged > 1:
        step = grid.step_deg
    return TwoThetaGrid(start, stop, step), max(averaged, 1)


def low_angle_rise(points: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """Air scatter and the direct beam's tail: a (2θ_0 / 2θ)^p, a ~ U(0, amplitude) at the scan start 2θ_0, p ~ U(1, 4)."""
    return rng.uniform(0.0, amplitude) * (points[0] / points) ** rng.uniform(1.0, 4.0)


def amorphous_humps(points: np.ndarray, rng: np.random.Generator, amplitude: float,
                    wavelength_angstrom: float) -> np.ndarray:
    """One or two broad Gaussian humps (glass, a polymer holder, an amorphous second phase) at d ~ U(1.8, 6) Å,
    σ ~ U(1.5, 6)° 2θ, heights ~ U(0, amplitude)."""
    humps = np.zeros_like(points)
    for _ in range(int(rng.integers(1, 3))):
        ratio = wavelength_angstrom / (2.0 * rng.uniform(1.8, 6.0))
        centre = 2.0 * math.degrees(math.asin(min(ratio, 1.0)))
        humps += rng.uniform(0.0, amplitude) * np.exp(-0.5 * ((points - centre) / rng.uniform(1.5, 6.0)) ** 2)
    return humps
