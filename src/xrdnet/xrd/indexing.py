"""Powder indexing features: peak positions -> lattice-family figures of merit (numpy only).

The crystal system lives in the lattice metric, and the metric is what the peak *positions* encode.
With Q² = 1/d² (Å⁻²) and Bragg's law d = λ / (2 sin θ),

    Q² = 4 sin²θ / λ²,

and a reflection hkl of a lattice with reciprocal metric G* sits at Q² = (h k l) G* (h k l)ᵀ. For
the higher-symmetry families this is linear in a few parameters with integer coefficients:

    cubic          Q² = A N,                N = h² + k² + l²,         A = 1/a²
    tetragonal     Q² = A M + C l²,         M = h² + k²,              A = 1/a², C = 1/c²
    hexagonal (hP) Q² = A M + C l²,         M = h² + hk + k²,         A = 4/(3a²), C = 1/c²
    rhombohedral   as hexagonal, in hexagonal axes, with only −h + k + l = 3n (obverse hR cell)
    orthorhombic   Q² = A h² + B k² + C l², A = 1/a², B = 1/b², C = 1/c²

Lattice centring removes lines: cubic I keeps N even, cubic F keeps hkl all odd or all even
(N = 3, 4, 8, 11, 12, 16, ...), tetragonal I keeps h + k + l even (M ≡ l mod 2).

Powder-indexing programs (ITO, TREOR, DICVOL) decide the family from the first ~20 lines. This module
does a small, fully vectorized version of that for each family: trial cells from low-angle lines
assigned to low-index reflections (exact solutions of 1-3 linear equations), a screen on the first
lines, a weighted least-squares refinement of the best trial cells, and figures of merit of the best:

    fraction indexed  lines whose Q² lies within the tolerance of a calculated line,
    M (de Wolff)      M = Q²_n / (2 ε̄ N_calc): Q²_n of the last line used, ε̄ the mean |ΔQ²|
                      (over all lines used, each capped at ERROR_CAP tolerances, so a cell that
                      leaves lines unindexed scores low), N_calc the number of
                      distinct calculated lines up to Q²_n. A huge cell indexes every line (fraction 1)
                      but predicts many lines, so N_calc is large and M small: M guards against that
                      trivial false positive, and N_calc / n_obs is reported as well.

The tolerance follows the peak-position uncertainty: a position error δ(2θ) (radians) moves Q² by
δQ² = 2 sin(2θ) δ(2θ) / λ², from differentiating Q² = 2 (1 − cos 2θ) / λ².

Cost: families with the same rows (the three cubic, the four uniaxial) are screened and refined
together (`fit_families`), and the screen skips rows that cannot hold a line's nearest calculated line
(`_Rows.pruned_errors`); both leave every number as it was, to the bit (tests/xrd/test_indexing_equivalence.py,
scripts/check_indexing_equivalence.py), at ~0.6x the time per pattern (scripts/bench_indexing.py).

Peak positions come from `pick_peaks` on a rendered (or measured, background-free) profile.
`indexing_features` chains everything into one fixed-length vector; `FEATURE_NAMES` and
`FEATURE_GROUPS` describe it.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import peak_prominences

# ---- defaults -----------------------------------------------------------------------------------

TOLERANCE_TWO_THETA_DEG = 0.05  # position tolerance δ(2θ): ~1/8 of a 0.4° peak, 1.25 steps of 0.04°
N_FIT_LINES = 20  # lines used for the lattice fits (de Wolff's M20 uses 20)
N_POSITION_LINES = 30  # lines described by the scale-free position features
N_SCREEN_LINES = 10  # lines used to screen trial cells before refinement
N_REFINE = 6  # trial cells per lattice family that are refined on all lines
ERROR_CAP = 10.0  # in the figure of merit M a line is charged its |ΔQ²|, at most this many tolerances
_BIG = 1e9
_LOG_M_RANGE = (-3.0, 8.0)  # ln M is clipped to this range


# ---- peak picking -------------------------------------------------------------------------------
# point-to-point noise (fraction of the maximum) above which a profile counts as noisy: clean renders of the
# densest synthetic patterns reach 1e-3 (overlapping peaks), the augmenter's detector noise alone 2e-3
NOISY_SIGMA = 1.5e-3
# the same for √y, where counting noise has one σ at every height: 1,500 clean synthetic validation renders
# reach 1.9e-3, scans with 10⁶ counts on the strongest line 2.2e-3 and more, with 10⁴ 6e-3 and more
NOISY_SIGMA_SQRT = 3e-3
NOISY_SMOOTH_POINTS = 3  # moving-average width for noisy profiles (grid points)
NOISY_MERGE_POINTS = 2  # in a noisy profile, maxima this close (grid points) are one peak split by noise
NOISE_THRESHOLD_SIGMAS = 5.0  # a peak in a noisy profile stands at least this many σ high and prominent (on y and on √y)


def noise_level(profile: np.ndarray) -> float:
    """Point-to-point noise σ of a profile, robustly: 1.4826 · median |Δ²y| / √6.

    Second differences of neighbours cancel a smooth signal up to its curvature (white noise of σ gives
    them σ √6); the median sees the noise between and beside the peaks, and is 0 for a clean render
    with flat stretches.
    """
    differences = np.abs(np.diff(np.asarray(profile, dtype=float), 2))
    return float(1.4826 * np.median(differences) / math.sqrt(6.0)) if differences.size else 0.0


def fine_noise_level(profile: np.ndarray) -> float:
    """Point-to-point noise σ of a profile from fourth differences, 1.4826 · median |Δ⁴y| / √70.

    `noise_level`'s second differences also see the curvature of a clean render's crowded lines (σ up
    to ~3·10⁻⁴ of the maximum in dense synthetic patterns); fourth differences of a line a few grid
    points wide are smaller by about its width squared, while white noise of σ gives them σ √70.
    """
    differences = np.abs(np.diff(np.asarray(profile, dtype=float), 4))
    return float(1.4826 * np.median(differences) / math.sqrt(70.0)) if differences.size else 0.0


def is_noisy(profile: np.ndarray) -> bool:
    """Whether a profile carries counting or detector noise (pick_peaks then smooths it and applies noise thresholds).

    Measured on y (normalized to max 1) and on √y: Poisson noise has σ ∝ √counts, so on a strong line
    it is many times the background's, while on √y it is the same everywhere (Anscombe's variance-
    stabilizing transform); a scan with little background can look clean on y alone.
    """
    y = _normalized(profile)
    return y is not None and _noise_levels(y)[2]


def _normalized(profile: np.ndarray) -> np.ndarray | None:
    y = np.asarray(profile, dtype=float).ravel()
    top = y.max() if y.size else 0.0
    return y / top if top > 0 else None


def _noise_levels(y: np.ndarray) -> tuple[float, float, bool]:
    """(σ of y, σ of √y, noisy) of a profile normalized to max 1."""
    sigma, sigma_sqrt = noise_level(y), noise_level(np.sqrt(np.maximum(y, 0.0)))
    return sigma, sigma_sqrt, sigma > NOISY_SIGMA or sigma_sqrt > NOISY_SIGMA_SQRT


def _prominences(y: np.ndarray, index: np.ndarray, window: int) -> np.ndarray:
    """Topographic prominence of the maxima `index` of y within ±window points (scipy's definition)."""
    with warnings.catch_warnings():  # a maximum on a plateau's edge has prominence 0: rejected, no warning
        warnings.filterwarnings("ignore", "some peaks have a prominence of 0", RuntimeWarning)
        return peak_prominences(y, index, wlen=2 * window + 1)[0]


def pick_peaks(profile: np.ndarray, two_theta_deg: np.ndarray, *, min_height: float = 0.01,
               min_prominence: float = 0.01, prominence_window_deg: float = 0.4, smooth_points: int = 1,
               max_peaks: int = N_POSITION_LINES, curvature: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Peak positions (degrees 2θ, ascending) and heights (fraction of the profile maximum) of a 1D profile.

    profile: intensities on the uniform grid `two_theta_deg` (degrees); normalized here to max 1.
    min_height: a peak's height must reach this fraction of the maximum.
    min_prominence: the peak's topographic prominence (fraction of the maximum) must reach this: its
        height above the higher of the lowest points on its left and on its right, each side searched
        up to `prominence_window_deg` or up to a higher point, whichever comes first (scipy's
        peak_prominences); a wiggle on a peak's flank or top, and a shoulder, has a shallow dip before
        the higher point and is rejected.
    smooth_points: moving-average width (grid points) applied before searching (1 = none); use 3-5 for
        noisy measured patterns.
    max_peaks: at most this many peaks, the lowest-angle ones.
    curvature: in a nearly noiseless profile (√y noise σ ≤ CURVATURE_MAX_SIGMA_SQRT), take the lines
        the curvature shows (`curvature_peaks`): two lines closer than about a line width make one
        maximum of y, a blend at neither's position, or a shoulder with no maximum at all, but two
        maxima of −y''. A noisier profile is searched as without it.

    A peak is a grid point higher than its left neighbour and not lower than its right one; its
    position is refined off the grid by the vertex of the parabola through it and its two neighbours,
    δ = (y₋ − y₊) / (2 (y₋ − 2 y₀ + y₊)) grid steps (|δ| ≤ 1/2), height y₀ − (y₋ − y₊) δ / 4.

    Counting noise makes maxima of its own. When the profile is noisy (is_noisy: point-to-point noise σ
    of y above NOISY_SIGMA, or of √y above NOISY_SIGMA_SQRT) it is first smoothed over
    NOISY_SMOOTH_POINTS points, a peak must be the highest point within NOISY_MERGE_POINTS either side,
    both thresholds rise to at least NOISE_THRESHOLD_SIGMAS σ of the smoothed profile, and the peak's
    prominence on √y must reach NOISE_THRESHOLD_SIGMAS σ of √y as well: Poisson noise grows as
    √counts, so on the top of a strong line (or of blended lines) it makes dips far deeper than the
    background's σ, while on √y its σ is the same at every height. A clean render is searched as it is.
    """
    x = np.asarray(two_theta_deg, dtype=float).ravel()
    if np.size(profile) != x.size:
        raise ValueError(f"profile has {np.size(profile)} points but the 2θ grid has {x.size}")
    empty = (np.zeros(0), np.zeros(0))
    y = _normalized(profile) if x.size >= 3 else None
    if y is None:
        return empty
    sigma, sigma_sqrt, noisy = _noise_levels(y)
    if noisy:
        smooth_points = max(smooth_points, NOISY_SMOOTH_POINTS)
    if smooth_points > 1:
        y = np.convolve(y, np.ones(smooth_points) / smooth_points, mode="same")
    if noisy:
        threshold = NOISE_THRESHOLD_SIGMAS * sigma / math.sqrt(smooth_points)
        min_height, min_prominence = max(min_height, threshold), max(min_prominence, threshold)
    step = (x[-1] - x[0]) / (x.size - 1)
    centre = y[1:-1]
    index = np.flatnonzero((centre > y[:-2]) & (centre >= y[2:]) & (centre >= min_height)) + 1
    if noisy and index.size:
        merge = np.arange(-NOISY_MERGE_POINTS, NOISY_MERGE_POINTS + 1)
        index = index[y[index] >= y[np.clip(index[:, None] + merge, 0, y.size - 1)].max(axis=1)]
    if index.size == 0:
        return empty
    window = max(1, int(round(prominence_window_deg / step)))
    if noisy:
        sqrt_threshold = NOISE_THRESHOLD_SIGMAS * sigma_sqrt / math.sqrt(smooth_points)
        index = index[_prominences(np.sqrt(np.maximum(y, 0.0)), index, window) >= sqrt_threshold]
    index = index[_prominences(y, index, window) >= min_prominence]
    if curvature and not noisy:
        sigma, sigma_sqrt = fine_noise_level(y), fine_noise_level(np.sqrt(np.maximum(y, 0.0)))
        if sigma_sqrt <= CURVATURE_MAX_SIGMA_SQRT:
            return _with_curvature_peaks(y, x, index, sigma, sigma_sqrt, min_height, max_peaks)
    index = index[:max_peaks]
    if index.size == 0:
        return empty
    return _vertices(y, x, index)


def _vertices(y: np.ndarray, x: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions and heights of the maxima `index` of y on the uniform grid x, refined by the vertex of the
    parabola through each and its two neighbours (|δ| ≤ 1/2 grid step)."""
    step = (x[-1] - x[0]) / (x.size - 1)
    y_minus, y_zero, y_plus = y[index - 1], y[index], y[index + 1]
    curvature = y_minus - 2.0 * y_zero + y_plus
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(curvature < 0, 0.5 * (y_minus - y_plus) / curvature, 0.0)
    delta = np.clip(delta, -0.5, 0.5)
    return x[index] + delta * step, y_zero - 0.25 * (y_minus - y_plus) * delta


_CURVATURE_SMOOTHING = np.array([0.25, 0.5, 0.25])  # binomial: damps grid-scale wiggles, keeps a line's core
# −y'' of the smoothed profile is y convolved with this kernel: its noise σ is the profile's σ times the norm
_CURVATURE_KERNEL = -np.convolve(_CURVATURE_SMOOTHING, [1.0, -2.0, 1.0])
# the curvature's positions are the better ones only in a nearly noiseless profile: counting noise moves
# them more than the maxima of y (√y noise 1e-3: ~2.5e5 counts in the strongest line)
CURVATURE_MAX_SIGMA_SQRT = 1e-3


def curvature_peaks(y: np.ndarray, sigma: float, sigma_sqrt: float, min_height: float) -> np.ndarray:
    """Grid indices of the maxima of the curvature c = −y'' of profile y (max 1) that mark a line.

    A line of FWHM w is a maximum of c with a width of about w/2 (a Gaussian's c falls to zero at
    ±0.42 w), so two lines about half a line width apart already give two maxima of c where y has one:
    the resolution of the derivative peak searches of powder programs. A maximum counts when c > 0 (the
    profile is concave there: a line's core, never a tail or the background between lines), y reaches
    min_height, and the curvature stands NOISE_THRESHOLD_SIGMAS σ of its noise high both on y and on
    √y (σ, σ_sqrt: the point-to-point noise of y and √y through the smoothing and second-difference
    kernel; 0 in a clean render): counting noise on top of a strong line, many times the background's σ
    on y, has the background's σ on √y, as in `pick_peaks`.
    """
    norm = NOISE_THRESHOLD_SIGMAS * float(np.linalg.norm(_CURVATURE_KERNEL))
    c = _curvature(y)
    centre = c[1:-1]
    index = np.flatnonzero((centre > c[:-2]) & (centre >= c[2:]) & (centre > norm * sigma)
                           & (y[1:-1] >= min_height)) + 1
    if sigma_sqrt > 0 and index.size:
        index = index[_curvature(np.sqrt(np.maximum(y, 0.0)))[index] > norm * sigma_sqrt]
    return index


def _curvature(y: np.ndarray) -> np.ndarray:
    """−y'' of y smoothed by _CURVATURE_SMOOTHING (per grid point²), 0 within two points of the ends."""
    c = np.convolve(y, _CURVATURE_KERNEL, mode="same")
    c[:2] = c[-2:] = 0.0  # the kernel runs off the ends there
    return c


def _with_curvature_peaks(y: np.ndarray, x: np.ndarray, maxima: np.ndarray, sigma: float, sigma_sqrt: float,
                          min_height: float, max_peaks: int) -> tuple[np.ndarray, np.ndarray]:
    """The curvature's lines, and the maxima of y in the concave stretches (c > 0) where it has none.

    Each line's core, or each blend's, is one concave stretch of the profile, and a maximum of y lies in
    one. Where the curvature finds lines, they replace it: a blend's maximum of y sits between its lines,
    and a neighbour's tail, which tilts y under a line and moves its maximum, hardly bends it.
    """
    c = _curvature(y)
    found = curvature_peaks(y, sigma, sigma_sqrt, min_height)
    stretch = np.cumsum(np.diff((c > 0).astype(np.int8), prepend=0) == 1)  # concave stretch of each point
    maxima = maxima[~np.isin(stretch[maxima], stretch[found])]
    positions_c, _ = _vertices(c, x, found)
    positions_y, heights_y = _vertices(y, x, maxima)
    positions = np.concatenate([positions_c, positions_y])
    heights = np.concatenate([np.interp(positions_c, x, y), heights_y])
    order = np.argsort(positions, kind="stable")[:max_peaks]
    return positions[order], heights[order]


def q_squared(two_theta_deg: np.ndarray, wavelength_angstrom: float) -> np.ndarray:
    """Q² = 1/d² = 4 sin²θ / λ² (Å⁻²) of peaks at two_theta_deg (degrees), λ in Å."""
    theta = np.radians(np.asarray(two_theta_deg, dtype=float)) / 2.0
    return (2.0 * np.sin(theta) / wavelength_angstrom) ** 2


def q_squared_tolerance(two_theta_deg: np.ndarray, wavelength_angstrom: float,
                        tolerance_two_theta_deg: float = TOLERANCE_TWO_THETA_DEG) -> np.ndarray:
    """δQ² (Å⁻²) that a position error δ(2θ) (degrees) causes: δQ² = 2 sin(2θ) δ(2θ)[rad] / λ²."""
    two_theta = np.radians(np.asarray(two_theta_deg, dtype=float))
    return 2.0 * np.sin(two_theta) * math.radians(tolerance_two_theta_deg) / wavelength_angstrom**2


# ---- lattice families ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Family:
    """One lattice family written as Q² = A·m + Σ p_j g_rj over 'rows' r.

    params (p,) = (A, p_1, ...): A multiplies the looked-up integer m (N, M or h²); each row r fixes
    the integer coefficients g_r of the other parameters (l² for uniaxial families, (k², l²) for
    orthorhombic) and names the table of integers m allowed in that row (centring conditions).
    seeds: (s, p) integer coefficient vectors (m, g...) of low-index reflections used to build trial
    cells; seed_tuples: (t, p) indices into seeds, one trial assignment for p lines.
    """

    name: str
    row_coef: np.ndarray  # (r, p - 1)
    row_table: np.ndarray  # (r,)
    below: np.ndarray  # (tables · width,): at table·width + j, largest allowed m <= j − 1 (−BIG when none)
    above: np.ndarray  # (tables · width,): smallest allowed m >= j (BIG when none)
    count: np.ndarray  # (tables · width,): number of allowed m in [0, j − 1]
    n_max: int
    seeds: np.ndarray
    seed_tuples: np.ndarray
    line_tuples_from: int  # trial cells use tuples of lines among the first this many
    # which parameter vectors (c, p) are a real cell, when positivity alone does not say (monoclinic)
    valid: Callable[[np.ndarray], np.ndarray] | None = None
    # (t, p) line indices paired one to one with seed_tuples (each trial cell names its own lines);
    # None: every seed tuple is tried on every p-tuple of the first line_tuples_from lines
    seed_lines: np.ndarray | None = None
    # screened trial cells refined on all lines (None: N_REFINE); a wide search's right cell often ranks
    # below the top few on the screen's first lines, where a 3-4 parameter metric fits many cells
    n_refine: int | None = None

    @property
    def width(self) -> int:
        return self.n_max + 2

    @property
    def seed_inverse(self) -> np.ndarray:
        """(t, p, p) inverses of the seed matrices (row i: coefficients of the i-th line's reflection)."""
        cached = self.__dict__.get("_seed_inverse")
        if cached is None:
            cached = np.linalg.inv(self.seeds[self.seed_tuples])
            object.__setattr__(self, "_seed_inverse", cached)
        return cached

    @property
    def n_params(self) -> int:
        return self.row_coef.shape[1] + 1


def _tables(allowed_sets: list[set[int]], n_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    width = n_max + 2
    below = np.full((len(allowed_sets), width), -_BIG)
    above = np.full((len(allowed_sets), width), _BIG)
    count = np.zeros((len(allowed_sets), width))
    for t, allowed in enumerate(allowed_sets):
        flags = np.zeros(n_max + 1, dtype=bool)
        flags[[m for m in allowed if m <= n_max]] = True
        values = np.flatnonzero(flags)
        j = np.arange(width)
        position = np.searchsorted(values, j - 1, side="right")  # allowed values <= j − 1
        below[t] = np.where(position > 0, values[np.maximum(position - 1, 0)], -_BIG)
        count[t] = position
        position = np.searchsorted(values, j, side="left")  # first allowed value >= j
        above[t] = np.where(position < values.size, values[np.minimum(position, values.size - 1)], _BIG)
    return below.ravel(), above.ravel(), count.ravel()


def _cubic_family(name: str, keep) -> _Family:
    n_max = 400
    top = int(math.isqrt(n_max)) + 1
    allowed = {h * h + k * k + l * l for h in range(top) for k in range(top) for l in range(top)
               if 0 < h * h + k * k + l * l <= n_max and keep(h, k, l)}
    below, above, count = _tables([allowed], n_max)
    seeds = np.array([[n] for n in sorted(allowed) if n <= 20], dtype=float)
    return _Family(name, np.zeros((1, 0)), np.zeros(1, dtype=int), below, above, count, n_max, seeds,
                   np.arange(len(seeds))[:, None], 3)


def _uniaxial_family(name: str, metric, keep, seeds: list[tuple[int, int]], l_max: int = 12) -> _Family:
    """Q² = A·M(h, k) + C·l², rows l = 0..l_max; keep(h, k, l) is the centring condition."""
    n_max = 400
    span = range(-21, 22)
    allowed = []
    for l in range(l_max + 1):
        values = {metric(h, k) for h in span for k in span if keep(h, k, l)}
        values = {m for m in values if m <= n_max and (m > 0 or l > 0)}
        allowed.append(values)
    below, above, count = _tables(allowed, n_max)
    row_coef = (np.arange(l_max + 1, dtype=float) ** 2)[:, None]
    seed_array = np.array([(m, l * l) for m, l in seeds], dtype=float)
    tuples = np.array([(i, j) for i, j in itertools.permutations(range(len(seeds)), 2)
                       if abs(np.linalg.det(seed_array[[i, j]])) > 0])
    return _Family(name, row_coef, np.arange(l_max + 1), below, above, count, n_max, seed_array, tuples, 5)


def _orthorhombic_family(k_max: int = 8, l_max: int = 8) -> _Family:
    """Q² = A h² + B k² + C l² (primitive), rows (k, l); h² is looked up."""
    n_max = 400
    squares = {h * h for h in range(21)}
    below, above, count = _tables([squares - {0}, squares], n_max)
    rows = [(k, l) for k in range(k_max + 1) for l in range(l_max + 1)]
    row_coef = np.array([(k * k, l * l) for k, l in rows], dtype=float)
    row_table = np.array([0 if (k == 0 and l == 0) else 1 for k, l in rows])
    seeds = np.array([(1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1)], dtype=float)
    # the lowest line of a triple is taken as (100), the next as (010) or (110), the third as (001),
    # (101) or (011): axis labels are free, so this covers the cells whose first lines are axial
    tuples = np.array([(0, j, k) for j in (1, 2) for k in (3, 4, 5)])
    return _Family("orthorhombic", row_coef, row_table, below, above, count, n_max, seeds, tuples, 6)


def _hex_metric(h, k):
    return h * h + h * k + k * k


_TETRAGONAL_SEEDS_P = [(1, 0), (0, 1), (1, 1), (2, 0), (2, 1), (0, 2), (1, 2)]
_TETRAGONAL_SEEDS_I = [(1, 1), (2, 0), (0, 2), (4, 0), (2, 2), (5, 1), (1, 3), (4, 2)]
_HEXAGONAL_SEEDS = [(1, 0), (0, 1), (1, 1), (3, 0), (1, 2), (0, 2), (3, 1), (4, 0)]
# hR in hexagonal axes (−h + k + l = 3n): 101, 012, 003, 104, 110, 015, 006, 113
_RHOMBOHEDRAL_SEEDS = [(1, 1), (1, 2), (0, 3), (1, 4), (3, 0), (1, 5), (0, 6), (3, 3)]

FAMILIES: dict[str, _Family] = {
    "cubic_P": _cubic_family("cubic_P", lambda h, k, l: True),
    "cubic_I": _cubic_family("cubic_I", lambda h, k, l: (h + k + l) % 2 == 0),
    "cubic_F": _cubic_family("cubic_F", lambda h, k, l: h % 2 == k % 2 == l % 2),
    "tetragonal_P": _uniaxial_family("tetragonal_P", lambda h, k: h * h + k * k, lambda h, k, l: True,
                                     _TETRAGONAL_SEEDS_P),
    "tetragonal_I": _uniaxial_family("tetragonal_I", lambda h, k: h * h + k * k,
                                     lambda h, k, l: (h + k + l) % 2 == 0, _TETRAGONAL_SEEDS_I),
    "hexagonal": _uniaxial_family("hexagonal", _hex_metric, lambda h, k, l: True, _HEXAGONAL_SEEDS),
    "rhombohedral": _uniaxial_family("rhombohedral", _hex_metric, lambda h, k, l: (-h + k + l) % 3 == 0,
                                     _RHOMBOHEDRAL_SEEDS),
    "orthorhombic": _orthorhombic_family(),
}


# ---- fitting ------------------------------------------------------------------------------------

_LINE_TUPLES: dict[tuple[int, int], np.ndarray] = {}


def _line_tuples(n_lines: int, p: int) -> np.ndarray:
    key = (n_lines, p)
    if key not in _LINE_TUPLES:
        _LINE_TUPLES[key] = np.array(list(itertools.combinations(range(n_lines), p)), dtype=np.intp).reshape(-1, p)
    return _LINE_TUPLES[key]


def _trial_cells(family: _Family, q2: np.ndarray) -> np.ndarray:
    """(c, p) trial parameters: p low-angle lines set equal to p seed reflections, solved exactly.

    Without seed_lines every seed tuple meets every p-tuple of the first lines; with it each seed tuple
    meets its own lines only (assignments chosen jointly, see `xrdnet.xrd.indexing_ortho`).
    """
    p = family.n_params
    if family.seed_lines is not None:
        usable = family.seed_lines.max(axis=1) < q2.size
        params = np.einsum("tij,tj->ti", family.seed_inverse[usable], q2[family.seed_lines[usable]])
    else:
        line_tuples = _line_tuples(min(family.line_tuples_from, q2.size), p)
        if line_tuples.size == 0:
            return np.zeros((0, p))
        rhs = q2[line_tuples]  # (u, p)
        params = np.einsum("tij,uj->uti", family.seed_inverse, rhs).reshape(-1, p)
    params = params[np.all(params > 0, axis=1)]
    if family.valid is not None:
        params = params[family.valid(params)]
    if params.shape[0] == 0:
        return params
    # near-duplicate trial cells (the same cell from different line tuples) are evaluated once:
    # one integer key per cell from its parameters rounded to 0.2 % in ln
    bins = np.round(np.log(params) * 500.0).astype(np.int64)
    key = bins[:, 0]
    for column in range(1, p):
        key = key * 100003 + bins[:, column]
    # the first cell of each key, as np.unique(key, return_index=True) finds it (stable sort), without its overhead
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.ones(key.size, dtype=bool)
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=first[1:])
    return params[np.sort(order[first])]


@dataclass(frozen=True)
class _Tables:
    """The flat below/above/count tables of families with the same rows and width, end to end, and after
    them a table with no allowed m (rows a cell does not use point there: nothing counted, and an infinite
    gap, as ±_BIG would not give: a tiny A puts x beyond 10⁸ and real rows' gaps near _BIG)."""

    below: np.ndarray
    above: np.ndarray
    count: np.ndarray
    n_max: int
    row_base: np.ndarray  # (families, rows): where each family's table of each row begins
    empty: int  # where the table with no allowed m begins


_JOINT_TABLES: dict[tuple[int, ...], tuple[tuple[_Family, ...], _Tables]] = {}


def _joint_tables(families: tuple[_Family, ...]) -> _Tables:
    key = tuple(id(family) for family in families)
    if key not in _JOINT_TABLES:  # the families are kept with their tables, so their ids stay theirs
        width = families[0].width
        sizes = [family.below.size for family in families]
        starts = np.cumsum([0] + sizes[:-1])
        row_base = np.array([start + family.row_table * width for start, family in zip(starts, families)], dtype=np.intp)
        below = np.concatenate([family.below for family in families] + [np.full(width, -np.inf)])
        above = np.concatenate([family.above for family in families] + [np.full(width, np.inf)])
        count = np.concatenate([family.count for family in families] + [np.zeros(width)])
        _JOINT_TABLES[key] = families, _Tables(below, above, count, families[0].n_max, row_base, sum(sizes))
    return _JOINT_TABLES[key][1]


@dataclass(frozen=True)
class _Rows:
    """Trial cells (c, p) laid out over the rows of their family's table: Q² = offset + A·m, m from the table.

    a (c, 1): the parameter A multiplying the looked-up m; offsets (c, r): each row's Σ p_j g_rj;
    base (1 or c, r): where each row's table starts in the flat tables (a cell's unused rows: the empty one);
    rows (r,): the row indices. Each element (cell, line, row) is computed by the same operations whichever
    cells and rows are laid out with it, and errors come out in C order (the figure of merit's sums follow
    memory order): fits are bit for bit those of one family alone on all its rows.
    """

    a: np.ndarray
    offsets: np.ndarray
    base: np.ndarray
    rows: np.ndarray
    tables: _Tables

    @classmethod
    def of(cls, families: tuple[_Family, ...], counts: list[int], params: np.ndarray, q2_max: float) -> _Rows:
        """Cells of families with the same rows, counts[k] of families[k] in turn, each family on the rows its
        own cells reach below q2_max (row 0 if none), the others pointing to the empty table; rows that no
        family reaches are left out."""
        tables = _joint_tables(families)
        offsets = params[:, 1:] @ families[0].row_coef.T  # (c, r)
        if len(families) == 1:
            rows = np.flatnonzero(offsets.min(axis=0) <= q2_max)
            rows = rows if rows.size else np.zeros(1, dtype=np.intp)
            return cls(params[:, :1], offsets[:, rows], tables.row_base[:, rows], rows, tables)
        starts = list(itertools.accumulate(counts[:-1], initial=0))
        reach = np.minimum.reduceat(offsets, starts, axis=0) <= q2_max  # (families, r)
        reach[~reach.any(axis=1), 0] = True
        rows = np.flatnonzero(reach.any(axis=0))
        base = np.repeat(np.where(reach[:, rows], tables.row_base[:, rows], tables.empty), counts, axis=0)
        return cls(params[:, :1], offsets[:, rows], base, rows, tables)

    def n_calc(self, q2_max: float) -> np.ndarray:
        """(c,) calculated lines with Q² <= q2_max, counted row by row in the tables."""
        x_max = (q2_max - self.offsets) / self.a  # (c, r)
        j_max = (np.minimum(np.maximum(x_max, -1.0), self.tables.n_max + 0.5) + 1.0).astype(np.intp) + self.base
        return self.tables.count.take(j_max).sum(axis=1)

    def errors(self, q2: np.ndarray) -> np.ndarray:
        """(c, n) |ΔQ²| (Å⁻²) of lines q2 to the nearest calculated line of each cell."""
        # C order, as the (c, n) errors then are: ε̄ sums them in memory order, and that fixes its last bit
        x = np.subtract(q2[None, :, None], self.offsets[:, None, :], order="C")
        x /= self.a[:, :, None]
        return _nearest_gap(self.tables, x, self.base[:, None, :]).min(axis=2) * self.a

    def pruned_errors(self, q2: np.ndarray) -> np.ndarray:
        """`errors`, bit for bit, from only the rows of each cell that can hold a line's nearest calculated line.

        The lowest row (smallest offsets; Q² = A·m for the families here) is computed for every cell: it
        gives each line a distance to its nearest calculated line, at most G (units of A) over the
        lines. Another row whose first calculated line (its smallest allowed m) lies more than G above
        the last line q2[-1] is farther than that from every line (the same rounded arithmetic,
        monotone in Q²), so it is skipped: about half the rows of the uniaxial screens, two thirds of the
        orthorhombic ones (synthetic patterns).
        """
        n_cells, n_rows = self.offsets.shape
        if n_rows == 1:
            return self.errors(q2)
        lowest = int(np.argmin(self.offsets.min(axis=0)))
        others = np.arange(n_rows) != lowest
        base = np.broadcast_to(self.base, self.offsets.shape)
        x = np.subtract(q2[None, :], self.offsets[:, lowest:lowest + 1], order="C")
        x /= self.a
        nearest = _nearest_gap(self.tables, x, base[:, lowest:lowest + 1])  # (c, n), C order
        farthest = nearest.max(axis=1)[:, None]  # G of each cell
        offsets, base = self.offsets[:, others], base[:, others]
        # lines all below a row's first m have gaps min(x − below, first m − x) with below = −_BIG (none), at
        # least min(x_first + _BIG, first m − x_last) (x of the first and the last line, rounded as x below)
        above_last = self.tables.above.take(base) - (q2[-1] - offsets) / self.a  # first m − x_last, (c, r)
        # x + _BIG matters only for a tiny A, whose far rows have x < −_BIG (gaps < 0, below any G): the
        # farthest row (smallest x) of every cell is checked, and only then each row
        x_first = (q2[0] - offsets.max(axis=1, keepdims=True)) / self.a
        if np.all(x_first - (-_BIG) > farthest):
            pairs = np.flatnonzero(above_last <= np.maximum(farthest, 0.0))  # (cell, row) kept, cell by cell
        else:
            x_first = (q2[0] - offsets) / self.a
            x_first -= self.tables.below.take(base)
            pairs = np.flatnonzero(~((above_last > np.maximum(farthest, 0.0)) & (x_first > farthest)))
        if pairs.size:
            cell = pairs // offsets.shape[1]
            x = np.subtract(q2[None, :], offsets.ravel()[pairs][:, None])  # (pairs, n)
            x /= self.a[cell]
            gap = _nearest_gap(self.tables, x, base.ravel()[pairs][:, None])
            # each cell's minimum over its pairs, in place (np.minimum.at: fast on flat indices)
            flat = (cell * q2.size)[:, None] + np.arange(q2.size)
            np.minimum.at(nearest.reshape(-1), flat.ravel(), gap.ravel())
        return nearest * self.a

    def assign(self, q2: np.ndarray, row_coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(c, n) |ΔQ²| (Å⁻²) of lines q2 to the nearest calculated line of each cell, and (c, n, p) the
        integer coefficients (m, row's g) of that line; `row_coef` (all rows, p − 1): the family's."""
        x = q2[None, :, None] - self.offsets[:, None, :]
        x /= self.a[:, :, None]
        j = np.minimum(np.maximum(x, -1.0), self.tables.n_max + 0.5)
        j += 1.0
        j = j.astype(np.intp)
        j += self.base[:, None, :]
        low = self.tables.below.take(j)
        high = self.tables.above.take(j)
        below_gap = x - low
        above_gap = high - x
        gap = np.minimum(below_gap, above_gap)
        best = gap.argmin(axis=2)  # (c, n)
        flat = best + gap.shape[2] * np.arange(best.size).reshape(best.shape)  # into the raveled (c, n, r) arrays
        error = gap.ravel()[flat] * self.a
        m = np.where(below_gap.ravel()[flat] <= above_gap.ravel()[flat], low.ravel()[flat], high.ravel()[flat])
        return error, np.concatenate([m[..., None], row_coef[self.rows[best]]], axis=2)


def _nearest_gap(tables: _Tables, x: np.ndarray, base: np.ndarray) -> np.ndarray:
    """min(x − below, above − x): distance of the real m's x (overwritten) to the nearest allowed m of the
    tables starting at base (broadcast with x), in units of A."""
    # floor(x) + 1 (non-negative); minimum/maximum rather than np.clip: same values, a fraction of the call cost
    j = np.minimum(np.maximum(x, -1.0), tables.n_max + 0.5)
    j += 1.0
    j = j.astype(np.intp)
    j += base
    high = tables.above.take(j)
    high -= x  # above − x
    np.subtract(x, tables.below.take(j), out=x)  # x − below
    return np.minimum(x, high, out=x)


def _figure_of_merit(error: np.ndarray, tol: np.ndarray, n_calc: np.ndarray, q2_last: float,
                     unindexed_allowed: float = 0.0) -> tuple:
    """(indexed (c, n) bool, ln M (c,)) with M = Q²_n / (2 ε̄ N_calc), each line's |ΔQ²| capped at ERROR_CAP·tol.

    unindexed_allowed: fraction of the lines (rounded down) whose largest errors ε̄ leaves out, as indexing
    programs accept a few lines of another phase (2 of 20 at 0.1); 0 charges every line.
    """
    indexed = error <= tol
    charged = np.minimum(error, ERROR_CAP * tol)
    forgiven = int(unindexed_allowed * charged.shape[1])
    if forgiven:
        charged = np.sort(charged, axis=1)[:, :charged.shape[1] - forgiven]
    # means as np.mean takes them (sum, then divide by the count), without its per-call cost
    epsilon = np.maximum(np.add.reduce(charged, axis=1) / charged.shape[1],
                         0.05 * float(np.add.reduce(tol) / tol.size))  # floor: exact synthetic lines
    log_m = np.log(q2_last / (2.0 * epsilon * np.maximum(n_calc, 1.0)))
    return indexed, np.minimum(np.maximum(log_m, _LOG_M_RANGE[0]), _LOG_M_RANGE[1])


def _refine(params: np.ndarray, coefficients: np.ndarray, weights: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Weighted least squares of Q² = coefficients · params over weighted lines, ridged toward params."""
    normal = np.einsum("cnp,cn,cnq->cpq", coefficients, weights, coefficients)
    rhs = np.einsum("cnp,cn,n->cp", coefficients, weights, q2)
    p = params.shape[1]
    ridge = 1e-6 * np.trace(normal, axis1=1, axis2=2)[:, None, None] / p + 1e-12
    normal = normal + ridge * np.eye(p)
    rhs = rhs + ridge[:, :, 0] * params
    refined = np.linalg.solve(normal, rhs[..., None])[..., 0]
    return np.where(refined > 0, refined, params)


@dataclass(frozen=True)
class LatticeFit:
    """Best cell of one family for a set of lines.

    params: (A, ...) in Å⁻² (cubic A = 1/a²; uniaxial (A, C); orthorhombic (A, B, C)).
    fraction_indexed: share of the lines used that lie within tolerance of a calculated line.
    log_m: ln of the de Wolff-style figure of merit M (see module docstring).
    n_calc: calculated lines up to the last line used; n_obs: lines used.
    """

    family: str
    params: np.ndarray
    fraction_indexed: float
    log_m: float
    n_calc: float
    n_obs: int


def fit_family(family: _Family | str, q2: np.ndarray, tol: np.ndarray, unindexed_allowed: float = 0.0) -> LatticeFit | None:
    """Best cell of a lattice family for lines q2 (Å⁻², ascending) with tolerances tol (Å⁻²); None if none.

    unindexed_allowed: fraction of lines the figure of merit may leave unindexed (see _figure_of_merit).
    """
    return fit_families([family], q2, tol, unindexed_allowed)[0]


def fit_families(families: list[_Family | str], q2: np.ndarray, tol: np.ndarray,
                 unindexed_allowed: float = 0.0) -> list[LatticeFit | None]:
    """`fit_family` of each family, the same fits; families with the same rows are screened and refined
    together, which saves most of the per-call cost of numpy on the small arrays of one family."""
    families = [FAMILIES[family] if isinstance(family, str) else family for family in families]
    q2 = np.asarray(q2, dtype=float)
    tol = np.asarray(tol, dtype=float)
    together: dict[tuple, list[int]] = {}
    trials = {}
    for k, family in enumerate(families):
        if q2.size >= family.n_params + 1 and (trial := _trial_cells(family, q2)).shape[0]:
            trials[k] = trial
            key = (family.row_coef.shape, family.row_coef.tobytes(), family.n_max, family.valid)
            together.setdefault(key, []).append(k)
    fits: list[LatticeFit | None] = [None] * len(families)
    for members in together.values():
        group = tuple(families[k] for k in members)
        screened = _screened_cells(group, [trials[k] for k in members], q2, tol, unindexed_allowed)
        for k, fit in zip(members, _refined_fits(group, screened, q2, tol, unindexed_allowed)):
            fits[k] = fit
    for record in _RECORDS:
        record.extend(RecordedFit(family.name, q2, tol, unindexed_allowed, fit) for family, fit in zip(families, fits))
    return fits


@dataclass(frozen=True)
class RecordedFit:
    """One family's fit as `fit_families` returned it, with the lines (Å⁻²) it was asked about."""

    family: str
    q2: np.ndarray
    tol: np.ndarray
    unindexed_allowed: float
    fit: LatticeFit | None


_RECORDS: list[list[RecordedFit]] = []


@contextlib.contextmanager
def recorded_fits():
    """Collects every fit `fit_families` makes inside the block, in call order: a feature set built on another can
    describe that set's best cells further without fitting them again."""
    record: list[RecordedFit] = []
    _RECORDS.append(record)
    try:
        yield record
    finally:
        _RECORDS.remove(record)


def _screened_cells(families: tuple[_Family, ...], trials: list[np.ndarray], q2: np.ndarray, tol: np.ndarray,
                    unindexed_allowed: float) -> list[np.ndarray]:
    """(≤ n_refine, p) the trial cells of each family (same rows) with the highest M on the first lines, best first
    (n_refine: the family's, else N_REFINE)."""
    # screen: every trial cell on the first lines, with a loose tolerance (trial cells are inexact)
    n_screen = min(q2.size, N_SCREEN_LINES)
    q2_screen, tol_screen = q2[:n_screen], tol[:n_screen]
    screen_max = q2_screen[-1] + tol_screen[-1]
    counts = [len(trial) for trial in trials]
    layout = _Rows.of(families, counts, np.concatenate(trials), screen_max)
    error, n_calc = layout.pruned_errors(q2_screen), layout.n_calc(screen_max)
    _, log_m = _figure_of_merit(error, 2.0 * tol_screen, n_calc, q2_screen[-1], unindexed_allowed)
    return [trial[np.argsort(-log_m[start:start + len(trial)], kind="stable")[:family.n_refine or N_REFINE]]
            for family, trial, start in zip(families, trials, itertools.accumulate(counts, initial=0))]


def _refined_fits(families: tuple[_Family, ...], screened: list[np.ndarray], q2: np.ndarray, tol: np.ndarray,
                  unindexed_allowed: float) -> list[LatticeFit]:
    """Best cell of each family (same rows) from its screened cells, refined on all lines."""
    params = np.concatenate(screened)
    counts = [len(cells) for cells in screened]
    row_coef, valid = families[0].row_coef, families[0].valid
    q2_max = q2[-1] + tol[-1]
    # assign with a loose tolerance, least squares, assign again
    for loose in (3.0, 1.5):
        error, coefficients = _Rows.of(families, counts, params, q2_max).assign(q2, row_coef)
        weights = (error <= loose * tol) / tol**2
        refined = _refine(params, coefficients, weights, q2)
        params = refined if valid is None else np.where(valid(refined)[:, None], refined, params)
    layout = _Rows.of(families, counts, params, q2_max)
    indexed, log_m = _figure_of_merit(layout.errors(q2), tol, n_calc := layout.n_calc(q2_max), q2[-1], unindexed_allowed)
    fits = []
    for family, start, count in zip(families, itertools.accumulate(counts, initial=0), counts):
        best = start + int(np.argmax(log_m[start:start + count]))
        fits.append(LatticeFit(family.name, params[best], float(indexed[best].mean()), float(log_m[best]),
                               float(n_calc[best]), q2.size))
    return fits


# ---- features -----------------------------------------------------------------------------------

_FIT_FEATURES = ("fraction_indexed", "log_m", "log_ncalc_over_nobs", "log_a_over_q2_first")
# per reported family: the member families compared (best ln M wins) and its extra shape features
_REPORTED = {
    "cubic": (("cubic_P", "cubic_I", "cubic_F"), ("is_P", "is_I", "is_F")),
    "tetragonal": (("tetragonal_P", "tetragonal_I"), ("log_c_over_a_ratio", "is_I")),
    "hexagonal": (("hexagonal",), ("log_c_over_a_ratio",)),
    "rhombohedral": (("rhombohedral",), ("log_c_over_a_ratio",)),
    "orthorhombic": (("orthorhombic",), ("log_b_over_a_ratio", "log_c_over_a_ratio")),
}


def _feature_layout() -> tuple[list[str], dict[str, slice]]:
    names = ["n_lines_fraction", "log_q2_first"]
    names += [f"log_q2_ratio_{i}" for i in range(2, N_POSITION_LINES + 1)]
    names += [f"sqrt_height_{i}" for i in range(1, N_POSITION_LINES + 1)]
    groups = {"positions": slice(0, len(names))}
    for reported, (_, extras) in _REPORTED.items():
        start = len(names)
        names += [f"{reported}_{name}" for name in _FIT_FEATURES + extras]
        groups[reported] = slice(start, len(names))
    return names, groups


FEATURE_NAMES, FEATURE_GROUPS = _feature_layout()
N_FEATURES = len(FEATURE_NAMES)
FEATURE_DOC = """
positions (scale-free positions of up to N_POSITION_LINES = 30 lowest-angle lines):
  n_lines_fraction         lines found / 30
  log_q2_first             ln(Q²_1 / Å⁻²) of the first line (the one absolute scale: cell size)
  log_q2_ratio_i           ln(Q²_i / Q²_1), i = 2..30 (−1 where line i is missing); ratios are what
                           indexing uses and do not change with the cell's size
  sqrt_height_i            √(height_i / max), i = 1..30 (0 where missing)
per family F in cubic, tetragonal, hexagonal, rhombohedral, orthorhombic (best cell of the family on the
first N_FIT_LINES = 20 lines, all 0 with fewer than p + 1 lines):
  F_fraction_indexed       share of those lines within the tolerance of a calculated line
  F_log_m                  ln M, M = Q²_n / (2 ε̄ N_calc) (de Wolff M20-like; |ΔQ²| over all lines, capped)
  F_log_ncalc_over_nobs    ln(N_calc / n_obs): large for a cell that is too big
  F_log_a_over_q2_first    ln(A / Q²_1): −ln of the first line's index sum (N, M or h²) in that cell
  cubic_is_P/I/F           which centring gave the best M (one-hot)
  tetragonal/hexagonal/rhombohedral_log_c_over_a_ratio  ½ ln(A/C) (ln(c/a), hexagonal A = 4/(3a²)
                           folded in, so ln(c/a) + ½ ln(4/3) there)
  tetragonal_is_I          the body-centred cell won
  orthorhombic_log_b_over_a_ratio, _log_c_over_a_ratio  ½ ln(A/B), ½ ln(A/C) with A >= B >= C sorted
"""


def line_features(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                  families: dict[str, _Family] = FAMILIES, unindexed_allowed: float = 0.0) -> np.ndarray:
    """Feature vector (N_FEATURES,) of lines q2 (Å⁻², ascending), heights (fraction of max), tolerances tol (Å⁻²).

    families: the fit of each family name (a feature set may swap one for a better fit with the same parameters).
    unindexed_allowed: fraction of the fitted lines each fit's figure of merit may leave unindexed.
    """
    out = np.zeros(N_FEATURES)
    q2 = np.asarray(q2, dtype=float)[:N_POSITION_LINES]
    heights = np.asarray(heights, dtype=float)[:N_POSITION_LINES]
    n = q2.size
    positions = FEATURE_GROUPS["positions"]
    block = out[positions]
    block[2:2 + N_POSITION_LINES - 1] = -1.0
    if n == 0:
        out[positions] = block
        return out
    block[0] = n / N_POSITION_LINES
    block[1] = math.log(q2[0])
    block[2:2 + n - 1] = np.log(q2[1:] / q2[0])
    block[1 + N_POSITION_LINES:1 + N_POSITION_LINES + n] = np.sqrt(np.clip(heights, 0.0, None))
    out[positions] = block
    q2_fit, tol_fit = q2[:N_FIT_LINES], np.asarray(tol, dtype=float)[:N_FIT_LINES]
    names = [name for members, _ in _REPORTED.values() for name in members]
    fitted = dict(zip(names, fit_families([families[name] for name in names], q2_fit, tol_fit, unindexed_allowed)))
    for reported, (members, extras) in _REPORTED.items():
        fits = [fitted[name] for name in members if fitted[name] is not None]
        if not fits:
            continue
        choice = int(np.argmax([fit.log_m for fit in fits]))
        fit = fits[choice]
        values = [fit.fraction_indexed, fit.log_m, math.log(max(fit.n_calc, 1.0) / fit.n_obs),
                  math.log(fit.params[0] / q2_fit[0])]
        if reported == "cubic":
            values += [float(choice == k) for k in range(3)]
        elif reported == "orthorhombic":
            a, b, c = np.sort(fit.params)[::-1]
            values += [0.5 * math.log(a / b), 0.5 * math.log(a / c)]
        else:
            values.append(0.5 * math.log(fit.params[0] / fit.params[1]))
            if reported == "tetragonal":
                values.append(float(members[choice] == "tetragonal_I"))
        out[FEATURE_GROUPS[reported]] = values
    return out


def peak_list_features(two_theta_deg: np.ndarray, heights: np.ndarray, wavelength_angstrom: float,
                       tolerance_two_theta_deg: float = TOLERANCE_TWO_THETA_DEG,
                       describe: Callable[..., np.ndarray] = line_features) -> np.ndarray:
    """Features of picked peaks: positions (degrees 2θ, ascending) and heights (fraction of the maximum).

    describe: the feature set, a function of (Q², heights, tolerances) like `line_features`.
    """
    two_theta = np.asarray(two_theta_deg, dtype=float)
    return describe(q_squared(two_theta, wavelength_angstrom), heights,
                         q_squared_tolerance(two_theta, wavelength_angstrom, tolerance_two_theta_deg))


def indexing_features(profile: np.ndarray, grid_two_theta_deg: np.ndarray, wavelength_angstrom: float,
                      tolerance_two_theta_deg: float = TOLERANCE_TWO_THETA_DEG,
                      describe: Callable[..., np.ndarray] = line_features, **pick_options) -> np.ndarray:
    """Fixed-length (N_FEATURES,) indexing features of a normalized profile on a uniform 2θ grid (degrees).

    Peaks are picked with `pick_peaks` (options passed through), converted to Q² with the wavelength
    (Å), and described by `describe` (default `line_features`; FEATURE_NAMES / FEATURE_DOC list its features).
    """
    two_theta, heights = pick_peaks(profile, grid_two_theta_deg, **pick_options)
    return peak_list_features(two_theta, heights, wavelength_angstrom, tolerance_two_theta_deg, describe)
