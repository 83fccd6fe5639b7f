"""Trial assignments learned from synthetic crystals' own picked lines: the `indexing_v12` to `indexing_v14` feature sets,
and `indexing_v16` (v14 refining more monoclinic trial cells).

`indexing_v9`'s orthorhombic and monoclinic trial cells come from joint (line, reflection) assignments that
cover random cells (axes log-uniform in 3-20 Å, random absences, 15 % of the lines dropped at random; see
`xrdnet.xrd.trial_assignments`). From the lines picked off clean renders they find the cell (≥ 85 % of the
first 20 lines indexed, ln M ≥ 3) of 0.74 of the monoclinic validation crystals, while the true cell as the
only trial indexes 0.975: the misses are crystals whose first lines no random-cell assignment names, since in
a real pattern the structure's intensities, not chance, decide which weak lines are lost, and its space
group which reflections are absent.

Here the assignments are learned from the lines the features themselves see: crystals of the synthetic
generator with a seed no training or screening set uses (LEARN_SEED), rendered and picked as the features
do, each of their first lines indexed with the crystal's true cell (SpacegroupAnalyzer's conventional cell at
0.1 Å; orthorhombic axes a ≥ b ≥ c as the random cells; the monoclinic reciprocal ac plane Gauss-reduced,
D > 0 as `indexing_low`'s fit has it). A greedy set cover (`trial_assignments.cover_line_lists`) keeps
the (positions, reflections) assignments that name 3 (orthorhombic) or 4 (monoclinic) of the first
N_ASSIGNMENT_LINES lines of the most crystals (`scripts/learn_trial_assignments.py NAME` writes TABLES[NAME]'s
file). `indexing_v12` is `indexing_v9` with each of the two fits trying the "v12" table's after its own,
`indexing_v13` the "v13" table's.

Measured on 400 validation crystals (seed 0) of each class, lines picked off clean renders as `indexing_v9`
picks them (solved: >= 85 % of the first 20 indexed, ln M >= 3): monoclinic cells found 0.723 -> 0.840,
orthorhombic 0.950 -> 0.968; false cells: triclinic crystals given a monoclinic one 0.028 -> 0.035, monoclinic
crystals an orthorhombic one 0.048 -> 0.055. The monoclinic fit costs 2.0 -> 4.6 ms per line list, the
orthorhombic one 1.9 -> 2.8 ms (`indexing_v12` features of 80,000 crystals and one augmented copy each: ~23 min
on two cores, against ~18 for `indexing_v9`). 1,000 learned monoclinic assignments instead of 2,000 found
0.823 (assignments learned from the training split in that trial).

The "v12" table names every one of its 12,341 monoclinic learning crystals' first lines by 2,498 assignments:
the misses left are crystals unlike any it learned from, so more assignments from the same crystals do nothing
(4,000 found 0.847). The "v13" table learns from 180,000 default crystals and 40,000 of up to 80 atoms (seed
LARGE_LEARN_SEED: a larger cell's first lines are reflections of higher index than a small one's) and keeps 5,000 monoclinic assignments: on 300 validation crystals monoclinic cells found 0.840 -> 0.890,
triclinic false cells 0.040 -> 0.030, on 300 fresh crystals of up to 80 atoms 0.723 -> 0.777; the monoclinic
fit costs 4.5 -> 8.7 ms per line list (`scripts/study_learned_assignments.py`, which compares the recipes).

The "v14" table learns from the "v12" table's 60,000 crystals and 60,000 longer-cell ones (seed LONG_LEARN_SEED,
each axis's random factor log-uniform in (1/3, 3), not (1/2, 2)): the real structures whose cells the fits miss
are long in one direction, their first lines of index 2-8 along it, a kind the default generator seldom makes
(~6 % of its non-cubic cells are longer than 3:1, ~25 % here). On 300 fresh longer-cell crystals (seed 2) per
class, orthorhombic cells found 0.927 -> 0.943, monoclinic 0.660 -> 0.723; on the validation split 0.967 ->
0.970 and 0.840 -> 0.867; false cells (monoclinic crystals given an orthorhombic cell, triclinic ones a
monoclinic cell) 0.050 -> 0.053 and 0.040 -> 0.040 there, 0.120 -> 0.123 and 0.160 -> 0.153 on the longer
cells; the monoclinic fit keeps all 4,383 assignments its cover gives and costs ~1.8x the "v12" table's.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path

import numpy as np

from xrdnet.xrd import indexing_low, indexing_ortho, indexing_wide
from xrdnet.xrd.indexing import _Family
from xrdnet.xrd.indexing_impurity import STRONG_LINE_HEIGHT

LEARN_SEED = 101  # synthetic crystals the assignments are learned from (training uses 0, fresh screens 1)
LARGE_LEARN_SEED = 102  # `indexing_v13`'s large-cell learning crystals
LARGE_MAX_ATOMS = 80  # their atoms per conventional cell at most (training crystals: 40)
LONG_LEARN_SEED = 103  # `indexing_v14`'s longer-cell learning crystals
LONG_AXIS_RATIO = 3.0  # their cell axes' random factors span (1/3, 3) (training crystals: (1/2, 2))
ORTHORHOMBIC_HKL_LIMIT = 5  # learned orthorhombic reflections: 0 <= h, k, l <= this
MONOCLINIC_HKL_LIMIT = 3  # learned monoclinic reflections: |h|, k, l <= this (canonical, `indexing_low`)
N_ASSIGNMENT_LINES = 9  # assignments name lines among the first this many


@dataclasses.dataclass(frozen=True)
class StoredAssignments:
    """One stored table of learned assignments: its file, the sha256 the file must have, and what it was
    learned from (`scripts/learn_trial_assignments.py NAME` relearns it). The feature cache's key hashes this
    module's source, so a relearned table (a new file, its sha256 updated here) computes features anew."""

    path: Path
    sha256: str
    crystals: int  # default-generator crystals of LEARN_SEED
    large_crystals: int  # crystals of LARGE_LEARN_SEED with up to LARGE_MAX_ATOMS atoms
    long_crystals: int  # crystals of LONG_LEARN_SEED with axis_ratio LONG_AXIS_RATIO
    orthorhombic_assignments: int  # asked of the cover (it ends sooner once every crystal's lines are named)
    monoclinic_assignments: int

    @property
    def assignments(self) -> dict[str, int]:
        return {"orthorhombic": self.orthorhombic_assignments, "monoclinic": self.monoclinic_assignments}


