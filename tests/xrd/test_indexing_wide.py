"""`indexing_v5` (wider orthorhombic search), `indexing_v6` (+ a monoclinic fit) and `indexing_v7` (wider orthorhombic
and monoclinic searches) against known cells."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd import indexing, indexing_impurity, indexing_low, indexing_ortho, indexing_wide
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
REFERENCE = {r.name: r for r in REFERENCE_STRUCTURES}
# an Fddd cell whose first lines none of indexing_v4's 120 orthorhombic assignments names right
FDDD = ((4.17, 6.53, 11.08), [[0.83, 0.06, 0.09], [0.96, 0.75, 0.34]])
# a triclinic cell: no monoclinic cell indexes its lines
TRICLINIC = Structure(Lattice.from_parameters(5.1, 6.3, 7.2, 78, 85, 71), ["Ca", "O", "O"],
                      [[0, 0, 0], [0.3, 0.2, 0.6], [0.7, 0.45, 0.15]])
# an Imma cell (a, b, c in Å; Ca and O sites) whose first lines none of indexing_v5's 360 orthorhombic assignments names right
IMMA = ((8.81, 8.55, 10.67), [[0.86, 0.34, 0.79], [0.4, 0.59, 0.74]])
# a P2_1/c cell (a, b, c in Å, β in degrees; Ca and O sites) found by indexing_v7's monoclinic search, not v6's
LONG_B_MONOCLINIC = ((4.01, 11.79, 6.39, 102.2), [[0.89, 0.59, 0.47], [0.77, 0.03, 0.71]])
MONOCLINIC_START = indexing_wide.N_FEATURES_V5
N_MONOCLINIC = len(indexing_low.LOW_FEATURE_NAMES)


def _lines(structure: Structure):
    peaks = XRDSimulator("CuKa").simulate(structure)
    profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength)
    two_theta, heights = indexing.pick_peaks(profile, GRID.points)
    return (indexing.q_squared(two_theta, peaks.wavelength), heights,
            indexing.q_squared_tolerance(two_theta, peaks.wavelength))


def _fddd() -> Structure:
    axes, coords = FDDD
    return Structure.from_spacegroup("Fddd", Lattice.orthorhombic(*axes), ["Ca", "O"], coords)


def test_indexing_v5_is_v4_with_only_the_orthorhombic_fits_widened():
    half = indexing.N_FEATURES
    orthorhombic = np.zeros(2 * half, dtype=bool)
    orthorhombic[indexing.FEATURE_GROUPS["orthorhombic"]] = True
    orthorhombic[half:] = orthorhombic[:half]
    family = indexing_ortho.wide_orthorhombic_family()
    assert family.seed_lines.shape == (indexing_ortho.WIDE_N_ASSIGNMENTS, 3)
    assert family.seed_lines.max() == indexing_ortho.WIDE_N_TRIAL_LINES - 1  # the 7th line is used
    fraction = indexing.FEATURE_NAMES.index("orthorhombic_fraction_indexed")
    for structure in (REFERENCE["TiO2 (rutile)"].structure(), _fddd()):
        q2, heights, tol = _lines(structure)
        v4 = indexing_impurity.line_features_v4(q2, heights, tol)
        v5 = indexing_wide.line_features_v5(q2, heights, tol)
        np.testing.assert_array_equal(v5[~orthorhombic], v4[~orthorhombic])
        assert v5[fraction] >= v4[fraction]
    assert v5[fraction] >= 0.95 > v4[fraction]  # the Fddd cell, on all its lines


def test_indexing_v6_is_v5_then_the_monoclinic_fit_on_all_and_on_strong_lines():
    q2, heights, tol = _lines(REFERENCE["ZrO2 (baddeleyite)"].structure())
    v6 = indexing_wide.line_features_v6(q2, heights, tol)
    assert v6.shape == (indexing_wide.N_FEATURES_V6,) == (indexing_wide.N_FEATURES_V5 + 2 * N_MONOCLINIC,)
    np.testing.assert_array_equal(v6[:MONOCLINIC_START], indexing_wide.line_features_v5(q2, heights, tol))
    strong = heights >= indexing_impurity.STRONG_LINE_HEIGHT
    assert not strong.all()  # so the two halves are fitted on different lines
    np.testing.assert_array_equal(v6[MONOCLINIC_START + N_MONOCLINIC:],
                                  indexing_wide.monoclinic_v6_features(q2[strong], tol[strong]))


def test_the_monoclinic_fit_finds_baddeleyite_and_no_cell_for_a_triclinic_pattern():
    fraction, log_m = MONOCLINIC_START, MONOCLINIC_START + 1
    q2, heights, tol = _lines(REFERENCE["ZrO2 (baddeleyite)"].structure())
    v6 = indexing_wide.line_features_v6(q2, heights, tol)
    assert v6[fraction] >= 0.95 and v6[log_m] >= 3.0
    fit = indexing.fit_family(indexing_low.monoclinic_family(indexing_wide.MONOCLINIC_ASSIGNMENTS),
                              q2[:indexing.N_FIT_LINES], tol[:indexing.N_FIT_LINES], indexing_impurity.UNINDEXED_ALLOWED)
    a, b, c, beta = indexing_low.monoclinic_cell(fit.params)  # ZrO2 P2_1/c: 5.15, 5.21, 5.31 Å, β 99.2°
    np.testing.assert_allclose([a, b, c], [5.15, 5.21, 5.31], rtol=5e-3)
    assert abs(beta - 99.2) < 0.3
    q2, heights, tol = _lines(TRICLINIC)
    v6 = indexing_wide.line_features_v6(q2, heights, tol)
    assert v6[log_m] < 3.0 and v6[fraction] < 0.95


def test_no_lines_give_zero_monoclinic_features():
    empty = np.zeros(0)
    v6 = indexing_wide.line_features_v6(empty, empty, empty)
    assert v6.shape == (indexing_wide.N_FEATURES_V6,) and np.all(v6[MONOCLINIC_START:] == 0.0)



def _long_b_monoclinic() -> Structure:
    """A P2_1/c cell (b the long axis) whose first lines none of indexing_v6's 300 monoclinic assignments names right."""
    axes_beta, coords = LONG_B_MONOCLINIC
    return Structure.from_spacegroup("P2_1/c", Lattice.monoclinic(*axes_beta), ["Ca", "O"], coords)


