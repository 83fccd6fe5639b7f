"""Instrument physics of rendered peaks: Caglioti resolution, TCH widths, microstrain, axial asymmetry, texture."""

import numpy as np
import pytest
from scipy.special import voigt_profile

from xrdnet.xrd.instrument import (axial_asymmetry, caglioti_fwhm_deg, displacement_shift_deg, gaussian_fwhm_sq_deg2,
                                   march_dollase_weight, microstrain_fwhm_deg, tch_pseudo_voigt)
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile, scherrer_fwhm_deg

CU_KA1 = 1.54056
FINE = TwoThetaGrid(5.0, 90.0, 0.002)
UVW = (0.012, -0.008, 0.004)  # a lab Bragg-Brentano diffractometer, deg²
NO_SIZE = 1e6  # nm: Scherrer broadening negligible


def measured_fwhm(profile: np.ndarray, grid: TwoThetaGrid, near_deg: float) -> tuple[float, float]:
    """(FWHM, left half-width) in degrees of the peak near near_deg, from the half-maximum crossings."""
    points = grid.points
    top = int(np.argmin(np.abs(points - near_deg)))
    top += int(np.argmax(profile[top - 200:top + 200])) - 200
    half = profile[top] / 2.0
    left = top - int(np.argmax(profile[top::-1] < half))
    right = top + int(np.argmax(profile[top:] < half))
    x_left = np.interp(half, [profile[left], profile[left + 1]], [points[left], points[left + 1]])
    x_right = np.interp(half, [profile[right], profile[right - 1]], [points[right], points[right - 1]])
    return x_right - x_left, points[top] - x_left


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("two_theta", [20.0, 60.0, 85.0])
def test_rendered_fwhm_follows_caglioti(method, two_theta):
    settings = ProfileSettings("pseudo_voigt", crystallite_size_nm=NO_SIZE, caglioti_uvw=UVW)
    profile = render_profile([two_theta], [100.0], FINE, settings, CU_KA1, method=method)
    fwhm, _ = measured_fwhm(profile, FINE, two_theta)
    expected = caglioti_fwhm_deg(two_theta, *UVW)  # sqrt(U tan²θ + V tanθ + W)
    assert fwhm == pytest.approx(float(expected), rel=0.01)


def test_microstrain_width_is_four_epsilon_tan_theta():
    settings = ProfileSettings("gaussian", crystallite_size_nm=NO_SIZE, microstrain=2e-3)
    profile = render_profile([70.0], [100.0], FINE, settings, CU_KA1, method="direct")
    expected = np.degrees(4 * 2e-3 * np.tan(np.radians(35.0)))
    assert measured_fwhm(profile, FINE, 70.0)[0] == pytest.approx(expected, rel=0.01)
    assert microstrain_fwhm_deg(70.0, 2e-3) == pytest.approx(expected)


@pytest.mark.parametrize("ratio", [0.2, 1.0, 5.0])
def test_tch_fwhm_matches_the_voigt_it_approximates(ratio):
    """TCH's FWHM of a Gaussian (FWHM g) ⊗ Lorentzian (FWHM l) is the exact Voigt's to ~1 % (TCH 1987)."""
    g, lo = 1.0, ratio
    x = np.linspace(-20, 20, 400001)
    voigt = voigt_profile(x, g / (2 * np.sqrt(2 * np.log(2))), lo / 2)
    above = x[voigt >= voigt.max() / 2]
    fwhm, eta = tch_pseudo_voigt(g, lo)
    assert float(fwhm) == pytest.approx(above[-1] - above[0], rel=0.012)
    assert 0 < float(eta) < 1