TABLES = {
    # the orthorhombic cover ends at 875 assignments, the monoclinic one is cut at 2,000 of 2,498
    "v12": StoredAssignments(Path(__file__).with_name("learned_assignments.npz"),
                             "551ac0811f2bbd930dfe2fb67531d17aeb2811736e70ac0e279ce4e71c2cc235",
                             crystals=60000, large_crystals=0, long_crystals=0, orthorhombic_assignments=1000,
                             monoclinic_assignments=2000),
    # chosen on the fits' solve rates (scripts/study_learned_assignments.py); both covers are cut: orthorhombic
    # at 1,000 of 1,654 assignments, monoclinic at 5,000 of 5,549
    "v13": StoredAssignments(Path(__file__).with_name("learned_assignments_v13.npz"),
                             "6a6beb12e093470d6abf561fd57a81dfc090e14e1b85f3ff7e428a22b6b464a7",
                             crystals=180000, large_crystals=40000, long_crystals=0, orthorhombic_assignments=1000,
                             monoclinic_assignments=5000),
    # chosen on the fits' solve rates on longer-cell crystals (scripts/study_learned_assignments.py); the
    # orthorhombic cover is cut at 1,000 of 1,586 assignments, the monoclinic one keeps all it gives
    "v14": StoredAssignments(Path(__file__).with_name("learned_assignments_v14.npz"),
                             "6f87b6306a7e2e1bacfdc13f2cf19a029de166330627bd99fd38e9726323b3cd",
                             crystals=60000, large_crystals=0, long_crystals=60000, orthorhombic_assignments=1000,
                             monoclinic_assignments=10000),
}
ASSIGNMENTS_FILE, ASSIGNMENTS_SHA256 = TABLES["v12"].path, TABLES["v12"].sha256


