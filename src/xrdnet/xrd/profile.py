"""Peak list -> fixed-length 1D powder profile on a uniform 2θ grid (numpy, scipy.fft).

Each peak is an area-normalized Gaussian or pseudo-Voigt whose integral is the peak's integrated
intensity, so wider peaks are lower. Widths are either one fixed FWHM (degrees 2θ) or follow the
Scherrer equation FWHM(2θ) = K λ / (L cos θ) (radians, λ and L in the same length unit; here λ in
Å and L in nm, converted). Profiles are normalized so their maximum is exactly 1.

render_profile either evaluates each peak over its own window (method 'direct', the reference the
tests check against) or convolves all peaks at once with FFTs (method 'fft', cheaper for many broad
peaks, as training patterns have); by default it takes whichever is cheaper. The FFT renderer is
kept for all its machinery because with the direct renderer alone the training data pipeline would
fall below its target throughput relative to the model step (README, Performance).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from scipy import fft as sp_fft

from xrdnet.xrd.instrument import axial_asymmetry, gaussian_fwhm_sq_deg2, tch_eta, tch_fwhm

SHAPES = ("gaussian", "pseudo_voigt")
RENDER_METHODS = ("auto", "fft", "direct")

# Evaluation window, in FWHMs each side of a peak: a Gaussian at 3 FWHM is exp(-4 ln2 · 9) ≈ 1.5e-11 of
# its height; a Lorentzian at 20 FWHM is still 1/1601 ≈ 6e-4 of its height, beyond which its tail
# is cut (the cut tail holds about 1.6 % of the Lorentzian's area; the FFT renderer fades it out
# over the next FWHM instead of cutting it).
GAUSSIAN_WINDOW_FWHM = 3.0
LORENTZIAN_WINDOW_FWHM = 20.0

_FOUR_LN2 = 4.0 * math.log(2.0)
_GAUSS_NORM = 2.0 * math.sqrt(math.log(2.0) / math.pi)  # area-normalized Gaussian height × FWHM
_LORENTZ_NORM = 2.0 / math.pi  # area-normalized Lorentzian height × FWHM
_CHUNK_ELEMENTS = 16384  # peak-window block size that stays in cache (measured fastest on a 2126-point grid)
# 'auto' renders directly up to this many peak-window points: the direct method's fixed cost plus its cost
# per point stays below the FFT's cost on the default grid up to here (timings: README, Performance)
_DIRECT_MAX_ELEMENTS = 12000


def _from_dict(cls, values: dict, what: str):
    """Build a settings dataclass from a dict, naming unknown keys instead of a bare TypeError."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**dict(values))


