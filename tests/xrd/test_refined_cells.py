"""`indexing_v9`: the orthorhombic and monoclinic fits refine more of their screened trial cells
(`xrdnet.xrd.indexing_wide.REFINED_CELLS`, 20 against `indexing.N_REFINE`, 6)."""

import math

import pytest

from xrdnet.structures.aflow import AflowPrototypes
from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd import indexing, indexing_ortho, indexing_wide
from xrdnet.xrd.indexing_impurity import UNINDEXED_ALLOWED
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
CU_KA1 = 1.5405929
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)


def _lines(structure):
    peaks = XRDSimulator(CU_KA1).simulate(structure)
    profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, CU_KA1)
    two_theta, _ = indexing.pick_peaks(profile, GRID.points, curvature=True)
    return (indexing.q_squared(two_theta, CU_KA1)[:indexing.N_FIT_LINES],
            indexing.q_squared_tolerance(two_theta, CU_KA1)[:indexing.N_FIT_LINES])


def _fits(q2, tol):
    pairs = ((indexing_ortho.widest_orthorhombic_family(), indexing_wide.refined_orthorhombic_family()),
             (indexing_wide.wide_monoclinic_family(), indexing_wide.refined_monoclinic_family()))
    return [tuple(indexing.fit_family(family, q2, tol, UNINDEXED_ALLOWED) for family in pair) for pair in pairs]


@pytest.mark.parametrize("entry", REFERENCE_STRUCTURES, ids=lambda entry: entry.name)
def test_refining_more_screened_cells_never_finds_a_worse_cell(entry):
    # the 20 best screened cells hold the 6 best, each refined alone: the best figure of merit cannot fall
    for six, twenty in _fits(*_lines(entry.structure())):
        assert (six is None) == (twenty is None)
        if six is not None:
            assert twenty.log_m >= six.log_m - 1e-9


def test_a_monoclinic_cell_below_the_top_six_trial_cells_is_found():
    # ZrPbO3 (AFLOW A3BC_mC10_8_ab_a_a, Cm: a 5.722, b 5.710, c 4.137 Å, β 90.5°, 135.1 Å³, a pseudo-cubic
    # perovskite): the trial cell of its primitive cell (half the volume) ranks below sixth on the screen
    source = AflowPrototypes()
    index = next(i for i in range(len(source)) if source.item_name(i) == "A3BC_mC10_8_ab_a_a-ZrPbO3")
    q2, tol = _lines(source.get(index).structure)
    _, (six, twenty) = _fits(q2, tol)
    volumes = [math.sqrt(1.0 / (b * (a * c - d * d / 4.0))) for b, a, c, d in (six.params, twenty.params)]
    assert volumes[1] == pytest.approx(135.14 / 2, rel=0.01)  # 1/V² = b*² (a*² c*² − (a* c* cos β*)²)
    assert volumes[0] < 0.8 * volumes[1]  # the six-cell search settles for a smaller cell, which leaves more lines
    assert twenty.log_m > six.log_m and twenty.fraction_indexed > six.fraction_indexed
