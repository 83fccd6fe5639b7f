"""Peak picking on scans with counting noise: one pick per line, whatever the counts or the widths.

Counting noise is Poisson: its σ grows as √counts, so on a strong line it is many times the noise of
the background between lines, and it wiggles the flat top of a broad line or of two blended lines.
"""

import numpy as np
import pytest

from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd import indexing
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
CU_KA1 = 1.5405929


def counted(profile: np.ndarray, peak_counts: float, background: float, rng: np.random.Generator) -> np.ndarray:
    """A Poisson scan of `profile` (max 1) with peak_counts on the strongest point over a flat background
    (fraction of peak_counts), the known background level removed as a measured scan's would be."""
    level = background * peak_counts
    counts = rng.poisson(profile * peak_counts + level).astype(float)
    return np.maximum(counts - level, 0.0) / peak_counts


def test_two_blended_lines_under_counting_noise_are_picked_once():
    # two equal lines 0.12° apart at 0.5° FWHM blend into one peak with a flat top; noise at 10⁴ counts must
    # not split it, nor the lone line beside it, into several lines
    settings = ProfileSettings(shape="pseudo_voigt", fwhm_deg=0.5, eta=0.5)
    clean = render_profile(np.array([30.0, 30.12, 50.0]), np.array([1.0, 1.0, 0.5]), GRID, settings, CU_KA1)
    assert indexing.pick_peaks(clean, GRID.points)[0].size == 2  # the clean blend: one maximum, and 50°
    rng = np.random.default_rng(0)
    for _ in range(20):
        found, _ = indexing.pick_peaks(counted(clean, 1e4, 0.05, rng), GRID.points)
        assert found.size == 2, found
        assert abs(found[0] - 30.06) < 0.05 and abs(found[1] - 50.0) < 0.05


@pytest.mark.parametrize("peak_counts", [1e2, 1e3])
def test_low_count_scan_picks_real_lines_only(peak_counts):
    # rutile at 0.1° FWHM, scans with 10²-10³ counts on the strongest line and a 5 % background: the picks
    # are rutile's lines (under one noise peak in five scans; the picker that ignored √counts made 2-15
    # per scan), one pick per line (no split top), and the strong lines (≥ 20 %) are found
    rutile = next(entry for entry in REFERENCE_STRUCTURES if "rutile" in entry.name)
    peaks = XRDSimulator(CU_KA1).simulate(rutile.structure())
    settings = ProfileSettings(shape="pseudo_voigt", fwhm_deg=0.1, eta=0.5)
    clean = render_profile(peaks.two_theta, peaks.intensity, GRID, settings, CU_KA1)
    strong = peaks.two_theta[peaks.intensity >= 20.0]
    rng = np.random.default_rng(1)
    false_picks, strong_missed = 0, 0
    for _ in range(20):
        found, _ = indexing.pick_peaks(counted(clean, peak_counts, 0.05, rng), GRID.points)
        near = np.abs(found[:, None] - peaks.two_theta[None, :]) < 0.1
        false_picks += int((~near.any(axis=1)).sum())
        assert near.sum(axis=0).max() <= 1, found  # rutile's lines are >= 0.5° apart: two picks near one is a split
        strong_missed += int((np.abs(strong[:, None] - found[None, :]).min(axis=1) >= 0.1).sum())
    assert false_picks < 4
    assert strong_missed <= 0.05 * 20 * strong.size


def test_clean_render_is_not_counted_as_noisy():
    # a clean render has no counting noise: its peaks are searched as they are, so its features
    # (what training reads) do not depend on the noise rules
    simulator = XRDSimulator("CuKa")
    settings = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0)
    for entry in REFERENCE_STRUCTURES:
        peaks = simulator.simulate(entry.structure())
        profile = render_profile(peaks.two_theta, peaks.intensity, GRID, settings, peaks.wavelength)
        assert not indexing.is_noisy(profile), entry.name
        rng = np.random.default_rng(0)
        assert indexing.is_noisy(counted(profile, 1e4, 0.05, rng)), entry.name  # and the same under counting noise is
