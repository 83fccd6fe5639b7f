"""The cell behind a crystal-system call (`xrdnet.xrd.cell`): the textbook structures' cells come back from
their simulated patterns, and lines that no cell indexes give none."""

import numpy as np
import pytest

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.structures.reference import REFERENCE_STRUCTURES
from xrdnet.xrd.cell import (IndexedCell, index_lines, index_profile, index_profile_systems, lines_admit_call,
                             more_symmetric_cell, more_symmetric_systems)
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
CU_KA1 = 1.5405929
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)

# the cell each structure's lines must give: lattice symbol, a, b, c (Å), β (degrees); orthorhombic axes a ≤ b ≤ c
EXPECTED = {
    "Si (diamond)": ("cF", 5.431, 5.431, 5.431, 90.0),
    "NaCl (rock salt)": ("cF", 5.640, 5.640, 5.640, 90.0),
    "CsCl": ("cP", 4.123, 4.123, 4.123, 90.0),
    "TiO2 (rutile)": ("tP", 4.594, 4.594, 2.959, 90.0),
    "TiO2 (anatase)": ("tI", 3.785, 3.785, 9.514, 90.0),
    "ZnO (wurtzite)": ("hP", 3.250, 3.250, 5.207, 90.0),
    "C (graphite)": ("hP", 2.464, 2.464, 6.711, 90.0),
    "Al2O3 (corundum)": ("hR", 4.759, 4.759, 12.991, 90.0),  # rhombohedral, on hexagonal axes
    "CaCO3 (calcite)": ("hR", 4.990, 4.990, 17.062, 90.0),
    "SiO2 (alpha-quartz)": ("hP", 4.913, 4.913, 5.405, 90.0),  # trigonal-P: a primitive hexagonal lattice
    "Mg2SiO4 (forsterite)": ("oP", 4.75, 5.98, 10.19, 90.0),
    "ZrO2 (baddeleyite)": ("mP", 5.150, 5.212, 5.317, 99.23),
}


def _profile(entry) -> np.ndarray:
    peaks = XRDSimulator(CU_KA1).simulate(entry.structure())
    return render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, CU_KA1)


def test_every_textbook_structure_has_an_expected_cell():
    assert set(EXPECTED) == {entry.name for entry in REFERENCE_STRUCTURES}


@pytest.mark.parametrize("entry", REFERENCE_STRUCTURES, ids=lambda entry: entry.name)
def test_the_textbook_cells_come_back_from_their_patterns(entry):
    lattice, a, b, c, beta = EXPECTED[entry.name]
    cell = index_profile(_profile(entry), GRID.points, CU_KA1, CRYSTAL_SYSTEMS[entry.label], curvature=True)
    assert isinstance(cell, IndexedCell), f"{entry.name}: no cell found"
    assert cell.lattice == lattice
    np.testing.assert_allclose([cell.a, cell.b, cell.c], [a, b, c], rtol=2e-3)
    assert abs(cell.beta - beta) < 0.2
    assert cell.fraction_indexed >= 0.9 and cell.figure_of_merit > 20  # a clean pattern fits its cell well
    text = cell.describe()
    assert text.startswith(lattice) and f"a={cell.a:.3f}" in text


# centred orthorhombic and monoclinic lattices: (space group, cell a, b, c (Å), β, species, sites) and the expected
# Pearson symbol; α-uranium's is the one-face-centred (C) orthorhombic metal
CENTRED = {
    "alpha-U": (("Cmcm", (2.854, 5.869, 4.955, 90.0), ["U"], [[0, 0.1025, 0.25]]), "oS"),
    "Immm": (("Immm", (3.1, 4.4, 6.3, 90.0), ["Cu", "O"], [[0, 0, 0], [0, 0, 0.33]]), "oI"),
    "Fmmm": (("Fmmm", (4.1, 5.4, 7.3, 90.0), ["Cu", "O"], [[0, 0, 0], [0, 0, 0.3]]), "oF"),
    "C2/m": (("C2/m", (9.7, 3.9, 6.1, 105.0), ["Si", "O"], [[0.1, 0, 0.3], [0.35, 0, 0.15]]), "mS"),
}


