"""The abscissa and intensity scale the network reads: 2θ as rendered, or ln Q.

Profiles are rendered and preprocessed on a uniform 2θ grid (`TwoThetaGrid`). The network may read
them on another axis:

- 'two_theta': the grid itself.
- 'ln_q': uniform in ln Q, Q = 4π sin θ / λ (Å⁻¹), from the grid's first to its last 2θ. Bragg's law
  gives Q = 2π / d, so a cell scaled by a factor s (every d times s) shifts the whole pattern by
  −ln s on this axis without changing its shape: the lattice metric that decides the crystal
  system (ratios of d spacings) becomes a pattern of fixed spacings that a convolution finds
  wherever the cell size puts it. 2θ stretches the same pattern non-linearly.

Each ln Q bin holds the mean of the 2θ profile (linearly interpolated) at SUBSAMPLES evenly spaced
points inside the bin: at high angle, where a bin spans several grid steps, that is a box average
that keeps a narrow peak's area instead of letting it fall between samples; at low angle, where bins
are narrower than a grid step, it is linear interpolation. `intensity='sqrt'` takes √ of the result, which
keeps weak lines visible beside strong ones (counting statistics make √I the natural scale).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from xrdnet.xrd.profile import TwoThetaGrid

AXIS_KINDS = ("two_theta", "ln_q")
INTENSITY_SCALES = ("linear", "sqrt")
SUBSAMPLES = 4  # points averaged per ln Q bin: with 2048 bins over 5-90°, about one per grid step at 90°


@dataclass(frozen=True)
class ModelAxis:
    """What the network reads: kind ('two_theta' | 'ln_q'), n_points (ln_q only), intensity ('linear' | 'sqrt')."""

    kind: str = "two_theta"
    n_points: int = 2048
    intensity: str = "linear"

    def __post_init__(self):
        if self.kind not in AXIS_KINDS:
            raise ValueError(f"unknown model axis {self.kind!r}; options: {', '.join(AXIS_KINDS)}")
        if self.intensity not in INTENSITY_SCALES:
            raise ValueError(f"unknown intensity scale {self.intensity!r}; options: {', '.join(INTENSITY_SCALES)}")
        if int(self.n_points) < 16:
            raise ValueError(f"model axis n_points must be at least 16, got {self.n_points!r}")
        object.__setattr__(self, "n_points", int(self.n_points))

    def length(self, grid: TwoThetaGrid) -> int:
        """Number of points the network reads."""
        return grid.n_points if self.kind == "two_theta" else self.n_points

    def sample_positions(self, grid: TwoThetaGrid) -> np.ndarray | None:
        """(n_points, SUBSAMPLES) fractional indices into grid.points averaged into each ln Q bin; None for 2θ."""
        if self.kind == "two_theta":
            return None
        ln_sin = np.log(np.sin(np.radians(self.edges_two_theta_deg(grid) / 2)))
        fractions = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES
        ln_points = ln_sin[:-1, None] + np.diff(ln_sin)[:, None] * fractions
        two_theta = 2.0 * np.degrees(np.arcsin(np.exp(ln_points)))
        return np.clip((two_theta - grid.start_deg) / grid.step_deg, 0.0, grid.n_points - 1)

    def edges_two_theta_deg(self, grid: TwoThetaGrid) -> np.ndarray:
        """2θ (degrees) of the ln Q bin edges: uniform in ln sin θ from the first to the last grid point."""
        first, last = grid.points[0], grid.points[-1]
        ln_sin = np.linspace(math.log(math.sin(math.radians(first / 2))), math.log(math.sin(math.radians(last / 2))),
                             self.n_points + 1)
        edges = 2.0 * np.degrees(np.arcsin(np.exp(ln_sin)))
        edges[0], edges[-1] = first, last  # exact ends despite round-off
        return edges

    def centers_two_theta_deg(self, grid: TwoThetaGrid) -> np.ndarray:
        """2θ (degrees) of the points the network reads (ln Q bin centres, or the grid)."""
        if self.kind == "two_theta":
            return grid.points
        edges = np.log(np.sin(np.radians(self.edges_two_theta_deg(grid) / 2)))
        return 2.0 * np.degrees(np.arcsin(np.exp(0.5 * (edges[1:] + edges[:-1]))))

    def apply(self, profiles: np.ndarray, grid: TwoThetaGrid) -> np.ndarray:
        """Profiles (..., grid.n_points) on the 2θ grid -> (..., length) as the network reads them, max 1.

        The numpy reference of `xrdnet.models.resample.SubsampleAverage` (used inside the network).
        """
        profiles = np.asarray(profiles, dtype=float)
        positions = self.sample_positions(grid)
        if positions is not None:
            rows = profiles.reshape(-1, grid.n_points)
            sampled = np.stack([np.interp(positions.ravel(), np.arange(grid.n_points), row) for row in rows])
            profiles = sampled.reshape(profiles.shape[:-1] + positions.shape).mean(axis=-1)
        profiles = np.maximum(profiles, 0.0)
        if self.intensity == "sqrt":
            profiles = np.sqrt(profiles)
        top = profiles.max(axis=-1, keepdims=True)
        return (profiles / np.where(top > 0, top, 1.0)).astype(np.float32)

    def to_dict(self) -> dict:
        return asdict(self)
