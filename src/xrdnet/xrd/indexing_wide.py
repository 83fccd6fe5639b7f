"""Wider trial searches on top of `indexing_v4`: the `indexing_v5` and `indexing_v6` feature sets.

With `indexing_v4` the orthorhombic and monoclinic classes are read worst, mostly as each other, and
the orthorhombic fit was the weak link: from lines picked off clean renders it found the cell (≥ 85 %
of the first 20 lines indexed, ln M ≥ 3, as the forgiving fits count) of 61 % of the orthorhombic
synthetic validation crystals.

- `indexing_v5`: the same 180 numbers as `indexing_v4`, its orthorhombic fit taking trial cells from
  `indexing_ortho.WIDE_N_ASSIGNMENTS` covering assignments on the first `WIDE_N_TRIAL_LINES` lines
  (120 on 6 before): 76 % of those cells found (exact line lists 74 → 88 %), monoclinic items falsely
  solved 2 → 4 %, triclinic none; 1.12× the time of `indexing_v4`.
- `indexing_v6`: `indexing_v5`, then the monoclinic-P fit of `indexing_low` (Q² = A h² + B k² + C l² + D hl)
  with MONOCLINIC_ASSIGNMENTS trial cells, forgiving like the others, on all lines and on the strong
  lines (7 + 7 numbers). It finds the cell of ~34 % of monoclinic patterns from picked lines and never a
  triclinic one's, so a solved monoclinic fit says "not triclinic"; orthorhombic patterns solve it too
  (β → 90° or a monoclinic description of a centred cell), so it does not separate those two alone.
  ~1.4× the time of `indexing_v5`.
- `indexing_v7`: `indexing_v6` with wider searches for the two classes most often read as each other or
  as triclinic (when no fit finds their cell): the same 194 numbers, only the orthorhombic and
  monoclinic columns change. The monoclinic fit takes WIDE_MONOCLINIC_ASSIGNMENTS trial cells naming 4
  of the first WIDE_MONOCLINIC_TRIAL_LINES lines, chosen over WIDE_MONOCLINIC_CELLS random cells; the
  orthorhombic fit `indexing_ortho.widest_orthorhombic_family`. On 300 validation crystals per class,
  from picked lines (`scripts/study_trial_cells.py --unindexed 0.1`): monoclinic cells found 33 → 48 %
  (exact line lists 54 → 73 %), orthorhombic ones 74 → 85 % (87 → 94 %), triclinic false solutions 1-2 %
  as before; 1.25× the time of `indexing_v6` per pattern on a quiet machine, and ~8 s once per process
  to choose the trial assignments.
- `indexing_v9`: `indexing_v8` (the lines of the curvature too) with the orthorhombic and monoclinic fits refining
  REFINED_CELLS of their screened trial cells instead of `indexing.N_REFINE` (6). With 1,000 trial cells the right
  one often ranks below the top six on the screen's first 10 lines, which a 3-4 parameter metric fits in many
  ways. Cells found (≥ 85 % of the first 20 curvature-picked lines indexed, ln M ≥ 3) on 300 validation crystals
  of each class: monoclinic 0.673 → 0.740, orthorhombic 0.927 → 0.953; triclinic crystals falsely given a
  monoclinic cell 0.030 → 0.033, monoclinic ones an orthorhombic cell 0.043 both; +0.4 ms and +0.3 ms per fit.
  Refining every trial cell finds 0.760 of the monoclinic cells: the rest lie outside the trial cells, while the
  true cell, given as the only trial, indexes 117 of 120 monoclinic crystals' picked lines.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from xrdnet.xrd import indexing, indexing_impurity, indexing_low, indexing_ortho
from xrdnet.xrd.indexing import _Family
from xrdnet.xrd.indexing_impurity import STRONG_LINE_HEIGHT, UNINDEXED_ALLOWED

MONOCLINIC_ASSIGNMENTS = 300  # trial cells of the monoclinic fit (150 in indexing_v2)
# indexing_v7's wider monoclinic search: more cells, three more early lines to name, learned over more random cells
WIDE_MONOCLINIC_ASSIGNMENTS = 1000
WIDE_MONOCLINIC_TRIAL_LINES = 9
WIDE_MONOCLINIC_CELLS = 10000
REFINED_CELLS = 20  # indexing_v9: screened trial cells refined per orthorhombic and monoclinic fit

FEATURE_NAMES_V5 = indexing_impurity.FEATURE_NAMES
N_FEATURES_V5 = len(FEATURE_NAMES_V5)
MONOCLINIC_NAMES = [f"{half}_{name}" for half in ("all", "strong") for name in indexing_low.LOW_FEATURE_NAMES]
FEATURE_NAMES_V6 = FEATURE_NAMES_V5 + MONOCLINIC_NAMES
N_FEATURES_V6 = len(FEATURE_NAMES_V6)
FEATURE_DOC = indexing_impurity.FEATURE_DOC + f"""
indexing_v5: the same features as indexing_v4; orthorhombic_* from the wider trial search
({indexing_ortho.WIDE_N_ASSIGNMENTS} assignments on the first {indexing_ortho.WIDE_N_TRIAL_LINES} lines).
indexing_v6: indexing_v5, then all_monoclinic_* and strong_monoclinic_* (indexing_low's monoclinic fit
with {MONOCLINIC_ASSIGNMENTS} trial cells, forgiving {UNINDEXED_ALLOWED:.0%} of the lines).
indexing_v7: indexing_v6 with {WIDE_MONOCLINIC_ASSIGNMENTS} monoclinic trial cells on the first {WIDE_MONOCLINIC_TRIAL_LINES} lines and
orthorhombic ones from {indexing_ortho.WIDEST_N_ASSIGNMENTS} assignments asked on the first {indexing_ortho.WIDEST_N_TRIAL_LINES}.
"""


def line_features_v5(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(N_FEATURES_V5,) `indexing_v4` with the wider orthorhombic search (`indexing_ortho.wide_orthorhombic_family`)."""
    return indexing_impurity.line_features_v4(q2, heights, tol, orthorhombic=indexing_ortho.wide_orthorhombic_family())


