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
    for positions, intensities in (([np.nan], [1.0]), ([30.0, 40.0], [1.0, np.inf]), ([30.0, -np.inf], [1.0, 1.0])):
        with pytest.raises(ValueError, match="finite"):
            render_profile(positions, intensities, GRID, ProfileSettings(), CU_KA)
    # peaks that cannot show (no intensity, 2θ outside 0-180°) are dropped, not errors
    kept = render_profile([30.0, 40.0], [1.0, 2.0], GRID, ProfileSettings(), CU_KA)
    with_dropped = render_profile([30.0, 40.0, 200.0, -5.0, 50.0], [1.0, 2.0, 5.0, 5.0, 0.0], GRID, ProfileSettings(),
                                  CU_KA)
    np.testing.assert_array_equal(with_dropped, kept)


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


# --- the FFT renderer (method="fft") against the per-peak reference (method="direct") ------------------------

# largest |FFT − direct| allowed, as a fraction of the maximum. Measured: ≤ 1e-4 for Gaussians; ≤ 1e-3 for
# pseudo-Voigts, where the reference's Lorentzian windows end anywhere from 20 to 28 FWHM out
FFT_TOLERANCE = {"gaussian": 2e-4, "pseudo_voigt": 2e-3}
WIDTHS = [dict(crystallite_size_nm=size) for size in (5.0, 10.0, 25.0, 60.0, 100.0)] + \
         [dict(fwhm_deg=width) for width in (0.02, 0.1, 0.3, 1.0)]  # 0.02: raised to the 0.04 floor


def fft_and_direct(positions, intensities, grid, settings, wavelength=CU_KA):
    return tuple(render_profile(positions, intensities, grid, settings, wavelength, method=method)
                 for method in ("fft", "direct"))


def random_pattern(rng, n_peaks: int, low_deg: float = 3.0, high_deg: float = 92.0):
    """Peaks over (and a little beyond) the grid, intensities spread over four decades like simulated ones."""
    return rng.uniform(low_deg, high_deg, n_peaks), 100 * 10 ** rng.uniform(-4, 0, n_peaks)


@pytest.mark.parametrize("shape", ["gaussian", "pseudo_voigt"])
@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: "-".join(f"{k}={v:g}" for k, v in w.items()))
def test_fft_render_matches_the_direct_reference(shape, width):
    settings = ProfileSettings(shape, **width)
    rng = np.random.default_rng(3)
    cases = [random_pattern(rng, n) for n in (1, 5, 250, 650)]
    cases += [([5.0], [1.0]), ([4.97, 47.0], [30.0, 1.0]), ([90.0], [1.0]), ([90.05, 60.0], [80.0, 1.0]),
              ([12.0, 12.013], [1.0, 1.0])]  # on the ends, just off them, two peaks less than a step apart
    for positions, intensities in cases:
        fft, direct = fft_and_direct(positions, intensities, GRID, settings)
        assert fft.dtype == np.float32 and fft.shape == direct.shape and fft.max() == 1.0 and fft.min() >= 0
        assert np.abs(fft.astype(float) - direct).max() <= FFT_TOLERANCE[shape], (positions[:3], intensities[:3])


@pytest.mark.parametrize("shape", ["gaussian", "pseudo_voigt"])
def test_fft_render_matches_the_reference_on_other_grids_and_wavelengths(shape):
    rng = np.random.default_rng(4)
    positions, intensities = random_pattern(rng, 300, 1.0, 150.0)
    # MoKα on a fine low-angle grid; CuKα to 150° with 250 nm crystallites, where peaks below 2θ ≈ 75°
    # are narrower than a step (and get the one-step floor) and those above are not
    for grid, wavelength, settings in ((TwoThetaGrid(2, 45, 0.01), 0.71073, ProfileSettings(shape, crystallite_size_nm=30)),
                                       (TwoThetaGrid(5, 150, 0.04), CU_KA, ProfileSettings(shape, crystallite_size_nm=250)),
                                       (TwoThetaGrid(10, 50, 0.05), CU_KA, ProfileSettings(shape, fwhm_deg=0.17))):
        fft, direct = fft_and_direct(positions, intensities, grid, settings, wavelength)
        assert np.abs(fft.astype(float) - direct).max() <= FFT_TOLERANCE[shape]


