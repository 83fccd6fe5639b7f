"""Measured powder patterns: read diffractometer text files and turn them into model inputs.

    two_theta, intensity = read_pattern("scan.xy")
    profile = preprocess_measured(two_theta, intensity, 1.54184, grid, target_wavelength_angstrom=0.71073)

preprocess_measured moves the pattern to the model's wavelength (Bragg's law), subtracts the
background, resamples it onto the model's 2θ grid and scales it to maximum 1.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from xrdnet.xrd.profile import TwoThetaGrid
from xrdnet.xrd.wavelengths import KALPHA2_RATIO, convert_two_theta, kalpha1_wavelength

MIN_POINTS = 10
COMMENT_PREFIXES = ("#", "!", ";", "'", "%", "//")
BACKGROUND_METHODS = ("rolling_ball", "iterative_polynomial", "none")
_SEPARATORS = re.compile(r"[,;\s]+")
_SEMICOLON_SEPARATORS = re.compile(r"[;\s]+")


class PatternFileError(ValueError):
    """A pattern file cannot be read as 2θ/intensity columns; the message names the file and the problem."""


def read_pattern(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(2θ in degrees, intensity) from a two-or-more-column text file (.xy, .xye, .dat, .csv, .txt).

    Lines starting with #, !, ;, ', % or // and blank lines are comments; text after # on a data line
    is ignored. Columns may be separated by commas, semicolons, tabs or spaces (with semicolons, a
    decimal comma is accepted). Non-numeric lines before the data are a header; once data has
    started, a line that is not at least two numbers is an error. Column 1 is 2θ, column 2 the
    intensity; further columns (e.g. the σ of .xye) are ignored. A scan recorded from high to low
    angle is reversed; 2θ that goes back and forth, or repeats, is an error (two scans in one file
    or swapped columns, which a silent sort would hide). Raises PatternFileError (one line, naming
    the file) for: a missing, empty or binary file, a single column, non-numeric or non-finite
    values, fewer than MIN_POINTS points, 2θ outside 0-180° or not monotonic.
    """
    path = Path(path)
    if not path.is_file():
        raise PatternFileError(f"{path}: no such file")
    raw = path.read_bytes()
    if b"\0" in raw[:4096]:
        raise PatternFileError(f"{path}: binary file; export the scan as text columns (2θ intensity), e.g. .xy")
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        raise PatternFileError(f"{path}: empty file")
    rows, row_lines = _data_rows(path, text)
    two_theta, intensity = np.array(rows, dtype=float).T
    return ascending_scan(path, two_theta, intensity, row_lines)


def _data_rows(path: Path, text: str) -> tuple[list[tuple[float, float]], list[int]]:
    """(2θ, intensity) of every data line, and the line numbers they come from (for error messages)."""
    rows: list[tuple[float, float]] = []
    row_lines: list[int] = []
    single_column_lines = 0
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(COMMENT_PREFIXES):
            continue
        values = _numbers(line.split("#", 1)[0])
        if values is None or len(values) < 2:
            if not rows:  # still in the header
                single_column_lines += values is not None and len(values) == 1
                continue
            shown = line if len(line) <= 40 else line[:37] + "..."
            raise PatternFileError(f"{path}: line {number}: expected two numbers (2θ intensity), got {shown!r}")
        if not all(np.isfinite(values[:2])):
            raise PatternFileError(f"{path}: line {number}: non-finite value (NaN or inf) in {line!r}")
        rows.append((values[0], values[1]))
        row_lines.append(number)

    if not rows:
        if single_column_lines:
            raise PatternFileError(f"{path}: a single column of numbers; need 2θ and intensity columns")
        raise PatternFileError(f"{path}: no numeric data (expected columns of 2θ and intensity)")
    if len(rows) < MIN_POINTS:
        raise PatternFileError(f"{path}: only {len(rows)} data points; need at least {MIN_POINTS}")
    return rows, row_lines