@pytest.mark.parametrize("name", CENTRED)
def test_a_centred_lattice_is_reported_centred_with_the_m_of_its_own_lines(name):
    from pymatgen.core import Lattice, Structure

    from xrdnet.xrd import indexing

    (group, (a, b, c, beta), species, sites), lattice = CENTRED[name]
    cell_lattice = Lattice.monoclinic(a, b, c, beta) if beta != 90.0 else Lattice.orthorhombic(a, b, c)
    peaks = XRDSimulator(CU_KA1).simulate(Structure.from_spacegroup(group, cell_lattice, species, sites))
    profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, CU_KA1)
    system = "monoclinic" if lattice.startswith("m") else "orthorhombic"
    cell = index_profile(profile, GRID.points, CU_KA1, system, curvature=True)
    assert cell.lattice == lattice and cell.fraction_indexed == 1.0
    np.testing.assert_allclose(sorted([cell.a, cell.b, cell.c]), sorted([a, b, c]), rtol=2e-3)  # the conventional cell
    # the primitive count of the same cell puts in the centring's absent reflections: M 2x (S, I) or 4x (F) lower
    two_theta, _ = indexing.pick_peaks(profile, GRID.points, curvature=True)
    q2 = indexing.q_squared(two_theta, CU_KA1)[:indexing.N_FIT_LINES]
    tol = indexing.q_squared_tolerance(two_theta, CU_KA1)[:indexing.N_FIT_LINES]
    from xrdnet.xrd.cell import UNINDEXED_ALLOWED, _family

    primitive = indexing.fit_family(_family(system), q2, tol, UNINDEXED_ALLOWED)
    factor = 4.0 if lattice == "oF" else 2.0
    assert cell.figure_of_merit / np.exp(primitive.log_m) == pytest.approx(factor, rel=0.3)


def test_silicon_cell_from_its_111_line_position():
    # Bragg's law with CuKα1: the (111) line at 28.44° means d = 3.1356 Å, a = d·√3 = 5.431 Å
    lines = np.array([28.443, 47.303, 56.122, 69.130, 76.377, 88.029])  # 111, 220, 311, 400, 331, 422
    cell = index_lines(lines, CU_KA1, "cubic")
    assert cell.lattice == "cF" and abs(cell.a - 5.431) < 0.002 and cell.fraction_indexed == 1.0


def test_lines_no_cell_indexes_give_none():
    rng = np.random.default_rng(0)
    lines = np.sort(rng.uniform(10.0, 80.0, 20))
    for system in ("cubic", "tetragonal", "hexagonal", "trigonal"):
        assert index_lines(lines, CU_KA1, system) is None, system


def test_triclinic_has_no_cell_and_an_unknown_system_none():
    si = next(entry for entry in REFERENCE_STRUCTURES if entry.name.startswith("Si"))
    profile = _profile(si)
    assert index_profile(profile, GRID.points, CU_KA1, "triclinic") is None
    assert index_profile(profile, GRID.points, CU_KA1, "quasicrystal") is None


def test_a_cubic_pattern_read_as_tetragonal_gives_a_cell_with_c_equal_a():
    # the cubic metric is the tetragonal one's c = a limit: a call one system too low still shows the lattice
    nacl = next(entry for entry in REFERENCE_STRUCTURES if entry.name.startswith("NaCl"))
    cell = index_profile(_profile(nacl), GRID.points, CU_KA1, "tetragonal", curvature=True)
    assert cell is not None and cell.lattice in ("tP", "tI")
    assert min(abs(cell.c / cell.a - ratio) for ratio in (1.0, 2 ** 0.5, 0.5 ** 0.5)) < 2e-3


def test_a_monoclinic_cell_is_reported_in_its_reduced_setting():
    # baddeleyite's ac plane named by a' = a + c and c: the same lattice, the same reduced cell
    from xrdnet.xrd.cell import reduced_monoclinic

    a, c, beta = 5.150, 5.317, 99.23
    u = np.array([a, 0.0])
    v = c * np.array([np.cos(np.radians(beta)), np.sin(np.radians(beta))])
    w = u + v
    beta_w = np.degrees(np.arccos(w @ v / (np.linalg.norm(w) * np.linalg.norm(v))))
    for cell in ((a, 5.212, c, beta), (float(np.linalg.norm(w)), 5.212, c, float(beta_w)), (c, 5.212, a, beta)):
        np.testing.assert_allclose(reduced_monoclinic(*cell), (a, 5.212, c, beta), atol=1e-9)



def _orthorhombic_structure(a: float, b: float, c: float):
    """Two atoms in Pmmm-like sites of an orthorhombic cell (Å): every hkl allowed, intensities varied."""
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.orthorhombic(a, b, c), ["Cu", "O"], [[0, 0, 0], [0.5, 0.5, 0.31]])


@pytest.mark.parametrize("b, admitted", [(4.002, True), (4.30, False)])
def test_lines_of_a_pseudo_tetragonal_cell_admit_a_tetragonal_call(b, admitted):
    # a = 4.000, b = 4.002 Å: the 0.05 % split of hkl and khl is far below the ~0.35° line width (25 nm crystallites),
    # so a tetragonal cell indexes every line and positions alone call it tetragonal; b = 4.30 splits them clearly
    peaks = XRDSimulator(CU_KA1).simulate(_orthorhombic_structure(4.0, b, 6.0))
    profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, CU_KA1)
    cells = index_profile_systems(profile, GRID.points, CU_KA1, ("orthorhombic", "tetragonal"), curvature=True)
    orthorhombic, tetragonal = cells["orthorhombic"], cells["tetragonal"]
    assert orthorhombic == index_profile(profile, GRID.points, CU_KA1, "orthorhombic", curvature=True)
    assert lines_admit_call("tetragonal", tetragonal, "orthorhombic", orthorhombic) is admitted
    if admitted:
        assert abs(tetragonal.a - 4.001) < 0.01 and abs(tetragonal.c - 6.0) < 0.01


