"""The indexing feature sets stay what they were: speed work on the fits must not change a number.

The fixture holds line lists (textbook structures of each family, NaCl with 4 % rutile, synthetic items) and
their vectors of each feature set as main computed them at 546e371, before the fits were made cheaper
(scripts/check_indexing_equivalence.py --write-fixture; the same script checks hundreds of patterns).
"""

from pathlib import Path

import numpy as np
import pytest

from xrdnet.data.features import FEATURE_SETS
from xrdnet.xrd import indexing
from xrdnet.xrd.indexing import FAMILIES, _Rows, _trial_cells, fit_families, fit_family, peak_list_features

FIXTURE = Path(__file__).parent / "data" / "indexing_features_main_546e371.npz"
WAVELENGTH = 1.5406  # Å


def _fixture_lines(stored):
    for name, two_theta, heights in zip(stored["names"], stored["two_theta"], stored["heights"]):
        present = ~np.isnan(two_theta)
        yield str(name), two_theta[present], heights[present]


LATTICE_FITS = {"cubic", "tetragonal", "hexagonal", "rhombohedral", "orthorhombic", "monoclinic"}


def _fit_block(kind: str, column: int) -> tuple[int, str]:
    """(which line list: all or strong lines, which fit or other block) of a feature column."""
    if kind == "indexing_v2" and column >= indexing.N_FEATURES:
        return 0, "monoclinic"
    return column // indexing.N_FEATURES, indexing.FEATURE_NAMES[column % indexing.N_FEATURES].split("_")[0]


@pytest.mark.parametrize("kind", ["indexing", "indexing_v2", "indexing_v3", "indexing_v4"])
def test_feature_vectors_are_mains(kind):
    # Main's numbers to 1e-9, except that one item may pick the other of two trial cells that fit its lines
    # equally well: last-bit differences between CPUs' BLAS kernels (seen: OpenBLAS's Haswell kernels on an
    # AMD EPYC) decide such ties. A refactoring slip changes many items, or columns outside one fit.
    stored = np.load(FIXTURE)
    wavelength = float(stored["wavelength"])
    ties = []
    for row, (name, two_theta, heights) in enumerate(_fixture_lines(stored)):
        found = peak_list_features(two_theta, heights, wavelength, describe=FEATURE_SETS[kind].describe)
        assert found.shape == stored[kind][row].shape
        differ = np.flatnonzero(~np.isclose(found, stored[kind][row], rtol=0, atol=1e-9))
        if len(differ):
            ties.append((name, {_fit_block(kind, column) for column in differ}))
    assert len(ties) <= 1, f"{kind}: {len(ties)} items differ from main's: {ties}"
    for name, blocks in ties:
        assert len(blocks) == 1 and next(iter(blocks))[1] in LATTICE_FITS, f"{kind}: {name} differs in {blocks}"


def _q2_tol(two_theta):
    return indexing.q_squared(two_theta, WAVELENGTH), indexing.q_squared_tolerance(two_theta, WAVELENGTH)


def _random_lines(rng, n=10):
    return _q2_tol(np.sort(rng.uniform(15.0, 70.0, n)))


@pytest.mark.parametrize("name", ["tetragonal_I", "hexagonal", "rhombohedral", "orthorhombic"])
def test_pruned_screen_errors_are_the_full_ones(name):
    # the screen skips rows that cannot hold a line's nearest calculated line; the errors must not change
    # by a bit, also for cells of tiny A (far rows then have x < −1e9 and negative gaps)
    family, rng = FAMILIES[name], np.random.default_rng(3)
    for _ in range(5):
        q2, tol = _random_lines(rng)
        params = _trial_cells(family, q2)
        params = np.concatenate([params, params[:20] * np.array([1e-8] + [1.0] * (family.n_params - 1))])
        layout = _Rows.of((family,), [len(params)], params, q2[-1] + tol[-1])
        np.testing.assert_array_equal(layout.pruned_errors(q2), layout.errors(q2))


def test_families_fitted_together_are_fitted_alone():
    names = ["cubic_P", "tetragonal_P", "cubic_F", "tetragonal_I", "hexagonal", "rhombohedral", "orthorhombic"]
    rng = np.random.default_rng(5)
    for n_lines in (3, 8, 20):
        q2, tol = _random_lines(rng, n_lines)
        for name, together in zip(names, fit_families(names, q2, tol, unindexed_allowed=0.1)):
            alone = fit_family(name, q2, tol, unindexed_allowed=0.1)
            assert (together is None) == (alone is None), name
            if alone is not None:
                assert together.family == name
                np.testing.assert_array_equal(together.params, alone.params)
                assert (together.log_m, together.fraction_indexed, together.n_calc) == (alone.log_m, alone.fraction_indexed, alone.n_calc)


def test_families_laid_out_together_have_their_own_errors():
    # each family of a joint layout sees only its own rows: the others point to a table with no line, whose
    # gap must lose to every real row's, also against the near-1e9 gaps of cells of tiny A
    group = tuple(FAMILIES[name] for name in ("tetragonal_P", "tetragonal_I", "hexagonal", "rhombohedral"))
    rng = np.random.default_rng(7)
    for _ in range(3):
        q2, tol = _random_lines(rng, 20)
        trials = [_trial_cells(family, q2)[:30] * np.array([[1.0, 1.0]] * 25 + [[1e-8, 1.0]] * 5) for family in group]
        joint = _Rows.of(group, [len(t) for t in trials], np.concatenate(trials), q2[-1] + tol[-1])
        alone = [_Rows.of((family,), [len(t)], t, q2[-1] + tol[-1]) for family, t in zip(group, trials)]
        np.testing.assert_array_equal(joint.errors(q2), np.concatenate([layout.errors(q2) for layout in alone]))
        np.testing.assert_array_equal(joint.pruned_errors(q2[:10]), np.concatenate([layout.errors(q2[:10]) for layout in alone]))
        np.testing.assert_array_equal(joint.n_calc(q2[-1]), np.concatenate([layout.n_calc(q2[-1]) for layout in alone]))
        error, coefficients = joint.assign(q2, group[0].row_coef)
        assigned = [layout.assign(q2, group[0].row_coef) for layout in alone]
        np.testing.assert_array_equal(error, np.concatenate([e for e, _ in assigned]))
        np.testing.assert_array_equal(coefficients, np.concatenate([c for _, c in assigned]))
