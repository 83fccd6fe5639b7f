"""Lower-symmetry powder indexing: the monoclinic-P fit, and the `indexing_v2` feature set.

Same machinery as `xrdnet.xrd.indexing` (trial cells from low-angle lines, screen, refine, de Wolff M),
with one more metric, linear in its parameters (Q² = 1/d², Å⁻²):

    monoclinic P (unique axis b)  Q² = A h² + B k² + C l² + D h l,
        A = a*², B = b*², C = c*², D = 2 a* c* cos β*, β* = 180° − β.
        Written for the shared fitter as B·k² (k² looked up) plus rows (h, l), h of both signs, l ≥ 0.
        Reversing h turns D into −D, so D > 0 (β > 90°) loses no cell; a real cell also needs
        D < 2 √(AC) (positive-definite metric), here |cos β*| ≤ MAX_COS_BETA.

The monoclinic fit has the orthorhombic one as its limit D → 0, but there hkl and h̄kl still count as
two calculated lines, so an orthorhombic pattern gets a lower M from it: the extra parameter pays
only when the lines need β ≠ 90°.

Trial cells set p low-angle lines equal to p low-index reflections. Which reflections the first lines
are depends on the cell, so the 4-reflection assignments tried are chosen once, deterministically and
greedily, as those covering the most random cells of the family (a, b, c log-uniform in 3-20 Å, β in
90-125°, a third of the lines dropped as absent or weak): see `_covering_tuples`. With the first 5 lines
(5 line tuples) and 30 assignments, 150 trial cells (about +15 % on the `indexing` time), they cover about a
tenth of such random cells; on exact line lists of the synthetic monoclinic crystals the fit indexes
≥ 95 % of the first 20 lines with ln M ≥ 3 for about a fifth (6 lines, 20 or 40 assignments: the same
within a few points at 2-6× the time). Its figures still say how much better four parameters index the
lines than three. Centred orthorhombic (C, I, F) fits on the same machinery cost about as much as all of
`indexing` together (7-18 ms per pattern each on a loaded machine) and are not here.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from xrdnet.xrd import indexing
from xrdnet.xrd.indexing import _Family, _tables, fit_family

MAX_COS_BETA = 0.8  # |cos β*| at most: β between 90° and ~143°, beyond which a shorter (reduced) cell exists
N_TRIAL_LINES = 5  # trial cells use 4-tuples of lines among the first this many (5 tuples: time per pattern)
_N_MAX = 400  # largest looked-up index square (h or k up to 20)


# ---- trial assignments ----------------------------------------------------------------------------

def _canonical_hkl(limit: int) -> np.ndarray:
    """(s, 3) reflections up to |index| ≤ limit, one of each monoclinic set with equal Q²: k ≥ 0 and
    (l > 0 or l = 0, h ≥ 0)."""
    rows = [(h, k, l) for h in range(-limit, limit + 1) for k in range(limit + 1) for l in range(limit + 1)
            if (h, k, l) != (0, 0, 0) and (l > 0 or h >= 0)]
    return np.array(rows, dtype=int)


def _covering_tuples(coefficients: np.ndarray, sample_q2, n_tuples: int, n_cells: int = 2000,
                     seed: int = 0) -> np.ndarray:
    """(t, p) ordered reflection tuples (indices into the s reflections whose coefficient rows (s, p) are
    given) that, as trial assignments of p of the first N_TRIAL_LINES lines, cover the most random cells,
    chosen greedily.

    sample_q2(rng) -> (s,) Q² of every reflection for one random cell.
    A cell is covered by a tuple when p of its first lines (in Q² order, a third of the lines dropped at
    random) are those reflections and their coefficient matrix is invertible.
    """
    p = coefficients.shape[1]
    rng = np.random.default_rng(seed)
    covers: dict[tuple[int, ...], set[int]] = {}
    invertible: dict[tuple[int, ...], bool] = {}
    for cell in range(n_cells):
        q2 = sample_q2(rng)
        order = np.argsort(q2, kind="stable")
        order = order[rng.random(order.size) > 1.0 / 3.0][:N_TRIAL_LINES]
        for chosen in itertools.combinations(order.tolist(), p):
            if chosen not in invertible:
                invertible[chosen] = abs(np.linalg.det(coefficients[list(chosen)])) > 1e-9
            if invertible[chosen]:
                covers.setdefault(chosen, set()).add(cell)
    picked: list[tuple[int, ...]] = []
    covered: set[int] = set()
    for _ in range(n_tuples):
        best = max(covers, key=lambda t: (len(covers[t] - covered), t), default=None)
        if best is None or not covers[best] - covered:
            break
        picked.append(best)
        covered |= covers.pop(best)
    return np.array(picked, dtype=int)


def _random_axes(rng) -> np.ndarray:
    return np.exp(rng.uniform(math.log(3.0), math.log(20.0), 3))


# ---- families --------------------------------------------------------------------------------------

def _monoclinic_valid(params: np.ndarray) -> np.ndarray:
    """Cells (B, A, C, D) with 0 < D ≤ 2 MAX_COS_BETA √(AC): a real metric with β* not too far from 90°."""
    return (params[:, 3] > 0) & (params[:, 3] <= 2.0 * MAX_COS_BETA * np.sqrt(params[:, 1] * params[:, 2]))


def _monoclinic_family(h_max: int = 6, l_max: int = 6, n_tuples: int = 30) -> _Family:
    """Q² = B k² + A h² + C l² + D h l; parameters (B, A, C, D), k² looked up, rows (h, l)."""
    squares = {k * k for k in range(21)}
    below, above, count = _tables([squares - {0}, squares], _N_MAX)
    rows = [(h, l) for h in range(-h_max, h_max + 1) for l in range(l_max + 1) if l > 0 or h >= 0]
    row_coef = np.array([(h * h, l * l, h * l) for h, l in rows], dtype=float)
    row_table = np.array([0 if (h == 0 and l == 0) else 1 for h, l in rows])
    hkl = _canonical_hkl(2)
    h, k, l = hkl.T
    seeds = np.stack([k * k, h * h, l * l, h * l], axis=1).astype(float)

    def sample_q2(rng):
        a, b, c = _random_axes(rng)
        beta_star = math.radians(180.0 - rng.uniform(90.0, 125.0))
        # reciprocal monoclinic axes: a* = 1/(a sin β), c* = 1/(c sin β), b* = 1/b
        a_star, c_star = 1.0 / (a * math.sin(beta_star)), 1.0 / (c * math.sin(beta_star))
        params = np.array([1.0 / b**2, a_star**2, c_star**2, 2.0 * a_star * c_star * math.cos(beta_star)])
        return seeds @ params

    tuples = _covering_tuples(seeds, sample_q2, n_tuples)
    return _Family("monoclinic", row_coef, row_table, below, above, count, _N_MAX, seeds, tuples,
                   N_TRIAL_LINES, valid=_monoclinic_valid)


@functools.cache
def monoclinic_family() -> _Family:
    """The monoclinic-P family, built on first use (choosing its trial assignments takes a fraction of a second)."""
    return _monoclinic_family()


def monoclinic_cell(params: np.ndarray) -> tuple[float, float, float, float]:
    """(a, b, c in Å, β in degrees) of monoclinic parameters (B, A, C, D)."""
    b_param, a_param, c_param, d_param = (float(x) for x in params)
    cos_beta_star = d_param / (2.0 * math.sqrt(a_param * c_param))
    sin_beta = math.sqrt(max(1.0 - cos_beta_star**2, 1e-12))  # sin β = sin β*
    return (1.0 / (math.sqrt(a_param) * sin_beta), 1.0 / math.sqrt(b_param),
            1.0 / (math.sqrt(c_param) * sin_beta), 180.0 - math.degrees(math.acos(cos_beta_star)))


# ---- features --------------------------------------------------------------------------------------

LOW_FEATURE_NAMES = [f"monoclinic_{name}" for name in indexing._FIT_FEATURES
                     + ("log_b_over_a_ratio", "log_c_over_a_ratio", "cos_beta_star")]
FEATURE_NAMES = indexing.FEATURE_NAMES + LOW_FEATURE_NAMES
N_FEATURES = len(FEATURE_NAMES)
FEATURE_DOC = indexing.FEATURE_DOC + """
indexing_v2 adds, on the same first N_FIT_LINES lines:
  monoclinic_* (fraction_indexed, log_m, log_ncalc_over_nobs, log_a_over_q2_first with A = b*²)
  monoclinic_log_b_over_a_ratio, _log_c_over_a_ratio  ½ ln of the ratios of a*², b*², c*² sorted descending
  monoclinic_cos_beta_star  D / (2 √(AC)) = cos β* (0: orthorhombic metric)
