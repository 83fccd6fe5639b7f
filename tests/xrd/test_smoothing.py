"""Noise-gated smoothing before line picking (`xrd.smoothing`, the `indexing_v10` and `indexing_v11`
features): a scan with moderate counting noise is Savitzky-Golay smoothed and then picked as a nearly clean
profile; clean renders and scans with few counts are picked as they are."""

import numpy as np
import pytest

from xrdnet.data.features import feature_set, profile_features
from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd import indexing, smoothing
from xrdnet.xrd.measured import preprocess_measured
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0)


def counted(profile: np.ndarray, peak_counts: float, background: float, rng: np.random.Generator) -> np.ndarray:
    """A Poisson scan of `profile` (max 1) with peak_counts on the strongest point over a flat background
    (fraction of peak_counts), the known background level removed."""
    level = background * peak_counts
    counts = rng.poisson(profile * peak_counts + level).astype(float)
    return np.maximum(counts - level, 0.0) / peak_counts


@pytest.fixture(scope="module")
def clean_renders() -> list[np.ndarray]:
    simulator = XRDSimulator("CuKa")
    renders = []
    for entry in REFERENCE_STRUCTURES:
        peaks = simulator.simulate(entry.structure())
        profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength)
        renders.append(profile / profile.max())
    return renders


def test_sqrt_noise_level_measures_the_counts():
    # Anscombe: Poisson counts N have σ √N, so √(counts / N) has σ 1 / (2 √N) whatever the level
    rng = np.random.default_rng(0)
    for counts in (1e3, 1e4, 1e5):
        scan = rng.poisson(np.full(GRID.n_points, counts)).astype(float)
        assert smoothing.sqrt_noise_level(scan) == pytest.approx(0.5 / np.sqrt(counts), rel=0.1)
    assert smoothing.sqrt_noise_level(np.zeros(10)) == 0.0


@pytest.mark.parametrize("kind", ["indexing_v10", "indexing_v11"])
def test_clean_renders_pass_unchanged_and_keep_indexing_v9_features(clean_renders, kind):
    for profile in clean_renders:
        assert feature_set(kind).lines_of(profile) is profile
        assert smoothing.fine_sqrt_noise_level(profile) < 0.1 * indexing.CURVATURE_MAX_SIGMA_SQRT
    profiles = np.stack(clean_renders[::3])
    np.testing.assert_array_equal(profile_features(profiles, GRID, 1.5405929, kind),
                                  profile_features(profiles, GRID, 1.5405929, "indexing_v9"))


def _found_again(clean_lines: np.ndarray, lines: np.ndarray) -> float:
    """Share of a clean render's lines with a pick within 0.05° in a scan of it."""
    if clean_lines.size == 0 or lines.size == 0:
        return 0.0
    return float(np.mean(np.abs(clean_lines[:, None] - lines[None, :]).min(axis=1) < 0.05))


def test_smoothing_finds_again_the_lines_a_moderately_noisy_scan_hides(clean_renders):
    # 10⁵ counts on the strongest line, a 2 % background: the noisy-scan rules find again ~88 % of the
    # reference structures' clean lines, the smoothed scan, picked with the curvature search, ~93 %
    rng = np.random.default_rng(0)
    raw, smoothed = [], []
    for profile in clean_renders:
        clean_lines, _ = indexing.pick_peaks(profile, GRID.points, curvature=True)
        for _ in range(3):
            scan = counted(profile, 1e5, 0.02, rng)
            assert indexing.is_noisy(scan)
            raw.append(_found_again(clean_lines, indexing.pick_peaks(scan, GRID.points, curvature=True)[0]))
            lines, _ = indexing.pick_peaks(smoothing.smooth_noisy_profile(scan), GRID.points, curvature=True)
            smoothed.append(_found_again(clean_lines, lines))
    assert np.mean(smoothed) > np.mean(raw) + 0.03, (np.mean(raw), np.mean(smoothed))


def test_scans_with_few_counts_are_not_smoothed(clean_renders):
    # at 10³ counts on a 20 % background the filter would shape noise into lines: the scan is left alone
    rng = np.random.default_rng(1)
    for profile in clean_renders:
        scan = counted(profile, 1e3, 0.2, rng)
        assert smoothing.sqrt_noise_level(scan) > smoothing.SMOOTHING_MAX_SIGMA_SQRT
        assert smoothing.smooth_noisy_profile(scan) is scan
        assert smoothing.smooth_unresolved_profile(scan) is scan


