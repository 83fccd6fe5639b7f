"""Trial assignments learned from synthetic crystals' lines (`xrd.learned_assignments`: the `indexing_v12` and
`indexing_v13` features)."""

import shutil

import numpy as np
import pytest
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Lattice, Structure

from xrdnet.xrd import indexing_low, indexing_ortho, indexing_wide
from xrdnet.xrd import learned_assignments as learned
from xrdnet.xrd.trial_assignments import cover_line_lists


def test_the_cover_names_the_most_crystals_first_and_skips_unknown_and_dependent_reflections():
    hkl = np.array([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (2, 0, 0)])
    table = indexing_ortho.orthorhombic_coefficients(hkl)
    crystals = [[0, 1, 2], [0, 1, 2], [0, 1, 2, 3], [3, -1, 1, 2], [0, 4, 1]]
    positions, reflections = cover_line_lists(crystals, table, 5)
    # the three crystals whose first lines are 100, 010, 001 are named by one assignment, chosen first
    assert positions[0].tolist() == [0, 1, 2] and reflections[0].tolist() == [0, 1, 2]
    # the fourth needs its line 0 (110), its line 1 being unindexed, with its lines 2 and 3
    assert [0, 2, 3] in positions.tolist() and [3, 1, 2] in reflections.tolist()
    # 100 with 200 fixes only A: no assignment of the fifth crystal uses both
    for p, r in zip(positions.tolist(), reflections.tolist()):
        assert not {0, 4} <= set(r)
    assert len(positions) == 2  # the fifth crystal has no invertible triple: nothing more to cover
    again = cover_line_lists(crystals, table, 5)
    assert all(np.array_equal(a, b) for a, b in zip(again, (positions, reflections)))


def test_orthorhombic_parameters_order_the_axes_and_refuse_an_oblique_metric():
    metric = Lattice.orthorhombic(4.0, 6.0, 5.0).reciprocal_lattice_crystallographic.metric_tensor
    np.testing.assert_allclose(learned.orthorhombic_parameters(metric), [1 / 36, 1 / 25, 1 / 16])  # a >= b >= c
    oblique = Lattice.monoclinic(4.0, 6.0, 5.0, 100.0).reciprocal_lattice_crystallographic.metric_tensor
    assert learned.orthorhombic_parameters(oblique) is None


def test_monoclinic_parameters_index_every_line_pymatgen_computes():
    # a P2_1/c crystal with a long, oblique cell: its parameters, Gauss-reduced with D >= 0, give every line
    structure = Structure.from_spacegroup("P2_1/c", Lattice.monoclinic(5.1, 6.2, 9.7, 117.0), ["Fe", "O"],
                                          [[0.11, 0.23, 0.31], [0.34, 0.12, 0.42]])
    params = learned.monoclinic_parameters(learned.reciprocal_metric(structure))
    b_param, a_param, c_param, d_param = params
    assert b_param == pytest.approx(1 / 6.2**2, rel=1e-6)  # the unique axis
    assert 0 <= d_param <= min(a_param, c_param) + 1e-12  # reduced: |2 a*·c*| <= the shorter of a*², c*²
    table = indexing_low.monoclinic_coefficients(indexing_low._canonical_hkl(6)) @ params
    pattern = XRDCalculator(wavelength=1.54184).get_pattern(structure, two_theta_range=(5, 60))
    q2 = 1.0 / np.asarray(pattern.d_hkls) ** 2
    assert all(np.abs(table - value).min() <= 1e-6 * value for value in q2)


def test_lines_are_indexed_with_the_nearest_reflection_within_tolerance():
    assert learned.index_lines_with_cell([0.10, 0.21, 0.50], [0.002, 0.002, 0.002], [0.1005, 0.2, 0.3]) == [0, -1, -1]


@pytest.mark.parametrize("table", sorted(learned.TABLES))
def test_a_changed_or_missing_assignments_file_is_a_clear_error(tmp_path, table):
    stored = learned.TABLES[table]
    copy = tmp_path / stored.path.name
    shutil.copy(stored.path, copy)
    assert learned.load_assignments(copy, stored.sha256)["monoclinic_positions"].shape[1] == 4
    copy.write_bytes(copy.read_bytes() + b"\0")
    with pytest.raises(learned.AssignmentsFileError, match=f"{copy}: not the learned trial assignments"):
        learned.load_assignments(copy, stored.sha256)
    with pytest.raises(learned.AssignmentsFileError, match="cannot read"):
        learned.load_assignments(tmp_path / "missing.npz", stored.sha256)