@dataclass(frozen=True)
class TwoThetaGrid:
    """Uniform 2θ grid in degrees: start, start + step, ..., up to stop (included when it falls on a step)."""

    start_deg: float = 5.0
    stop_deg: float = 90.0
    step_deg: float = 0.04

    def __post_init__(self):
        for name in ("start_deg", "stop_deg", "step_deg"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if not (0.0 <= self.start_deg < self.stop_deg <= 180.0):
            raise ValueError(f"2θ grid needs 0 <= start_deg < stop_deg <= 180, got {self.start_deg:g}..{self.stop_deg:g}")
        if not (0.0 < self.step_deg <= self.stop_deg - self.start_deg):
            raise ValueError(f"2θ grid step_deg must be > 0 and at most the grid span, got {self.step_deg:g}")

    @property
    def n_points(self) -> int:
        # the small tolerance keeps stop_deg when (stop - start) / step is an integer up to rounding
        return int(math.floor((self.stop_deg - self.start_deg) / self.step_deg + 1e-9)) + 1

    @property
    def points(self) -> np.ndarray:
        """Grid 2θ values, degrees (float64, length n_points)."""
        return self.start_deg + self.step_deg * np.arange(self.n_points, dtype=float)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TwoThetaGrid:
        return _from_dict(cls, values, "2θ grid")


@dataclass(frozen=True)
class ProfileSettings:
    """Peak shape and width.

    shape: 'gaussian' or 'pseudo_voigt' (eta · Lorentzian + (1 − eta) · Gaussian, same FWHM).
    fwhm_deg: fixed FWHM in degrees 2θ. When given it is used and crystallite_size_nm is cleared.
    crystallite_size_nm: crystallite size L (nm) for Scherrer widths FWHM = K λ / (L cos θ).
    eta: Lorentzian fraction of the pseudo-Voigt, 0..1.
    scherrer_k: Scherrer shape factor K (0.9 for roughly spherical crystallites).
    caglioti_uvw: (U, V, W) in deg² of the instrument's Gaussian resolution (xrd.instrument), or None.
    microstrain: ε of the Gaussian microstrain broadening 4 ε tanθ (0: none).
    axial_asymmetry: A of the axial-divergence split profile, a = A / tan 2θ (0: symmetric).

    With any of the last three set, each peak is a Thompson-Cox-Hastings pseudo-Voigt whose Gaussian
    part is the instrument and microstrain widths in quadrature and whose Lorentzian part is the
    Scherrer width (or fwhm_deg); `shape` and `eta` are then not used (xrd.instrument).
    Widths under one grid step cannot be sampled on the grid: render_profile raises them to one step.
    """

    shape: str = "gaussian"
    fwhm_deg: float | None = None
    crystallite_size_nm: float | None = 20.0
    eta: float = 0.5
    scherrer_k: float = 0.9
    caglioti_uvw: tuple[float, float, float] | None = None
    microstrain: float = 0.0
    axial_asymmetry: float = 0.0

    def __post_init__(self):
        if self.shape not in SHAPES:
            raise ValueError(f"unknown peak shape {self.shape!r}; options: {', '.join(SHAPES)}")
        if self.fwhm_deg is not None:
            if not (np.isfinite(self.fwhm_deg) and self.fwhm_deg > 0):
                raise ValueError(f"fwhm_deg must be a positive number of degrees, got {self.fwhm_deg!r}")
            object.__setattr__(self, "fwhm_deg", float(self.fwhm_deg))
            object.__setattr__(self, "crystallite_size_nm", None)  # exactly one width rule is in force
        elif self.crystallite_size_nm is None:
            raise ValueError("profile needs a width: set fwhm_deg (degrees) or crystallite_size_nm (nm)")
        elif not (np.isfinite(self.crystallite_size_nm) and self.crystallite_size_nm > 0):
            raise ValueError(f"crystallite_size_nm must be a positive number of nm, got {self.crystallite_size_nm!r}")
        else:
            object.__setattr__(self, "crystallite_size_nm", float(self.crystallite_size_nm))
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError(f"pseudo-Voigt eta (Lorentzian fraction) must be within 0..1, got {self.eta!r}")
        if not self.scherrer_k > 0:
            raise ValueError(f"scherrer_k must be positive, got {self.scherrer_k!r}")
        object.__setattr__(self, "eta", float(self.eta))
        object.__setattr__(self, "scherrer_k", float(self.scherrer_k))
        if self.caglioti_uvw is not None:
            try:
                uvw = tuple(float(v) for v in self.caglioti_uvw)
            except (TypeError, ValueError):
                uvw = ()
            if len(uvw) != 3 or not all(np.isfinite(uvw)) or uvw[2] <= 0:
                raise ValueError(f"caglioti_uvw must be three numbers U, V, W (deg², W > 0), got {self.caglioti_uvw!r}")
            object.__setattr__(self, "caglioti_uvw", uvw)
        for name in ("microstrain", "axial_asymmetry"):
            value = float(getattr(self, name))
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number (0: off), got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)

    @property
    def instrumental(self) -> bool:
        """Whether peaks get instrument widths and asymmetry (per-peak TCH pseudo-Voigts)."""
        return self.caglioti_uvw is not None or self.microstrain > 0 or self.axial_asymmetry > 0

    def peak_shapes(self, two_theta_deg: np.ndarray, wavelength_angstrom: float) -> tuple[np.ndarray, np.ndarray,
                                                                                            np.ndarray | None]:
        """(FWHM in degrees 2θ, Lorentzian fraction η, split asymmetry a or None) of peaks at two_theta_deg."""
        two_theta_deg = np.asarray(two_theta_deg, dtype=float)
        theta = np.radians(two_theta_deg / 2.0)
        sample = self._sample_fwhm(np.cos(theta), wavelength_angstrom)
        if not self.instrumental:
            eta = self.eta if self.shape == "pseudo_voigt" else 0.0
            return sample, np.full(two_theta_deg.shape, eta), None
        fwhm = self._instrument_fwhm(np.tan(theta), sample)
        asymmetry = axial_asymmetry(two_theta_deg, self.axial_asymmetry) if self.axial_asymmetry else None
        return fwhm, tch_eta(fwhm, sample), asymmetry

    def instrument_fwhm_on_grid(self, grid: TwoThetaGrid, wavelength_angstrom: float) -> np.ndarray:
        """TCH FWHM (degrees 2θ) at every grid point, as peak_shapes gives it; the grid's trigonometry is cached."""
        tan_theta, cos_theta = _trig_of_grid(grid.start_deg, grid.stop_deg, grid.step_deg)
        return self._instrument_fwhm(tan_theta, self._sample_fwhm(cos_theta, wavelength_angstrom))

    def _instrument_fwhm(self, tan_theta: np.ndarray, sample_fwhm: np.ndarray) -> np.ndarray:
        """TCH FWHM (degrees): Gaussian Caglioti + microstrain widths (in quadrature) with the sample's Lorentzian width."""
        gaussian = np.sqrt(gaussian_fwhm_sq_deg2(tan_theta, self.caglioti_uvw, self.microstrain))
        return tch_fwhm(gaussian, sample_fwhm)

    def _sample_fwhm(self, cos_theta: np.ndarray, wavelength_angstrom: float) -> np.ndarray:
        """fwhm_at from cos θ: the fixed FWHM, or Scherrer's."""
        if self.fwhm_deg is not None:
            return np.full(np.shape(cos_theta), self.fwhm_deg)
        return _scherrer_from_cos(cos_theta, wavelength_angstrom, self.crystallite_size_nm, self.scherrer_k)

    def with_crystallite_size(self, crystallite_size_nm: float) -> ProfileSettings:
        """These settings with Scherrer widths of crystallite size L (nm) instead of their own width (a fixed fwhm_deg
        is cleared, as it would otherwise win); ValueError when L is not a positive number of nm."""
        return replace(self, fwhm_deg=None, crystallite_size_nm=crystallite_size_nm)

    def fwhm_at(self, two_theta_deg: np.ndarray, wavelength_angstrom: float) -> np.ndarray:
        """FWHM in degrees 2θ of peaks at two_theta_deg (degrees) for wavelength λ (Å)."""
        two_theta_deg = np.asarray(two_theta_deg, dtype=float)
        if self.fwhm_deg is not None:
            return np.full(two_theta_deg.shape, self.fwhm_deg)
        return scherrer_fwhm_deg(two_theta_deg, wavelength_angstrom, self.crystallite_size_nm, self.scherrer_k)

    def to_dict(self) -> dict:
        """Fields as a dict; instrument fields only when set, so settings without them keep their old form
        (checkpoints, feature-cache keys)."""
        values = asdict(self)
        for name, off in _INSTRUMENT_OFF.items():
            if values[name] == off:
                del values[name]
        if values.get("caglioti_uvw") is not None:
            values["caglioti_uvw"] = list(values["caglioti_uvw"])
        return values

    @classmethod
    def from_dict(cls, values: dict) -> ProfileSettings:
        return _from_dict(cls, values, "profile")


