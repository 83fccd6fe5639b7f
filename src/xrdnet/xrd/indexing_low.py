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

Trial cells set 4 low-angle lines equal to 4 low-index reflections. Each of the 150 trial cells is a
joint assignment (which 4 of the first N_TRIAL_LINES lines are which reflections), chosen once,
deterministically and greedily, as those covering the most random cells of the family (a, b, c
log-uniform in 3-20 Å, β in 90-125°, reflections removed by random P2₁/c-like conditions
(`random_absences`), some of the rest dropped as weak): see `xrdnet.xrd.trial_assignments`. On the
synthetic validation split's monoclinic items the fit indexes ≥ 95 % of the first 20 lines with ln M ≥ 3
for ~0.40 of exact line lists and ~0.2 of rendered ones (30 assignments on every 4-tuple of the first 5
lines, as before: 0.15 and 0.10) at the same 150 trial cells (about +15 % on the `indexing` time);
300 assignments reach ~0.5 on exact lists at several times the cost. Baddeleyite's cell is found. Its figures still say how much
better four parameters index the lines than three. Centred orthorhombic (C, I, F) fits on the same machinery cost about as much as all of
`indexing` together (7-18 ms per pattern each on a loaded machine) and are not here.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from xrdnet.xrd import indexing
from xrdnet.xrd.indexing import _Family, _tables, fit_family
from xrdnet.xrd.trial_assignments import covering_assignments

MAX_COS_BETA = 0.8  # |cos β*| at most: β between 90° and ~143°, beyond which a shorter (reduced) cell exists
N_TRIAL_LINES = 6  # trial assignments name 4 lines among the first this many
_N_MAX = 400  # largest looked-up index square (h or k up to 20)


# ---- trial assignments ----------------------------------------------------------------------------

def _canonical_hkl(limit: int) -> np.ndarray:
    """(s, 3) reflections up to |index| ≤ limit, one of each monoclinic set with equal Q²: k ≥ 0 and
    (l > 0 or l = 0, h ≥ 0)."""
    rows = [(h, k, l) for h in range(-limit, limit + 1) for k in range(limit + 1) for l in range(limit + 1)
            if (h, k, l) != (0, 0, 0) and (l > 0 or h >= 0)]
    return np.array(rows, dtype=int)


def random_absences(hkl: np.ndarray, rng) -> np.ndarray:
    """(s,) True for the reflections hkl (s, 3) that random monoclinic (unique axis b) conditions remove.

    Centring (P, C, A, I), a glide in the h0l zone (none, c: l odd absent, n: h + l odd, a: h odd) and
    a 2₁ screw along b (0k0 with k odd absent), drawn independently: P2₁/c, C2/c and their kin.
    """
    h, k, l = hkl.T
    absent = np.zeros(len(hkl), dtype=bool)
    centring = rng.choice(4, p=[0.6, 0.25, 0.1, 0.05])  # P, C, A, I
    if centring:
        absent |= [(h + k), (k + l), (h + k + l)][centring - 1] % 2 == 1
    glide = rng.choice(4, p=[0.5, 0.3, 0.1, 0.1])  # none, c, n, a
    if glide:
        absent |= (k == 0) & ([l, h + l, h][glide - 1] % 2 == 1)
    if rng.random() < 0.6:
        absent |= (h == 0) & (l == 0) & (k % 2 == 1)
    return absent


def _random_axes(rng) -> np.ndarray:
    return np.exp(rng.uniform(math.log(3.0), math.log(20.0), 3))


# ---- families --------------------------------------------------------------------------------------

def _monoclinic_valid(params: np.ndarray) -> np.ndarray:
    """Cells (B, A, C, D) with 0 < D ≤ 2 MAX_COS_BETA √(AC): a real metric with β* not too far from 90°."""
    return (params[:, 3] > 0) & (params[:, 3] <= 2.0 * MAX_COS_BETA * np.sqrt(params[:, 1] * params[:, 2]))


