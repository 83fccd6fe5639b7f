"""Measured patterns: file reading, Bragg conversion, background subtraction, resampling."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.xrd.measured import (
    PatternFileError,
    convert_wavelength,
    estimate_background,
    preprocess_measured,
    read_pattern,
    resample_to_grid,
    subtract_background,
)
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

CU_KA, MO_KA = 1.54184, 0.71073
FINE = TwoThetaGrid(5, 90, 0.01)  # a diffractometer's step
ROWS = [(10 + 0.5 * i, 100 + i) for i in range(20)]


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def table(separator: str, rows=ROWS, extra: str = "") -> str:
    return "".join(f"{t}{separator}{i}{extra}\n" for t, i in rows)


@pytest.fixture(scope="module")
def silicon_peaks():
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    silicon = Structure(Lattice.cubic(5.431), ["Si"] * 8, np.vstack([fcc, fcc + 0.25]))
    return XRDSimulator("CuKa").simulate(silicon), XRDSimulator("MoKa").simulate(silicon)


# ---- reading -----------------------------------------------------------------------------------
def test_reads_xy_with_comments_and_blank_lines(tmp_path):
    text = "# scan of Si\n! instrument X\n; operator\n' note\n\n" + table(" ").replace("11.0 102", "11.0 102  # spike?")
    two_theta, intensity = read_pattern(write(tmp_path, "scan.xy", text))
    np.testing.assert_array_equal(two_theta, [t for t, _ in ROWS])
    np.testing.assert_array_equal(intensity, [i for _, i in ROWS])


def test_reads_csv_with_header_and_semicolon_decimal_comma(tmp_path):
    two_theta, intensity = read_pattern(write(tmp_path, "scan.csv", "2theta,counts\n" + table(",")))
    assert two_theta[0] == 10 and intensity[-1] == 119 and len(two_theta) == 20
    european = "Winkel;Impulse\n" + table(";").replace(".", ",")
    two_theta, intensity = read_pattern(write(tmp_path, "scan.txt", european))
    assert two_theta[1] == 10.5 and intensity[1] == 101


def test_reads_xye_ignoring_sigma_and_reverses_a_downward_scan(tmp_path):
    two_theta, intensity = read_pattern(write(tmp_path, "scan.xye", table("\t", extra="\t3.5")))
    assert two_theta[0] == 10 and intensity[0] == 100
    two_theta, intensity = read_pattern(write(tmp_path, "down.dat", table(" ", rows=ROWS[::-1])))
    assert np.all(np.diff(two_theta) > 0) and intensity[0] == 100


@pytest.mark.parametrize("name, text, problem", [
    ("empty.xy", "", "empty file"),
    ("blank.xy", "  \n\n", "empty file"),
    ("single.xy", "".join(f"{i}\n" for i in range(30)), "a single column"),
    ("header_only.csv", "2theta,counts\n", "no numeric data"),
    ("junk.xy", table(" ") + "garbage here\n" + table(" "), "line 21: expected two numbers"),
    ("short.xy", table(" ", rows=ROWS[:5]), "only 5 data points; need at least 10"),
    ("nan.xy", table(" ").replace("12.0 104", "12.0 nan"), "line 5: non-finite value"),
    ("unsorted.xy", table(" ") + table(" "), "line 21: 2θ = 10 does not increase"),
    ("swapped.xy", table(" ", rows=[(1000 + i, t) for t, i in ROWS]), "outside 0..180 degrees"),
])
def test_bad_files_give_one_line_naming_the_file(tmp_path, name, text, problem):
    path = write(tmp_path, name, text)
    with pytest.raises(PatternFileError, match=problem) as error:
        read_pattern(path)
    message = str(error.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert isinstance(error.value, ValueError)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(PatternFileError, match="no such file"):
        read_pattern(tmp_path / "absent.xy")
    binary = tmp_path / "scan.raw"
    binary.write_bytes(b"RAW1.01\0\0\x12\x34" * 50)
    with pytest.raises(PatternFileError, match="binary file"):
        read_pattern(binary)


# ---- wavelength ------------------------------------------------------------------------------
def test_peak_moves_where_braggs_law_puts_it():
    # one Cu Kα peak at 2θ = 30°: d = λ / (2 sin 15°) = 2.9786 Å, which diffracts at 13.70° with Mo Kα
    profile = render_profile([30.0], [1.0], FINE, ProfileSettings("gaussian", fwhm_deg=0.1), CU_KA)
    two_theta, intensity = convert_wavelength(FINE.points, profile, CU_KA, MO_KA)
    expected = 2 * np.degrees(np.arcsin(MO_KA * np.sin(np.radians(15.0)) / CU_KA))
    assert expected == pytest.approx(13.70, abs=0.01)
    assert two_theta[np.argmax(intensity)] == pytest.approx(expected, abs=0.005)
    # d spacings shorter than λ/2 of a longer wavelength cannot reflect and are dropped
    two_theta, intensity = convert_wavelength(np.array([30.0, 100.0, 150.0]), np.ones(3), CU_KA, 2.291)  # Cr Kα
    assert two_theta.size == 1 and two_theta[0] == pytest.approx(45.23, abs=0.01)  # 2 asin(2.291 sin 15° / 1.54184)


def test_converted_peak_areas_follow_the_simulation_at_the_new_wavelength(silicon_peaks):
    copper, molybdenum = silicon_peaks
    profile = render_profile(copper.two_theta, copper.intensity, FINE, ProfileSettings("gaussian", fwhm_deg=0.1), CU_KA)
    two_theta, intensity = convert_wavelength(FINE.points, profile, CU_KA, MO_KA)
    areas = []
    for position in molybdenum.two_theta[:4]:
        near = np.abs(two_theta - position) < 0.2
        areas.append(np.trapezoid(intensity[near], two_theta[near]))
    # only the Lorentz-polarization factor differs between the two wavelengths
    np.testing.assert_allclose(np.array(areas) / areas[0], molybdenum.intensity[:4] / molybdenum.intensity[0], rtol=0.01)
    without_correction = [(profile[np.abs(FINE.points - p) < 0.5]).sum() for p in copper.two_theta[:4]]
    assert not np.allclose(np.array(without_correction) / without_correction[0],
                           molybdenum.intensity[:4] / molybdenum.intensity[0], rtol=0.05)


# ---- background and resampling -----------------------------------------------------------------
def smooth_background(x: np.ndarray) -> np.ndarray:
    """Air scatter falling off from low angle, an amorphous halo near 24°, a constant and a slope."""
    return 0.6 * np.exp(-(x - 5) / 8) + 0.25 * np.exp(-0.5 * ((x - 24) / 4) ** 2) + 0.1 + 0.001 * x


def broad_background(x: np.ndarray) -> np.ndarray:
    """Slower decay and a wide halo: what a low-order polynomial can follow."""
    return 0.4 * np.exp(-(x - 5) / 15) + 0.2 * np.exp(-0.5 * ((x - 24) / 10) ** 2) + 0.1 + 0.001 * x


@pytest.mark.parametrize("method, background", [("rolling_ball", smooth_background),
                                                ("iterative_polynomial", broad_background)])
def test_background_subtraction_removes_a_smooth_background_and_keeps_peaks(silicon_peaks, method, background):
    copper, _ = silicon_peaks
    x = FINE.points
    peaks = render_profile(copper.two_theta, copper.intensity, FINE, ProfileSettings("pseudo_voigt", fwhm_deg=0.15), CU_KA)
    measured = peaks + background(x)
    corrected = subtract_background(x, measured, method)
    away = np.all(np.abs(x[:, None] - copper.two_theta) > 2.0, axis=1)  # points far from any peak
    assert np.abs(measured[away]).max() > 0.4  # background up to half the strongest peak ...
    assert np.abs(corrected[away]).max() < 0.04  # ... is gone
    at_peaks = [int(np.argmin(np.abs(x - p))) for p in copper.two_theta]
    np.testing.assert_allclose(corrected[at_peaks], peaks[at_peaks], atol=0.05)
    assert corrected.min() >= 0
    assert not estimate_background(x, measured, "none").any()
    with pytest.raises(ValueError, match="unknown background method 'spline'; options: rolling_ball"):
        subtract_background(x, measured, "spline")


@pytest.mark.parametrize("points, radius_deg", [(FINE.points, 2.0),                      # evenly spaced, long
                                                (np.sort(np.random.default_rng(5).uniform(5, 90, 900)), 2.0),
                                                (np.linspace(20, 21, 40), 2.0)])      # shorter than the ball
def test_rolling_ball_is_the_flat_opening_of_the_odd_reflected_scan_then_its_moving_average(points, radius_deg):
    """The rolling ball as its definition reads (np.pad's odd reflection, grey_opening, uniform_filter1d), to the bit."""
    from scipy.ndimage import grey_opening, uniform_filter1d

    rng = np.random.default_rng(4)
    intensity = 50 * np.exp(-(points - 5) / 20) + rng.poisson(30, points.size) + 400 * (np.abs(points - 40) < 0.1)
    half = max(1, int(round(radius_deg / float(np.median(np.diff(points))))))
    padded = np.pad(intensity.astype(float), 2 * half, mode="reflect", reflect_type="odd")
    smoothed = uniform_filter1d(grey_opening(padded, size=2 * half + 1), 2 * half + 1)[2 * half:-2 * half]
    expected = np.minimum(smoothed, intensity)
    np.testing.assert_array_equal(estimate_background(points, intensity, "rolling_ball", radius_deg=radius_deg), expected)


def test_resampling_keeps_peak_positions_within_one_grid_step():
    positions = [17.013, 33.3, 61.777, 88.01]
    settings = ProfileSettings("gaussian", fwhm_deg=0.12)
    fine = render_profile(positions, [100, 60, 30, 80], FINE, settings, CU_KA)
    grid = TwoThetaGrid(10, 90, 0.04)
    resampled = resample_to_grid(FINE.points, fine, grid)
    assert resampled.shape == (grid.n_points,)
    for position in positions:
        window = np.abs(grid.points - position) < 1.0
        top = grid.points[window][np.argmax(resampled[window])]
        assert abs(top - position) <= grid.step_deg
    # grid points beyond the measured range are zero
    partial = resample_to_grid(FINE.points[FINE.points < 50], fine[FINE.points < 50], grid)
    assert not partial[grid.points > 50.01].any() and partial[grid.points < 50].any()


def test_preprocess_measured_end_to_end(silicon_peaks):
    copper, molybdenum = silicon_peaks
    x = FINE.points
    measured = 1000 * render_profile(copper.two_theta, copper.intensity, FINE,
                                     ProfileSettings("gaussian", fwhm_deg=0.1), CU_KA) + 300 * smooth_background(x)
    grid = TwoThetaGrid(5, 45, 0.02)
    profile = preprocess_measured(x, measured, CU_KA, grid, target_wavelength_angstrom=MO_KA)
    assert profile.dtype == np.float32 and profile.shape == (grid.n_points,) and profile.max() == 1.0
    assert abs(grid.points[np.argmax(profile)] - molybdenum.two_theta[0]) <= grid.step_deg  # Si (111) at Mo Kα
    with pytest.raises(ValueError, match="no signal on the model's grid"):
        preprocess_measured(x[x > 60], measured[x > 60], CU_KA, grid, target_wavelength_angstrom=CU_KA)
