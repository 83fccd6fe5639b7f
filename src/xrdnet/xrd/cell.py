"""The unit cell behind a crystal-system call: the lattice fit of that system that indexes a pattern's lines.

The model decides the crystal system; the powder-indexing fits it reads beside the profile
(`xrdnet.xrd.indexing`) also name a cell. Reporting the cell of the predicted system lets a researcher
check the call the way indexing programs are checked: the cell's parameters, how many of the first 20
lines it indexes and de Wolff's figure of merit M20 (M = Q²₂₀ / (2 ε̄ N_calc); above ~10 a cell is
usually right, a few means the lines barely fit it).

Lattices (the fits' quadratic forms, Q² = 1/d² in Å⁻²):

    cubic P/I/F           Q² = (h² + k² + l²) / a²
    tetragonal P/I        Q² = (h² + k²) / a² + l² / c²
    hexagonal hP          Q² = 4 (h² + hk + k²) / (3 a²) + l² / c²     trigonal-P or hexagonal: the same lines
    rhombohedral hR       the same on hexagonal axes, −h + k + l = 3n  trigonal only
    orthorhombic          Q² = h² / a² + k² / b² + l² / c²  (primitive form, a centred cell fits it too;
                          axes reported a ≤ b ≤ c, as the space group that would name them is not known)
    monoclinic            Q² = h² a*² + k² b*² + l² c*² + 2 h l a* c* cos β*  (unique axis b; reported in
                          the reduced setting: shortest a ≤ c in the ac plane, β ≥ 90°)

A triclinic call has no cell here: the fits stop at monoclinic.

The orthorhombic and monoclinic fits are primitive; a centred lattice's conventional cell fits them with the
centring's absent reflections counted as calculated lines, so its M is half (A, B, C, I) or a quarter (F) of what an
indexing program reports. Their cells are scored again under each centring (`indexing_centred.centred_figures`) and
reported centred (oS, oI, oF; mS) where that raises M and leaves no line unindexed that the primitive cell indexes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from xrdnet.xrd import indexing, indexing_centred, indexing_low, learned_assignments
from xrdnet.xrd.indexing import FAMILIES, LatticeFit
from xrdnet.xrd.indexing_impurity import UNINDEXED_ALLOWED  # as the features' fits: 2 of 20 lines may be another phase's

# lattices tried for each crystal system; the best figure of merit wins
SYSTEM_LATTICES = {
    "cubic": ("cubic_P", "cubic_I", "cubic_F"),
    "tetragonal": ("tetragonal_P", "tetragonal_I"),
    "trigonal": ("rhombohedral", "hexagonal"),
    "hexagonal": ("hexagonal",),
    "orthorhombic": ("orthorhombic",),
    "monoclinic": ("monoclinic",),
}
# Pearson-style lattice symbols of the fits
LATTICE_SYMBOLS = {"cubic_P": "cP", "cubic_I": "cI", "cubic_F": "cF", "tetragonal_P": "tP", "tetragonal_I": "tI",
                   "hexagonal": "hP", "rhombohedral": "hR", "orthorhombic": "oP", "monoclinic": "mP"}
# Pearson symbols of the centred lattices the orthorhombic and monoclinic cells are also scored as (one-face centring
# is S whichever face: the fit's axes are unlabelled, and the monoclinic cell is reported reduced)
CENTRED_SYMBOLS = {("orthorhombic", "A"): "oS", ("orthorhombic", "B"): "oS", ("orthorhombic", "C"): "oS",
                   ("orthorhombic", "I"): "oI", ("orthorhombic", "F"): "oF",
                   ("monoclinic", "A"): "mS", ("monoclinic", "C"): "mS", ("monoclinic", "I"): "mS"}
# a fit counts as a cell when it indexes this share of the lines with ln M at least this high
MIN_FRACTION_INDEXED = 0.85
MIN_LOG_M = math.log(5.0)


@dataclass(frozen=True)
class IndexedCell:
    """A cell that indexes a pattern's lines.

    lattice: Pearson symbol of the lattice (cP, cI, cF, tP, tI, hP, hR, oP, oS, oI, oF, mP, mS; hR on hexagonal
        axes; centred cells conventional).
    a, b, c: Å; alpha, beta, gamma: degrees.
    fraction_indexed: share of the first (up to 20) lines within tolerance of a calculated line.
    figure_of_merit: de Wolff-style M of those lines (see the module docstring).
    n_lines: lines fitted.
    """

    lattice: str
    a: float
    b: float
    c: float
    alpha: float
    beta: float
    gamma: float
    fraction_indexed: float
    figure_of_merit: float
    n_lines: int

    def describe(self) -> str:
        """One line, e.g. 'cF a=5.431 Å, 20/20 lines, M=152'."""
        if self.lattice.startswith("c"):
            axes = f"a={self.a:.3f}"
        elif self.lattice[0] in "th":
            axes = f"a={self.a:.3f} c={self.c:.3f}"
        else:
            axes = f"a={self.a:.3f} b={self.b:.3f} c={self.c:.3f}"
        angle = f" β={self.beta:.2f}°" if self.lattice.startswith("m") else ""
        indexed = round(self.fraction_indexed * self.n_lines)
        return f"{self.lattice} {axes} Å{angle}, {indexed}/{self.n_lines} lines, M={self.figure_of_merit:.0f}"

    def as_dict(self) -> dict:
        return {"lattice": self.lattice, "a": round(self.a, 4), "b": round(self.b, 4), "c": round(self.c, 4),
                "alpha": round(self.alpha, 3), "beta": round(self.beta, 3), "gamma": round(self.gamma, 3),
                "fraction_indexed": round(self.fraction_indexed, 3), "figure_of_merit": round(self.figure_of_merit, 1),
                "n_lines": self.n_lines}


def _family(name: str):
    # The shipped model's features (indexing_v16) fit the two low-symmetry lattices from random-cell assignments
    # and from assignments learned from synthetic crystals' lines (the "v14" table), refining 20 screened
    # orthorhombic and 100 screened monoclinic trial cells: they find more cells than either alone.
    if name == "orthorhombic":
        return learned_assignments.learned_orthorhombic_family("v14")
    if name == "monoclinic":
        return learned_assignments.widely_refined_monoclinic_family("v14")
    return FAMILIES[name]


def cell_of_fit(fit: LatticeFit, name: str, lattice: str | None = None) -> IndexedCell:
    """The cell of a lattice fit of family `name` (a key of LATTICE_SYMBOLS); lattice: the symbol to report, when
    a centring names it (default the family's)."""
    params = np.asarray(fit.params, dtype=float)
    alpha = beta = gamma = 90.0
    if name.startswith("cubic"):
        a = b = c = 1.0 / math.sqrt(params[0])
    elif name.startswith("tetragonal"):
        a = b = 1.0 / math.sqrt(params[0])
        c = 1.0 / math.sqrt(params[1])
    elif name in ("hexagonal", "rhombohedral"):
        a = b = 2.0 / math.sqrt(3.0 * params[0])  # A = 4 / (3 a²)
        c = 1.0 / math.sqrt(params[1])
        gamma = 120.0
    elif name == "orthorhombic":  # (A, B, C) multiply h², k², l²; the fit's axis labels are free: a ≤ b ≤ c
        a, b, c = sorted(1.0 / math.sqrt(p) for p in params[:3])
    elif name == "monoclinic":
        a, b, c, beta = reduced_monoclinic(*indexing_low.monoclinic_cell(params))
    else:
        raise ValueError(f"unknown lattice fit {name!r}")
    return IndexedCell(lattice or LATTICE_SYMBOLS[name], a, b, c, alpha, beta, gamma, fit.fraction_indexed,
                       math.exp(fit.log_m), fit.n_obs)


def centred_fit(fit: LatticeFit, name: str, q2: np.ndarray, tol: np.ndarray) -> tuple[LatticeFit, str | None]:
    """The fit of family `name` as its lattice's centring scores it: (fit with the centred figures, Pearson symbol),
    or (fit, None) where no centring raises its M without losing a line the primitive cell indexes (and for the
    families that are not orthorhombic or monoclinic: their fits try their centrings themselves)."""
    if name not in indexing_centred.REFLECTIONS:
        return fit, None
    figures = indexing_centred.centred_figures(name, fit.params, q2, tol, UNINDEXED_ALLOWED)
    centred = [(log_m, fraction, n_calc, centring) for centring, (log_m, fraction, n_calc) in figures.items()
               if centring != "P" and log_m > fit.log_m and fraction >= fit.fraction_indexed]
    if not centred:
        return fit, None
    log_m, fraction, n_calc, centring = max(centred)
    return LatticeFit(fit.family, fit.params, fraction, log_m, n_calc, fit.n_obs), CENTRED_SYMBOLS[(name, centring)]


def reduced_monoclinic(a: float, b: float, c: float, beta: float) -> tuple[float, float, float, float]:
    """The reduced setting of a monoclinic cell (Å, degrees): the shortest a and c in the ac plane, a ≤ c, β ≥ 90°.

    The fit may name any basis of the lattice's ac plane (a + c and c index the same lines as a and c);
    Gauss reduction of the 2D lattice gives the one setting every fit of it agrees on.
    """
    ac = a * c * math.cos(math.radians(beta))
    gram = np.array([[a * a, ac], [ac, c * c]])
    u, v = indexing_low.gauss_reduced(gram)
    uu, vv, uv = float(u @ gram @ u), float(v @ gram @ v), float(u @ gram @ v)
    return (math.sqrt(uu), b, math.sqrt(vv), math.degrees(math.acos(-abs(uv) / math.sqrt(uu * vv))))


def index_lines(two_theta_deg: np.ndarray, wavelength_angstrom: float, crystal_system: str) -> IndexedCell | None:
    """The best cell of `crystal_system` for lines at two_theta_deg (degrees, ascending; the first 20 are fitted),
    or None when the system has no fit here (triclinic) or no cell indexes MIN_FRACTION_INDEXED of the lines
    with M ≥ exp(MIN_LOG_M)."""
    names = SYSTEM_LATTICES.get(crystal_system)
    if names is None:
        return None
    two_theta = np.asarray(two_theta_deg, dtype=float)
    q2 = indexing.q_squared(two_theta, wavelength_angstrom)[:indexing.N_FIT_LINES]
    tol = indexing.q_squared_tolerance(two_theta, wavelength_angstrom)[:indexing.N_FIT_LINES]
    fits = indexing.fit_families([_family(name) for name in names], q2, tol, UNINDEXED_ALLOWED)
    found = [(*centred_fit(fit, name, q2, tol), name) for fit, name in zip(fits, names) if fit is not None]
    found = [(fit, lattice, name) for fit, lattice, name in found
             if fit.fraction_indexed >= MIN_FRACTION_INDEXED and fit.log_m >= MIN_LOG_M]
    if not found:
        return None
    fit, lattice, name = max(found, key=lambda triple: triple[0].log_m)
    return cell_of_fit(fit, name, lattice)


def index_profile_systems(profile: np.ndarray, grid_two_theta_deg: np.ndarray, wavelength_angstrom: float,
                          crystal_systems, **pick_options) -> dict[str, IndexedCell | None]:
    """`index_lines` in each of crystal_systems of the lines `indexing.pick_peaks` finds in a profile, the
    lines picked once (pick options passed through)."""
    two_theta, _ = indexing.pick_peaks(np.asarray(profile, dtype=float).ravel(), grid_two_theta_deg, **pick_options)
    return {system: index_lines(two_theta, wavelength_angstrom, system) for system in crystal_systems}


def index_profile(profile: np.ndarray, grid_two_theta_deg: np.ndarray, wavelength_angstrom: float,
                  crystal_system: str, **pick_options) -> IndexedCell | None:
    """`index_lines` of the lines `indexing.pick_peaks` finds in a profile (options passed through)."""
    return index_profile_systems(profile, grid_two_theta_deg, wavelength_angstrom, (crystal_system,),
                                 **pick_options)[crystal_system]


# ---- pseudo-symmetric lines: when positions alone would make a wrong call --------------------------

# order of each system's lattice point group (holohedry; trigonal: the rhombohedral −3m). Indexing programs
# report the most symmetric lattice that indexes the lines, so that is what positions alone would call.
HOLOHEDRY_ORDER = {"triclinic": 2, "monoclinic": 4, "orthorhombic": 8, "trigonal": 12, "tetragonal": 16,
                   "hexagonal": 24, "cubic": 48}
# a more symmetric cell admits the lines when it indexes all but one of 20 as well as the true system's
# cell does, with de Wolff M at least this (above ~10 a cell is usually right)
ADMITTING_FRACTION = 0.95
ADMITTING_FIGURE_OF_MERIT = 10.0
# a more symmetric cell is reported beside a call when its M is at least this share of the best rival's
RIVAL_FIGURE_OF_MERIT_SHARE = 0.5


def lines_admit_call(called_system: str, called_cell: IndexedCell | None,
                     true_system: str, true_cell: IndexedCell | None) -> bool:
    """Whether a pattern's lines index in the called system's lattice as fully as in the true system's, the
    called lattice being the more symmetric: a pseudo-symmetric cell (e.g. an orthorhombic one with a ≈ b
    within a line width), which positions alone would call wrongly, as an indexing program would.

    called_cell, true_cell: the systems' cells of the same lines (`index_lines`; None where none indexes them).
    A call of lower symmetry is never admitted: the true, more symmetric cell indexes the lines with fewer
    calculated lines, so positions favour it. Trigonal-P ↔ hexagonal is one lattice (`crystal.same_lattice_confusion`).
    """
    if called_cell is None or HOLOHEDRY_ORDER[called_system] <= HOLOHEDRY_ORDER[true_system]:
        return False
    true_fraction = true_cell.fraction_indexed if true_cell is not None else 0.0
    return (called_cell.fraction_indexed >= max(true_fraction, ADMITTING_FRACTION)
            and called_cell.figure_of_merit >= ADMITTING_FIGURE_OF_MERIT)


def more_symmetric_systems(called_system: str) -> tuple[str, ...]:
    """The systems with a lattice fit whose holohedry is of higher order than the called system's; hexagonal is left
    out for a trigonal call, as its lattice (hP) is one of the trigonal call's own."""
    return tuple(system for system in SYSTEM_LATTICES
                 if HOLOHEDRY_ORDER[system] > HOLOHEDRY_ORDER[called_system]
                 and not (called_system == "trigonal" and system == "hexagonal"))


def more_symmetric_cell(called_system: str, cells: dict[str, IndexedCell | None]) -> tuple[str, IndexedCell] | None:
    """The most symmetric system above the call whose cell an indexing program would report instead: it indexes at
    least ADMITTING_FRACTION of the lines, and no fewer than the called system's cell does, with de Wolff M of at
    least ADMITTING_FIGURE_OF_MERIT and at least RIVAL_FIGURE_OF_MERIT_SHARE of the best M among those cells and the
    call's (indexing programs report the most symmetric lattice that indexes the lines about as well as any).

    The share guards against supercells: a 12 Å cubic cell indexes every line of a 4 × 4 × 6 Å tetragonal one
    exactly, at a de Wolff M several times lower, as its many calculated lines leave most positions empty.
    cells: the cells of the same lines by system (`index_lines`; None where none indexes them), holding the called
    system's and those of `more_symmetric_systems(called_system)`. None when no such cell exists.
    """
    called = cells.get(called_system)
    floor = max(called.fraction_indexed if called is not None else 0.0, ADMITTING_FRACTION)
    indexing = [(system, cells[system]) for system in more_symmetric_systems(called_system)
                if cells.get(system) is not None and cells[system].fraction_indexed >= floor]
    best = max([cell.figure_of_merit for _, cell in indexing] + [called.figure_of_merit if called is not None else 0.0])
    admitted = [(system, cell) for system, cell in indexing
                if cell.figure_of_merit >= max(ADMITTING_FIGURE_OF_MERIT, RIVAL_FIGURE_OF_MERIT_SHARE * best)]
    return max(admitted, key=lambda pair: HOLOHEDRY_ORDER[pair[0]], default=None)
