"""Rendered profiles: grid, normalization, peak positions, Scherrer widths and peak shapes."""

import numpy as np
import pytest

from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile, scherrer_fwhm_deg

CU_KA = 1.54184
GRID = TwoThetaGrid()  # 5..90° in 0.04° steps


def half_max_width(grid: TwoThetaGrid, profile: np.ndarray, near_deg: float) -> float:
    """FWHM (degrees) of the peak nearest near_deg, from linear interpolation of the half-maximum crossings."""
    x = grid.points
    top = int(np.argmin(np.abs(x - near_deg)))
    top = top - 5 + int(np.argmax(profile[top - 5:top + 6]))
    half = profile[top] / 2
    right = top + int(np.argmax(profile[top:] < half))
    left = top - int(np.argmax(profile[top::-1] < half))
    x_right = np.interp(half, [profile[right], profile[right - 1]], [x[right], x[right - 1]])
    x_left = np.interp(half, [profile[left], profile[left + 1]], [x[left], x[left + 1]])
    return x_right - x_left


def test_grid_includes_both_ends_and_round_trips():
    assert GRID.n_points == 2126 == len(GRID.points)
    assert GRID.points[0] == 5.0 and GRID.points[-1] == pytest.approx(90.0, abs=1e-9)
    assert np.allclose(np.diff(GRID.points), 0.04)
    assert TwoThetaGrid(10, 20.05, 0.1).points[-1] == pytest.approx(20.0)  # 20.05 is not on a step
    assert TwoThetaGrid.from_dict(GRID.to_dict()) == GRID
    with pytest.raises(ValueError, match="unknown 2θ grid setting"):
        TwoThetaGrid.from_dict({"start_deg": 5, "stop": 90})
    with pytest.raises(ValueError, match="start_deg < stop_deg"):
        TwoThetaGrid(50, 40)


@pytest.mark.parametrize("shape", ["gaussian", "pseudo_voigt"])
def test_length_dtype_and_max_exactly_one(shape):
    rng = np.random.default_rng(1)
    positions, intensities = rng.uniform(6, 89, 60), rng.uniform(0, 100, 60)
    for grid in (GRID, TwoThetaGrid(2, 45, 0.02)):
        profile = render_profile(positions, intensities, grid, ProfileSettings(shape), CU_KA)
        assert profile.shape == (grid.n_points,) and profile.dtype == np.float32
        assert profile.max() == 1.0 and profile.min() >= 0


@pytest.mark.parametrize("settings", [ProfileSettings("gaussian", fwhm_deg=0.2),
                                      ProfileSettings("pseudo_voigt", crystallite_size_nm=15)])
def test_peak_maximum_lands_within_one_step_of_the_peak(settings):
    for position in (12.345, 33.019, 47.3, 71.987):
        profile = render_profile([position], [50.0], GRID, settings, CU_KA)
        assert abs(GRID.points[np.argmax(profile)] - position) <= GRID.step_deg


def test_gaussian_and_lorentzian_shapes_are_the_textbook_functions():
    fwhm, center = 0.4, 40.0  # centre on a grid point
    x = GRID.points - center
    gaussian = render_profile([center], [1.0], GRID, ProfileSettings("gaussian", fwhm_deg=fwhm), CU_KA)
    np.testing.assert_allclose(gaussian, np.exp(-4 * np.log(2) * (x / fwhm) ** 2), atol=1e-5)
    lorentzian = render_profile([center], [1.0], GRID, ProfileSettings("pseudo_voigt", fwhm_deg=fwhm, eta=1.0), CU_KA)
    inside = np.abs(x) <= 20 * fwhm  # the documented Lorentzian window
    np.testing.assert_allclose(lorentzian[inside], 1 / (1 + 4 * (x[inside] / fwhm) ** 2), atol=1e-5)
    assert np.all(lorentzian[~inside] <= 1 / (1 + 4 * 20**2))  # the tail beyond the window is cut, not bent


def test_peaks_are_area_normalized():
    # equal integrated intensity: twice the width gives half the height
    settings = ProfileSettings("gaussian", crystallite_size_nm=20)
    profile = render_profile([20.0, 85.0], [100.0, 100.0], GRID, settings, CU_KA)
    widths = scherrer_fwhm_deg(np.array([20.0, 85.0]), CU_KA, 20)
    heights = [profile[np.argmin(np.abs(GRID.points - p))] for p in (20.0, 85.0)]
    assert heights[1] / heights[0] == pytest.approx(widths[0] / widths[1], rel=0.01)
    # and the area under each peak follows its intensity
    fixed = render_profile([30.0, 60.0], [100.0, 25.0], GRID, ProfileSettings("gaussian", fwhm_deg=0.3), CU_KA)
    area = [fixed[np.abs(GRID.points - p) < 2].sum() for p in (30.0, 60.0)]
    assert area[1] / area[0] == pytest.approx(0.25, rel=1e-3)


