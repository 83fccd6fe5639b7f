"""The orthorhombic fit with covering trial assignments (`indexing_v3`) against known cells."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd import indexing, indexing_ortho
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
REFERENCE = {r.name: r for r in REFERENCE_STRUCTURES}

# (a, b, c) in Å and a structure; none of them has 100, 010 and 001 among its first lines
CELLS = {
    "forsterite (Pnma)": ((10.19, 5.98, 4.75), lambda: REFERENCE["Mg2SiO4 (forsterite)"].structure()),
    "perovskite-like Pnma": ((5.5, 7.6, 5.3), lambda: Structure.from_spacegroup(
        "Pnma", Lattice.orthorhombic(5.5, 7.6, 5.3), ["Ca", "Ti", "O", "O"],
        [[0.02, 0.25, 0.99], [0, 0, 0.5], [0.48, 0.25, 0.08], [0.29, 0.04, 0.71]])),
    "Pbca": ((6.1, 8.3, 11.2), lambda: Structure.from_spacegroup(
        "Pbca", Lattice.orthorhombic(6.1, 8.3, 11.2), ["Ca", "O"], [[0.1, 0.2, 0.3], [0.35, 0.05, 0.42]])),
    "Cmcm": ((3.1, 9.8, 7.4), lambda: Structure.from_spacegroup(
        "Cmcm", Lattice.orthorhombic(3.1, 9.8, 7.4), ["U", "O"], [[0, 0.1, 0.25], [0, 0.4, 0.25]])),
}


def _lines(structure: Structure):
    peaks = XRDSimulator("CuKa").simulate(structure)
    profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength)
    two_theta, heights = indexing.pick_peaks(profile, GRID.points)
    q2 = indexing.q_squared(two_theta, peaks.wavelength)
    tol = indexing.q_squared_tolerance(two_theta, peaks.wavelength)
    return q2, heights, tol


@pytest.mark.parametrize("name", list(CELLS))
def test_orthorhombic_cells_without_axial_first_lines_are_recovered(name):
    axes, build = CELLS[name]
    q2, _, tol = _lines(build())
    q2, tol = q2[: indexing.N_FIT_LINES], tol[: indexing.N_FIT_LINES]
    fit = indexing.fit_family(indexing_ortho.orthorhombic_family(), q2, tol)
    assert fit.fraction_indexed >= 0.95 and fit.log_m >= 3.0, (fit.fraction_indexed, fit.log_m)
    # A = 1/a², B = 1/b², C = 1/c²; the fit does not label the axes
    np.testing.assert_allclose(np.sort(1.0 / np.sqrt(fit.params)), np.sort(axes), rtol=2e-3)
    # the axial trial cells of `indexing` find a cell that leaves lines unindexed
    old = indexing.fit_family("orthorhombic", q2, tol)
    assert old.fraction_indexed < 0.95 and old.log_m < fit.log_m


def test_a_primitive_cell_with_axial_first_lines_is_still_found():
    q2, _, tol = _lines(Structure.from_spacegroup(47, Lattice.orthorhombic(4.2, 5.6, 6.5), ["Ti", "O"],
                                                  [[0, 0, 0], [0.5, 0.5, 0.5]]))
    fit = indexing.fit_family(indexing_ortho.orthorhombic_family(), q2[:20], tol[:20])
    assert fit.fraction_indexed == 1.0 and fit.log_m > 4.0
    np.testing.assert_allclose(np.sort(1.0 / np.sqrt(fit.params)), [4.2, 5.6, 6.5], rtol=2e-3)


def test_assignments_name_distinct_early_lines_and_independent_reflections():
    family = indexing_ortho.orthorhombic_family()
    assert family.seed_lines.shape == family.seed_tuples.shape == (indexing_ortho.N_ASSIGNMENTS, 3)
    assert np.all(np.diff(family.seed_lines, axis=1) > 0) and family.seed_lines.max() < indexing_ortho.N_TRIAL_LINES
    assert np.all(np.abs(np.linalg.det(family.seeds[family.seed_tuples])) > 0.5)  # integer matrices, invertible


def test_random_absences_follow_the_space_group_conditions():
    hkl = indexing_ortho.orthorhombic_hkl()
    rng = np.random.default_rng(3)
    for _ in range(200):
        absent = indexing_ortho.random_absences(hkl, rng)
        # no condition removes a reflection with all indices even, every one of them keeps 222-type lines
        assert not np.any(absent & np.all(hkl % 2 == 0, axis=1))
        # conditions are parities: a present reflection's odd multiples keep its status (h00 and 300)
        assert np.array_equal(absent[_row(hkl, 1, 0, 0)], absent[_row(hkl, 3, 0, 0)])


def _row(hkl, h, k, l):
    return int(np.flatnonzero(np.all(hkl == (h, k, l), axis=1))[0])


def test_indexing_v3_differs_from_indexing_only_in_the_orthorhombic_fit():
    orthorhombic = indexing.FEATURE_GROUPS["orthorhombic"]
    others = np.ones(indexing.N_FEATURES, dtype=bool)
    others[orthorhombic] = False
    for structure in (REFERENCE["Mg2SiO4 (forsterite)"].structure(), REFERENCE["TiO2 (rutile)"].structure()):
        q2, heights, tol = _lines(structure)
        old = indexing.line_features(q2, heights, tol)
        new = indexing_ortho.line_features_v3(q2, heights, tol)
        assert new.shape == old.shape and np.all(np.isfinite(new))
        np.testing.assert_array_equal(new[others], old[others])
    fraction = indexing.FEATURE_NAMES.index("orthorhombic_fraction_indexed")
    assert new[fraction] >= old[fraction]  # rutile's tetragonal cell is an orthorhombic one with a = b
    q2, heights, tol = _lines(REFERENCE["Mg2SiO4 (forsterite)"].structure())
    assert indexing_ortho.line_features_v3(q2, heights, tol)[fraction] >= 0.95 > indexing.line_features(q2, heights, tol)[fraction]


# cells whose first lines none of v3's 120 assignments names right (rounded from a random search)
WIDE_CELLS = {
    "Fddd": ((4.17, 6.53, 11.08), [[0.83, 0.06, 0.09], [0.96, 0.75, 0.34]]),
    "Pccn": ((4.8, 6.0, 8.91), [[0.48, 0.64, 0.38], [0.99, 0.41, 0.3]]),
}


@pytest.mark.parametrize("group", list(WIDE_CELLS))
def test_the_wide_search_of_indexing_v5_finds_cells_that_v3_misses(group):
    axes, coords = WIDE_CELLS[group]
    q2, _, tol = _lines(Structure.from_spacegroup(group, Lattice.orthorhombic(*axes), ["Ca", "O"], coords))
    q2, tol = q2[: indexing.N_FIT_LINES], tol[: indexing.N_FIT_LINES]
    narrow = indexing.fit_family(indexing_ortho.orthorhombic_family(), q2, tol)
    wide = indexing.fit_family(indexing_ortho.wide_orthorhombic_family(), q2, tol)
    assert narrow.fraction_indexed < 0.95
    assert wide.fraction_indexed >= 0.95 and wide.log_m >= 3.0 > narrow.log_m
    np.testing.assert_allclose(np.sort(1.0 / np.sqrt(wide.params)), axes, rtol=2e-3)