def test_a_fine_step_scan_averaged_onto_the_grid_is_smoothed_by_indexing_v11_only():
    # 10⁵ counts on the strongest line, a 2 % background, measured at 0.01° and averaged onto the 0.04° grid
    # as predict reads a file: averaging four points halves the noise, so `is_noisy` (√y σ > 3·10⁻³) often
    # calls it clean and indexing_v10 picks it as it is, yet it is far too noisy for the curvature search;
    # indexing_v11 smooths it, and its picks find again more of the clean render's lines
    fine_grid = TwoThetaGrid(GRID.start_deg, GRID.stop_deg, 0.01)
    simulator, rng = XRDSimulator("CuKa"), np.random.default_rng(4)
    raw, smoothed, quiet = [], [], 0
    for entry in REFERENCE_STRUCTURES:
        peaks = simulator.simulate(entry.structure())
        clean = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength)
        clean_lines, _ = indexing.pick_peaks(clean, GRID.points, curvature=True)
        fine = render_profile(peaks.two_theta, peaks.intensity, fine_grid, SETTINGS, peaks.wavelength)
        for _ in range(3):
            counts = rng.poisson(fine / fine.max() * 1e5 + 0.02 * 1e5).astype(float)
            scan = preprocess_measured(fine_grid.points, counts, peaks.wavelength, GRID)
            noisy = indexing.is_noisy(scan)
            quiet += not noisy
            assert smoothing.fine_sqrt_noise_level(scan) > indexing.CURVATURE_MAX_SIGMA_SQRT
            if not noisy:
                assert feature_set("indexing_v10").lines_of(scan) is scan
            lines_of = feature_set("indexing_v11").lines_of(scan)
            assert lines_of is not scan
            raw.append(_found_again(clean_lines, indexing.pick_peaks(scan, GRID.points, curvature=True)[0]))
            smoothed.append(_found_again(clean_lines, indexing.pick_peaks(lines_of, GRID.points, curvature=True)[0]))
    assert quiet >= len(raw) // 4, quiet  # many such scans pass indexing_v10's gate unsmoothed (here 14 of 36)
    # the raw picks find again ~89 % of the clean lines, the smoothed ~97 %
    assert np.mean(smoothed) > np.mean(raw) + 0.04, (np.mean(raw), np.mean(smoothed))


def test_smoothing_keeps_a_lines_position_and_height():
    # one pseudo-Voigt line at 40° (0.2° FWHM, five grid points) under 10⁵ counts: the smoothed line's vertex
    # stays within 0.01° of the line and its height within 8 % (the cubic's 7-point filter takes ~6 %; a
    # moving average of the same reach takes ~30 %)
    settings = ProfileSettings(shape="pseudo_voigt", fwhm_deg=0.2, eta=0.5)
    line = render_profile(np.array([40.0]), np.array([1.0]), GRID, settings, 1.5405929)
    scan = counted(line / line.max(), 1e5, 0.02, np.random.default_rng(2))
    smoothed = smoothing.smooth_noisy_profile(scan)
    assert smoothed is not scan
    found, heights = indexing.pick_peaks(smoothed, GRID.points)
    assert found.size == 1 and abs(found[0] - 40.0) < 0.01
    assert smoothed.max() == pytest.approx(1.0, rel=0.08)
    moving_average = np.convolve(scan, np.ones(smoothing.SMOOTHING_WINDOW_POINTS) / smoothing.SMOOTHING_WINDOW_POINTS,
                                 mode="same")
    assert moving_average.max() < 0.8


def test_only_indexing_v10_and_v11_smooth_before_picking():
    scan = counted(np.exp(-0.5 * ((GRID.points - 40.0) / 0.1) ** 2), 1e5, 0.02, np.random.default_rng(3))
    assert feature_set("indexing_v9").lines_of(scan) is scan
    np.testing.assert_array_equal(feature_set("indexing_v10").lines_of(scan), smoothing.smooth_noisy_profile(scan))
    np.testing.assert_array_equal(feature_set("indexing_v11").lines_of(scan), smoothing.smooth_unresolved_profile(scan))
    for kind in ("indexing_v10", "indexing_v11"):
        assert not np.array_equal(feature_set(kind).lines_of(scan), scan)
