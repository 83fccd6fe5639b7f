"""Physical augmentation of simulated peak lists before rendering them into training profiles.

Every perturbation mimics something that differs between a simulation and a real measurement:
instrument zero error (zero shift), the Kα2 line of a tube without a monochromator (each peak
doubled at the Kα2 wavelength, half as strong, on a random fraction of patterns), lattice parameters off by a little (isotropic strain, applied
to d spacings through Bragg's law so peak positions move as they would and the symmetry is
kept), crystallite size (Scherrer broadening), preferred orientation (per-peak intensity
jitter), counting statistics (Poisson noise, in its normal limit, including the counts of a
background that was measured and subtracted, as `xrdnet-predict` subtracts it), detector noise
(Gaussian) and residual background (low-angle decay, amorphous halo, linear slope). Each one is
switched off by 0 or None.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import d_to_two_theta, kalpha_doublet, two_theta_to_d

CU_KA1_ANGSTROM = 1.54056  # amorphous-halo widths below are given at CuKα1 and scaled by λ


def _range(name: str, value: Sequence[float] | None) -> tuple[float, float] | None:
    """A (low, high) range of positive numbers, or None (off)."""
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"augmentation {name} must be a [low, high] pair of numbers or null, got {value!r}") from None
    if not 0 < low <= high:
        raise ValueError(f"augmentation {name} must satisfy 0 < low <= high, got [{low:g}, {high:g}]")
    return low, high


def _amount(name: str, value: float) -> float:
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"augmentation {name} must be a non-negative number (0 = off), got {value!r}")
    return value


class PeakAugmenter:
    """Render a peak list into a randomly perturbed, normalized profile (and clean profiles for evaluation).

    Args:
        grid: TwoThetaGrid (or its dict) of the output profile.
        settings: ProfileSettings (or its dict): peak shape, and the width used when broadening is off.
        zero_shift_deg: every peak moves by the same δ ~ U(−z, z) degrees 2θ.
        strain: isotropic lattice strain ε ~ U(−s, s); every d becomes d (1 + ε), 2θ follows Bragg's law.
        crystallite_size_nm: [low, high]: Scherrer crystallite size drawn log-uniformly (nm).
        fwhm_deg: [low, high]: one fixed FWHM drawn uniformly (degrees 2θ); overrides crystallite_size_nm.
            Both None: widths come from `settings`.
        kalpha2_probability: fraction of patterns whose peaks get a Kα2 line (a tube without a
            monochromator); the simulated wavelength is then the Kα1/Kα2 weighted mean.
        kalpha2_split: [low, high]: relative doublet split (λ2 − λ1) / λ drawn uniformly: CuKα 0.0025;
            MoKα 0.0060 (a MoKα scan moved onto a CuKα axis keeps its relative split).
        intensity_jitter: σ of the log-normal factor exp(σ N(0, 1)) applied to each peak's intensity.
        max_counts: [low, high]: counts at the strongest point, drawn log-uniformly; counting noise
            follows from that scale (fewer counts, more noise). None: no counting noise.
        removed_background: [low, high]: level of a background under the peaks, as a fraction of the
            strongest peak, drawn log-uniformly. It is taken to be subtracted before the model sees the
            pattern, so only its counting noise stays (needs max_counts). None: off.
        gaussian_noise: standard deviation of additive Gaussian noise, as a fraction of the maximum.
        background: largest amplitude of each background component, as a fraction of the maximum.
    """

    def __init__(
        self,
        grid: TwoThetaGrid | Mapping | None = None,
        settings: ProfileSettings | Mapping | None = None,
        zero_shift_deg: float = 0.05,
        strain: float = 0.005,
        crystallite_size_nm: Sequence[float] | None = (10.0, 60.0),
        fwhm_deg: Sequence[float] | None = None,
        intensity_jitter: float = 0.2,
        kalpha2_probability: float = 0.0,
        kalpha2_split: Sequence[float] | None = (0.0024, 0.0062),
        max_counts: Sequence[float] | None = (1e3, 1e5),
        removed_background: Sequence[float] | None = None,
        gaussian_noise: float = 0.002,
        background: float = 0.05,
    ):
        self.grid = TwoThetaGrid.from_dict(dict(grid)) if isinstance(grid, Mapping) else (grid or TwoThetaGrid())
        self.settings = (ProfileSettings.from_dict(dict(settings)) if isinstance(settings, Mapping)
                         else (settings or ProfileSettings()))
        self.zero_shift_deg = _amount("zero_shift_deg", zero_shift_deg)
        self.strain = _amount("strain", strain)
        if self.strain >= 0.5:
            raise ValueError(f"augmentation strain must be below 0.5 (a fraction of d, not %), got {strain!r}")
        self.fwhm_deg = _range("fwhm_deg", fwhm_deg)
        self.crystallite_size_nm = None if self.fwhm_deg else _range("crystallite_size_nm", crystallite_size_nm)
        self.intensity_jitter = _amount("intensity_jitter", intensity_jitter)
        self.kalpha2_probability = _amount("kalpha2_probability", kalpha2_probability)
        if self.kalpha2_probability > 1:
            raise ValueError(f"augmentation kalpha2_probability must be within 0..1, got {kalpha2_probability!r}")
        self.kalpha2_split = _range("kalpha2_split", kalpha2_split)
        if self.kalpha2_probability and not self.kalpha2_split:
            raise ValueError("augmentation kalpha2_probability needs a kalpha2_split range")
        self.max_counts = _range("max_counts", max_counts)
        self.removed_background = _range("removed_background", removed_background)
        if self.removed_background and not self.max_counts:
            raise ValueError("augmentation removed_background adds counting noise, so it needs max_counts")
        self.gaussian_noise = _amount("gaussian_noise", gaussian_noise)
        self.background = _amount("background", background)
        # grid-only parts of the background, computed once rather than per sample
        points = self.grid.points
        self._points = points
        self._from_start = points - self.grid.start_deg
        self._ramp_up = self._from_start / (self.grid.stop_deg - self.grid.start_deg)
        self._ramp_down = 1.0 - self._ramp_up

    def simulation_range(self) -> tuple[float, float]:
        """2θ range (degrees) of the simulated peaks this augmentation can move onto its grid.

        A peak at the grid's edge 2θ_e can come from sin θ = sin θ_e · (1 ± s)(1 + k)^±1 (strain s scales
        d by 1 + ε, |ε| <= s; a Kα line moves λ by at most the relative split k of the weighted mean the
        peaks are simulated at; Bragg: sin θ = λ / 2d), then from ± the zero shift z degrees. Rounded
        outwards to 0.01°. Peaks outside it never reach the grid, so simulating them is wasted.
        """
        split = self.kalpha2_split[1] if self.kalpha2_probability and self.kalpha2_split else 0.0
        low_deg = max(self.grid.start_deg - self.zero_shift_deg, 0.0)
        high_deg = min(self.grid.stop_deg + self.zero_shift_deg, 180.0)
        low_sin = np.sin(np.radians(low_deg / 2)) * (1.0 - self.strain) / (1.0 + split)
        high_sin = min(np.sin(np.radians(high_deg / 2)) * (1.0 + self.strain) * (1.0 + split), 1.0)
        low = np.floor(2 * np.degrees(np.arcsin(low_sin)) * 100 + 1e-6) / 100
        high = np.ceil(2 * np.degrees(np.arcsin(high_sin)) * 100 - 1e-6) / 100
        return float(low), float(min(high, 180.0))

    def render_clean(self, two_theta_deg: np.ndarray, intensity: np.ndarray, wavelength_angstrom: float) -> np.ndarray:
        """The unperturbed profile (validation/test), with the same grid and settings."""
        return render_profile(two_theta_deg, intensity, self.grid, self.settings, wavelength_angstrom)

    def __call__(self, two_theta_deg: np.ndarray, intensity: np.ndarray, wavelength_angstrom: float,
                 rng: np.random.Generator) -> np.ndarray:
        """Augmented profile (float32, length grid.n_points, max 1; all zeros when no peak reaches the grid)."""
        two_theta = np.asarray(two_theta_deg, dtype=float).ravel()
        intensity = np.asarray(intensity, dtype=float).ravel()
        if self.intensity_jitter:
            intensity = intensity * np.exp(self.intensity_jitter * rng.standard_normal(intensity.size))
        if self.strain:
            strained_d = two_theta_to_d(two_theta, wavelength_angstrom) * (1.0 + rng.uniform(-self.strain, self.strain))
            two_theta = d_to_two_theta(strained_d, wavelength_angstrom)
            reflected = np.isfinite(two_theta)  # a compressed d can pass beyond 2θ = 180°
            if not reflected.all():
                two_theta, intensity = two_theta[reflected], intensity[reflected]
        if self.kalpha2_probability and rng.random() < self.kalpha2_probability:
            two_theta, intensity = kalpha_doublet(two_theta, intensity, wavelength_angstrom,
                                                  rng.uniform(*self.kalpha2_split))
        if self.zero_shift_deg:
            two_theta = two_theta + rng.uniform(-self.zero_shift_deg, self.zero_shift_deg)
        profile = render_profile(two_theta, intensity, self.grid, self._draw_settings(rng), wavelength_angstrom)
        if profile.max() == 0:
            return profile
        if self.background:
            background = self._draw_background(rng, wavelength_angstrom)
            background += profile  # float64 + float32: the same sum as converting the profile first
            profile = background
        else:
            profile = profile.astype(float)
        noise = self._noise_variance(profile, rng)
        if noise is not None:
            np.sqrt(noise, out=noise)  # variance -> standard deviation -> one draw per point
            noise *= rng.standard_normal(profile.size)
            profile += noise
        np.maximum(profile, 0.0, out=profile)  # counts are never negative
        top = profile.max()
        if top > 0:
            profile /= top
        return profile.astype(np.float32)

    def _draw_settings(self, rng: np.random.Generator) -> ProfileSettings:
        if self.fwhm_deg:
            return dataclasses.replace(self.settings, fwhm_deg=rng.uniform(*self.fwhm_deg))
        if self.crystallite_size_nm:
            size = np.exp(rng.uniform(*np.log(self.crystallite_size_nm)))
            return dataclasses.replace(self.settings, fwhm_deg=None, crystallite_size_nm=size)
        return self.settings

    def _noise_variance(self, profile: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        """Variance, in units of the profile, of counting plus detector noise at each point (None: no noise).

        Counting noise: with `counts` at the maximum, a point holds λ = profile · counts counts, Poisson
        with variance λ, i.e. profile / counts in profile units; a removed background of level b adds
        b · counts counts to every point, so b / counts to the variance and nothing to the mean. Noise
        is drawn from the normal limit N(λ, λ), which matches Poisson to within a few % for λ ≳ 10
        (every point above 1 % of the maximum, at the ≥ 1e3 counts of the default range), so counting
        and detector noise are one Gaussian draw instead of exact Poisson sampling, which had been the
        pipeline's costliest step.
        """
        if not (self.max_counts or self.gaussian_noise):
            return None
        variance = np.zeros_like(profile)
        if self.max_counts:
            counts = np.exp(rng.uniform(*np.log(self.max_counts)))
            np.multiply(profile, 1.0 / counts, out=variance)
            if self.removed_background:
                variance += np.exp(rng.uniform(*np.log(self.removed_background))) / counts
        if self.gaussian_noise:
            variance += self.gaussian_noise**2
        return variance

    def _draw_background(self, rng: np.random.Generator, wavelength_angstrom: float) -> np.ndarray:
        """Smooth background on the grid: low-angle exponential decay + amorphous halo + linear slope."""
        span = self.grid.stop_deg - self.grid.start_deg
        decay, halo, slope = rng.uniform(0.0, self.background, 3)
        background = np.negative(self._from_start)
        background /= span * rng.uniform(0.05, 0.3)
        np.exp(background, out=background)
        background *= decay
        # an amorphous halo (glass, polymer, solvent) near d ≈ 3-5 Å, 2-5° wide (σ) at CuKα1
        halo_center = d_to_two_theta(rng.uniform(3.0, 5.0), wavelength_angstrom)
        if np.isfinite(halo_center):
            width = rng.uniform(2.0, 5.0) * wavelength_angstrom / CU_KA1_ANGSTROM
            bump = self._points - halo_center
            bump /= width
            bump *= bump
            bump *= -0.5
            np.exp(bump, out=bump)
            bump *= halo
            background += bump
        background += slope * (self._ramp_up if rng.random() < 0.5 else self._ramp_down)
        return background

    def __repr__(self) -> str:
        fields = ("zero_shift_deg", "strain", "crystallite_size_nm", "fwhm_deg", "intensity_jitter",
                  "kalpha2_probability", "kalpha2_split", "max_counts",
                  "removed_background", "gaussian_noise", "background")
        return f"PeakAugmenter({', '.join(f'{name}={getattr(self, name)!r}' for name in fields)})"
