"""Centring-aware figures of merit for the orthorhombic and monoclinic fits: the `indexing_v15` feature set.

The orthorhombic and monoclinic fits (`indexing_ortho`, `indexing_low`) count every reflection of a primitive
cell in de Wolff's M = Q²_n / (2 ε̄ N_calc). A centred lattice's pattern is indexed by its conventional cell
with the centring's reflections absent:

    A  k + l even      B  h + l even      C  h + k even      I  h + k + l even
    F  h, k, l all even or all odd

so the primitive count N_calc is about twice (A, B, C, I) or four times (F) the lines the lattice can give,
and its right cell scores M/2 or M/4. A one-face-centred monoclinic cell (mC) then looks like a poor monoclinic
fit (its primitive cell is triclinic), and a centred orthorhombic one (oC, oI, oF) loses to the monoclinic
description of its primitive cell, which counts the lines once: on the synthetic validation split mS is the
weakest well-populated lattice after the trigonal-P/hexagonal pair, read triclinic or orthorhombic.

Indexing programs count only the reflections the lattice allows. Here each fit's best cell is scored again under
each centring (the orthorhombic axes are unlabelled, so A, B and C are all tried; monoclinic with unique axis b
takes A, C and I, the settings of one lattice, B being primitive in a smaller cell): calculated lines listed
directly (h, k, l up to MAX_INDEX), absent ones removed, each line's error to the nearest allowed one, and M as
`indexing._figure_of_merit` takes it. A centring the lines do not obey leaves lines unindexed and M falls; one
they obey removes only lines that were not there and M rises by its factor.

Per fit (orthorhombic and monoclinic, on all lines and on the strong lines, as `indexing_v14` fits them):
    log_m_centred       ln M of the best centring, P included (primitive counted the same way)
    fraction_centred    share of the lines within tolerance of that centring's lines
    log_m_gain          that ln M minus the primitive one: ≈ ln 2 or ln 4 for a centred lattice, 0 when P wins
"""

from __future__ import annotations

import math

import numpy as np

from xrdnet.xrd import indexing, indexing_wide, learned_assignments
from xrdnet.xrd.indexing import RecordedFit

MAX_INDEX = 20  # largest |h|, |k|, |l| listed, as the fits' tables go (index squares up to 400)


def _all_same_parity(h, k, l):
    return (h % 2 == k % 2) & (k % 2 == l % 2)


# reflection conditions (True: the reflection is allowed) of the lattice centrings, International Tables Vol. A
CENTRINGS = {
    "P": lambda h, k, l: np.ones(np.shape(h), dtype=bool),
    "A": lambda h, k, l: (k + l) % 2 == 0,
    "B": lambda h, k, l: (h + l) % 2 == 0,
    "C": lambda h, k, l: (h + k) % 2 == 0,
    "I": lambda h, k, l: (h + k + l) % 2 == 0,
    "F": _all_same_parity,
}
ORTHORHOMBIC_CENTRINGS = ("P", "A", "B", "C", "I", "F")
MONOCLINIC_CENTRINGS = ("P", "A", "C", "I")
FIT_NAMES = ("log_m_centred", "fraction_centred", "log_m_gain")
CENTRED_NAMES = [f"{half}_{system}_{name}" for system in ("orthorhombic", "monoclinic") for half in ("all", "strong")
                 for name in FIT_NAMES]
FEATURE_NAMES_V15 = indexing_wide.FEATURE_NAMES_V6 + CENTRED_NAMES
N_FEATURES_V15 = len(FEATURE_NAMES_V15)


def _index_range(limit: float) -> np.ndarray:
    return np.arange(int(min(math.floor(limit), MAX_INDEX)) + 1)


def orthorhombic_reflections(params: np.ndarray, q2_max: float) -> tuple[np.ndarray, np.ndarray]:
    """(hkl (s, 3), Q² (s,)) of a primitive orthorhombic cell, params (A, B, C): Q² = A h² + B k² + C l² (Å⁻²),
    one reflection per set of equal index squares (h, k, l ≥ 0), Q² ≤ q2_max."""
    a, b, c = params
    h, k, l = np.meshgrid(*(_index_range(math.sqrt(q2_max / p)) for p in (a, b, c)), indexing="ij")
    hkl = np.stack([h.ravel(), k.ravel(), l.ravel()], axis=1)[1:]  # (0, 0, 0) first: left out
    q2 = hkl**2 @ np.asarray(params, dtype=float)
    keep = q2 <= q2_max
    return hkl[keep], q2[keep]


