"""Monoclinic trial cells from an orthorhombic sub-metric (`xrd.indexing_ortho_first`: the `indexing_v17` features)."""

import math

import numpy as np
import pytest

from xrdnet.structures.synthetic import SyntheticStructures
from xrdnet.xrd import indexing, indexing_ortho_first, indexing_wide
from xrdnet.xrd import learned_assignments as learned
from xrdnet.xrd.indexing_impurity import UNINDEXED_ALLOWED

from test_learned_assignments import _first_picked_lines


def monoclinic_cell(params) -> tuple[float, float, float, float]:
    """(a, b, c in Å, β in degrees) of monoclinic parameters (B, A, C, D): Q = h²A + k²B + l²C + hl D, b unique."""
    b_param, a_param, c_param, d_param = params
    cos_beta_star = d_param / (2.0 * math.sqrt(a_param * c_param))
    sin_beta = math.sqrt(1.0 - cos_beta_star**2)  # sin β = sin β*
    return (1.0 / (math.sqrt(a_param) * sin_beta), 1.0 / math.sqrt(b_param), 1.0 / (math.sqrt(c_param) * sin_beta),
            180.0 - math.degrees(math.acos(cos_beta_star)))


@pytest.fixture(scope="module")
def missed_crystal():
    # a fresh Pc crystal (seed 1, no table learned from it) whose first lines are mostly hk0 / 0kl ones: the v16
    # fit's best cell indexes 80 % of the first 20 lines with ln M 2.7, not a found cell
    crystal = SyntheticStructures(400, seed=1).get(87)
    assert crystal.space_group == 7
    return crystal, *_first_picked_lines(crystal.structure)


def test_the_ortho_first_cells_find_a_monoclinic_cell_the_v16_fit_misses(missed_crystal):
    crystal, q2, tol = missed_crystal
    v16 = indexing.fit_family(learned.widely_refined_monoclinic_family(), q2, tol, UNINDEXED_ALLOWED)
    assert not indexing_ortho_first.solved(v16)
    v17 = indexing_ortho_first.monoclinic_fit(q2, tol)
    assert indexing_ortho_first.solved(v17) and v17.fraction_indexed == 1.0
    true = learned.monoclinic_parameters(learned.reciprocal_metric(crystal.structure))
    found, expected = monoclinic_cell(v17.params), monoclinic_cell(true)
    np.testing.assert_allclose(found[:3], expected[:3], rtol=3e-3)  # a, b, c within 0.3 %
    assert abs(found[3] - expected[3]) < 0.1  # β within 0.1°


def test_an_orthorhombic_sub_metric_and_one_more_line_give_the_monoclinic_cell(missed_crystal):
    # the physics of the search: the true cell's A, B, C index its hk0 / 0kl lines alone, and D follows from
    # an hkl line with h, l != 0 as (Q - h²A - k²B - l²C) / (hl): the true cell is among the trial cells
    crystal, q2, tol = missed_crystal
    true = learned.monoclinic_parameters(learned.reciprocal_metric(crystal.structure))
    cells = indexing_ortho_first.ortho_first_cells(q2, tol)
    assert len(cells) > 100 and np.all(cells[:, 3] > 0)
    closest = np.abs(np.log(cells / true)).max(axis=1).min()
    assert closest < 0.02  # within 2 % in every parameter (trial cells are refined after)


def test_v17_features_are_v16_s_but_the_monoclinic_fit_s(missed_crystal):
    _, q2, tol = missed_crystal
    heights = np.ones_like(q2)
    v16 = learned.line_features_v16(q2, heights, tol)
    v17 = indexing_ortho_first.line_features_v17(q2, heights, tol)
    assert v17.shape == v16.shape == (indexing_ortho_first.N_FEATURES_V17,)
    monoclinic = np.array(["monoclinic" in name for name in indexing_wide.FEATURE_NAMES_V6])
    np.testing.assert_array_equal(v17[~monoclinic], v16[~monoclinic])
    assert not np.array_equal(v17[monoclinic], v16[monoclinic])


def test_where_the_v16_cell_solves_the_lines_v17_keeps_it():
    # a cubic crystal's lines are indexed by a monoclinic cell too: v16's, and the ortho-first search is not run
    from pymatgen.core import Lattice, Structure

    silicon = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
    q2, tol = _first_picked_lines(silicon)
    v16 = indexing.fit_family(learned.widely_refined_monoclinic_family(), q2, tol, UNINDEXED_ALLOWED)
    assert indexing_ortho_first.solved(v16)
    heights = np.ones_like(q2)
    np.testing.assert_array_equal(indexing_ortho_first.line_features_v17(q2, heights, tol),
                                  learned.line_features_v16(q2, heights, tol))