def _monoclinic_family(h_max: int = 6, l_max: int = 6, n_assignments: int = 150, n_trial_lines: int = N_TRIAL_LINES,
                       n_cells: int = 3000) -> _Family:
    """Q² = B k² + A h² + C l² + D h l; parameters (B, A, C, D), k² looked up, rows (h, l).

    n_assignments trial cells naming 4 of the first n_trial_lines lines, chosen to cover n_cells random cells.
    """
    squares = {k * k for k in range(21)}
    below, above, count = _tables([squares - {0}, squares], _N_MAX)
    rows = [(h, l) for h in range(-h_max, h_max + 1) for l in range(l_max + 1) if l > 0 or h >= 0]
    row_coef = np.array([(h * h, l * l, h * l) for h, l in rows], dtype=float)
    row_table = np.array([0 if (h == 0 and l == 0) else 1 for h, l in rows])
    hkl = _canonical_hkl(2)
    seeds = monoclinic_coefficients(hkl)

    def sample_q2(rng):
        a, b, c = _random_axes(rng)
        beta_star = math.radians(180.0 - rng.uniform(90.0, 125.0))
        # reciprocal monoclinic axes: a* = 1/(a sin β), c* = 1/(c sin β), b* = 1/b
        a_star, c_star = 1.0 / (a * math.sin(beta_star)), 1.0 / (c * math.sin(beta_star))
        params = np.array([1.0 / b**2, a_star**2, c_star**2, 2.0 * a_star * c_star * math.cos(beta_star)])
        return np.where(random_absences(hkl, rng), np.inf, seeds @ params)

    positions, reflections = covering_assignments(seeds, sample_q2, n_trial_lines, n_assignments, n_cells=n_cells)
    return _Family("monoclinic", row_coef, row_table, below, above, count, _N_MAX, seeds, reflections,
                   n_trial_lines, valid=_monoclinic_valid, seed_lines=positions)


@functools.cache
def monoclinic_family(n_assignments: int = 150, n_trial_lines: int = N_TRIAL_LINES, n_cells: int = 3000) -> _Family:
    """The monoclinic-P family, built on first use (choosing its trial assignments takes a fraction of a
    second, a few seconds for 1,000 of them over 10,000 random cells)."""
    return _monoclinic_family(n_assignments=n_assignments, n_trial_lines=n_trial_lines, n_cells=n_cells)


def monoclinic_coefficients(hkl: np.ndarray) -> np.ndarray:
    """(s, 4) rows (k², h², l², hl) multiplying the parameters (B, A, C, D)."""
    h, k, l = np.asarray(hkl).T
    return np.stack([k * k, h * h, l * l, h * l], axis=1).astype(float)


def gauss_reduced(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer coefficients (u, v) of the Gauss (Lagrange) reduced basis of the 2D lattice whose basis has Gram
    matrix `gram` (2, 2): u the shortest vector, v the shortest not along it (|u·v| ≤ u·u / 2).

    Any basis of a monoclinic cell's ac plane (a + c and c as well as a and c) indexes the same lines; the
    reduced one is the setting every fit of the lattice agrees on, in real or reciprocal space."""
    u, v = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    while True:
        if v @ gram @ v < u @ gram @ u:
            u, v = v, u
        m = round(float(u @ gram @ v) / float(u @ gram @ u))
        if m == 0:
            return u, v
        v = v - m * u


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


def monoclinic_features(q2: np.ndarray, tol: np.ndarray, family: _Family | None = None,
                        unindexed_allowed: float = 0.0) -> np.ndarray:
    """(len(LOW_FEATURE_NAMES),) features of the best monoclinic cell of the first N_FIT_LINES of lines q2
    (Å⁻², ascending); zeros with < 5 lines.

    family: the monoclinic fit (default `monoclinic_family()`); unindexed_allowed as in `indexing.fit_family`.
    """
    def best_cell(q2, tol):
        return fit_family(family or monoclinic_family(), q2, tol, unindexed_allowed)

    return monoclinic_fit_features(q2, tol, best_cell)


def monoclinic_fit_features(q2: np.ndarray, tol: np.ndarray, fit_cell) -> np.ndarray:
    """(len(LOW_FEATURE_NAMES),) features of the monoclinic cell fit_cell(q2, tol) -> LatticeFit | None finds for the
    first N_FIT_LINES of lines q2 (Å⁻², ascending); zeros without lines or cell."""
    q2 = np.asarray(q2, dtype=float)[:indexing.N_FIT_LINES]
    tol = np.asarray(tol, dtype=float)[:indexing.N_FIT_LINES]
    fit = fit_cell(q2, tol) if q2.size else None
    if fit is None:
        return np.zeros(len(LOW_FEATURE_NAMES))
    b_param, a_param, c_param, d_param = fit.params
    largest, middle, smallest = np.sort(fit.params[:3])[::-1]
    return np.array([fit.fraction_indexed, fit.log_m, math.log(max(fit.n_calc, 1.0) / fit.n_obs),
                     math.log(b_param / q2[0]), 0.5 * math.log(largest / middle), 0.5 * math.log(largest / smallest),
                     d_param / (2.0 * math.sqrt(a_param * c_param))])


def line_features_v2(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(N_FEATURES,) `indexing.line_features` followed by the monoclinic fit (the `indexing_v2` set)."""
    return np.concatenate([indexing.line_features(q2, heights, tol), monoclinic_features(q2, tol)])