@pytest.mark.parametrize("table", sorted(learned.TABLES))
@pytest.mark.parametrize("system", ["orthorhombic", "monoclinic"])
def test_the_learned_fits_try_indexing_v9s_trial_cells_then_the_stored_ones(system, table):
    v9, own_hkl, fit, coefficients = {
        "orthorhombic": (indexing_wide.refined_orthorhombic_family(), indexing_ortho.orthorhombic_hkl(),
                         learned.learned_orthorhombic_family(table), indexing_ortho.orthorhombic_coefficients),
        "monoclinic": (indexing_wide.refined_monoclinic_family(), indexing_low._canonical_hkl(2),
                       learned.learned_monoclinic_family(table), indexing_low.monoclinic_coefficients),
    }[system]
    stored = learned.load_assignments(learned.TABLES[table].path, learned.TABLES[table].sha256)
    # the cover asked no more than the table's count
    assert 0 < len(stored[f"{system}_reflections"]) <= learned.TABLES[table].assignments[system]
    n_own = len(v9.seed_tuples)
    assert len(fit.seed_tuples) == n_own + len(stored[f"{system}_reflections"])
    # the same reflections (coefficient rows) at the same lines as indexing_v9's trials, then the stored ones
    np.testing.assert_array_equal(fit.seeds[fit.seed_tuples[:n_own]], coefficients(own_hkl)[v9.seed_tuples])
    np.testing.assert_array_equal(fit.seed_lines[:n_own], v9.seed_lines)
    np.testing.assert_array_equal(fit.seed_tuples[n_own:], stored[f"{system}_reflections"])
    assert fit.n_refine == v9.n_refine and fit.seed_lines.max() < learned.N_ASSIGNMENT_LINES


def test_the_learned_monoclinic_fit_finds_a_cell_indexing_v9_misses():
    # a fresh synthetic P2_1/m crystal (seed 1, never learned from): from the lines picked off its clean render
    # indexing_v9's fit indexes 14 of 20 lines, the learned one all with the true parameters
    from xrdnet.structures.synthetic import SyntheticStructures
    from xrdnet.xrd import indexing
    from xrdnet.xrd.cell import UNINDEXED_ALLOWED

    crystal = SyntheticStructures(400, seed=1).get(368)
    assert crystal.space_group == 11
    q2, tol = _first_picked_lines(crystal.structure)
    v9 = indexing.fit_family(indexing_wide.refined_monoclinic_family(), q2, tol, UNINDEXED_ALLOWED)
    v12 = indexing.fit_family(learned.learned_monoclinic_family(), q2, tol, UNINDEXED_ALLOWED)
    assert v9.fraction_indexed <= 0.75 and v9.log_m < 3.0
    assert v12.fraction_indexed == 1.0 and v12.log_m > 4.0
    true = learned.monoclinic_parameters(learned.reciprocal_metric(crystal.structure))
    np.testing.assert_allclose(v12.params, true, rtol=2e-3)


def test_the_v13_monoclinic_fit_finds_a_large_cell_the_v12_one_misses():
    # a fresh 72-atom P2_1/c crystal (seed 1, up to 80 atoms; neither table learned from it): from the lines picked
    # off its clean render the v12 table's fit ends on a wrong cell (ln M < 3), the v13 table's indexes all 20
    # lines with the true parameters
    from xrdnet.structures.synthetic import SyntheticStructures
    from xrdnet.xrd import indexing
    from xrdnet.xrd.cell import UNINDEXED_ALLOWED

    crystal = SyntheticStructures(400, seed=1, max_atoms=80).get(46)
    assert crystal.space_group == 14 and len(crystal.structure) > 40  # larger than any training crystal
    q2, tol = _first_picked_lines(crystal.structure)
    v12 = indexing.fit_family(learned.learned_monoclinic_family("v12"), q2, tol, UNINDEXED_ALLOWED)
    v13 = indexing.fit_family(learned.learned_monoclinic_family("v13"), q2, tol, UNINDEXED_ALLOWED)
    assert v12.log_m < 3.0
    assert v13.fraction_indexed == 1.0 and v13.log_m > 3.5
    true = learned.monoclinic_parameters(learned.reciprocal_metric(crystal.structure))
    np.testing.assert_allclose(v13.params, true, rtol=3e-3)