_INSTRUMENT_OFF = {"caglioti_uvw": None, "microstrain": 0.0, "axial_asymmetry": 0.0}


def scherrer_fwhm_deg(two_theta_deg: np.ndarray | float, wavelength_angstrom: float, crystallite_size_nm: float,
                      k: float = 0.9) -> np.ndarray:
    """Scherrer broadening: FWHM (degrees 2θ) = K λ / (L cos θ) radians, λ in Å, L in nm (1 nm = 10 Å)."""
    theta = np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0)
    return _scherrer_from_cos(np.cos(theta), wavelength_angstrom, crystallite_size_nm, k)


def _scherrer_from_cos(cos_theta: np.ndarray, wavelength_angstrom: float, crystallite_size_nm: float,
                       k: float) -> np.ndarray:
    """scherrer_fwhm_deg from cos θ: (K λ / L radians, in degrees) / cos θ."""
    return math.degrees(k * wavelength_angstrom / (crystallite_size_nm * 10.0)) / cos_theta


@functools.lru_cache(maxsize=16)
def _trig_of_grid(start_deg: float, stop_deg: float, step_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """tan θ and cos θ at the grid's points (read-only), for the per-point instrument widths."""
    theta = np.radians(TwoThetaGrid(start_deg, stop_deg, step_deg).points / 2.0)
    tan_theta, cos_theta = np.tan(theta), np.cos(theta)
    tan_theta.setflags(write=False)
    cos_theta.setflags(write=False)
    return tan_theta, cos_theta


def render_profile(two_theta_deg: np.ndarray, intensity: np.ndarray, grid: TwoThetaGrid, settings: ProfileSettings,
                   wavelength_angstrom: float, *, method: str = "auto") -> np.ndarray:
    """Profile (float32, length grid.n_points, max exactly 1) of peaks at two_theta_deg with integrated `intensity`.

    method: 'direct' evaluates every peak over its own window on the grid (the reference: each peak
    symmetric in 2θ with the FWHM at its centre; windows at least ±3 FWHM for the Gaussian part and
    ±20 FWHM for the Lorentzian part, in practice those of the widest peak). 'fft' convolves all
    peaks at once (see _render_fft); it agrees with 'direct' to ~1e-4 of the maximum for Gaussians
    and ~1e-3 for pseudo-Voigts. 'auto' takes whichever is cheaper for these peaks: 'direct' for
    small jobs (few peaks, short windows), 'fft' otherwise. With instrument widths (settings.instrumental:
    every peak its own width, η and asymmetry) 'direct' evaluates each peak over a window of its own
    and 'fft'/'auto' convolve in a variable where every width is one (_render_instrument_fft).

    Peaks off the grid still add the part of their tails that reaches it. When nothing reaches the
    grid (no peaks, all intensities zero, or every peak far outside it) the result is all zeros: a
    caller that must reject such patterns checks `profile.max() == 0`.
    """
    if method not in RENDER_METHODS:
        raise ValueError(f"unknown render method {method!r}; options: {', '.join(RENDER_METHODS)}")
    centers, heights = _checked_peaks(two_theta_deg, intensity, wavelength_angstrom)
    n = grid.n_points
    if centers.size == 0:
        return np.zeros(n, dtype=np.float32)
    if settings.instrumental:
        if method == "direct":
            fwhm, eta, asymmetry = settings.peak_shapes(centers, wavelength_angstrom)
            profile = _render_direct(centers, heights, np.maximum(fwhm, grid.step_deg), eta, grid, asymmetry,
                                     own_windows=True)
        else:
            profile = _render_instrument_fft(centers, heights, grid, settings, wavelength_angstrom)
        return _normalized(profile, n)
    eta = settings.eta if settings.shape == "pseudo_voigt" else 0.0
    fwhm = np.maximum(settings.fwhm_at(centers, wavelength_angstrom), grid.step_deg)
    if method == "auto":
        method = "direct" if _direct_elements(fwhm, eta, grid) <= _DIRECT_MAX_ELEMENTS else "fft"
    if method == "direct":
        profile = _render_direct(centers, heights, fwhm, eta, grid)
    else:
        profile = _render_fft(centers, heights, fwhm, eta, grid, settings, wavelength_angstrom)
    return _normalized(profile, n)


def _normalized(profile: np.ndarray, n: int) -> np.ndarray:
    """profile / its maximum as float32; zeros when nothing is positive."""
    peak = profile.max()
    if peak <= 0:
        return np.zeros(n, dtype=np.float32)
    profile /= peak
    return profile.astype(np.float32)


def _direct_elements(fwhm: np.ndarray, eta: float, grid: TwoThetaGrid) -> float:
    """Peak-window points the direct method evaluates: its cost beyond a fixed overhead grows with them."""
    widest_steps = fwhm.max() / grid.step_deg
    length = 0.0
    if eta < 1:
        length += 2.0 * GAUSSIAN_WINDOW_FWHM * widest_steps + 2
    if eta > 0:
        length += 2.0 * LORENTZIAN_WINDOW_FWHM * widest_steps + 2
    return fwhm.size * length


def _render_direct(centers: np.ndarray, heights: np.ndarray, fwhm: np.ndarray, eta: float | np.ndarray,
                   grid: TwoThetaGrid, asymmetry: np.ndarray | None = None, own_windows: bool = False) -> np.ndarray:
    """Peaks with these FWHMs (degrees) and Lorentzian fractions (one, or one per peak) evaluated over their
    windows on the grid, per degree 2θ (unnormalized); asymmetry and own_windows as in _add_peaks."""
    profile = np.zeros(grid.n_points + 2)  # bins 0 and n + 1 collect whatever falls off the grid's ends
    scale = heights / fwhm  # area normalization: height = intensity / FWHM × shape constant
    options = {"asymmetry": asymmetry, "own_windows": own_windows}
    if np.any(eta < 1):
        _add_peaks(profile, centers, fwhm, scale * ((1.0 - eta) * _GAUSS_NORM), grid, GAUSSIAN_WINDOW_FWHM, "gaussian",
                   **options)
    if np.any(eta > 0):
        _add_peaks(profile, centers, fwhm, scale * (eta * _LORENTZ_NORM), grid, LORENTZIAN_WINDOW_FWHM, "lorentzian",
                   **options)
    return profile[1:-1]


def _render_fft(centers: np.ndarray, heights: np.ndarray, fwhm: np.ndarray, eta: float, grid: TwoThetaGrid,
                settings: ProfileSettings, wavelength_angstrom: float) -> np.ndarray:
    """The peaks by FFT convolution on the grid, per degree 2θ (unnormalized).

    Convolved in the variable in which every peak has the same width: 2θ itself for a fixed FWHM,
    u = 2 sin θ (= λ / d) for Scherrer widths, since d(2θ) = du / cos θ turns the constant width
    K λ / L in u into K λ / (L cos θ) in 2θ. Peaks whose Scherrer FWHM is under one grid step have
    the one-step floor (fwhm), as in the reference, and are convolved in 2θ. Differences from the
    reference: the Lorentzian tail ends at 20 FWHM for every peak (fading out over the next FWHM)
    where the reference's end between 20 and ~28 FWHM; the first-order asymmetry correction of
    _render_scherrer; values under 1e-9 of the tallest single peak are 0, so a grid reached only by
    a tail under 1e-9 of its peak renders as zeros rather than as that tail scaled up to 1.
    """
    if settings.fwhm_deg is not None:
        profile, tallest = _render_fixed(centers, heights, fwhm[0], eta, grid)
    else:
        gamma_u = settings.scherrer_k * wavelength_angstrom / (settings.crystallite_size_nm * 10.0)  # K λ / L
        floored = fwhm == grid.step_deg  # raised to the one-step floor
        if not floored.any():
            profile, tallest = _render_scherrer(centers, heights, gamma_u, eta, grid)
        else:
            profile, tallest = _render_scherrer(centers[~floored], heights[~floored], gamma_u, eta, grid)
            narrow, narrow_tallest = _render_fixed(centers[floored], heights[floored], grid.step_deg, eta, grid)
            profile, tallest = profile + narrow, max(tallest, narrow_tallest)
    # FFT round-off (~1e-13 of a peak) and the ripple of the faded Lorentzian tails (~1e-7) reach beyond
    # the windows: zero what is negligible or negative, so where no Gaussian window reaches stays 0
    profile[profile < _NEGLIGIBLE * tallest] = 0.0
    return profile


def _checked_peaks(two_theta_deg, intensity, wavelength_angstrom: float) -> tuple[np.ndarray, np.ndarray]:
    """Validated (2θ in degrees, intensity) of the peaks that can show: positive intensity, 0 < 2θ < 180."""
    two_theta_deg = np.asarray(two_theta_deg, dtype=float).ravel()
    intensity = np.asarray(intensity, dtype=float).ravel()
    if two_theta_deg.shape != intensity.shape:
        raise ValueError(f"peak positions and intensities differ in length: {two_theta_deg.size} vs {intensity.size}")
    if not (np.isfinite(wavelength_angstrom) and wavelength_angstrom > 0):
        raise ValueError(f"wavelength must be a positive number of Å, got {wavelength_angstrom!r}")
    if two_theta_deg.size == 0:
        return two_theta_deg, intensity
    # each array's extremes answer every check (a NaN propagates into them): four reductions instead of
    # elementwise masks, since every training pattern passes through here
    low_deg, high_deg, weakest, strongest = two_theta_deg.min(), two_theta_deg.max(), intensity.min(), intensity.max()
    if not all(map(math.isfinite, (low_deg, high_deg, weakest, strongest))):
        raise ValueError("peak positions and intensities must be finite numbers")
    if weakest < 0:
        raise ValueError("peak intensities must be non-negative")
    if weakest > 0 and low_deg > 0 and high_deg < 180:
        return two_theta_deg, intensity
    keep = (intensity > 0) & (two_theta_deg > 0) & (two_theta_deg < 180)
    return two_theta_deg[keep], intensity[keep]


def _add_peaks(profile: np.ndarray, centers: np.ndarray, fwhm: np.ndarray, heights: np.ndarray, grid: TwoThetaGrid,
               window_fwhm: float, shape: str, asymmetry: np.ndarray | None = None,
               own_windows: bool = False) -> None:
    """Add height · shape((2θ − center) / FWHM) of every peak, over at least ±window_fwhm FWHM, into profile[1:-1].

    shape is 'gaussian' (exp(−4 ln2 x²)) or 'lorentzian' (1 / (1 + 4 x²)), both of unit height. All
    peaks share one window length (that of the widest), so the work is a (peaks × window) block of
    vectorized float32 arithmetic, done in row chunks that stay in cache; narrower peaks simply get
    a longer tail. With own_windows, peaks are taken widest first and each chunk gets the window of
    its widest peak (peaks of very different widths, as instrument widths give). asymmetry: per-peak a
    of a split profile, FWHM (1 + a) below the centre and (1 − a) above (same height, same area).
    Profile bins 0 and n + 1 collect what falls off the grid's ends.
    """
    n = grid.n_points
    half_width = fwhm if asymmetry is None else fwhm * (1.0 + np.abs(asymmetry))  # the wider side's FWHM
    reach = window_fwhm * half_width
    reaches_grid = (centers + reach >= grid.start_deg - grid.step_deg) & (centers - reach <= grid.stop_deg + grid.step_deg)
    if not reaches_grid.any():
        return
    keep = np.flatnonzero(reaches_grid)
    if own_windows:
        keep = keep[np.argsort(-half_width[keep], kind="stable")]
    centers, fwhm, heights, half_width = centers[keep], fwhm[keep], heights[keep], half_width[keep]
    first = np.floor((centers - window_fwhm * half_width - grid.start_deg) / grid.step_deg).astype(np.int64)
    lengths = np.ceil(2.0 * window_fwhm * half_width / grid.step_deg).astype(np.int64) + 2
    length = int(lengths.max())
    x_first = ((grid.start_deg + grid.step_deg * first - centers) / fwhm).astype(np.float32)  # x of each window's 1st point
    x_step = (grid.step_deg / fwhm).astype(np.float32)
    heights = heights.astype(np.float32)
    if asymmetry is not None:
        asymmetry = asymmetry[keep]
        below, above = (1.0 / (1.0 + asymmetry)).astype(np.float32), (1.0 / (1.0 - asymmetry)).astype(np.float32)
    lo = 0
    while lo < len(centers):
        if own_windows:
            length = int(lengths[lo])
        rows = max(1, _CHUNK_ELEMENTS // length)
        chunk = slice(lo, lo + rows)
        lo += rows
        steps = np.arange(length, dtype=np.float32)
        bins = np.arange(1, length + 1)  # +1: profile bin of grid point i is i + 1
        x = np.multiply(x_step[chunk, None], steps)
        x += x_first[chunk, None]
        if asymmetry is not None:
            x *= np.where(x < 0, below[chunk, None], above[chunk, None])
        np.multiply(x, x, out=x)
        if shape == "gaussian":
            x *= np.float32(-_FOUR_LN2)
            np.exp(x, out=x)
            x *= heights[chunk, None]
        else:
            x *= np.float32(4.0)
            x += np.float32(1.0)
            np.divide(heights[chunk, None], x, out=x)
        index = first[chunk, None] + bins
        np.clip(index, 0, n + 1, out=index)
        profile += np.bincount(index.ravel(), weights=x.ravel(), minlength=n + 2)


# --- FFT rendering --------------------------------------------------------------------------------------
# Every peak is spread onto a fine uniform grid (in 2θ or in u) as a narrow Gaussian, σ = 1 bin, over
# 14 bins (its cut tail is below exp(−18) ≈ 2e-8); in Fourier space that Gaussian is divided out and
# the peak shape multiplied in. Sub-bin peak positions are so kept exactly, where a linear split
# between two bins would be off by ~0.7 (bin / FWHM)² of a peak's height. With _POINTS_PER_FWHM bins
# per FWHM the shape's spectrum has died out by the fine grid's Nyquist frequency, and a cubic
# B-spline through the fine grid (its prefilter is folded into the Fourier multiplier) gives the
# profile between fine-grid points to ~1e-4 of a peak's height.
_POINTS_PER_FWHM = 8
_SPREAD_SIGMA_BINS = 1.0
_SPREAD_OFFSETS = np.arange(-6, 8)  # bins floor(x) − 6 .. floor(x) + 7: every bin within 6 of x
_FADE_FWHM = 1.0  # the Lorentzian fades out over this many FWHM after its window (a hard cut rings)
_NEGLIGIBLE = 1e-9  # fraction of the tallest single peak below which the FFT profile is set to 0
# A Scherrer peak with FWHM (radians 2θ) × tan θ above this is too wide for the first-order
# asymmetry correction (see _render_scherrer); it keeps the shape that is symmetric in u.
_MAX_ASYMMETRY = 0.1


def _render_fixed(centers: np.ndarray, heights: np.ndarray, fwhm_deg: float, eta: float,
                  grid: TwoThetaGrid) -> tuple[np.ndarray, float]:
    """Peaks of one FWHM (degrees) on the grid, per degree 2θ; and the tallest single peak's height.

    The fine 2θ grid divides the output step evenly and has a point on every output point, so the
    output is read off the fine grid without interpolation.
    """
    per_step = max(1, math.ceil(_POINTS_PER_FWHM * grid.step_deg / fwhm_deg))
    bin_deg = grid.step_deg / per_step
    fwhm_bins = fwhm_deg / bin_deg
    pad = _padding_bins(fwhm_bins, eta)
    size = sp_fft.next_fast_len((grid.n_points - 1) * per_step + 2 * pad + 1, real=True)
    origin = grid.start_deg - pad * bin_deg
    at = pad + per_step * np.arange(grid.n_points)
    # K is unit-area in bins, so areas / bin_deg give a density per degree
    profile = _convolve_peaks((centers - origin) / bin_deg, heights / bin_deg, None, fwhm_bins, eta, size, at)
    return profile, heights.max() * _height_per_area(fwhm_deg, eta)


def _render_scherrer(centers: np.ndarray, heights: np.ndarray, gamma_u: float, eta: float,
                     grid: TwoThetaGrid) -> tuple[np.ndarray, float]:
    """Scherrer peaks (FWHM gamma_u = K λ / L in u = 2 sin θ) on the grid, per degree 2θ; and the tallest's height.

    Convolved in u, a peak is symmetric in u, hence slightly asymmetric in 2θ, while the reference makes
    each peak symmetric in 2θ with the FWHM at its centre. Expanding u(2θ) and the Jacobian cos θ to
    second order about a centre, the two differ by a tan θ (w K(w) / 2 + w² K'(w) / 4) per radian 2θ
    (w = u − u_p, K the unit-area shape in u, a the peak's area), up to ~0.1 FWHM(rad) tan θ of the
    peak height (3e-3 for 5 nm at 2θ = 85°). This odd term is convolved too, with per-peak weights
    a tan θ / cos θ (per unit u), which leaves under 1e-4 (measured, 5 nm at 85°).
    """
    if centers.size == 0:
        return np.zeros(grid.n_points), 0.0
    u_out, per_degree = _u_of_grid(grid.start_deg, grid.stop_deg, grid.step_deg)
    bin_u = gamma_u / _POINTS_PER_FWHM
    pad = _padding_bins(_POINTS_PER_FWHM, eta)
    origin = u_out[0] - pad * bin_u
    size = sp_fft.next_fast_len(int(math.ceil((u_out[-1] - origin) / bin_u)) + pad + 1, real=True)
    theta = np.radians(centers / 2.0)
    cos_theta = np.cos(theta)
    asymmetry = np.tan(theta) / cos_theta  # tan θ per radian 2θ is tan θ / cos θ per unit u
    asymmetry[gamma_u * asymmetry > _MAX_ASYMMETRY] = 0.0
    # K is unit-area in bins, so areas / bin_u give a density per unit u; C is dimensionless
    density = _convolve_peaks((2.0 * np.sin(theta) - origin) / bin_u, heights / bin_u, heights * asymmetry,
                              _POINTS_PER_FWHM, eta, size, (u_out - origin) / bin_u)
    density *= per_degree  # per unit u -> per degree 2θ
    return density, np.max(heights * cos_theta) * _height_per_area(math.degrees(gamma_u), eta)


def _render_instrument_fft(centers: np.ndarray, heights: np.ndarray, grid: TwoThetaGrid, settings: ProfileSettings,
                           wavelength_angstrom: float) -> np.ndarray:
    """Peaks of instrument widths (FWHM H(2θ), η and asymmetry per peak) by FFT convolution, per degree 2θ.

    The FWHM H(2θ) (degrees, at least one grid step) varies smoothly with angle, so in z = ∫ d2θ / H
    every peak has FWHM 1: the Gaussian and Lorentzian parts (areas (1 − η) A and η A, η per peak)
    are two convolutions with one fixed shape each, and the axial split profile is added to first
    order in a (the odd term |x| K'(x), weights a A). Back on the grid the density per unit z is
    multiplied by dz/d2θ = 1 / H. As for the Scherrer renders, a peak is so symmetric in z, which
    skews it in 2θ by the change of H across it (second order); values under 1e-9 of the largest are 0.
    """
    points = grid.points
    width = settings.instrument_fwhm_on_grid(grid, wavelength_angstrom)
    np.maximum(width, grid.step_deg, out=width)
    inverse = 1.0 / width
    z_grid = np.concatenate([[0.0], np.cumsum(0.5 * (inverse[1:] + inverse[:-1]) * grid.step_deg)])
    # peak positions in z; beyond the grid's ends z continues with the end's width
    z_peaks = np.interp(centers, points, z_grid)
    below, above = centers < points[0], centers > points[-1]
    z_peaks[below] = (centers[below] - points[0]) * inverse[0]
    z_peaks[above] = z_grid[-1] + (centers[above] - points[-1]) * inverse[-1]
    _, eta, asymmetry = settings.peak_shapes(centers, wavelength_angstrom)
    bin_z = 1.0 / _POINTS_PER_FWHM
    pad = _padding_bins(_POINTS_PER_FWHM, 1.0)
    origin = -pad * bin_z
    needed = int(math.ceil((z_grid[-1] - origin) / bin_z)) + pad + 1
    # sizes on a ladder of ~9 % steps, so the shape filters of random instrument widths come from the cache
    size = sp_fft.next_fast_len(int(2.0 ** (math.ceil(8.0 * math.log2(needed)) / 8.0)) + 1, real=True)
    spread = _PeakSpread((z_peaks - origin) / bin_z, size)
    if spread.empty:
        return np.zeros(points.size)
    # per-bin areas of each part (and its odd term), and the Fourier multiplier each is convolved with
    areas, filters = [], []
    for part, shape_eta in ((heights * (1.0 - eta), 0.0), (heights * eta, 1.0)):
        if part.max() <= 0:
            continue
        part /= bin_z
        even, odd = _shape_filters(size, _POINTS_PER_FWHM, shape_eta, None if asymmetry is None else "split", True)
        areas.append(part)
        filters.append(even)
        if odd is not None:
            areas.append(part * asymmetry)
            filters.append(odd)
    transforms = spread.transforms(np.array(areas))
    spectrum = transforms[0] * filters[0]
    for transform, shape_filter in zip(transforms[1:], filters[1:]):
        transform *= shape_filter
        spectrum += transform
    density = _sample_fine(spectrum, size, (z_grid - origin) / bin_z)
    density *= inverse
    density[density < _NEGLIGIBLE * density.max()] = 0.0
    return density


@functools.lru_cache(maxsize=16)
def _u_of_grid(start_deg: float, stop_deg: float, step_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """u = 2 sin θ at the grid's points, and du / d(2θ in degrees) = cos θ · π / 180 there."""
    theta = np.radians(TwoThetaGrid(start_deg, stop_deg, step_deg).points / 2.0)
    u_out, per_degree = 2.0 * np.sin(theta), np.cos(theta) * (math.pi / 180.0)
    u_out.setflags(write=False)
    per_degree.setflags(write=False)
    return u_out, per_degree


def _height_per_area(fwhm: float, eta: float) -> float:
    """Height of a unit-area pseudo-Voigt of this FWHM (per unit of the FWHM)."""
    return ((1.0 - eta) * _GAUSS_NORM + eta * _LORENTZ_NORM) / fwhm


def _kernel_reach_bins(fwhm_bins: float, eta: float) -> int:
    """Bins either side of a peak where its sampled shape is non-zero: the window (plus the Lorentzian fade)."""
    if eta > 0:
        return int(math.ceil((LORENTZIAN_WINDOW_FWHM + _FADE_FWHM) * fwhm_bins)) + 1
    return int(math.ceil(GAUSSIAN_WINDOW_FWHM * fwhm_bins)) + 1


def _padding_bins(fwhm_bins: float, eta: float) -> int:
    """Fine-grid bins beyond each end of the output range: the shape's reach, the spread and the spline."""
    return _kernel_reach_bins(fwhm_bins, eta) + int(_SPREAD_OFFSETS[-1]) + 2


def _convolve_peaks(positions: np.ndarray, areas: np.ndarray, asymmetries: np.ndarray | None, fwhm_bins: float,
                    eta: float, size: int, at: np.ndarray, odd_kind: str = "scherrer") -> np.ndarray:
    """Σ_p areas_p K(x − x_p) (+ asymmetries_p C(x − x_p)) at fine-grid positions `at` (bins; integers: exact).

    positions in fine-grid bins; K the unit-area pseudo-Voigt of fwhm_bins within its window (see
    _sampled_shapes), C(x) = x K(x) / 2 + x² K'(x) / 4 (odd_kind 'scherrer') or |x| K'(x) (odd_kind 'split':
    the first-order term of the split profile K(x / (1 ± a)), per unit a). The circular convolution of length `size` must
    leave _padding_bins on both sides of `at`; peaks nearer the ends than the spread are left out,
    as they cannot reach `at`.
    """
    on_nodes = at.dtype.kind in "iu"
    spectrum = _peak_spectrum(positions, areas, asymmetries, fwhm_bins, eta, size, not on_nodes, odd_kind)
    if spectrum is None:
        return np.zeros(len(at))
    return _sample_fine(spectrum, size, at)


def _sample_fine(spectrum: np.ndarray, size: int, at: np.ndarray) -> np.ndarray:
    """The inverse transform of `spectrum` at fine-grid positions `at` (integers: exact; else the cubic spline)."""
    fine = sp_fft.irfft(spectrum, size)
    return fine[at] if at.dtype.kind in "iu" else _cubic_spline(fine, at)


def _peak_spectrum(positions: np.ndarray, areas: np.ndarray, asymmetries: np.ndarray | None, fwhm_bins: float,
                   eta: float, size: int, spline: bool, odd_kind: str = "scherrer") -> np.ndarray | None:
    """rfft of the convolution _convolve_peaks computes (None when no peak is inside the fine grid)."""
    spread = _PeakSpread(positions, size)
    if spread.empty:
        return None
    return spread.spectrum(areas, asymmetries, fwhm_bins, eta, spline, odd_kind)


class _PeakSpread:
    """Peaks at fine-grid `positions` (bins) spread over their _SPREAD_OFFSETS taps as narrow Gaussians.

    The taps and spread weights depend only on the positions, so shapes that share the positions (the
    Gaussian and Lorentzian parts of instrument renders) share them. Peaks nearer the fine grid's ends
    than the spread are left out, as they cannot reach the output points.
    """

    def __init__(self, positions: np.ndarray, size: int):
        self.inside = (positions >= -_SPREAD_OFFSETS[0]) & (positions <= size - 1 - _SPREAD_OFFSETS[-1])
        self.all_inside = bool(self.inside.all())
        if not self.all_inside:
            positions = positions[self.inside]
        self.size, self.empty = size, positions.size == 0
        taps = np.floor(positions).astype(np.int64)[:, None] + _SPREAD_OFFSETS
        spread = taps - positions[:, None]
        spread *= spread
        spread *= -0.5 / _SPREAD_SIGMA_BINS**2
        np.exp(spread, out=spread)
        self.taps, self.weights = taps.ravel(), spread

    def transforms(self, values: np.ndarray) -> np.ndarray:
        """rfft of Σ_p values_p × peak p's spread, for each row of values (rows × peaks, before dropping
        those outside), in one batched rfft. One bincount per row: a single one over all rows is several
        times slower for thousands of peaks (its weights no longer stay in cache)."""
        if not self.all_inside:
            values = values[:, self.inside]
        spread = np.empty((len(values), self.size))
        for row, row_values in zip(spread, values):
            row[:] = np.bincount(self.taps, (self.weights * row_values[:, None]).ravel(), minlength=self.size)
        return sp_fft.rfft(spread, axis=-1)

    def spectrum(self, areas: np.ndarray, asymmetries: np.ndarray | None, fwhm_bins: float, eta: float, spline: bool,
                 odd_kind: str = "scherrer") -> np.ndarray:
        """rfft of Σ_p areas_p K(x − x_p) (+ asymmetries_p C(x − x_p)), K and C as in _convolve_peaks."""
        even, odd = _shape_filters(self.size, fwhm_bins, eta, odd_kind if asymmetries is not None else None, spline)
        if odd is None:
            spectrum = self.transforms(areas[None])[0]
            spectrum *= even
            return spectrum
        symmetric, asymmetric = self.transforms(np.array([areas, asymmetries]))
        symmetric *= even
        asymmetric *= odd
        asymmetric += symmetric
        return asymmetric


@functools.lru_cache(maxsize=512)
def _shape_filters(size: int, fwhm_bins: float, eta: float, odd_kind: str | None,
                   spline: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """rfft multipliers turning the spread peaks into K (even, a real multiplier) and C (odd, imaginary).

    Each is the transform of the sampled shape divided by that of the spreading Gaussian exp(−x² / 2σ²);
    for spline, also by 4 + 2 cos 2πf (6 × the transform of the cubic B-spline's samples), which turns
    the result into the spline's coefficients / 6. Cached: Scherrer renders always have
    _POINTS_PER_FWHM bins per FWHM, so only `size` varies.
    """
    shapes = sp_fft.rfft(_sampled_shapes(fwhm_bins, eta, size, odd_kind))
    frequency = np.arange(size // 2 + 1) / size  # cycles per bin
    sigma = _SPREAD_SIGMA_BINS
    divisor = np.exp(-2.0 * (math.pi * sigma * frequency) ** 2) * (math.sqrt(2.0 * math.pi) * sigma)
    if spline:
        divisor *= 4.0 + 2.0 * np.cos(2.0 * math.pi * frequency)
    even = shapes.real / divisor
    even.setflags(write=False)
    if odd_kind is None:
        return even, None
    odd = 1j * (shapes.imag / divisor)
    odd.setflags(write=False)
    return even, odd


def _sampled_shapes(fwhm_bins: float, eta: float, size: int, odd_kind: str | None) -> np.ndarray:
    """K (+ the odd term of odd_kind, see _convolve_peaks) at whole bins, circularly (bin −j is bin size − j), length `size`.

    K: unit-area pseudo-Voigt; its Gaussian part within ±3 FWHM, its Lorentzian part within ±20 FWHM
    and then fading to 0 over the next FWHM (cos²): a hard cut would ring in Fourier space (~2 % of
    the cut step), a fade does not, and its values stay under the tail's value at 20 FWHM.
    """
    reach = _kernel_reach_bins(fwhm_bins, eta)
    x = np.arange(reach + 1, dtype=float)
    ratio_sq = (x / fwhm_bins) ** 2
    kernel = np.zeros(reach + 1)
    slope = np.zeros(reach + 1)  # K'(x); the fade is numerics, not shape, and gets no slope of its own
    if eta < 1:
        gaussian = ((1.0 - eta) * _GAUSS_NORM / fwhm_bins) * np.exp(-_FOUR_LN2 * ratio_sq)
        gaussian[x > GAUSSIAN_WINDOW_FWHM * fwhm_bins + 1] = 0.0
        kernel += gaussian
        slope -= gaussian * (2.0 * _FOUR_LN2 * x / fwhm_bins**2)
    if eta > 0:
        fade = np.cos(0.5 * np.pi * np.clip((x / fwhm_bins - LORENTZIAN_WINDOW_FWHM) / _FADE_FWHM, 0.0, 1.0))
        lorentzian = (eta * _LORENTZ_NORM / fwhm_bins) * fade * fade / (1.0 + 4.0 * ratio_sq)
        kernel += lorentzian
        slope -= lorentzian * (8.0 * x / fwhm_bins**2) / (1.0 + 4.0 * ratio_sq)
    circular = np.zeros(size)
    circular[:reach + 1] = kernel
    circular[size - reach:] = kernel[:0:-1]
    if odd_kind is not None:
        odd = x * kernel / 2.0 + x * x * slope / 4.0 if odd_kind == "scherrer" else x * slope
        circular[1:reach + 1] += odd[1:]
        circular[size - reach:] -= odd[:0:-1]
    return circular


def _cubic_spline(coefficients: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Cubic B-spline with these coefficients / 6 at fractional indices `at` (1 <= at < len − 2)."""
    base = at.astype(np.int64)  # at > 0, so this is floor
    t = at - base
    base -= 1
    t_squared = t * t
    w3 = t_squared * t
    w0 = 1.0 - t
    w0 *= w0 * w0
    w1 = 3.0 * w3
    w1 -= 6.0 * t_squared
    w1 += 4.0
    w2 = 6.0 - w0  # the four weights sum to 6
    w2 -= w1
    w2 -= w3
    w0 *= coefficients.take(base)
    w1 *= coefficients[1:].take(base)
    w2 *= coefficients[2:].take(base)
    w3 *= coefficients[3:].take(base)
    w0 += w1
    w0 += w2
    w0 += w3
    return w0