def _imma() -> Structure:
    axes, coords = IMMA
    return Structure.from_spacegroup("Imma", Lattice.orthorhombic(*axes), ["Ca", "O"], coords)


def test_indexing_v7_is_v6_with_only_the_orthorhombic_and_monoclinic_fits_widened():
    assert indexing_wide.wide_monoclinic_family().seed_lines.shape == (indexing_wide.WIDE_MONOCLINIC_ASSIGNMENTS, 4)
    assert indexing_wide.wide_monoclinic_family().seed_lines.max() == indexing_wide.WIDE_MONOCLINIC_TRIAL_LINES - 1
    assert indexing_ortho.widest_orthorhombic_family().seed_lines.max() == indexing_ortho.WIDEST_N_TRIAL_LINES - 1
    half = indexing.N_FEATURES
    widened = np.zeros(indexing_wide.N_FEATURES_V6, dtype=bool)
    widened[indexing.FEATURE_GROUPS["orthorhombic"]] = True
    widened[half:2 * half] = widened[:half]
    widened[MONOCLINIC_START:] = True
    fraction, log_m = MONOCLINIC_START, MONOCLINIC_START + 1
    for structure in (REFERENCE["ZrO2 (baddeleyite)"].structure(), _long_b_monoclinic(), _imma(), TRICLINIC):
        q2, heights, tol = _lines(structure)
        v6 = indexing_wide.line_features_v6(q2, heights, tol)
        v7 = indexing_wide.line_features_v7(q2, heights, tol)
        np.testing.assert_array_equal(v7[~widened], v6[~widened])
    assert v7[log_m] < 3.0 and v7[fraction] < 0.95  # more trial cells, still no monoclinic cell for triclinic lines


def _fit_only_v7_finds(structure: Structure, fraction: int, log_m: int, family) -> indexing.LatticeFit:
    """Checks that v7's columns at fraction and log_m index the lines of structure and v6's do not; returns
    `family`'s fit of them."""
    q2, heights, tol = _lines(structure)
    v6 = indexing_wide.line_features_v6(q2, heights, tol)
    v7 = indexing_wide.line_features_v7(q2, heights, tol)
    assert v6[fraction] < 0.85 and v6[log_m] < 3.0
    assert v7[fraction] >= 0.95 and v7[log_m] >= 3.0
    return indexing.fit_family(family, q2[:indexing.N_FIT_LINES], tol[:indexing.N_FIT_LINES],
                               indexing_impurity.UNINDEXED_ALLOWED)


def test_the_widest_orthorhombic_search_finds_a_cell_the_wide_one_misses():
    fit = _fit_only_v7_finds(_imma(), indexing.FEATURE_NAMES.index("orthorhombic_fraction_indexed"),
                             indexing.FEATURE_NAMES.index("orthorhombic_log_m"), indexing_ortho.widest_orthorhombic_family())
    np.testing.assert_allclose(np.sort(fit.params ** -0.5), sorted(IMMA[0]), rtol=2e-3)


def test_the_wider_monoclinic_search_finds_a_cell_the_narrower_one_misses():
    fit = _fit_only_v7_finds(_long_b_monoclinic(), MONOCLINIC_START, MONOCLINIC_START + 1,
                             indexing_wide.wide_monoclinic_family())
    a, b, c, beta = indexing_low.monoclinic_cell(fit.params)
    np.testing.assert_allclose([a, b, c], LONG_B_MONOCLINIC[0][:3], rtol=2e-3)
    assert abs(beta - LONG_B_MONOCLINIC[0][3]) < 0.2