"""


def monoclinic_features(q2: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(len(LOW_FEATURE_NAMES),) features of the best monoclinic cell of lines q2 (Å⁻²); zeros with < 5 lines."""
    fit = fit_family(monoclinic_family(), q2, tol)
    if fit is None:
        return np.zeros(len(LOW_FEATURE_NAMES))
    b_param, a_param, c_param, d_param = fit.params
    largest, middle, smallest = np.sort(fit.params[:3])[::-1]
    return np.array([fit.fraction_indexed, fit.log_m, math.log(max(fit.n_calc, 1.0) / fit.n_obs),
                     math.log(b_param / q2[0]), 0.5 * math.log(largest / middle), 0.5 * math.log(largest / smallest),
                     d_param / (2.0 * math.sqrt(a_param * c_param))])


def line_features_v2(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(N_FEATURES,) `indexing.line_features` followed by the monoclinic fit (the `indexing_v2` set)."""
    base = indexing.line_features(q2, heights, tol)
    q2_fit = np.asarray(q2, dtype=float)[:indexing.N_FIT_LINES]
    tol_fit = np.asarray(tol, dtype=float)[:indexing.N_FIT_LINES]
    if q2_fit.size == 0:
        return np.concatenate([base, np.zeros(len(LOW_FEATURE_NAMES))])
    return np.concatenate([base, monoclinic_features(q2_fit, tol_fit)])
