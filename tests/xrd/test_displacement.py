"""Sample displacement read off the line positions (xrd.displacement) and removed by xrdnet-predict."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.xrd.displacement import MAX_SHIFT_DEG, SHIFT_STEP_DEG, correct_displacement, fit_displacement, line_shift_deg
from xrdnet.xrd.indexing import pick_peaks
from xrdnet.xrd.instrument import displacement_shift_deg
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

CU_KA1 = 1.5405929
RADIUS_MM = 240.0


def lines_of(structure: Structure) -> np.ndarray:
    return XRDSimulator(CU_KA1, (5.0, 90.0)).simulate(structure).two_theta


def silicon() -> Structure:
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])


def rutile() -> Structure:
    return Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"],
                                     [[0, 0, 0], [0.3053, 0.3053, 0]])


def test_line_shift_is_the_bragg_brentano_displacement_law():
    # c = −2s/R in degrees: the same shift as instrument.displacement_shift_deg at every angle
    two_theta = np.array([10.0, 28.44, 60.0, 88.0])
    c = np.degrees(-2 * 0.2 / RADIUS_MM)
    np.testing.assert_allclose(line_shift_deg(two_theta, c), displacement_shift_deg(two_theta, 0.2, RADIUS_MM))


@pytest.mark.parametrize("structure", [silicon, rutile], ids=["Si", "rutile"])
@pytest.mark.parametrize("displacement_mm", [0.2, -0.2, 0.1])
def test_the_fitted_shift_is_the_displacement_that_moved_the_lines(structure, displacement_mm):
    true = lines_of(structure())
    measured = true + displacement_shift_deg(true, displacement_mm, RADIUS_MM)
    fit = fit_displacement(measured, CU_KA1)
    expected = np.degrees(-2 * displacement_mm / RADIUS_MM)  # −0.095° for s = +0.2 mm
    assert fit.shift_deg == pytest.approx(expected, abs=SHIFT_STEP_DEG)
    assert fit.log_m >= fit.log_m_uncorrected + 1.0  # the corrected lines index far better


@pytest.mark.parametrize("structure", [silicon, rutile], ids=["Si", "rutile"])
def test_lines_in_place_are_left_alone(structure):
    fit = fit_displacement(lines_of(structure()), CU_KA1)
    assert fit.shift_deg == 0.0 and fit.log_m == fit.log_m_uncorrected


def test_a_pattern_no_lattice_family_indexes_is_left_alone():
    # a monoclinic cell of low symmetry: no family of the fits describes it, whatever the shift
    structure = Structure(Lattice.monoclinic(7.31, 5.17, 9.83, 104.3), ["Ca", "S", "O", "O"],
                          [[0.1, 0.2, 0.3], [0.4, 0.1, 0.7], [0.25, 0.6, 0.15], [0.8, 0.35, 0.55]])
    assert fit_displacement(lines_of(structure), CU_KA1).shift_deg == 0.0


def test_too_few_lines_decide_nothing():
    assert fit_displacement(np.array([20.0, 30.0, 40.0]), CU_KA1).shift_deg == 0.0


def test_the_corrected_profile_has_its_lines_back_in_place():
    grid = TwoThetaGrid(5.0, 90.0, 0.02)
    peaks = XRDSimulator(CU_KA1, (5.0, 90.0)).simulate(rutile())
    settings = ProfileSettings("pseudo_voigt", fwhm_deg=0.1)
    shifted = peaks.two_theta + displacement_shift_deg(peaks.two_theta, 0.2, RADIUS_MM)
    profile = render_profile(shifted, peaks.intensity, grid, settings, CU_KA1)
    corrected, fit = correct_displacement(profile, grid.points, CU_KA1)
    assert abs(fit.shift_deg) <= MAX_SHIFT_DEG and fit.shift_deg < 0
    found, _ = pick_peaks(corrected, grid.points)
    reference, _ = pick_peaks(render_profile(peaks.two_theta, peaks.intensity, grid, settings, CU_KA1), grid.points)
    assert len(found) == len(reference)
    assert np.max(np.abs(found - reference)) < 0.02  # was 0.07-0.095° before the correction
