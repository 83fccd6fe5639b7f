"""Centring-aware figures of merit (`indexing_centred`, the `indexing_v15` set) on line lists of known lattices."""

import itertools
import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.xrd import indexing, indexing_centred, learned_assignments
from xrdnet.xrd.indexing_centred import CENTRINGS, centred_figures

WAVELENGTH = 1.5406  # CuKα1, Å


def _lines(system, params, centring, q2_max=0.45, n_lines=20):
    """Exact Q² (Å⁻²) of the first distinct lines a lattice of this centring gives, and their tolerances."""
    listing = (indexing_centred.orthorhombic_reflections if system == "orthorhombic"
               else indexing_centred.monoclinic_reflections)
    hkl, q2 = listing(np.asarray(params, dtype=float), q2_max)
    q2 = np.unique(np.round(q2[CENTRINGS[centring](*hkl.T)], 9))[:n_lines]
    two_theta = np.degrees(2.0 * np.arcsin(np.sqrt(q2) * WAVELENGTH / 2.0))
    return q2, indexing.q_squared_tolerance(two_theta, WAVELENGTH)


def test_listed_reflections_are_every_reflection_up_to_the_limit_once():
    params = np.array([1 / 4.1**2, 1 / 5.3**2, 1 / 7.9**2])
    hkl, q2 = indexing_centred.orthorhombic_reflections(params, 0.3)
    brute = {(h, k, l) for h, k, l in itertools.product(range(12), repeat=3)
             if 0 < (h * h * params[0] + k * k * params[1] + l * l * params[2]) <= 0.3}
    assert {tuple(r) for r in hkl.tolist()} == brute
    # monoclinic: one of each ±(h, k, l), and h k l ≡ h -k l; Q² as the metric tensor gives it
    a, b, c, beta = 6.2, 4.4, 8.1, math.radians(104.0)
    lattice = Lattice.monoclinic(a, b, c, math.degrees(beta))
    a_star, c_star = 1 / (a * math.sin(beta)), 1 / (c * math.sin(beta))
    params = np.array([1 / b**2, a_star**2, c_star**2, 2 * a_star * c_star * math.cos(math.pi - beta)])
    hkl, q2 = indexing_centred.monoclinic_reflections(params, 0.25)
    reciprocal = lattice.reciprocal_lattice_crystallographic
    expected = np.array([reciprocal.get_cartesian_coords(r) @ reciprocal.get_cartesian_coords(r) for r in hkl])
    assert np.allclose(q2, expected, rtol=1e-9)
    def orbit(h, k, l):  # the reflections 2/m makes equivalent (Friedel pairs included)
        return frozenset({(h, k, l), (-h, -k, -l), (h, -k, l), (-h, k, -l)})

    brute = {orbit(*r) for r in itertools.product(range(-12, 13), repeat=3)
             if 0 < reciprocal.get_cartesian_coords(r) @ reciprocal.get_cartesian_coords(r) <= 0.25}
    assert {orbit(*r) for r in hkl.tolist()} == brute and len(hkl) == len(brute)


@pytest.mark.parametrize("centring, factor", [("C", 2), ("A", 2), ("B", 2), ("I", 2), ("F", 4)])
def test_a_centred_orthorhombic_cell_scores_its_centring_higher_by_the_lines_it_removes(centring, factor):
    params = np.array([1 / 3.9**2, 1 / 6.7**2, 1 / 9.2**2])
    q2, tol = _lines("orthorhombic", params, centring)
    figures = centred_figures("orthorhombic", params, q2, tol)
    best = max(figures, key=lambda name: figures[name][0])
    assert best == centring
    assert figures[centring][1] == 1.0 and figures["P"][1] == 1.0  # the primitive cell indexes every line too
    # same ε̄ (exact lines), N_calc smaller by the centring's factor, up to the few lines near the last one
    assert figures[centring][0] - figures["P"][0] == pytest.approx(math.log(factor), abs=0.15)


def test_a_primitive_cell_keeps_p_and_a_wrong_centring_loses_lines():
    params = np.array([1 / 4.3**2, 1 / 5.1**2, 1 / 8.8**2])
    q2, tol = _lines("orthorhombic", params, "P")
    figures = centred_figures("orthorhombic", params, q2, tol)
    assert max(figures, key=lambda name: figures[name][0]) == "P"
    for name in ("A", "B", "C", "I", "F"):
        assert figures[name][1] < 0.9  # lines the centring forbids are left unindexed


def test_a_c_centred_monoclinic_cell_is_read_centred_and_a_primitive_one_primitive():
    a, b, c, beta = 9.7, 3.9, 6.1, math.radians(105.0)
    a_star, c_star = 1 / (a * math.sin(beta)), 1 / (c * math.sin(beta))
    params = np.array([1 / b**2, a_star**2, c_star**2, 2 * a_star * c_star * math.cos(math.pi - beta)])
    q2, tol = _lines("monoclinic", params, "C")
    figures = centred_figures("monoclinic", params, q2, tol)
    assert max(figures, key=lambda name: figures[name][0]) == "C"
    assert figures["C"][0] - figures["P"][0] == pytest.approx(math.log(2), abs=0.15)
    q2, tol = _lines("monoclinic", params, "P")
    figures = centred_figures("monoclinic", params, q2, tol)
    assert max(figures, key=lambda name: figures[name][0]) == "P"


def test_v15_is_v14_then_the_centred_figures_of_its_own_fits():
    # α-uranium (Cmcm, oC): the one-face-centred orthorhombic cell
    uranium = Structure.from_spacegroup("Cmcm", Lattice.orthorhombic(2.854, 5.869, 4.955), ["U"], [[0, 0.1025, 0.25]])
    from xrdnet.xrd.peaks import XRDSimulator

    peaks = XRDSimulator("CuKa").simulate(uranium)
    heights = peaks.intensity / peaks.intensity.max()
    keep = heights >= 0.01
    two_theta, heights = peaks.two_theta[keep], heights[keep]
    q2 = indexing.q_squared(two_theta, peaks.wavelength)
    tol = indexing.q_squared_tolerance(two_theta, peaks.wavelength)
    v15 = indexing_centred.line_features_v15(q2, heights, tol)
    v14 = learned_assignments.line_features(q2, heights, tol, table="v14")
    assert v15.shape == (indexing_centred.N_FEATURES_V15,)
    assert np.array_equal(v15[:v14.size], v14)  # recording the fits changes none of them
    centred = dict(zip(indexing_centred.CENTRED_NAMES, v15[v14.size:]))
    assert centred["all_orthorhombic_log_m_gain"] == pytest.approx(math.log(2), abs=0.2)
    # the centred orthorhombic cell now beats the monoclinic description of its primitive cell
    assert centred["all_orthorhombic_log_m_centred"] > centred["all_monoclinic_log_m_centred"]
    assert indexing._RECORDS == []  # the recording ends with its block


def test_recorded_fits_sees_each_family_and_nests():
    q2, tol = _lines("orthorhombic", np.array([1 / 3.9**2, 1 / 6.7**2, 1 / 9.2**2]), "P")
    with indexing.recorded_fits() as outer:
        indexing.fit_families(["cubic_P", "orthorhombic"], q2, tol)
        with indexing.recorded_fits() as inner:
            indexing.fit_family("tetragonal_P", q2, tol)
    assert [r.family for r in outer] == ["cubic_P", "orthorhombic", "tetragonal_P"]
    assert [r.family for r in inner] == ["tetragonal_P"]
    assert outer[1].fit is not None and np.array_equal(outer[1].q2, q2)
    assert indexing._RECORDS == []