# ---- reflections and true cells ----------------------------------------------------------------------

def orthorhombic_hkl() -> np.ndarray:
    """(s, 3) the learned orthorhombic reflections, 0 <= h, k, l <= ORTHORHOMBIC_HKL_LIMIT, not 000."""
    return indexing_ortho.orthorhombic_hkl(ORTHORHOMBIC_HKL_LIMIT)


def monoclinic_hkl() -> np.ndarray:
    """(s, 3) the learned monoclinic reflections: one of each set with equal Q² up to |index| <= MONOCLINIC_HKL_LIMIT
    (`indexing_low`'s)."""
    return indexing_low._canonical_hkl(MONOCLINIC_HKL_LIMIT)


def reciprocal_metric(structure, symprec: float = 0.1) -> np.ndarray:
    """(3, 3) reciprocal metric tensor (Å⁻², no 2π) of the structure's conventional standard cell."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    conventional = SpacegroupAnalyzer(structure, symprec=symprec).get_conventional_standard_structure()
    return conventional.lattice.reciprocal_lattice_crystallographic.metric_tensor


def orthorhombic_parameters(metric: np.ndarray) -> np.ndarray | None:
    """(A, B, C) of an orthorhombic reciprocal metric, axes ordered a >= b >= c; None if it is not diagonal."""
    if np.abs(metric - np.diag(np.diag(metric))).max() > 1e-6 * np.abs(metric).max():
        return None
    return np.sort(np.diag(metric))


def monoclinic_parameters(metric: np.ndarray) -> np.ndarray | None:
    """(B, A, C, D) of a monoclinic reciprocal metric (one axis orthogonal to the other two), its (h, l)
    plane Gauss-reduced and D = 2 a* c* cos β* >= 0; None without exactly one such axis."""
    off = np.abs(metric - np.diag(np.diag(metric)))
    unique = [axis for axis in range(3) if off[axis].max() <= 1e-6 * np.abs(metric).max()]
    if len(unique) != 1:
        return None
    i, j = (axis for axis in range(3) if axis != unique[0])
    plane = metric[np.ix_([i, j], [i, j])]
    u, v = indexing_low.gauss_reduced(plane)
    return np.array([metric[unique[0], unique[0]], u @ plane @ u, v @ plane @ v, abs(2.0 * float(u @ plane @ v))])


def index_lines_with_cell(q2: np.ndarray, tol: np.ndarray, calculated_q2: np.ndarray) -> list[int]:
    """For each line (Q², tolerance in Å⁻²), the index of the nearest calculated reflection within tolerance, else -1."""
    calculated_q2 = np.asarray(calculated_q2, dtype=float)
    out = []
    for value, tolerance in zip(q2, tol):
        gap = np.abs(calculated_q2 - value)
        best = int(np.argmin(gap))
        out.append(best if gap[best] <= tolerance else -1)
    return out


# ---- the stored assignments and the families that try them ----------------------------------------------

class AssignmentsFileError(RuntimeError):
    """The learned assignments file is missing or not the one this module was written for."""


def load_assignments(path: Path = ASSIGNMENTS_FILE, sha256: str = ASSIGNMENTS_SHA256) -> dict[str, np.ndarray]:
    """The stored arrays ({system}_hkl, {system}_positions, {system}_reflections), checked against sha256."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise AssignmentsFileError(f"{path}: cannot read the learned trial assignments ({error.strerror})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise AssignmentsFileError(f"{path}: not the learned trial assignments this code expects (sha256 differs); "
                                   "rerun scripts/learn_trial_assignments.py and set its table's sha256")
    with np.load(path) as arrays:
        return {name: arrays[name] for name in arrays.files}


