"""`indexing_v4`: indexing features that a weak second phase does not break."""

import math

import numpy as np

from xrdnet.xrd import indexing, indexing_impurity
from xrdnet.xrd.indexing import FEATURE_GROUPS, N_FEATURES, fit_family, q_squared_tolerance

WAVELENGTH = 1.5406  # Å


def cubic_f_lines(a_angstrom: float = 8.0, n_lines: int = 20):
    """Q² (Å⁻²) of the first lines of a face-centred cubic cell (hkl all odd or all even), strong heights."""
    allowed = sorted({h * h + k * k + l * l for h in range(8) for k in range(8) for l in range(8)
                      if h % 2 == k % 2 == l % 2 and h * h + k * k + l * l > 0})
    q2 = np.array(allowed[:n_lines], dtype=float) / a_angstrom**2
    return q2, np.linspace(1.0, 0.1, n_lines)


def tolerance(q2: np.ndarray) -> np.ndarray:
    two_theta = np.degrees(2.0 * np.arcsin(np.sqrt(q2) * WAVELENGTH / 2.0))
    return q_squared_tolerance(two_theta, WAVELENGTH)


def with_foreign_lines(q2, heights, foreign_q2, height=0.03):
    """The lines plus weak lines no cell of theirs indexes, in ascending Q²."""
    q2 = np.concatenate([q2, foreign_q2])
    heights = np.concatenate([heights, np.full(len(foreign_q2), height)])
    order = np.argsort(q2)
    return q2[order], heights[order]


# an impurity's lines: one below the cubic cell's first line (3/64 = 0.0469 Å⁻²), one between its lines
FOREIGN_Q2 = np.array([0.0301, 0.1012])


def test_forgiving_figure_of_merit_survives_two_foreign_lines_of_twenty():
    q2, heights = cubic_f_lines(n_lines=18)
    impure, _ = with_foreign_lines(q2, heights, FOREIGN_Q2)
    clean = fit_family("cubic_F", q2, tolerance(q2))
    strict = fit_family("cubic_F", impure, tolerance(impure))
    forgiving = fit_family("cubic_F", impure, tolerance(impure), unindexed_allowed=0.1)
    assert math.isclose(forgiving.params[0], 1 / 64, rel_tol=1e-3)  # the cell is still a = 8 Å
    assert forgiving.fraction_indexed == strict.fraction_indexed == 18 / 20  # the two lines stay unindexed
    # charging the two foreign lines costs ln M more than 1; forgiving them leaves M close to the clean list's
    assert clean.log_m - strict.log_m > 1.0
    assert clean.log_m - forgiving.log_m < 0.5


def test_forgiving_nothing_is_the_strict_figure_of_merit():
    q2, heights = cubic_f_lines()
    impure, _ = with_foreign_lines(q2, heights, FOREIGN_Q2)
    strict = fit_family("tetragonal_P", impure, tolerance(impure))
    also_strict = fit_family("tetragonal_P", impure, tolerance(impure), unindexed_allowed=0.0)
    assert strict.log_m == also_strict.log_m and np.array_equal(strict.params, also_strict.params)


def test_strong_half_ignores_weak_impurity_lines():
    q2, heights = cubic_f_lines()
    clean = indexing_impurity.line_features_v4(q2, heights, tolerance(q2))
    impure_q2, impure_heights = with_foreign_lines(q2, heights, FOREIGN_Q2, height=0.05)
    impure = indexing_impurity.line_features_v4(impure_q2, impure_heights, tolerance(impure_q2))
    assert clean.shape == impure.shape == (indexing_impurity.N_FEATURES,) == (2 * N_FEATURES,)
    # every clean line is strong: both halves of the clean vector are the same
    np.testing.assert_array_equal(clean[:N_FEATURES], clean[N_FEATURES:])
    # the impurity moves the all-lines half (a new first line changes every position ratio) but not the strong half
    positions = FEATURE_GROUPS["positions"]
    assert not np.allclose(impure[:N_FEATURES][positions], clean[:N_FEATURES][positions])
    np.testing.assert_allclose(impure[N_FEATURES:], clean[N_FEATURES:])
    cubic = FEATURE_GROUPS["cubic"]
    assert impure[N_FEATURES:][cubic][0] == 1.0  # the strong lines are all indexed by the cubic cell


def test_feature_names_cover_both_halves():
    names = indexing_impurity.FEATURE_NAMES
    assert len(names) == len(set(names)) == indexing_impurity.N_FEATURES
    assert names[0] == "all_" + indexing.FEATURE_NAMES[0] and names[N_FEATURES] == "strong_" + indexing.FEATURE_NAMES[0]