def ascending_scan(path: Path, two_theta: np.ndarray, intensity: np.ndarray,
                   row_lines: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The scan with 2θ ascending (reversed when recorded from high to low angle); PatternFileError when 2θ
    leaves 0-180° or is not monotonic. row_lines: the file line of each point, for the message (else the point)."""
    if two_theta.min() <= 0 or two_theta.max() >= 180:
        raise PatternFileError(f"{path}: 2θ runs {two_theta.min():g}..{two_theta.max():g}, outside 0..180 degrees; "
                               "is the first column 2θ in degrees?")
    steps = np.diff(two_theta)
    if np.all(steps < 0):  # scanned from high to low angle
        return two_theta[::-1].copy(), intensity[::-1].copy()
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        where = f"line {row_lines[bad[0] + 1]}" if row_lines else f"point {bad[0] + 2}"
        raise PatternFileError(f"{path}: {where}: 2θ = {two_theta[bad[0] + 1]:g} does not increase "
                               f"(previous {two_theta[bad[0]]:g}); 2θ must be monotonic")
    return two_theta, intensity


def _numbers(line: str) -> list[float] | None:
    """All fields of a data line as floats, or None when any field is not a number."""
    if ";" in line:  # semicolon-separated files may use a decimal comma
        fields = [f.replace(",", ".") for f in _SEMICOLON_SEPARATORS.split(line.strip()) if f]
    else:
        fields = [f for f in _SEPARATORS.split(line.strip()) if f]
    try:
        return [float(f) for f in fields]
    except ValueError:
        return None


def convert_wavelength(two_theta_deg: np.ndarray, intensity: np.ndarray, from_wavelength_angstrom: float,
                       to_wavelength_angstrom: float) -> tuple[np.ndarray, np.ndarray]:
    """The pattern as it would be measured at another wavelength (Å): same d spacings, new 2θ (degrees).

    Positions follow Bragg's law; points whose d spacing cannot reflect at the new wavelength
    (λ_new / 2d > 1) are dropped. Scattering factors depend only on d, so only the geometry changes
    the intensity: the Lorentz-polarization factor (1 + cos² 2θ) / (sin² θ cos θ) and the stretch
    of the 2θ axis (d2θ_new/d2θ = (λ_new cos θ)/(λ cos θ_new)), which per point together give
    I_new = I · (λ/λ_new)³ · (1 + cos² 2θ_new) / (1 + cos² 2θ).
    """
    two_theta_deg = np.asarray(two_theta_deg, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    if from_wavelength_angstrom == to_wavelength_angstrom:
        return two_theta_deg.copy(), intensity.copy()
    converted = convert_two_theta(two_theta_deg, from_wavelength_angstrom, to_wavelength_angstrom)
    reflects = np.isfinite(converted)
    old, new = two_theta_deg[reflects], converted[reflects]
    factor = ((from_wavelength_angstrom / to_wavelength_angstrom) ** 3
              * (1 + np.cos(np.radians(new)) ** 2) / (1 + np.cos(np.radians(old)) ** 2))
    return new, intensity[reflects] * factor


def estimate_background(two_theta_deg: np.ndarray, intensity: np.ndarray, method: str = "rolling_ball",
                        radius_deg: float = 2.0, degree: int = 6, max_iterations: int = 200,
                        tolerance: float = 1e-4) -> np.ndarray:
    """Smooth background under a pattern, on the same points.

    rolling_ball: grey-scale morphological opening (the rolling-ball algorithm, Sternberg 1983,
        Computer 16(1):22), here with a flat ball of half-width radius_deg degrees, followed by a
        moving average of the same width so the estimate has no steps; capped at the data.
        radius_deg must exceed the half-width of peak clusters and stay below that of background
        features (amorphous halos are several degrees wide).
    iterative_polynomial: "modpoly" (Lieber & Mahadevan-Jansen 2003, Appl. Spectrosc. 57:1363):
        fit a polynomial of `degree`, clip the data to the fit, repeat until the fit changes by
        less than `tolerance` (relative) or after max_iterations. Suits broad backgrounds (air
        scatter, fluorescence, slopes); a narrow amorphous halo needs rolling_ball or a higher degree.
    none: zeros.
    """
    two_theta_deg = np.asarray(two_theta_deg, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    if method == "none":
        return np.zeros_like(intensity)
    if method == "rolling_ball":
        if radius_deg <= 0:
            raise ValueError(f"rolling-ball radius_deg must be positive, got {radius_deg!r}")
        half = max(1, int(round(radius_deg / _median_step(two_theta_deg))))
        # odd reflection continues the edge slopes, so the ball can follow a background that is
        # still falling or rising at the ends of the scan instead of flattening there
        padded = _odd_reflection(intensity, 2 * half)
        # the flat ball's opening: erosion (running minimum), then dilation (running maximum)
        opened = maximum_filter1d(minimum_filter1d(padded, 2 * half + 1), 2 * half + 1)
        smoothed = uniform_filter1d(opened, 2 * half + 1)[2 * half:-2 * half]
        return np.minimum(smoothed, intensity)
    if method == "iterative_polynomial":
        if degree < 0 or max_iterations < 1:
            raise ValueError(f"iterative_polynomial needs degree >= 0 and max_iterations >= 1, got {degree}, {max_iterations}")
        clipped = intensity.copy()
        fit = clipped
        for _ in range(max_iterations):
            fit = np.polynomial.Polynomial.fit(two_theta_deg, clipped, degree)(two_theta_deg)
            updated = np.minimum(clipped, fit)
            change = np.linalg.norm(updated - clipped) / max(np.linalg.norm(clipped), 1e-300)
            clipped = updated
            if change < tolerance:
                break
        return np.minimum(fit, intensity)
    raise ValueError(f"unknown background method {method!r}; options: {', '.join(BACKGROUND_METHODS)}")


def _median_step(two_theta_deg: np.ndarray) -> float:
    """The median 2θ step of a scan (degrees); for an evenly spaced scan (all steps within 1e-9 of each other,
    relative) the middle step, which is that median up to rounding, without sorting the steps."""
    steps = np.diff(two_theta_deg)
    low, high = steps.min(), steps.max()
    if high - low <= 1e-9 * abs(high):
        return float(steps[steps.size // 2])
    return float(np.median(steps))


def _odd_reflection(values: np.ndarray, width: int) -> np.ndarray:
    """values padded by `width` points each side, reflected through the end points (np.pad's odd reflection)."""
    if values.size <= width:  # reflections of reflections: np.pad's general case
        return np.pad(values, width, mode="reflect", reflect_type="odd")
    padded = np.empty(values.size + 2 * width)
    padded[width:-width] = values
    np.subtract(2.0 * values[0], values[width:0:-1], out=padded[:width])
    np.subtract(2.0 * values[-1], values[-2:-width - 2:-1], out=padded[-width:])
    return padded


def subtract_background(two_theta_deg: np.ndarray, intensity: np.ndarray, method: str = "rolling_ball",
                        **options) -> np.ndarray:
    """Intensity minus estimate_background(two_theta_deg, intensity, method, **options) (never negative)."""
    background = estimate_background(two_theta_deg, intensity, method, **options)
    return np.maximum(np.asarray(intensity, dtype=float) - background, 0.0)


def resample_to_grid(two_theta_deg: np.ndarray, intensity: np.ndarray, grid: TwoThetaGrid) -> np.ndarray:
    """Intensity on grid.points by linear interpolation; zero outside the measured 2θ range.

    When the data are sampled more finely than the grid, they are first averaged over one grid
    step, so narrow features are not lost between grid points (anti-aliasing).
    """
    two_theta_deg = np.asarray(two_theta_deg, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    measured_step = _median_step(two_theta_deg) if two_theta_deg.size > 1 else grid.step_deg
    points_per_step = int(round(grid.step_deg / measured_step))
    if points_per_step > 1:
        intensity = uniform_filter1d(intensity, points_per_step, mode="nearest")
    return np.interp(grid.points, two_theta_deg, intensity, left=0.0, right=0.0)


def preprocess_measured(two_theta_deg: np.ndarray, intensity: np.ndarray, wavelength_angstrom: float,
                        grid: TwoThetaGrid, target_wavelength_angstrom: float | None = None,
                        background: str = "rolling_ball", kalpha2_split: float | None = None,
                        kalpha2_ratio: float = KALPHA2_RATIO, **background_options) -> np.ndarray:
    """A measured pattern as a model input: float32 on `grid`, maximum 1.

    Steps: convert_wavelength (to target_wavelength_angstrom, default: unchanged) -> subtract_background
    (method `background`, options passed on) -> strip_kalpha2 when kalpha2_split is given (the scan's
    (λ2 − λ1)/λ and I(Kα2)/I(Kα1) = kalpha2_ratio, with `wavelength_angstrom` the Kα weighted mean;
    what is left are Kα1 lines, so they are converted from λ1) -> resample_to_grid -> scale to maximum 1. Raises ValueError when
    nothing of the pattern is left on the grid.
    """
    two_theta_deg = np.asarray(two_theta_deg, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    target = wavelength_angstrom if target_wavelength_angstrom is None else target_wavelength_angstrom
    source = wavelength_angstrom if not kalpha2_split else kalpha1_wavelength(wavelength_angstrom, kalpha2_split,
                                                                              kalpha2_ratio)
    two_theta, counts = convert_wavelength(two_theta_deg, intensity, source, target)
    if two_theta.size < 2:
        raise ValueError(f"pattern at λ = {wavelength_angstrom:g} Å has no d spacings that reflect at λ = {target:g} Å")
    counts = subtract_background(two_theta, counts, background, **background_options)
    if kalpha2_split:
        counts = strip_kalpha2(two_theta, counts, kalpha2_split, kalpha2_ratio)
    profile = resample_to_grid(two_theta, counts, grid)
    top = profile.max()
    if top <= 0:
        raise ValueError(f"pattern (2θ {two_theta.min():.2f}..{two_theta.max():.2f}° at λ = {target:g} Å) leaves no "
                         f"signal on the model's grid {grid.start_deg:g}..{grid.stop_deg:g}°")
    return (profile / top).astype(np.float32)


def grid_coverage(two_theta_deg: np.ndarray, wavelength_angstrom: float, grid: TwoThetaGrid,
                  target_wavelength_angstrom: float) -> float:
    """Fraction of the model's 2θ grid that a scan over two_theta_deg at this wavelength covers."""
    moved = convert_two_theta(np.asarray(two_theta_deg, dtype=float), wavelength_angstrom, target_wavelength_angstrom)
    moved = moved[np.isfinite(moved)]
    if moved.size < 2:
        return 0.0
    points = grid.points
    return float(np.mean((points >= moved.min()) & (points <= moved.max())))


def strip_kalpha2(two_theta_deg: np.ndarray, intensity: np.ndarray, relative_split: float,
                  ratio: float = KALPHA2_RATIO) -> np.ndarray:
    """Kα1-only intensity of a scan recorded with a Kα1/Kα2 doublet (Rachinger 1948).

    relative_split is (λ2 − λ1)/λ with λ the Kα weighted mean (KALPHA_RELATIVE_SPLIT: Cu 0.0025,
    Mo 0.0060), `ratio` the intensity of Kα2 over Kα1. Every Kα2 line sits at ln(λ2/λ1) from its Kα1
    line on u = ln sin θ (Bragg's law), so I1 = I − ratio · I1(u − ln(λ2/λ1)), summed as a series
    (rachinger_series). Negative results (noise) are clipped to 0.
    """
    two_theta_deg = np.asarray(two_theta_deg, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    if two_theta_deg.size and np.any(np.diff(two_theta_deg) <= 0):
        raise ValueError("Kα2 stripping needs 2θ in increasing order")
    offset = np.log1p(relative_split / kalpha1_wavelength(1.0, relative_split, ratio))  # ln(λ2 / λ1), λ = 1
    return np.maximum(rachinger_series(two_theta_deg, intensity, offset, ratio), 0.0)


def rachinger_series(two_theta_deg: np.ndarray, intensity: np.ndarray, offset: float, ratio: float = KALPHA2_RATIO,
                     terms: int | None = None) -> np.ndarray:
    """Σ_k (−ratio)^k I(u − k·offset) on u = ln sin θ (2θ increasing, degrees), not clipped: the Kα1 part
    of a doublet whose Kα2 lines sit `offset` above their Kα1 lines on u (a negative offset: below).
    `terms` defaults to those down to ratio^k = 1e-4; a point whose partner is off the scan has none."""
    if terms is None:  # ratio 0: nothing to strip; ratio ≥ 1 does not converge, so only the first correction
        terms = int(np.ceil(np.log(1e-4) / np.log(ratio))) if 0 < ratio < 1 else 1 + (ratio > 0)
    u = np.log(np.sin(np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0)))
    intensity = np.asarray(intensity, dtype=float)
    stripped = intensity.copy()
    for k in range(1, terms):
        stripped += (-ratio) ** k * np.interp(u - k * offset, u, intensity, left=0.0, right=0.0)
    return stripped