def family_with_assignments(family: _Family, family_hkl: np.ndarray, hkl: np.ndarray, coefficients,
                            positions: np.ndarray, reflections: np.ndarray) -> _Family:
    """`family` trying these assignments (positions: line indices; reflections: rows of `hkl`) after its own,
    both on the reflections `hkl` (the family's own, `family_hkl`, must be among them)."""
    row = {tuple(r): n for n, r in enumerate(np.asarray(hkl).tolist())}
    own = np.array([row[tuple(r)] for r in np.asarray(family_hkl).tolist()], dtype=np.intp)[family.seed_tuples]
    return dataclasses.replace(
        family, seeds=coefficients(hkl), seed_tuples=np.concatenate([own, reflections]),
        seed_lines=np.concatenate([family.seed_lines, positions]),
        line_tuples_from=max(family.line_tuples_from, N_ASSIGNMENT_LINES))


def _with_learned(family: _Family, family_hkl: np.ndarray, system: str, coefficients, table: str) -> _Family:
    """`family` trying the stored assignments of `system` (TABLES[table]) after its own."""
    stored = load_assignments(TABLES[table].path, TABLES[table].sha256)
    return family_with_assignments(family, family_hkl, stored[f"{system}_hkl"], coefficients,
                                   stored[f"{system}_positions"], stored[f"{system}_reflections"])


@functools.cache  # built once per process and table
def learned_orthorhombic_family(table: str = "v12") -> _Family:
    """`indexing_v9`'s orthorhombic fit with the learned assignments of TABLES[table] tried too."""
    return _with_learned(indexing_wide.refined_orthorhombic_family(), indexing_ortho.orthorhombic_hkl(),
                         "orthorhombic", indexing_ortho.orthorhombic_coefficients, table)


@functools.cache
def learned_monoclinic_family(table: str = "v12") -> _Family:
    """`indexing_v9`'s monoclinic fit with the learned assignments of TABLES[table] tried too."""
    return _with_learned(indexing_wide.refined_monoclinic_family(), indexing_low._canonical_hkl(2),
                         "monoclinic", indexing_low.monoclinic_coefficients, table)


def line_features(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                  strong_line_height: float = STRONG_LINE_HEIGHT, table: str = "v12") -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v9` with its orthorhombic and monoclinic fits trying the assignments learned in
    TABLES[table] too (`indexing_v12`, `_v13`, `_v14`: the "v12", "v13", "v14" tables)."""
    return indexing_wide._v4_and_monoclinic(q2, heights, tol, strong_line_height, learned_orthorhombic_family(table),
                                            learned_monoclinic_family(table))


# `indexing_v16`: with v14's 5,383 monoclinic trial cells the right one often ranks below the screen's top 20 on the
# first 10 lines. Of the 71 monoclinic validation crystals (24,000 default crystals) whose cell v14's fit missed,
# refining 100 found 34 (all 5,383: 38); triclinic crystals given a false cell 4 -> 5 of 80; 24 -> 31 ms per fit.
MONOCLINIC_REFINED_V16 = 100


@functools.cache
def widely_refined_monoclinic_family(table: str = "v14", n_refine: int = MONOCLINIC_REFINED_V16) -> _Family:
    """`learned_monoclinic_family(table)` refining n_refine of its screened trial cells."""
    return dataclasses.replace(learned_monoclinic_family(table), n_refine=n_refine)


def line_features_v16(q2: np.ndarray, heights: np.ndarray, tol: np.ndarray,
                      strong_line_height: float = STRONG_LINE_HEIGHT) -> np.ndarray:
    """(N_FEATURES_V6,) `indexing_v14` with its monoclinic fit refining MONOCLINIC_REFINED_V16 screened trial cells."""
    return indexing_wide._v4_and_monoclinic(q2, heights, tol, strong_line_height, learned_orthorhombic_family("v14"),
                                            widely_refined_monoclinic_family("v14"))
