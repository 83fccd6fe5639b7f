"""Monoclinic trial cells from an orthorhombic sub-metric: the `indexing_v17` feature set.

A monoclinic metric (b unique) is Q(hkl) = h²A + k²B + l²C + hl D (Å⁻²). Every reflection with h = 0 or
l = 0 (hk0, 0kl, h00, 0k0, 00l) carries no D term: those lines obey the orthorhombic metric (A, B, C). The
first lines of a monoclinic pattern are often such lines, and the (h, ±1, l) pairs around them, so the
orthorhombic fit's trial cells, screened with many lines left unindexed (UNINDEXED_SUB_METRIC: the hkl lines
with h, l ≠ 0 do not fit), hold the monoclinic cell's A, B, C, with any of the three axes unique. D then
follows from one more line: D = |Q - (h²A + k²B + l²C)| / (h l) for a small h, k, l (HKL_D).

`indexing_v17` is `indexing_v16` with those cells as a second, separately screened set of the monoclinic fit's
trial cells (a shared screen would let `indexing_v16`'s own 5,383 cells crowd them out), tried where
`indexing_v16`'s cell does not solve the lines, the better of the two refined cells by figure of merit kept.

Measured on the 71 monoclinic validation crystals (24,000 default crystals, lines picked off clean renders)
whose cell `indexing_v14`'s fit missed (found: ≥ 85 % of the first 20 lines indexed, ln M ≥ 3 under some
centring): `indexing_v16` finds 34, with these cells 48 (30 orthorhombic sub-metrics, 100 refined); in one
shared screen with v16's cells 40. Triclinic crystals given a false monoclinic cell: 5 of 80 either way.
"""

from __future__ import annotations

import dataclasses
import functools
import numpy as np

from xrdnet.xrd import indexing, indexing_wide, learned_assignments
from xrdnet.xrd.indexing import LatticeFit, _Family
from xrdnet.xrd.indexing_impurity import STRONG_LINE_HEIGHT, UNINDEXED_ALLOWED
from xrdnet.xrd.indexing_low import MAX_COS_BETA

SUB_METRICS = 30  # orthorhombic sub-metrics (A, B, C) kept from the orthorhombic fit's screen
UNINDEXED_SUB_METRIC = 0.4  # fraction of the first lines a sub-metric may leave unindexed: the hkl lines with h, l ≠ 0
D_LINES = 10  # D from each of the first D_LINES lines
# the line's reflection: h, l in 1-2, k in 0-1 (with h, l up to 3 and k up to 2, 3.4x the cells, one crystal more
# of the 71 below found)
HKL_D = np.array([(h, k, l) for h in range(1, 3) for k in range(2) for l in range(1, 3)])
# which orthorhombic axis is the unique one (b, the k² term): the sub-metric's axes are sorted, the unique one any
UNIQUE_AXIS_CHOICES = ((0, 1, 2), (1, 0, 2), (2, 1, 0))
# a cell that indexes this share of the first 20 lines with ln M at least this is found (the solve test of the
# studies): the ortho-first search runs only where `indexing_v16`'s cell is not
SOLVED_FRACTION = 0.85
SOLVED_LOG_M = 3.0


@functools.cache
def sub_metric_family() -> _Family:
    """`indexing_v14`'s orthorhombic fit keeping SUB_METRICS screened trial cells."""
    return dataclasses.replace(learned_assignments.learned_orthorhombic_family("v14"), n_refine=SUB_METRICS)


def ortho_first_cells(q2: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(c, 4) monoclinic trial cells (B, A, C, D) from the orthorhombic sub-metrics of lines q2 (Å⁻², ascending)."""
    family = sub_metric_family()
    if q2.size < family.n_params + 1:
        return np.zeros((0, 4))
    trials = indexing._trial_cells(family, q2)
    if not len(trials):
        return np.zeros((0, 4))
    sub_metrics = indexing._screened_cells((family,), [trials], q2, tol, UNINDEXED_SUB_METRIC)[0]  # (m, 3)
    h, k, l = HKL_D.T
    lines = q2[:D_LINES]
    cells = []
    for first, unique, last in UNIQUE_AXIS_CHOICES:
        a, b, c = sub_metrics[:, first], sub_metrics[:, unique], sub_metrics[:, last]
        without_d = h**2 * a[:, None] + k**2 * b[:, None] + l**2 * c[:, None]  # (m, reflections)
        d = np.abs(lines[None, None, :] - without_d[:, :, None]) / (h * l)[None, :, None]  # (m, reflections, lines)
        cells.append(np.stack([np.broadcast_to(x[:, None, None], d.shape) for x in (b, a, c)] + [d], axis=-1).reshape(-1, 4))
    cells = np.concatenate(cells)
    # a real metric with β* not too far from 90° (as the monoclinic fit asks), then near-duplicates once
    cells = cells[(cells[:, 3] > 0) & (cells[:, 3] <= 2 * MAX_COS_BETA * np.sqrt(cells[:, 1] * cells[:, 2]))]
    _, first_of_each = np.unique(np.round(np.log(cells) * 500).astype(np.int64), axis=0, return_index=True)
    return cells[np.sort(first_of_each)]


def solved(fit: LatticeFit | None) -> bool:
    """Whether a cell indexes the lines as a found cell does (SOLVED_FRACTION of them, ln M ≥ SOLVED_LOG_M)."""
    return fit is not None and fit.fraction_indexed >= SOLVED_FRACTION and fit.log_m >= SOLVED_LOG_M


def monoclinic_fit(q2: np.ndarray, tol: np.ndarray, unindexed_allowed: float = UNINDEXED_ALLOWED) -> LatticeFit | None:
    """`indexing_v16`'s monoclinic cell where it solves the lines, else the better (by ln M) of it and the best
    ortho-first cell (screened on their own); None if neither has a trial cell.

    As an indexing program goes on to a wider search only when the first finds nothing, the ortho-first cells
    are tried where they can matter: every lattice of higher symmetry has a monoclinic cell too, which `indexing_v16`
    finds, so they are searched for a small share of patterns (`indexing_v17` costs 1.2× `indexing_v16` per pattern,
    1.4× with h, l up to 3 and k up to 2; with that wider search run for every pattern, roughly 1.7×).
    """
    family = learned_assignments.widely_refined_monoclinic_family("v14")  # each set's screen refines 100 of its cells
    fit = indexing.fit_family(family, q2, tol, unindexed_allowed)
    if solved(fit):
        return fit
    cells = ortho_first_cells(q2, tol)
    if not len(cells):
        return fit
    screened = indexing._screened_cells((family,), [cells], q2, tol, unindexed_allowed)
    other = indexing._refined_fits((family,), screened, q2, tol, unindexed_allowed)[0]
    return other if fit is None or other.log_m > fit.log_m else fit


def line_features_v17(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                      strong_line_height: float = STRONG_LINE_HEIGHT) -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v16` with the ortho-first monoclinic trial cells too."""
    return indexing_wide.v4_and_monoclinic_cells(q2, heights, tol, strong_line_height,
                                                 learned_assignments.learned_orthorhombic_family("v14"), monoclinic_fit)


N_FEATURES_V17 = indexing_wide.N_FEATURES_V6
