"""Sample displacement read off the line positions: the shift under which the lines index best.

A flat sample above or below the focusing circle of a Bragg-Brentano diffractometer moves every line
by Δ2θ = −2 s cosθ / R (s the displacement, R the goniometer radius; `xrd.instrument`): 0.094° at
2θ = 20° for s = 0.2 mm on R = 240 mm, about twice the 0.05° position tolerance of the indexing fits
(`xrd.indexing`), so the fits that tell a tetragonal cell from an orthorhombic one stop indexing the
lines. Indexing programs (TREOR, DICVOL) refine a zero-point term together with the cell; the model's
features do not, so a measured scan is corrected before the model reads it: lines move back by
c·cosθ for each candidate c (degrees 2θ, the shift at θ → 0) with |c| ≤ MAX_SHIFT_DEG, every lattice
family of `xrd.indexing` is fitted to the corrected lines, and the c whose best family has the highest
de Wolff figure of merit M wins, when it beats no correction by at least MIN_GAIN_LOG_M in ln M
(a pattern no family indexes, monoclinic or triclinic, then stays as measured). A constant zero
offset of the goniometer is close to c·cosθ over a lab scan's range, so it is corrected too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xrdnet.xrd.indexing import (FAMILIES, N_FIT_LINES, fit_families, pick_peaks, q_squared,
                                 q_squared_tolerance)
from xrdnet.xrd.indexing_impurity import UNINDEXED_ALLOWED  # the fits forgive 2 of 20 lines (an impurity's), as the features do

MAX_SHIFT_DEG = 0.16      # |c| searched: s up to 0.33 mm on a 240 mm goniometer
SHIFT_STEP_DEG = 0.02     # candidate spacing, 2/5 of the fits' position tolerance (the plateau centre is the shift)
MIN_GAIN_LOG_M = 1.0      # ln M the best correction must add (M × e) to be applied; chosen on the synthetic
                          # validation screen: 0.25-0.5 corrected more displaced scans, but cost 1-2 points at 10² counts
MIN_LINES = 6             # fewer picked lines decide nothing
PLATEAU_LOG_M = 0.05      # candidates within this ln M of the best are equally good (see _plateau_centre)


@dataclass(frozen=True)
class DisplacementFit:
    """shift_deg: c of the correction applied (0: none), Δ2θ = c·cosθ removed from the lines;
    log_m: best ln M over the lattice families with that correction; log_m_uncorrected: without."""

    shift_deg: float
    log_m: float
    log_m_uncorrected: float


def line_shift_deg(two_theta_deg: np.ndarray, shift_deg: float) -> np.ndarray:
    """Δ2θ (degrees) of a displacement whose shift at θ → 0 is shift_deg: shift_deg · cosθ."""
    return shift_deg * np.cos(np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0))


def fit_displacement(two_theta_deg: np.ndarray, wavelength_angstrom: float, max_shift_deg: float = MAX_SHIFT_DEG,
                     step_deg: float = SHIFT_STEP_DEG, min_gain_log_m: float = MIN_GAIN_LOG_M) -> DisplacementFit:
    """The displacement correction of picked lines at two_theta_deg (degrees, ascending) measured at λ (Å)."""
    lines = np.asarray(two_theta_deg, dtype=float)[:N_FIT_LINES]
    if lines.size < MIN_LINES:
        return DisplacementFit(0.0, float("nan"), float("nan"))
    steps = int(round(max_shift_deg / step_deg))
    candidates = step_deg * np.arange(-steps, steps + 1)  # includes 0 exactly
    families = list(FAMILIES.values())
    scores = np.full(candidates.size, -np.inf)
    for k, shift in enumerate(candidates):
        corrected = lines - line_shift_deg(lines, shift)
        fits = fit_families(families, q_squared(corrected, wavelength_angstrom),
                            q_squared_tolerance(corrected, wavelength_angstrom), UNINDEXED_ALLOWED)
        scores[k] = max((fit.log_m for fit in fits if fit is not None), default=-np.inf)
    unshifted, chosen = steps, _plateau_centre(scores)
    if not np.isfinite(scores[chosen]) or scores[chosen] < scores[unshifted] + min_gain_log_m:
        chosen = unshifted
    return DisplacementFit(float(candidates[chosen]), float(scores[chosen]), float(scores[unshifted]))


def _plateau_centre(scores: np.ndarray, flat_log_m: float = PLATEAU_LOG_M) -> int:
    """Index of the middle of the run of candidates around the best whose ln M is within flat_log_m of it.

    Every shift that puts all lines within their tolerance scores about the same M (ε̄ has a floor), so
    the best M is a plateau about as wide as the tolerance; its middle is the shift, its edge would be
    off by up to the tolerance."""
    best = int(np.argmax(scores))
    near = scores >= scores[best] - flat_log_m
    low, high = best, best
    while low > 0 and near[low - 1]:
        low -= 1
    while high < scores.size - 1 and near[high + 1]:
        high += 1
    return (low + high) // 2


def correct_displacement(profile: np.ndarray, grid_two_theta_deg: np.ndarray,
                         wavelength_angstrom: float, **options) -> tuple[np.ndarray, DisplacementFit]:
    """(profile with the fitted displacement removed, the fit) of a profile on a uniform 2θ grid (degrees).

    Lines are picked as the indexing features pick them; the corrected profile at 2θ is the measured one
    at 2θ + c·cosθ (linear interpolation), so each line moves back by its own c·cosθ.
    """
    profile = np.asarray(profile, dtype=float)
    grid = np.asarray(grid_two_theta_deg, dtype=float)
    lines, _ = pick_peaks(profile, grid)
    fit = fit_displacement(lines, wavelength_angstrom, **options)
    if fit.shift_deg == 0.0:
        return profile, fit
    return np.interp(grid + line_shift_deg(grid, fit.shift_deg), grid, profile), fit