def test_gaussian_width_adds_caglioti_and_microstrain_in_quadrature():
    two_theta = np.linspace(5, 150, 300)
    tan_theta = np.tan(np.radians(two_theta / 2))
    u, v, w = 0.02, -0.03, 0.004  # U t² + V t + W dips below 0 near t = 0.75: no instrument width there
    caglioti_sq = np.maximum(u * tan_theta**2 + v * tan_theta + w, 0.0)
    assert (caglioti_sq == 0).any() and (caglioti_sq > 0).any()
    strain_fwhm = np.degrees(4 * 1.5e-3 * tan_theta)
    np.testing.assert_allclose(gaussian_fwhm_sq_deg2(tan_theta, (u, v, w), 1.5e-3), caglioti_sq + strain_fwhm**2,
                               rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(gaussian_fwhm_sq_deg2(tan_theta, None, 1.5e-3), strain_fwhm**2, rtol=1e-12)
    np.testing.assert_allclose(caglioti_fwhm_deg(two_theta, u, v, w), np.sqrt(caglioti_sq), rtol=1e-12)


def test_tch_polynomial_in_horner_form_is_the_published_sum():
    g, lo = np.geomspace(1e-3, 1.0, 40)[:, None], np.geomspace(1e-3, 1.0, 40)[None, :]
    published = (g**5 + 2.69269 * g**4 * lo + 2.42843 * g**3 * lo**2 + 4.47163 * g**2 * lo**3
                 + 0.07842 * g * lo**4 + lo**5) ** 0.2
    q = lo / published
    fwhm, eta = tch_pseudo_voigt(g, lo)
    np.testing.assert_allclose(fwhm, published, rtol=1e-12)
    np.testing.assert_allclose(eta, np.clip(1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3, 0, 1), rtol=1e-12)


def test_widths_on_the_grid_are_the_peak_widths_at_the_grid_points():
    settings = ProfileSettings("pseudo_voigt", crystallite_size_nm=40.0, caglioti_uvw=UVW, microstrain=1e-3,
                               axial_asymmetry=0.02)
    grid = TwoThetaGrid(10.0, 120.0, 0.05)
    fwhm, _, _ = settings.peak_shapes(grid.points, CU_KA1)
    np.testing.assert_allclose(settings.instrument_fwhm_on_grid(grid, CU_KA1), fwhm, rtol=1e-12)


def test_instrument_and_size_widths_combine_by_tch():
    settings = ProfileSettings("pseudo_voigt", crystallite_size_nm=40.0, caglioti_uvw=UVW, microstrain=1e-3)
    two_theta = 50.0
    gaussian = np.hypot(caglioti_fwhm_deg(two_theta, *UVW), microstrain_fwhm_deg(two_theta, 1e-3))
    expected, _ = tch_pseudo_voigt(gaussian, scherrer_fwhm_deg(two_theta, CU_KA1, 40.0))
    profile = render_profile([two_theta], [100.0], FINE, settings, CU_KA1, method="direct")
    assert measured_fwhm(profile, FINE, two_theta)[0] == pytest.approx(float(expected), rel=0.01)


def test_fft_and_direct_instrument_renders_agree():
    rng = np.random.default_rng(3)
    positions, intensities = np.sort(rng.uniform(6, 89, 60)), rng.uniform(1, 100, 60)
    grid = TwoThetaGrid()
    symmetric = ProfileSettings("pseudo_voigt", crystallite_size_nm=30.0, caglioti_uvw=UVW, microstrain=1e-3)
    direct = render_profile(positions, intensities, grid, symmetric, CU_KA1, method="direct")
    fft = render_profile(positions, intensities, grid, symmetric, CU_KA1, method="fft")
    assert np.abs(direct - fft).max() < 3e-3
    skewed = ProfileSettings("pseudo_voigt", crystallite_size_nm=30.0, caglioti_uvw=UVW, axial_asymmetry=0.03)
    direct = render_profile(positions, intensities, grid, skewed, CU_KA1, method="direct")
    fft = render_profile(positions, intensities, grid, skewed, CU_KA1, method="fft")
    assert np.abs(direct - fft).max() < 3e-2  # the FFT takes the split profile to first order in a


@pytest.mark.parametrize("two_theta, low_side_wider", [(15.0, True), (120.0, False)])
def test_axial_divergence_tails_towards_low_angle_below_90_degrees(two_theta, low_side_wider):
    grid = TwoThetaGrid(5.0, 150.0, 0.002)
    plain = ProfileSettings("pseudo_voigt", crystallite_size_nm=NO_SIZE, caglioti_uvw=UVW)
    skewed = ProfileSettings("pseudo_voigt", crystallite_size_nm=NO_SIZE, caglioti_uvw=UVW, axial_asymmetry=0.05)
    symmetric = render_profile([two_theta], [100.0], grid, plain, CU_KA1, method="direct")
    asymmetric = render_profile([two_theta], [100.0], grid, skewed, CU_KA1, method="direct")
    fwhm, left = measured_fwhm(asymmetric, grid, two_theta)
    a = float(axial_asymmetry(two_theta, 0.05))
    assert left / (fwhm - left) == pytest.approx((1 + a) / (1 - a), rel=0.02)  # split profile's half-widths
    assert (left > fwhm / 2) == low_side_wider
    # same height and FWHM as the symmetric peak, so the same area (both are scaled to maximum 1)
    assert asymmetric.sum() == pytest.approx(symmetric.sum(), rel=0.01)


def test_displacement_moves_si_111_by_minus_2s_cos_theta_over_r():
    si_111 = 2 * np.degrees(np.arcsin(CU_KA1 / (2 * 5.431 / np.sqrt(3))))  # 28.44°
    assert si_111 == pytest.approx(28.44, abs=0.01)
    shift = displacement_shift_deg(si_111, 0.1, 240.0)  # 0.1 mm above the focusing circle, R = 240 mm
    assert shift == pytest.approx(-np.degrees(2 * 0.1 * np.cos(np.radians(si_111 / 2)) / 240), rel=1e-12)
    assert shift == pytest.approx(-0.0463, abs=2e-4)
    grid = TwoThetaGrid(20.0, 40.0, 0.001)
    settings = ProfileSettings("gaussian", fwhm_deg=0.05)
    moved = render_profile([si_111 + shift], [100.0], grid, settings, CU_KA1)
    assert grid.points[np.argmax(moved)] == pytest.approx(si_111 + shift, abs=0.001)


def test_march_dollase_weights():
    r = 0.7  # platelets: reflections along the plate normal (α = 0) are enhanced
    assert march_dollase_weight(1.0, r) == pytest.approx(r**-3)
    assert march_dollase_weight(0.0, r) == pytest.approx(r**1.5)
    # the preferred reflection over one at 90°, as two rendered peaks of equal intensity show it
    weights = march_dollase_weight(np.array([1.0, 0.0]), r)
    grid = TwoThetaGrid()
    profile = render_profile([30.0, 60.0], 100.0 * weights, grid, ProfileSettings("gaussian", fwhm_deg=0.2), CU_KA1)
    near = lambda c: profile[np.abs(grid.points - c) < 1.0].sum()  # noqa: E731
    assert near(30.0) / near(60.0) == pytest.approx(r**-4.5, rel=1e-3)
    # a random orientation keeps the total: the mean over cos α uniform in 0..1 is 1
    cos_alpha = np.linspace(0.0, 1.0, 200001)
    for r in (0.5, 0.8, 1.0, 1.6):
        assert np.trapezoid(march_dollase_weight(cos_alpha, r), cos_alpha) == pytest.approx(1.0, rel=1e-6)


def test_settings_without_instrument_keep_their_dict_and_reject_bad_values():
    assert "caglioti_uvw" not in ProfileSettings().to_dict()
    settings = ProfileSettings(caglioti_uvw=[0.01, -0.005, 0.002], microstrain=1e-3)
    assert ProfileSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match="caglioti_uvw"):
        ProfileSettings(caglioti_uvw=(0.01, 0.0))
    with pytest.raises(ValueError, match="microstrain"):
        ProfileSettings(microstrain=-1e-3)