def test_fft_render_has_the_textbook_shapes_and_areas():
    fwhm, center = 0.4, 40.0  # centre on a grid point
    x = GRID.points - center
    gaussian = render_profile([center], [1.0], GRID, ProfileSettings("gaussian", fwhm_deg=fwhm), CU_KA, method="fft")
    np.testing.assert_allclose(gaussian, np.exp(-4 * np.log(2) * (x / fwhm) ** 2), atol=1e-6)
    lorentzian = render_profile([center], [1.0], GRID, ProfileSettings("pseudo_voigt", fwhm_deg=fwhm, eta=1.0), CU_KA,
                                method="fft")
    inside = np.abs(x) <= 20 * fwhm
    np.testing.assert_allclose(lorentzian[inside], 1 / (1 + 4 * (x[inside] / fwhm) ** 2), atol=1e-6)
    assert np.all(lorentzian[~inside] <= 1 / (1 + 4 * 20**2))  # faded out beyond the window, never raised
    fixed = render_profile([30.0, 60.0], [100.0, 25.0], GRID, ProfileSettings("gaussian", fwhm_deg=0.3), CU_KA,
                           method="fft")
    area = [fixed[np.abs(GRID.points - p) < 2].sum() for p in (30.0, 60.0)]
    assert area[1] / area[0] == pytest.approx(0.25, rel=1e-4)


@pytest.mark.parametrize("shape", ["gaussian", "pseudo_voigt"])
@pytest.mark.parametrize("size_nm", [5.0, 25.0, 100.0])
def test_fft_scherrer_peak_lands_within_one_step_and_has_the_scherrer_width(shape, size_nm):
    fine = TwoThetaGrid(5, 90, 0.01)
    settings = ProfileSettings(shape, crystallite_size_nm=size_nm)
    for position in (9.987, 33.3333, 61.005, 84.41):
        profile = render_profile([position], [10.0], fine, settings, CU_KA, method="fft")
        assert abs(fine.points[np.argmax(profile)] - position) <= fine.step_deg
        expected = scherrer_fwhm_deg(position, CU_KA, size_nm)
        assert half_max_width(fine, profile, position) == pytest.approx(expected, abs=2 * fine.step_deg)


def test_fft_render_is_exactly_zero_where_no_peak_window_reaches():
    # the Gaussian window is ±3 FWHM: beyond it the reference adds nothing and neither may FFT round-off
    positions = np.array([20.0, 50.0])
    for settings in (ProfileSettings("gaussian", fwhm_deg=0.2), ProfileSettings("gaussian", crystallite_size_nm=20)):
        profile = render_profile(positions, [100.0, 0.01], GRID, settings, CU_KA, method="fft")
        reach = 3 * settings.fwhm_at(positions, CU_KA).max() + GRID.step_deg
        away = np.all(np.abs(GRID.points[:, None] - positions) > reach, axis=1)
        assert away.sum() > 1500 and not profile[away].any()
        assert profile[np.argmin(np.abs(GRID.points - 50.0))] > 0  # the 1e-4 peak is kept
    far_off = render_profile([120.0], [1.0], GRID, ProfileSettings("pseudo_voigt", fwhm_deg=0.2), CU_KA, method="fft")
    assert far_off.shape == (GRID.n_points,) and not far_off.any()


def test_auto_renders_small_jobs_directly_and_large_ones_by_fft():
    settings = ProfileSettings("pseudo_voigt", crystallite_size_nm=25)
    small = ([30.0, 50.0], [100.0, 40.0])
    large = random_pattern(np.random.default_rng(5), 400)
    np.testing.assert_array_equal(render_profile(*small, GRID, settings, CU_KA),
                                  render_profile(*small, GRID, settings, CU_KA, method="direct"))
    np.testing.assert_array_equal(render_profile(*large, GRID, settings, CU_KA),
                                  render_profile(*large, GRID, settings, CU_KA, method="fft"))
    with pytest.raises(ValueError, match="unknown render method 'fast'; options: auto, fft, direct"):
        render_profile(*small, GRID, settings, CU_KA, method="fast")
