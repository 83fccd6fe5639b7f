"""Peak picking on the curvature (`pick_peaks(curvature=True)`, the `indexing_v8` features): lines that blend
into one maximum of the profile are two maxima of −y'', and a noisy scan is searched as before."""

import numpy as np
import pytest

from xrdnet.data.features import profile_features
from xrdnet.xrd import indexing
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
CU_KA1 = 1.5405929
SETTINGS = ProfileSettings(shape="pseudo_voigt", fwhm_deg=0.35, eta=0.5)


def _render(two_theta, intensity, settings=SETTINGS):
    return render_profile(np.asarray(two_theta, float), np.asarray(intensity, float), GRID, settings, CU_KA1)


@pytest.mark.parametrize("second, height", [(30.25, 1.0), (30.30, 0.5)])
def test_blended_lines_are_two_lines_on_the_curvature(second, height):
    # 0.25-0.30° apart at 0.35° FWHM: one maximum of y between the lines (a blend, or a shoulder), two of −y''
    profile = _render([30.0, second, 50.0], [1.0, height, 0.5])
    plain, _ = indexing.pick_peaks(profile, GRID.points)
    assert plain.size == 2  # the blend and 50°
    found, heights = indexing.pick_peaks(profile, GRID.points, curvature=True)
    assert found.size == 3, found
    np.testing.assert_allclose(found, [30.0, second, 50.0], atol=0.03)
    assert heights[0] > heights[1]  # the stronger line stays the stronger


def test_lone_lines_keep_their_positions():
    # silicon: well-separated lines, the (111) at 28.44° with CuKα1; the curvature finds the same lines
    si = next(entry for entry in REFERENCE_STRUCTURES if entry.name.startswith("Si"))
    peaks = XRDSimulator(CU_KA1).simulate(si.structure())
    profile = _render(peaks.two_theta, peaks.intensity)
    plain, _ = indexing.pick_peaks(profile, GRID.points)
    found, _ = indexing.pick_peaks(profile, GRID.points, curvature=True)
    assert found.size == plain.size
    np.testing.assert_allclose(found, plain, atol=0.01)
    assert abs(found[0] - 28.44) < 0.02


@pytest.mark.parametrize("peak_counts", [1e3, 1e4, 1e5])
def test_noisy_scans_are_searched_as_without_it(peak_counts):
    # counting noise moves the curvature's maxima more than the profile's: a scan with √y noise above
    # CURVATURE_MAX_SIGMA_SQRT (fewer than ~2.5·10⁵ counts on the strongest line) is picked as before
    profile = _render([30.0, 30.25, 41.0, 50.0], [1.0, 0.8, 0.3, 0.5])
    rng = np.random.default_rng(0)
    scan = rng.poisson((profile / profile.max() + 0.02) * peak_counts) / peak_counts
    plain = indexing.pick_peaks(scan, GRID.points)
    found = indexing.pick_peaks(scan, GRID.points, curvature=True)
    np.testing.assert_array_equal(found[0], plain[0])
    np.testing.assert_array_equal(found[1], plain[1])


def test_fine_noise_level_sees_noise_not_crowded_lines():
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 1e-3, GRID.n_points)
    assert indexing.fine_noise_level(noise) == pytest.approx(1e-3, rel=0.1)
    # a crowded clean render: second differences mistake its lines' curvature for noise, fourth ones far less
    lines = np.linspace(20.0, 80.0, 120)
    profile = _render(lines, 1.0 + 0.5 * np.sin(lines))
    y = profile / profile.max()
    assert indexing.fine_noise_level(y) < 0.2 * indexing.noise_level(y)


def test_indexing_v8_is_indexing_v7_of_the_curvature_lines():
    profile = _render([30.0, 30.25, 41.0, 50.0, 61.3], [1.0, 0.8, 0.3, 0.5, 0.4])
    v7, v8 = (profile_features(profile, GRID, CU_KA1, kind) for kind in ("indexing_v7", "indexing_v8"))
    two_theta, heights = indexing.pick_peaks(profile, GRID.points, curvature=True)
    from xrdnet.xrd.indexing_wide import line_features_v7
    expected = line_features_v7(indexing.q_squared(two_theta, CU_KA1), heights,
                                indexing.q_squared_tolerance(two_theta, CU_KA1))
    np.testing.assert_allclose(v8[0], expected.astype(np.float32))
    assert v8[0, 0] > v7[0, 0]  # one more line found (the first feature: lines / N_POSITION_LINES)
