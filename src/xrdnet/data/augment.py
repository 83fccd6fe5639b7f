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

Diffractometer effects (data.measurement; all off by default, switched on together in
configs/data/augment/instrument.yaml): instrument resolution (Caglioti), microstrain and axial-
divergence asymmetry; sample displacement; March-Dollase preferred orientation; an impurity phase;
a low-angle rise and amorphous humps; scans over part of the range at their own step, brought to the
model's grid as `xrdnet-predict` brings a measured scan (background subtraction when
background_method is set, then resample_to_grid: zeros outside the scan; a scan finer than the
model's step is rendered at that step with the noise of the k points resample_to_grid averages,
data.measurement.scan_grid). An effect
that is off draws no random numbers, so the other augmentations draw exactly what they drew before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from xrdnet.data.measurement import (PeakListPool, amorphous_humps, displace, draw_caglioti, log_uniform, low_angle_rise,
                                     scan_grid, textured, with_impurity)
from xrdnet.xrd.measured import BACKGROUND_METHODS, resample_to_grid, subtract_background
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


def _probability(name: str, value: float) -> float:
    value = _amount(name, value)
    if value > 1:
        raise ValueError(f"augmentation {name} must be within 0..1, got {value!r}")
    return value


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
        instrument_probability: fraction of patterns with instrument widths: a TCH pseudo-Voigt of the
            Caglioti resolution (U in caglioti_u_deg2, W in caglioti_w_deg2, log-uniform, deg²; V from
            them, data.measurement) and microstrain ε (log-uniform in microstrain) in quadrature, and the
            Scherrer size as the Lorentzian part; axial-divergence asymmetry A ~ U(0, axial_asymmetry).
        displacement_mm: largest sample displacement |s| (mm), Δ2θ = −2 s cosθ / R, R ~ U(goniometer_radius_mm).
        march_dollase_probability / march_dollase_r: fraction of textured patterns, and r's log-uniform range.
        impurity_probability / impurity_fraction: fraction of patterns with a second phase (another
            training item) whose strongest line is U(impurity_fraction) of the main one's (needs
            set_impurity_pool; without a pool there is none).
        low_angle_rise: largest height (fraction of the maximum, at the scan start) of (2θ_0/2θ)^p.
        amorphous_humps: largest height of each of one or two broad humps.
        scan_step_deg: [low, high]: the scan's step, log-uniform (degrees); null: the model grid's step.
        partial_range_probability: fraction of scans over part of the grid, from U(partial_range_start_deg)
            to U(partial_range_stop_deg); outside it the model sees zeros, as from xrdnet-predict.
        background_method: subtract the background as xrdnet-predict does (xrd.measured methods) before
            resampling; null: the background stays (the default recipe's residual background).
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
        instrument_probability: float = 0.0,
        caglioti_u_deg2: Sequence[float] | None = (1e-4, 2e-2),
        caglioti_w_deg2: Sequence[float] | None = (1e-5, 5e-3),
        microstrain: Sequence[float] | None = (1e-4, 3e-3),
        axial_asymmetry: float = 0.05,
        displacement_mm: float = 0.0,
        goniometer_radius_mm: Sequence[float] | None = (150.0, 300.0),
        march_dollase_probability: float = 0.0,
        march_dollase_r: Sequence[float] | None = (0.6, 1.5),
        impurity_probability: float = 0.0,
        impurity_fraction: Sequence[float] | None = (0.01, 0.05),
        low_angle_rise: float = 0.0,
        amorphous_humps: float = 0.0,
        scan_step_deg: Sequence[float] | None = None,
        partial_range_probability: float = 0.0,
        partial_range_start_deg: Sequence[float] | None = (5.0, 20.0),
        partial_range_stop_deg: Sequence[float] | None = (60.0, 90.0),
        background_method: str | None = None,
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
        self.instrument_probability = _probability("instrument_probability", instrument_probability)
        self.caglioti_u_deg2 = _range("caglioti_u_deg2", caglioti_u_deg2)
        self.caglioti_w_deg2 = _range("caglioti_w_deg2", caglioti_w_deg2)
        self.microstrain = _range("microstrain", microstrain)
        self.axial_asymmetry = _amount("axial_asymmetry", axial_asymmetry)
        self.displacement_mm = _amount("displacement_mm", displacement_mm)
        self.goniometer_radius_mm = _range("goniometer_radius_mm", goniometer_radius_mm)
        self.march_dollase_probability = _probability("march_dollase_probability", march_dollase_probability)
        self.march_dollase_r = _range("march_dollase_r", march_dollase_r)
        self.impurity_probability = _probability("impurity_probability", impurity_probability)
        self.impurity_fraction = _range("impurity_fraction", impurity_fraction)
        self.impurity_pool: PeakListPool | None = None
        self.low_angle_rise = _amount("low_angle_rise", low_angle_rise)
        self.amorphous_humps = _amount("amorphous_humps", amorphous_humps)
        self.scan_step_deg = _range("scan_step_deg", scan_step_deg)
        self.partial_range_probability = _probability("partial_range_probability", partial_range_probability)
        self.partial_range_start_deg = _range("partial_range_start_deg", partial_range_start_deg)
        self.partial_range_stop_deg = _range("partial_range_stop_deg", partial_range_stop_deg)
        if background_method is not None and background_method not in BACKGROUND_METHODS:
            raise ValueError(f"augmentation background_method must be null or one of {', '.join(BACKGROUND_METHODS)}, "
                             f"got {background_method!r}")
        self.background_method = background_method
        for switch, ranges in self._NEEDED_RANGES.items():
            missing = [name for name in ranges if getattr(self, switch) and not getattr(self, name)]
            if missing:
                raise ValueError(f"augmentation {switch} needs {' and '.join(missing)} range(s)")
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

    def set_impurity_pool(self, pool: PeakListPool | None) -> None:
        """Peak lists that impurity phases are drawn from (None: no impurity phase)."""
        self.impurity_pool = pool

    def __call__(self, two_theta_deg: np.ndarray, intensity: np.ndarray, wavelength_angstrom: float,
                 rng: np.random.Generator) -> np.ndarray:
        """Augmented profile (float32, length grid.n_points, max 1; all zeros when no peak reaches the grid)."""
        two_theta = np.asarray(two_theta_deg, dtype=float).ravel()
        intensity = np.asarray(intensity, dtype=float).ravel()
        if self.intensity_jitter:
            intensity = intensity * np.exp(self.intensity_jitter * rng.standard_normal(intensity.size))
        if self.march_dollase_probability and rng.random() < self.march_dollase_probability:
            intensity = textured(intensity, rng, self.march_dollase_r)
        if self.strain:
            strained_d = two_theta_to_d(two_theta, wavelength_angstrom) * (1.0 + rng.uniform(-self.strain, self.strain))
            two_theta = d_to_two_theta(strained_d, wavelength_angstrom)
            reflected = np.isfinite(two_theta)  # a compressed d can pass beyond 2θ = 180°
            if not reflected.all():
                two_theta, intensity = two_theta[reflected], intensity[reflected]
        if self.impurity_probability and self.impurity_pool is not None and rng.random() < self.impurity_probability:
            two_theta, intensity = with_impurity(two_theta, intensity, *self.impurity_pool.draw(rng),
                                                 rng.uniform(*self.impurity_fraction))
        if self.kalpha2_probability and rng.random() < self.kalpha2_probability:
            two_theta, intensity = kalpha_doublet(two_theta, intensity, wavelength_angstrom,
                                                  rng.uniform(*self.kalpha2_split))
        if self.zero_shift_deg:
            two_theta = two_theta + rng.uniform(-self.zero_shift_deg, self.zero_shift_deg)
        if self.displacement_mm:
            two_theta = displace(two_theta, rng, self.displacement_mm, self.goniometer_radius_mm)
        scan, averaged = self._draw_scan(rng)
        settings = self._draw_settings(rng)
        if self.instrument_probability and rng.random() < self.instrument_probability:
            settings = self._draw_instrument(settings, rng)
        profile = render_profile(two_theta, intensity, scan, settings, wavelength_angstrom)
        if profile.max() == 0:
            return np.zeros(self.grid.n_points, dtype=np.float32)
        if self.background:
            background = self._draw_background(rng, wavelength_angstrom, scan)
            background += profile  # float64 + float32: the same sum as converting the profile first
            profile = background
        else:
            profile = profile.astype(float)
        points = self._points if scan is self.grid else scan.points
        if self.low_angle_rise:
            profile += low_angle_rise(points, rng, self.low_angle_rise)
        if self.amorphous_humps:
            profile += amorphous_humps(points, rng, self.amorphous_humps, wavelength_angstrom)
        noise = self._noise_variance(profile, rng)
        if noise is not None:
            if averaged > 1:  # each point the mean of `averaged` scan points (data.measurement.scan_grid)
                noise /= averaged
            np.sqrt(noise, out=noise)  # variance -> standard deviation -> one draw per point
            noise *= rng.standard_normal(profile.size)
            profile += noise
        if self.background_method:  # what xrdnet-predict does to a measured scan, in its order
            profile = subtract_background(points, profile, self.background_method)
        if scan is not self.grid:
            profile = resample_to_grid(points, profile, self.grid)
        np.maximum(profile, 0.0, out=profile)  # counts are never negative
        top = profile.max()
        if top > 0:
            profile /= top
        return profile.astype(np.float32)

    def _draw_scan(self, rng: np.random.Generator) -> tuple[TwoThetaGrid, int]:
        """The grid the scan is rendered on (the model's own unless scan steps or partial ranges are drawn),
        and the number of scan points each of its points averages."""
        partial = bool(self.partial_range_probability) and rng.random() < self.partial_range_probability
        if not (partial or self.scan_step_deg):
            return self.grid, 1
        return scan_grid(self.grid, rng, self.scan_step_deg, partial, self.partial_range_start_deg,
                         self.partial_range_stop_deg)

    def _draw_instrument(self, settings: ProfileSettings, rng: np.random.Generator) -> ProfileSettings:
        return dataclasses.replace(
            settings, caglioti_uvw=draw_caglioti(rng, self.caglioti_u_deg2, self.caglioti_w_deg2),
            microstrain=log_uniform(rng, self.microstrain) if self.microstrain else 0.0,
            axial_asymmetry=rng.uniform(0.0, self.axial_asymmetry) if self.axial_asymmetry else 0.0)

    def _draw_settings(self, rng: np.random.Generator) -> ProfileSettings:
        if self.fwhm_deg:
            return dataclasses.replace(self.settings, fwhm_deg=rng.uniform(*self.fwhm_deg))
        if self.crystallite_size_nm:
            size = np.exp(rng.uniform(*np.log(self.crystallite_size_nm)))
            return self.settings.with_crystallite_size(size)
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

    def _draw_background(self, rng: np.random.Generator, wavelength_angstrom: float,
                         scan: TwoThetaGrid) -> np.ndarray:
        """Smooth background on the scan: low-angle exponential decay + amorphous halo + linear slope."""
        if scan is self.grid:
            points, from_start, ramp_up, ramp_down = self._points, self._from_start, self._ramp_up, self._ramp_down
        else:
            points = scan.points
            from_start = points - scan.start_deg
            ramp_up = from_start / (scan.stop_deg - scan.start_deg)
            ramp_down = 1.0 - ramp_up
        span = scan.stop_deg - scan.start_deg
        decay, halo, slope = rng.uniform(0.0, self.background, 3)
        background = np.negative(from_start)
        background /= span * rng.uniform(0.05, 0.3)
        np.exp(background, out=background)
        background *= decay
        # an amorphous halo (glass, polymer, solvent) near d ≈ 3-5 Å, 2-5° wide (σ) at CuKα1
        halo_center = d_to_two_theta(rng.uniform(3.0, 5.0), wavelength_angstrom)
        if np.isfinite(halo_center):
            width = rng.uniform(2.0, 5.0) * wavelength_angstrom / CU_KA1_ANGSTROM
            bump = points - halo_center
            bump /= width
            bump *= bump
            bump *= -0.5
            np.exp(bump, out=bump)
            bump *= halo
            background += bump
        background += slope * (ramp_up if rng.random() < 0.5 else ramp_down)
        return background

    def __repr__(self) -> str:
        fields = ("zero_shift_deg", "strain", "crystallite_size_nm", "fwhm_deg", "intensity_jitter",
                  "kalpha2_probability", "kalpha2_split", "max_counts",
                  "removed_background", "gaussian_noise", "background")
        # diffractometer effects are named only when on, so the default augmenter's repr (a feature-cache key) is kept
        for switch, ranges in self._MEASUREMENT_FIELDS.items():
            if getattr(self, switch):
                fields += (switch, *ranges)
        return f"PeakAugmenter({', '.join(f'{name}={getattr(self, name)!r}' for name in fields)})"

    # ranges a diffractometer effect cannot be drawn without
    _NEEDED_RANGES = {
        "instrument_probability": ("caglioti_u_deg2", "caglioti_w_deg2"),
        "displacement_mm": ("goniometer_radius_mm",),
        "march_dollase_probability": ("march_dollase_r",),
        "impurity_probability": ("impurity_fraction",),
        "partial_range_probability": ("partial_range_start_deg", "partial_range_stop_deg"),
    }
    # each diffractometer effect's switch and the ranges it draws from
    _MEASUREMENT_FIELDS = {
        "instrument_probability": ("caglioti_u_deg2", "caglioti_w_deg2", "microstrain", "axial_asymmetry"),
        "displacement_mm": ("goniometer_radius_mm",),
        "march_dollase_probability": ("march_dollase_r",),
        "impurity_probability": ("impurity_fraction",),
        "low_angle_rise": (),
        "amorphous_humps": (),
        "scan_step_deg": (),
        "partial_range_probability": ("partial_range_start_deg", "partial_range_stop_deg"),
        "background_method": (),
    }
