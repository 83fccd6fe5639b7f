"""Orthorhombic trial cells from jointly chosen (line, reflection) assignments, and the `indexing_v3` set.

The primitive orthorhombic metric (Q² = 1/d², Å⁻²)

    Q² = A h² + B k² + C l²,    A = 1/a², B = 1/b², C = 1/c²,

has three parameters, so three lines assigned three reflections of independent (h², k², l²) fix a
trial cell exactly (TREOR's approach). `indexing`'s fit tries only axial assignments (lowest line
(100), next (010) or (110), third (001), (101) or (011)) on every 3-tuple of the first 6 lines. Most
cells' first lines are not like that: systematic absences remove h00 with h odd (2₁ screws, glides),
centring removes 100, 010, 001 altogether, and long axes put hk0 lines below 001.

Here each trial cell is one *joint* assignment: which three of the first N_TRIAL_LINES lines (by
position) are which three reflections with indices 0..HKL_LIMIT. The N_ASSIGNMENTS assignments are
chosen once, deterministically and greedily, as those that cover the most random cells: a ≥ b ≥ c
log-uniform in 3-20 Å (axis labels are free, so ordering them loses no cell), reflections removed by
random space-group conditions (`random_absences`), and some of the rest dropped as too weak.
A cell is covered when some assignment names three of its first lines correctly. The screen,
refinement and de Wolff M are `indexing`'s, with the same number of trial cells (120); their screen
costs ~0.3 ms more per pattern (more rows of the table reach the screened range), which a cheaper
`indexing` screen (same values) pays for: the whole `indexing_v3` vector takes ~0.95× main's `indexing`.

Measured (scripts/study_trial_cells.py, 300 orthorhombic items of the synthetic validation split;
solved: ≥ 95 % of the first 20 lines indexed with ln M ≥ 3): on exact line lists 0.14 → 0.72, on lines
picked from clean renders 0.09 → 0.48, while monoclinic and triclinic items stay unsolved (≤ 0.01);
forsterite, Pnma, Pbca and Cmcm cells are recovered (the axial trials find none of them). 240
assignments solve ~0.85 / 0.6 of 200 items but cost several times as much.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from xrdnet.xrd import indexing
from xrdnet.xrd.indexing import _Family
from xrdnet.xrd.trial_assignments import covering_assignments

N_TRIAL_LINES = 6  # assignments name lines among the first this many
N_ASSIGNMENTS = 120  # trial cells per pattern (indexing's orthorhombic fit also makes at most 120)
HKL_LIMIT = 3  # reflections with 0 <= h, k, l <= this are assignable
# the wider search of `indexing_v5`: more assignments, one more early line to choose from
WIDE_N_ASSIGNMENTS = 360
WIDE_N_TRIAL_LINES = 7
# the widest, of `indexing_v7`: assignments learned over more random cells (those of 3,000 are all covered by
# ~420), on the first 8 lines; 1,000 asked, ~910 cover a cell
WIDEST_N_ASSIGNMENTS = 1000
WIDEST_N_TRIAL_LINES = 8
WIDEST_N_CELLS = 20000


def orthorhombic_hkl(limit: int = HKL_LIMIT) -> np.ndarray:
    """(s, 3) reflections 0 <= h, k, l <= limit, not 000."""
    span = range(limit + 1)
    return np.array([(h, k, l) for h in span for k in span for l in span if h or k or l], dtype=np.int64)


def orthorhombic_coefficients(hkl: np.ndarray) -> np.ndarray:
    """(s, 3) rows (h², k², l²) multiplying the parameters (A, B, C) = (1/a², 1/b², 1/c²)."""
    return (np.asarray(hkl) ** 2).astype(float)


def random_absences(hkl: np.ndarray, rng) -> np.ndarray:
    """(s,) True for the reflections hkl (s, 3) that a random orthorhombic space group's conditions remove.

    Lattice centring (P, C/A/B, I, F), a glide in each of the zones 0kl, h0l, hk0 (none, along either
    in-plane axis, or n) and a 2₁ screw along each axis (h00 with h odd absent), drawn independently:
    a crude stand-in for the 59 orthorhombic space groups, enough to make h00 lines and 100 go missing
    as often as they do.
    """
    h, k, l = hkl.T
    odd = hkl % 2
    absent = np.zeros(len(hkl), dtype=bool)
    centring = rng.choice(["P", "C", "A", "B", "I", "F"], p=[0.55, 0.1, 0.1, 0.1, 0.08, 0.07])
    if centring in "CAB":
        i, j = {"C": (0, 1), "A": (1, 2), "B": (0, 2)}[centring]
        absent |= (hkl[:, i] + hkl[:, j]) % 2 == 1
    elif centring == "I":
        absent |= (h + k + l) % 2 == 1
    elif centring == "F":
        absent |= ~((odd[:, 0] == odd[:, 1]) & (odd[:, 1] == odd[:, 2]))
    for zero, (i, j) in enumerate([(1, 2), (0, 2), (0, 1)]):  # zones 0kl, h0l, hk0
        zone = hkl[:, zero] == 0
        glide = rng.choice(4, p=[0.4, 0.25, 0.25, 0.1])  # none, along i, along j, n
        if glide == 1:
            absent |= zone & (odd[:, i] == 1)
        elif glide == 2:
            absent |= zone & (odd[:, j] == 1)
        elif glide == 3:
            absent |= zone & ((hkl[:, i] + hkl[:, j]) % 2 == 1)
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        axial = np.all(hkl[:, others] == 0, axis=1)
        if rng.random() < 0.5:
            absent |= axial & (odd[:, axis] == 1)
    return absent


@functools.cache
def orthorhombic_family(n_assignments: int = N_ASSIGNMENTS, n_lines: int = N_TRIAL_LINES, n_cells: int = 3000) -> _Family:
    """The primitive orthorhombic family of `indexing` with covering joint assignments as trial cells
    (chosen on first use over n_cells random cells, a fraction of a second for 3,000)."""
    hkl = orthorhombic_hkl()
    seeds = orthorhombic_coefficients(hkl)

    def sample_q2(rng):
        axes = np.sort(np.exp(rng.uniform(math.log(3.0), math.log(20.0), 3)))[::-1]  # a >= b >= c
        return np.where(random_absences(hkl, rng), np.inf, seeds @ (1.0 / axes**2))

    positions, reflections = covering_assignments(seeds, sample_q2, n_lines, n_assignments, n_cells=n_cells)
    return dataclasses.replace(indexing.FAMILIES["orthorhombic"], seeds=seeds, seed_tuples=reflections,
                               seed_lines=positions, line_tuples_from=n_lines)


def wide_orthorhombic_family() -> _Family:
    """The orthorhombic fit of `indexing_v5`: WIDE_N_ASSIGNMENTS assignments on the first WIDE_N_TRIAL_LINES lines."""
    return orthorhombic_family(WIDE_N_ASSIGNMENTS, WIDE_N_TRIAL_LINES)


def widest_orthorhombic_family() -> _Family:
    """The orthorhombic fit of `indexing_v7`: WIDEST_N_ASSIGNMENTS asked on the first WIDEST_N_TRIAL_LINES lines,
    over WIDEST_N_CELLS random cells (a few seconds on first use)."""
    return orthorhombic_family(WIDEST_N_ASSIGNMENTS, WIDEST_N_TRIAL_LINES, WIDEST_N_CELLS)


# ---- the indexing_v3 feature set --------------------------------------------------------------------

FEATURE_NAMES = indexing.FEATURE_NAMES  # same 90 features; only the orthorhombic fit behind them differs
N_FEATURES = indexing.N_FEATURES
FEATURE_DOC = indexing.FEATURE_DOC + """
indexing_v3: the same features; orthorhombic_* come from trial cells of covering assignments (this module).
"""


def line_features_v3(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(N_FEATURES,) `indexing.line_features` with the orthorhombic fit's trial cells from covering assignments."""
    return indexing.line_features(q2, heights, tol, families={**indexing.FAMILIES, "orthorhombic": orthorhombic_family()})
