"""The independent robustness check: xrayutilities' peak positions, the scans of each condition, a tiny scored run."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.predictor import CrystalSystemPredictor
from xrdnet.pretrained import shipped_checkpoint
from xrdnet.robustness import CONDITIONS, Condition, measured_scan, prototype_peak_lists, score_conditions
from xrdnet.xrd.independent import independent_peaks, line_wavelength

SILICON = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])


def test_xrayutilities_puts_si_111_at_28_44_degrees_with_cu_kalpha1():
    two_theta, intensity = independent_peaks(SILICON)
    assert line_wavelength() == pytest.approx(1.54059, abs=1e-4)
    assert two_theta[0] == pytest.approx(28.44, abs=0.01) and intensity[0] == 100.0  # (111), the strongest
    assert two_theta[1] == pytest.approx(47.30, abs=0.01)  # (220); (200) is forbidden in the diamond structure
    assert np.all(np.diff(two_theta) > 0)


def test_condition_scans_carry_their_effect():
    rng = np.random.default_rng(0)
    lines = (np.array([28.44]), np.array([100.0]))
    noiseless = Condition("x", counts=None, fwhm_deg=0.05)
    points, plain = measured_scan(*lines, 1.5405929, noiseless, rng)
    assert points[np.argmax(plain)] == pytest.approx(28.44, abs=0.006)
    _, doublet = measured_scan(*lines, 1.5405929, Condition("x", counts=None, fwhm_deg=0.05, kalpha2=True), rng)
    kalpha2 = 2 * np.degrees(np.arcsin(1.544414 / 1.5405929 * np.sin(np.radians(14.22))))
    second = np.abs(points - kalpha2) < 0.02
    assert doublet[second].max() / doublet.max() == pytest.approx(0.5, rel=0.1)  # half-height line at λ2's angle
    shifted_points, shifted = measured_scan(*lines, 1.5405929, Condition("x", counts=None, fwhm_deg=0.05,
                                                                         displacement_mm=0.2), rng)
    assert shifted_points[np.argmax(shifted)] - 28.44 == pytest.approx(
        -np.degrees(2 * 0.2 * np.cos(np.radians(14.22)) / 240), abs=0.006)
    partial, _ = measured_scan(*lines, 1.5405929, Condition("x", scan_range=(10.0, 80.0)), rng)
    assert partial[0] == 10.0 and partial[-1] == pytest.approx(80.0)
    _, counts = measured_scan(*lines, 1.5405929, Condition("x", counts=1e2), rng)
    assert np.all(counts == np.round(counts)) and counts.max() < 200  # Poisson counts around 100


@pytest.mark.slow
def test_tiny_run_of_the_condition_loop(tmp_path):
    predictor = CrystalSystemPredictor.from_checkpoint(shipped_checkpoint())
    peak_lists, labels, names, skipped = prototype_peak_lists(tmp_path, count=3, workers=1, progress=False)
    assert len(peak_lists) + len(skipped) == 3 and len(labels) == len(peak_lists) == len(names)
    assert list(tmp_path.glob("independent_peaks-*.npz"))  # cached for the next run
    conditions = [CONDITIONS[0], Condition("partial", scan_range=(10.0, 80.0)), Condition("Kα2", kalpha2=True)]
    rows = score_conditions(predictor, peak_lists, labels, line_wavelength(), conditions, progress=False)
    assert [name for name, _ in rows] == [c.name for c in conditions]
    assert all(value in {k / len(labels) for k in range(len(labels) + 1)} for _, value in rows)
    again = score_conditions(predictor, *prototype_peak_lists(tmp_path, count=3, progress=False)[:2],
                             line_wavelength(), conditions, progress=False)
    assert again == rows  # seeded: the same table from the cache