def test_a_less_symmetric_call_is_never_admitted():
    # silicon's lines index in a tetragonal cell (a = c) as well as in its cubic one, but the cubic cell
    # needs fewer calculated lines: positions favour cubic, so a tetragonal call is the model's mistake
    lines = np.array([28.443, 47.303, 56.122, 69.130, 76.377, 88.029])
    cubic, tetragonal = index_lines(lines, CU_KA1, "cubic"), index_lines(lines, CU_KA1, "tetragonal")
    assert tetragonal is not None and tetragonal.fraction_indexed == 1.0
    assert not lines_admit_call("tetragonal", tetragonal, "cubic", cubic)
    assert lines_admit_call("cubic", cubic, "tetragonal", tetragonal)  # the reverse: a cubic call of these lines stands
    assert not lines_admit_call("cubic", None, "tetragonal", tetragonal)  # no cell: nothing admitted


def test_more_symmetric_systems_rank_by_holohedry_and_leave_out_a_trigonal_calls_own_lattice():
    assert more_symmetric_systems("orthorhombic") == ("cubic", "tetragonal", "trigonal", "hexagonal")
    assert more_symmetric_systems("triclinic") == ("cubic", "tetragonal", "trigonal", "hexagonal", "orthorhombic", "monoclinic")
    assert more_symmetric_systems("trigonal") == ("cubic", "tetragonal")  # hP is a trigonal call's own lattice
    assert more_symmetric_systems("hexagonal") == ("cubic",)
    assert more_symmetric_systems("cubic") == ()


def test_silicon_lines_called_tetragonal_name_the_cubic_cell_an_indexing_program_reports():
    # silicon's six lines index in a tetragonal cell (a = c) and in the cubic one: an indexing program reports
    # the most symmetric lattice, so a tetragonal call of them points to the cubic cell
    lines = np.array([28.443, 47.303, 56.122, 69.130, 76.377, 88.029])
    cells = {system: index_lines(lines, CU_KA1, system) for system in ("tetragonal", *more_symmetric_systems("tetragonal"))}
    system, cell = more_symmetric_cell("tetragonal", cells)
    assert system == "cubic" and cell.lattice == "cF" and abs(cell.a - 5.431) < 0.002
    assert more_symmetric_cell("cubic", {"cubic": cells["cubic"]}) is None  # nothing above cubic


@pytest.mark.parametrize("b, expected", [(4.002, "tetragonal"), (4.30, None)])
def test_an_orthorhombic_call_points_to_a_tetragonal_cell_only_where_the_lines_cannot_split(b, expected):
    # a = 4.000, b = 4.002 Å: hkl and khl lie within a line width, a tetragonal cell indexes every line;
    # b = 4.30 splits them, the tetragonal fit leaves lines unindexed and no more symmetric cell is named
    peaks = XRDSimulator(CU_KA1).simulate(_orthorhombic_structure(4.0, b, 6.0))
    profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, CU_KA1)
    cells = index_profile_systems(profile, GRID.points, CU_KA1, ("orthorhombic", *more_symmetric_systems("orthorhombic")),
                                  curvature=True)
    found = more_symmetric_cell("orthorhombic", cells)
    assert (found and found[0]) == expected


def test_a_more_symmetric_cell_must_index_as_many_lines_as_the_calls_own():
    def cell(fraction, m):
        return IndexedCell("cP", 4.0, 4.0, 4.0, 90.0, 90.0, 90.0, fraction, m, 20)

    assert more_symmetric_cell("hexagonal", {"hexagonal": cell(0.90, 300.0), "cubic": cell(1.0, 400.0)})[0] == "cubic"
    assert more_symmetric_cell("hexagonal", {"hexagonal": cell(1.0, 300.0), "cubic": cell(0.95, 400.0)}) is None
    assert more_symmetric_cell("hexagonal", {"hexagonal": None, "cubic": cell(1.0, 8.0)}) is None  # M below 10
    assert more_symmetric_cell("hexagonal", {"hexagonal": None, "cubic": None}) is None
    # a supercell that indexes as many lines at under half the best M is not reported; the better cell is
    assert more_symmetric_cell("orthorhombic", {"orthorhombic": cell(0.9, 387.0), "cubic": cell(1.0, 130.0)}) is None
    found = more_symmetric_cell("orthorhombic", {"orthorhombic": cell(0.9, 387.0), "cubic": cell(1.0, 130.0),
                                                 "tetragonal": cell(1.0, 451.0)})
    assert found[0] == "tetragonal"