def monoclinic_reflections(params: np.ndarray, q2_max: float) -> tuple[np.ndarray, np.ndarray]:
    """(hkl, Q²) of a primitive monoclinic cell (unique axis b), params (B, A, C, D) as `indexing_low`'s fit:
    Q² = B k² + A h² + C l² + D h l (Å⁻²), one reflection per set of equal Q² by symmetry (k ≥ 0; l > 0, or l = 0
    and h ≥ 0), Q² ≤ q2_max."""
    b, a, c, d = params
    # the smallest Q² over l at fixed h is h² (A − D²/4C): bounds on |h| (and likewise |l|) for a real metric
    h_limit = math.sqrt(q2_max / max(a - d * d / (4.0 * c), 1e-12))
    l_limit = math.sqrt(q2_max / max(c - d * d / (4.0 * a), 1e-12))
    h_range = _index_range(h_limit)
    h, k, l = np.meshgrid(np.concatenate([-h_range[:0:-1], h_range]), _index_range(math.sqrt(q2_max / b)),
                          _index_range(l_limit), indexing="ij")
    h, k, l = h.ravel(), k.ravel(), l.ravel()
    canonical = ((l > 0) | (h > 0) | ((h == 0) & (k > 0)))
    hkl = np.stack([h, k, l], axis=1)[canonical]
    q2 = b * hkl[:, 1] ** 2 + a * hkl[:, 0] ** 2 + c * hkl[:, 2] ** 2 + d * hkl[:, 0] * hkl[:, 2]
    keep = q2 <= q2_max
    return hkl[keep], q2[keep]


REFLECTIONS = {"orthorhombic": (orthorhombic_reflections, ORTHORHOMBIC_CENTRINGS),
               "monoclinic": (monoclinic_reflections, MONOCLINIC_CENTRINGS)}


def centred_figures(system: str, params: np.ndarray, q2: np.ndarray, tol: np.ndarray,
                    unindexed_allowed: float = 0.0) -> dict[str, tuple[float, float, float]]:
    """{centring: (ln M, fraction indexed, N_calc)} of the cell `params` of `system` ('orthorhombic' or 'monoclinic') for
    lines q2 with tolerances tol (Å⁻², ascending), each centring's absent reflections removed."""
    reflections, centrings = REFLECTIONS[system]
    q2, tol = np.asarray(q2, dtype=float), np.asarray(tol, dtype=float)
    q2_max = q2[-1] + tol[-1]
    # listed a little past the last line, so it has its nearest calculated line on both sides
    hkl, q2_calc = reflections(np.asarray(params, dtype=float), 1.2 * q2_max)
    out = {}
    for name in centrings:
        allowed = q2_calc[CENTRINGS[name](*hkl.T)]
        n_calc = float(np.count_nonzero(allowed <= q2_max))
        if allowed.size == 0:
            error = np.full(q2.size, np.inf)
        else:
            allowed = np.sort(allowed)
            right = np.searchsorted(allowed, q2).clip(max=allowed.size - 1)
            left = (right - 1).clip(min=0)
            error = np.minimum(np.abs(allowed[right] - q2), np.abs(q2 - allowed[left]))
        indexed, log_m = indexing._figure_of_merit(error[None], tol, np.array([n_calc]), q2[-1], unindexed_allowed)
        out[name] = (float(log_m[0]), float(indexed.mean()), n_calc)
    return out


def centred_features(recorded: RecordedFit) -> np.ndarray:
    """(3,) FIT_NAMES of one recorded orthorhombic or monoclinic fit; zeros where it found no cell."""
    if recorded.fit is None:
        return np.zeros(len(FIT_NAMES))
    figures = centred_figures(recorded.family, recorded.fit.params, recorded.q2, recorded.tol,
                              recorded.unindexed_allowed)
    best = max(figures, key=lambda name: figures[name][0])  # P first: a tie keeps the primitive cell
    log_m, fraction, _ = figures[best]
    return np.array([log_m, fraction, log_m - figures["P"][0]])


def line_features_v15(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(N_FEATURES_V15,) `indexing_v14`, then CENTRED_NAMES: its orthorhombic and monoclinic fits' best cells
    (on all lines, then on the strong lines) scored under each centring."""
    with indexing.recorded_fits() as record:
        v14 = learned_assignments.line_features(q2, heights, tol, table="v14")
    blocks = []
    for system in ("orthorhombic", "monoclinic"):
        fits = [recorded for recorded in record if recorded.family == system]
        # v14 fits the strong lines only where some line is weak (else its two halves are the same numbers)
        halves = (fits * 2)[:2] if fits else []
        blocks += [centred_features(recorded) for recorded in halves] or [np.zeros(2 * len(FIT_NAMES))]
    return np.concatenate([v14, *blocks])