def monoclinic_v6_features(q2: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(7,) the forgiving monoclinic fit of the first N_FIT_LINES of lines q2 (Å⁻², ascending); zeros without lines."""
    return indexing_low.monoclinic_features(q2, tol, monoclinic_v6_family(), UNINDEXED_ALLOWED)


def monoclinic_v6_family() -> _Family:
    """The monoclinic fit of `indexing_v6`."""
    return indexing_low.monoclinic_family(MONOCLINIC_ASSIGNMENTS)


def wide_monoclinic_family() -> _Family:
    """The monoclinic fit of `indexing_v7` (built on first use, a few seconds)."""
    return indexing_low.monoclinic_family(WIDE_MONOCLINIC_ASSIGNMENTS, WIDE_MONOCLINIC_TRIAL_LINES, WIDE_MONOCLINIC_CELLS)


def _v4_and_monoclinic(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray, strong_line_height: float,
                       orthorhombic: _Family, monoclinic: _Family) -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v4` with the given orthorhombic fit, then the given monoclinic fit on all lines
    and on the strong lines: what `indexing_v6` and `indexing_v7` share, they differ only in the two trial searches."""
    def monoclinic_cell(q2, tol):
        return indexing.fit_family(monoclinic, q2, tol, UNINDEXED_ALLOWED)

    return v4_and_monoclinic_cells(q2, heights, tol, strong_line_height, orthorhombic, monoclinic_cell)


def v4_and_monoclinic_cells(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray, strong_line_height: float,
                            orthorhombic: _Family, monoclinic_cell) -> np.ndarray:
    """(N_FEATURES_V6,) `_v4_and_monoclinic` with the monoclinic cell found by monoclinic_cell(q2, tol) -> LatticeFit
    | None (a fit that is more than one family's search)."""
    def monoclinic_features(q2, heights, tol):
        return indexing_low.monoclinic_fit_features(q2, tol, monoclinic_cell)

    return np.concatenate([
        indexing_impurity.line_features_v4(q2, heights, tol, strong_line_height, orthorhombic=orthorhombic),
        indexing_impurity.on_all_and_strong_lines(monoclinic_features, q2, heights, tol, strong_line_height)])


def line_features_v6(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                     strong_line_height: float = STRONG_LINE_HEIGHT) -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v5`, then the monoclinic fit on all lines and on the strong lines."""
    return _v4_and_monoclinic(q2, heights, tol, strong_line_height,
                              indexing_ortho.wide_orthorhombic_family(), monoclinic_v6_family())


def line_features_v7(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                     strong_line_height: float = STRONG_LINE_HEIGHT) -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v6` with the widest orthorhombic and the wider monoclinic searches."""
    return _v4_and_monoclinic(q2, heights, tol, strong_line_height,
                              indexing_ortho.widest_orthorhombic_family(), wide_monoclinic_family())


def line_features_v9(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                     strong_line_height: float = STRONG_LINE_HEIGHT) -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v7` with its orthorhombic and monoclinic fits refining REFINED_CELLS screened cells."""
    return _v4_and_monoclinic(q2, heights, tol, strong_line_height, refined_orthorhombic_family(),
                              refined_monoclinic_family())


@functools.cache
def refined_orthorhombic_family() -> _Family:
    """`indexing_v7`'s orthorhombic fit refining REFINED_CELLS of its screened trial cells."""
    return dataclasses.replace(indexing_ortho.widest_orthorhombic_family(), n_refine=REFINED_CELLS)


@functools.cache
def refined_monoclinic_family() -> _Family:
    """`indexing_v7`'s monoclinic fit refining REFINED_CELLS of its screened trial cells."""
    return dataclasses.replace(wide_monoclinic_family(), n_refine=REFINED_CELLS)
