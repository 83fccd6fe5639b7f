"""The monoclinic fit against known cells, and the `indexing` features it leaves unchanged."""

from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd import indexing, indexing_low
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
# the 90 features of five reference structures as main computed them (commit 86696bd, before indexing_v2)
MAIN_FEATURES = Path(__file__).parent / "data" / "indexing_features_main_86696bd.npz"
REFERENCE = {r.name: r for r in REFERENCE_STRUCTURES}


def _profile(structure: Structure):
    peaks = XRDSimulator("CuKa").simulate(structure)
    return render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength), peaks.wavelength


def _lines(structure: Structure):
    profile, wavelength = _profile(structure)
    two_theta, _ = indexing.pick_peaks(profile, GRID.points)
    q2 = indexing.q_squared(two_theta, wavelength)[: indexing.N_FIT_LINES]
    tol = indexing.q_squared_tolerance(two_theta, wavelength)[: indexing.N_FIT_LINES]
    return q2, tol


def _monoclinic_fit(q2, tol):
    return indexing.fit_family(indexing_low.monoclinic_family(), q2, tol)


def _same_monoclinic_cell(found, a, b, c, beta_deg, rel=2e-3):
    """The same lattice: a monoclinic lattice has many settings (a and c swapped, a + c for a, ...) that
    index the same lines, so the Niggli-reduced cells are compared."""
    reduced = [Lattice.monoclinic(*cell).get_niggli_reduced_lattice() for cell in (found, (a, b, c, beta_deg))]
    lengths_match = np.allclose(reduced[0].abc, reduced[1].abc, rtol=rel)
    return lengths_match and np.allclose(reduced[0].angles, reduced[1].angles, atol=0.3)


@pytest.mark.parametrize("cell, species, coords", [
    ((4.2, 5.6, 6.5, 104.0), ["Ti", "O", "O"], [[0.2, 0, 0.3], [0.7, 0.5, 0.1], [0.35, 0.5, 0.8]]),
    ((6.1, 3.9, 7.2, 112.0), ["Ca", "S"], [[0.2, 0, 0.3], [0.7, 0.5, 0.1]]),
])
def test_a_monoclinic_p_cell_is_recovered_with_a_high_m(cell, species, coords):
    # P2/m (no absences): Q² = a*² h² + b*² k² + c*² l² + 2 a* c* cos β* h l must index every line
    structure = Structure.from_spacegroup(10, Lattice.monoclinic(*cell), species, coords)
    q2, tol = _lines(structure)
    fit = _monoclinic_fit(q2, tol)
    assert fit.fraction_indexed == 1.0
    assert fit.log_m > 4.0  # M > 50; the primitive orthorhombic fit of the same lines is far worse
    assert fit.log_m > indexing.fit_family("orthorhombic", q2, tol).log_m + 2.0
    assert _same_monoclinic_cell(indexing_low.monoclinic_cell(fit.params), *cell), indexing_low.monoclinic_cell(fit.params)


def test_baddeleyite_cell_is_recovered():
    # P2₁/c absences and a ≈ b ≈ c: its first lines are not axial; the absence-aware trial assignments name them
    q2, tol = _lines(REFERENCE["ZrO2 (baddeleyite)"].structure())
    fit = _monoclinic_fit(q2, tol)
    assert fit.fraction_indexed == 1.0
    assert _same_monoclinic_cell(indexing_low.monoclinic_cell(fit.params), 5.150, 5.212, 5.317, 99.23, rel=5e-3)


@pytest.mark.parametrize("cell, species, coords", [
    ((4.2, 5.6, 6.5), ["Ti", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    ((3.9, 5.1, 7.3), ["Ca", "S", "O"], [[0, 0, 0], [0.5, 0.5, 0.5], [0, 0.5, 0]]),
])
def test_an_orthorhombic_cell_gets_no_better_m_from_the_monoclinic_fit(cell, species, coords):
    q2, tol = _lines(Structure.from_spacegroup(47, Lattice.orthorhombic(*cell), species, coords))
    orthorhombic = indexing.fit_family("orthorhombic", q2, tol)
    assert orthorhombic.fraction_indexed == 1.0 and orthorhombic.log_m > 4.0
    assert _monoclinic_fit(q2, tol).log_m <= orthorhombic.log_m


def test_monoclinic_trial_cells_are_real_metrics():
    # every trial and refined cell keeps D = 2 a* c* cos β* in (0, 2 MAX_COS_BETA √(AC)]
    q2, tol = _lines(REFERENCE["ZrO2 (baddeleyite)"].structure())
    family = indexing_low.monoclinic_family()
    params = indexing._trial_cells(family, q2)
    assert params.shape[0] > 0 and np.all(indexing_low._monoclinic_valid(params))
    assert indexing_low._monoclinic_valid(_monoclinic_fit(q2, tol).params[None])[0]


def test_the_indexing_set_is_unchanged_and_v2_extends_it():
    stored = np.load(MAIN_FEATURES)
    for name, expected in zip(stored["names"], stored["features"]):
        profile, wavelength = _profile(REFERENCE[str(name)].structure())
        old = indexing.indexing_features(profile, GRID.points, wavelength)
        # main's to the last bits a CPU's BLAS kernels may change
        np.testing.assert_allclose(old, expected, rtol=0, atol=1e-12, err_msg=str(name))
        v2 = indexing.indexing_features(profile, GRID.points, wavelength, describe=indexing_low.line_features_v2)
        assert v2.shape == (indexing_low.N_FEATURES,) == (len(indexing_low.FEATURE_NAMES),)
        np.testing.assert_array_equal(v2[: indexing.N_FEATURES], old)
        assert np.all(np.isfinite(v2))
    empty = indexing.indexing_features(np.zeros(GRID.n_points), GRID.points, 1.54056,
                                       describe=indexing_low.line_features_v2)
    assert empty.shape == (indexing_low.N_FEATURES,) and np.all(np.isfinite(empty))
