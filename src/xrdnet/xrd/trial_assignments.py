"""Trial assignments for powder indexing: which early lines are which low-index reflections.

A trial cell of a metric with p parameters, linear in them (Q² = Σ p_j g_j(hkl), Å⁻²), comes from p
lines assigned p reflections with an invertible coefficient matrix. Which reflections a pattern's first
lines are depends on the cell and its absences, so the assignments worth trying are learned once from
random cells of the family: each names the line positions and the reflections jointly, and a greedy
set cover keeps those that name p first lines of the most cells correctly.
"""

from __future__ import annotations

import itertools

import numpy as np

DROP_FRACTION = 0.15  # present lines missing at random (too weak) in the random cells


def covering_assignments(coefficients: np.ndarray, sample_q2, n_lines: int, n_assignments: int,
                         n_cells: int = 3000, seed: int = 0,
                         drop_fraction: float = DROP_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """(positions (t, p), reflections (t, p)): joint assignments of p of the first n_lines lines to p
    reflections (rows of `coefficients` (s, p)), chosen greedily to cover the most random cells.

    sample_q2(rng) -> (s,) Q² of every reflection for one random cell, inf for an absent one. A cell's
    lines are its present reflections in Q² order with drop_fraction dropped (weak); an assignment covers
    it when the lines at its positions are its reflections and their coefficient matrix is invertible.
    """
    rng = np.random.default_rng(seed)
    cell_lines = []
    for _ in range(n_cells):
        q2 = sample_q2(rng)
        order = np.argsort(q2, kind="stable")
        order = order[np.isfinite(q2[order])]
        cell_lines.append(order[rng.random(order.size) >= drop_fraction][:n_lines].tolist())
    return cover_line_lists(cell_lines, coefficients, n_assignments)


def cover_line_lists(line_reflections: list[list[int]], coefficients: np.ndarray,
                     n_assignments: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions (t, p), reflections (t, p)): joint assignments of p lines to p reflections (rows of
    coefficients (s, p)) chosen greedily to name the lines of the most patterns.

    line_reflections: per pattern, the reflection index of each of its first lines (-1: unindexed). An
    assignment names a pattern's lines when the lines at its positions are its reflections, all known and
    with an invertible coefficient matrix. Ties go to the assignment seen first: deterministic.
    """
    p = coefficients.shape[1]
    key_ids: dict[tuple, int] = {}
    invertible: dict[tuple, bool] = {}
    cell_keys: list[list[int]] = []
    for lines in line_reflections:
        mine = []
        for positions in itertools.combinations(range(len(lines)), p):
            reflections = tuple(lines[i] for i in positions)
            if min(reflections) < 0:
                continue
            if reflections not in invertible:
                invertible[reflections] = abs(np.linalg.det(coefficients[list(reflections)])) > 1e-9
            if invertible[reflections]:
                mine.append(key_ids.setdefault((positions, reflections), len(key_ids)))
        cell_keys.append(mine)
    gain = np.zeros(len(key_ids), dtype=np.int64)
    key_cells: list[list[int]] = [[] for _ in key_ids]
    for cell, keys in enumerate(cell_keys):
        for key in keys:
            gain[key] += 1
            key_cells[key].append(cell)
    keys = list(key_ids)
    covered = np.zeros(len(cell_keys), dtype=bool)
    picked = []
    for _ in range(n_assignments):
        if gain.size == 0:
            break
        best = int(np.argmax(gain))  # ties: the first key seen, so the choice is deterministic
        if gain[best] == 0:
            break
        picked.append(keys[best])
        for cell in key_cells[best]:
            if not covered[cell]:
                covered[cell] = True
                gain[cell_keys[cell]] -= 1
    positions = np.array([k[0] for k in picked], dtype=np.intp).reshape(-1, p)
    reflections = np.array([k[1] for k in picked], dtype=np.intp).reshape(-1, p)
    return positions, reflections