@pytest.mark.parametrize("index, system, space_group", [(369, "orthorhombic", 71), (56, "monoclinic", 14)])
def test_the_v14_fits_find_a_longer_cell_the_v12_ones_miss(index, system, space_group):
    # fresh longer-cell crystals (seed 2, axis factors in (1/3, 3); no table learned from them), one axis about
    # three times another: from the lines picked off the clean render the v12 table's fit finds no cell
    # (ln M < 3), the v14 table's indexes all the first 20 lines with the true parameters
    from xrdnet.structures.synthetic import SyntheticStructures
    from xrdnet.xrd import indexing
    from xrdnet.xrd.cell import UNINDEXED_ALLOWED

    crystal = SyntheticStructures(400, seed=2, axis_ratio=learned.LONG_AXIS_RATIO).get(index)
    assert crystal.space_group == space_group
    lengths = sorted(crystal.structure.lattice.abc)
    assert lengths[2] / lengths[0] > 3.0  # longer than the default generator's cells mostly are
    q2, tol = _first_picked_lines(crystal.structure)
    family = learned.learned_orthorhombic_family if system == "orthorhombic" else learned.learned_monoclinic_family
    v12 = indexing.fit_family(family("v12"), q2, tol, UNINDEXED_ALLOWED)
    v14 = indexing.fit_family(family("v14"), q2, tol, UNINDEXED_ALLOWED)
    assert v12.log_m < 3.0
    assert v14.fraction_indexed == 1.0 and v14.log_m > 4.0
    metric = learned.reciprocal_metric(crystal.structure)
    true = (learned.orthorhombic_parameters(metric) if system == "orthorhombic"
            else learned.monoclinic_parameters(metric))
    np.testing.assert_allclose(v14.params, true, rtol=3e-3)


def test_the_v16_monoclinic_fit_refining_more_trial_cells_finds_a_cell_v14_ranks_too_low():
    # a fresh C2 crystal (seed 1, no table learned from it): of the v14 fit's 5,383 trial cells the right one is
    # not among the 20 the screen on the first 10 lines ranks best, so v14 ends on a wrong cell; refining 100
    # finds the true one, indexing all the first 20 lines
    from xrdnet.structures.synthetic import SyntheticStructures
    from xrdnet.xrd import indexing
    from xrdnet.xrd.cell import UNINDEXED_ALLOWED

    crystal = SyntheticStructures(400, seed=1).get(82)
    assert crystal.space_group == 5
    q2, tol = _first_picked_lines(crystal.structure)
    v14_family, v16_family = learned.learned_monoclinic_family("v14"), learned.widely_refined_monoclinic_family()
    assert v16_family.n_refine == learned.MONOCLINIC_REFINED_V16 > v14_family.n_refine
    assert np.array_equal(v16_family.seed_tuples, v14_family.seed_tuples)  # the same trial cells, more refined
    v14 = indexing.fit_family(v14_family, q2, tol, UNINDEXED_ALLOWED)
    v16 = indexing.fit_family(v16_family, q2, tol, UNINDEXED_ALLOWED)
    assert v14.log_m < 3.0
    assert v16.fraction_indexed == 1.0 and v16.log_m > 4.0
    np.testing.assert_allclose(v16.params, learned.monoclinic_parameters(learned.reciprocal_metric(crystal.structure)),
                               rtol=3e-3)
    # the other numbers of the feature vector are v14's: only the monoclinic columns differ
    heights = np.ones_like(q2)
    v14_features = learned.line_features(q2, heights, tol, table="v14")
    v16_features = learned.line_features_v16(q2, heights, tol)
    monoclinic = np.array(["monoclinic" in name for name in indexing_wide.FEATURE_NAMES_V6])
    np.testing.assert_array_equal(v16_features[~monoclinic], v14_features[~monoclinic])
    assert not np.array_equal(v16_features[monoclinic], v14_features[monoclinic])


def _first_picked_lines(structure) -> tuple[np.ndarray, np.ndarray]:
    """(Q², tolerance) of the first lines picked off the structure's clean CuKα render, as the features pick them."""
    from xrdnet.xrd import indexing
    from xrdnet.xrd.peaks import XRDSimulator
    from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

    simulator = XRDSimulator()
    peaks = simulator.simulate(structure)
    grid = TwoThetaGrid(5.0, 90.0, 0.04)
    profile = render_profile(peaks.two_theta, peaks.intensity, grid,
                             ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5),
                             simulator.wavelength_angstrom)
    two_theta = indexing.pick_peaks(profile, grid.points, curvature=True)[0]
    return (indexing.q_squared(two_theta, simulator.wavelength_angstrom)[:indexing.N_FIT_LINES],
            indexing.q_squared_tolerance(two_theta, simulator.wavelength_angstrom)[:indexing.N_FIT_LINES])