def test_scherrer_width_matches_k_lambda_over_l_cos_theta():
    fine = TwoThetaGrid(5, 90, 0.01)
    widths = {}
    for size_nm in (8.0, 20.0, 60.0):
        for shape in ("gaussian", "pseudo_voigt"):
            settings = ProfileSettings(shape, crystallite_size_nm=size_nm)
            profile = render_profile([30.0, 80.0], [100.0, 100.0], fine, settings, CU_KA)
            for position in (30.0, 80.0):
                theta = np.radians(position / 2)
                expected = np.degrees(0.9 * CU_KA / (size_nm * 10 * np.cos(theta)))  # K λ / (L cos θ), λ, L in Å
                measured = half_max_width(fine, profile, position)
                assert measured == pytest.approx(expected, abs=2 * fine.step_deg)
                widths[size_nm, shape, position] = measured
    for shape in ("gaussian", "pseudo_voigt"):
        for position in (30.0, 80.0):
            assert widths[8.0, shape, position] > widths[20.0, shape, position] > widths[60.0, shape, position]
        assert widths[20.0, shape, 80.0] > widths[20.0, shape, 30.0]  # 1 / cos θ grows with angle


def test_pseudo_voigt_has_heavier_tails_than_gaussian():
    settings = dict(fwhm_deg=0.3)
    gaussian = render_profile([45.0], [1.0], GRID, ProfileSettings("gaussian", **settings), CU_KA)
    voigt = render_profile([45.0], [1.0], GRID, ProfileSettings("pseudo_voigt", eta=0.5, **settings), CU_KA)
    for offset_fwhm in (2, 5, 10):
        i = int(np.argmin(np.abs(GRID.points - (45.0 + offset_fwhm * 0.3))))
        assert voigt[i] > gaussian[i]
    far = int(np.argmin(np.abs(GRID.points - 46.8)))  # 6 FWHM out, on a grid point
    lorentzian_part, gaussian_height = 0.5 * 2 / np.pi, 0.5 * 2 * np.sqrt(np.log(2) / np.pi)  # per unit area × FWHM
    assert gaussian[far] < 1e-12
    assert voigt[far] == pytest.approx(lorentzian_part / (1 + 4 * 6**2) / (lorentzian_part + gaussian_height), rel=1e-4)


def test_nothing_on_the_grid_gives_zeros():
    settings = ProfileSettings("gaussian", fwhm_deg=0.2)
    for positions, intensities in (([], []), ([30.0, 40.0], [0.0, 0.0]), ([120.0], [100.0])):
        profile = render_profile(positions, intensities, GRID, settings, CU_KA)
        assert profile.shape == (GRID.n_points,) and not profile.any()
    # a peak just off the end still shows its tail
    assert render_profile([90.2], [1.0], GRID, settings, CU_KA)[-1] > 0


def test_bad_input_is_a_clear_value_error():
    with pytest.raises(ValueError, match="differ in length"):
        render_profile([30.0, 40.0], [1.0], GRID, ProfileSettings(), CU_KA)
    with pytest.raises(ValueError, match="non-negative"):
        render_profile([30.0], [-1.0], GRID, ProfileSettings(), CU_KA)
    with pytest.raises(ValueError, match="finite"):
        render_profile([np.nan], [1.0], GRID, ProfileSettings(), CU_KA)


def test_profile_settings_validate_and_round_trip():
    with pytest.raises(ValueError, match="unknown peak shape 'lorentz'; options: gaussian, pseudo_voigt"):
        ProfileSettings("lorentz")
    with pytest.raises(ValueError, match="set fwhm_deg"):
        ProfileSettings(crystallite_size_nm=None)
    with pytest.raises(ValueError, match="eta"):
        ProfileSettings("pseudo_voigt", eta=1.5)
    fixed = ProfileSettings("pseudo_voigt", fwhm_deg=0.1)
    assert fixed.crystallite_size_nm is None  # one width rule in force
    assert np.all(fixed.fwhm_at(np.array([10.0, 80.0]), CU_KA) == 0.1)
    assert ProfileSettings.from_dict(fixed.to_dict()) == fixed
    with pytest.raises(ValueError, match="unknown profile setting"):
        ProfileSettings.from_dict({"shape": "gaussian", "width": 0.1})
