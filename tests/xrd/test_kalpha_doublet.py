"""The Kα1/Kα2 doublet: each line at its own Bragg angle, Kα2 at half the Kα1 intensity."""

import numpy as np
import pytest

from xrdnet.data.augment import PeakAugmenter
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid
from xrdnet.xrd.wavelengths import KALPHA_RELATIVE_SPLIT, d_to_two_theta, kalpha_doublet, resolve_wavelength

SI_D111 = 5.431 / np.sqrt(3)  # Å


def test_silicon_111_kalpha2_line_lands_where_bragg_puts_it_for_1_54439_at_half_the_area():
    cu_ka = resolve_wavelength("CuKa")  # the weighted mean, 1.54184 Å
    two_theta, intensity = kalpha_doublet(d_to_two_theta([SI_D111], cu_ka), [100.0], cu_ka, KALPHA_RELATIVE_SPLIT["Cu"])
    assert two_theta[0] == pytest.approx(float(d_to_two_theta(SI_D111, 1.54056)), abs=1e-4)
    assert two_theta[1] == pytest.approx(float(d_to_two_theta(SI_D111, 1.54439)), abs=1e-4)
    assert two_theta[1] - two_theta[0] == pytest.approx(0.072, abs=0.003)  # Si (111) doublet at 28.4°, CuKα
    assert intensity[1] / intensity[0] == pytest.approx(0.5) and intensity.sum() == pytest.approx(100.0)


def test_doublet_split_grows_with_angle_and_kalpha2_past_180_is_dropped():
    cu_ka = resolve_wavelength("CuKa")
    two_theta, _ = kalpha_doublet(np.array([20.0, 80.0, 179.9]), np.ones(3), cu_ka, KALPHA_RELATIVE_SPLIT["Cu"])
    kalpha1, kalpha2 = two_theta[:3], two_theta[3:]
    assert len(kalpha2) == 2  # the line at 179.9° has no Kα2 line below 180°
    splits = kalpha2 - kalpha1[:2]
    assert splits[0] == pytest.approx(0.05, abs=0.01) and splits[1] == pytest.approx(0.24, abs=0.02)


def test_augmenter_adds_the_doublet_only_when_asked():
    grid = TwoThetaGrid(60, 70, 0.005)
    settings = ProfileSettings("gaussian", fwhm_deg=0.03)
    common = dict(grid=grid, settings=settings, zero_shift_deg=0, strain=0, crystallite_size_nm=None,
                  intensity_jitter=0, max_counts=None, gaussian_noise=0, background=0)
    single = PeakAugmenter(**common)(np.array([65.0]), np.array([100.0]), 1.54184, np.random.default_rng(0))
    doubled = PeakAugmenter(**common, kalpha2_probability=1.0, kalpha2_split=(0.0025, 0.0025))(
        np.array([65.0]), np.array([100.0]), 1.54184, np.random.default_rng(0))
    maxima = lambda p: np.flatnonzero((p[1:-1] > p[:-2]) & (p[1:-1] >= p[2:]) & (p[1:-1] > 0.1)) + 1
    assert len(maxima(single)) == 1 and len(maxima(doubled)) == 2
    second, first = sorted(maxima(doubled), key=lambda i: doubled[i])
    assert grid.points[second] > grid.points[first] and doubled[second] == pytest.approx(0.5, abs=0.03)


def test_rachinger_stripping_removes_the_kalpha2_line_and_keeps_kalpha1():
    from xrdnet.xrd.measured import strip_kalpha2

    grid = TwoThetaGrid(20, 90, 0.01)
    settings = ProfileSettings("pseudo_voigt", fwhm_deg=0.08)
    cu_ka = resolve_wavelength("CuKa")
    lines = np.array([28.44, 47.30, 56.12, 76.38, 88.03])  # Si, CuKα
    heights = np.array([100.0, 55, 30, 8, 12])
    from xrdnet.xrd.profile import render_profile

    doublet = render_profile(*kalpha_doublet(lines, heights, cu_ka, KALPHA_RELATIVE_SPLIT["Cu"]), grid, settings, cu_ka)
    kalpha1_lines = kalpha_doublet(lines, heights, cu_ka, KALPHA_RELATIVE_SPLIT["Cu"])[0][:len(lines)]
    alone = render_profile(kalpha1_lines, heights, grid, settings, cu_ka)
    stripped = strip_kalpha2(grid.points, doublet, KALPHA_RELATIVE_SPLIT["Cu"])
    stripped /= stripped.max()
    assert np.abs(stripped - alone).max() < 0.03  # what is left is the Kα1 pattern ...
    assert np.abs(doublet / doublet.max() - alone).max() > 0.2  # ... which the doublet was not


def test_a_recorded_kalpha2_ratio_is_the_one_stripped():
    """A tube whose file records I(Kα2)/I(Kα1) = 0.3: stripping at that ratio leaves the Kα1 pattern, 0.5 does not."""
    from xrdnet.xrd.measured import preprocess_measured
    from xrdnet.xrd.profile import render_profile
    from xrdnet.xrd.wavelengths import Radiation

    grid = TwoThetaGrid(20, 90, 0.01)
    settings = ProfileSettings("pseudo_voigt", fwhm_deg=0.08)
    recorded = Radiation(1.540598, 1.544426, 0.3)
    lines = np.array([28.44, 47.30, 56.12, 76.38, 88.03])  # Si at the doublet's mean wavelength
    heights = np.array([100.0, 55, 30, 8, 12])
    mean = recorded.mean_angstrom
    doublet_lines, doublet_heights = kalpha_doublet(lines, heights, mean, recorded.relative_split, ratio=0.3)
    scan = render_profile(doublet_lines, doublet_heights, grid, settings, mean)
    alone = render_profile(doublet_lines[:len(lines)], heights, grid, settings, mean)
    alone /= alone.max()

    def stripped(ratio: float) -> np.ndarray:
        return preprocess_measured(grid.points, scan, mean, grid, target_wavelength_angstrom=recorded.kalpha1_angstrom,
                                   background="none", kalpha2_split=recorded.relative_split, kalpha2_ratio=ratio)

    assert np.abs(stripped(recorded.kalpha2_ratio) - alone).max() < 0.01  # measured 0.003
    assert np.abs(stripped(0.5) - alone).max() > 0.08  # measured 0.12
