"""The kinematic XRD engine (the simulator's 'fast' engine) against pymatgen's XRDCalculator (same peaks, 2θ and intensities), and physics checks."""

from __future__ import annotations

import gzip
import json
import math
import os
import warnings

import numpy as np
import pytest
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from xrdnet.xrd import kinematic
from xrdnet.xrd.kinematic import UnsupportedStructureError, kinematic_peaks
from xrdnet.xrd.peak_list import PeakList
from xrdnet.xrd.peaks import ENGINES, NoPeaksError, XRDSimulator
from xrdnet.xrd.pymatgen_engine import absent_reflection_floor, pymatgen_peaks
from xrdnet.xrd.wavelengths import resolve_wavelength

CU_KA = resolve_wavelength("CuKa")
MO_KA = resolve_wavelength("MoKa")
RANGE = (5.0, 90.0)

# Agreement target: every peak above 1 % of the strongest, in both directions.
ABOVE = 1.0  # on the 0-100 scale
MAX_DTHETA = 1e-3  # degrees
MAX_DINTENSITY = 0.5  # on the 0-100 scale


def assert_same_peaks(structure, wavelength=CU_KA, two_theta_range=RANGE, debye_waller_factors=None):
    """Both engines' peaks above 1 %: each has a partner in the other list within 1e-3° and 0.5."""
    reference = pymatgen_peaks(structure, wavelength, two_theta_range, debye_waller_factors)
    fast = kinematic_peaks(structure, wavelength, two_theta_range, debye_waller_factors)
    assert len(reference) > 0 and len(fast) > 0
    for one, other, role in ((reference, fast, "missing from fast"), (fast, reference, "extra in fast")):
        for two_theta, intensity in zip(one.two_theta, one.intensity):
            if intensity < ABOVE:
                continue
            nearest = int(np.argmin(np.abs(other.two_theta - two_theta)))
            assert abs(other.two_theta[nearest] - two_theta) <= MAX_DTHETA, f"peak at {two_theta:.4f}° {role}"
            assert abs(other.intensity[nearest] - intensity) <= MAX_DINTENSITY, f"intensity at {two_theta:.4f}°"
    return reference, fast


def assert_identical_peak_lists(reference: PeakList, fast: PeakList):
    """Same peaks to the last bit in 2θ and d (same reciprocal points, same bins), intensities to 1e-9."""
    assert len(fast) == len(reference)
    np.testing.assert_array_equal(fast.two_theta, reference.two_theta)
    np.testing.assert_array_equal(fast.d_spacing, reference.d_spacing)
    np.testing.assert_allclose(fast.intensity, reference.intensity, rtol=0, atol=1e-9)
    # the representative hkl is one of pymatgen's family labels of the same peak
    for families, (representative,) in zip(reference.hkls, fast.hkls):
        assert representative in families


# ---------------------------------------------------------------- structures


def rock_salt(a=5.64) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def wurtzite_zno() -> Structure:  # hexagonal, P6_3mc
    return Structure.from_spacegroup(
        "P6_3mc", Lattice.hexagonal(3.2495, 5.2069), ["Zn", "O"], [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.3825]]
    )


def corundum() -> Structure:  # trigonal R-3c, hexagonal setting (30 atoms)
    return Structure.from_spacegroup(
        "R-3c", Lattice.hexagonal(4.7589, 12.991), ["Al", "O"], [[0, 0, 0.35216], [0.30624, 0, 0.25]]
    )


def baddeleyite() -> Structure:  # monoclinic ZrO2, P2_1/c
    return Structure.from_spacegroup(
        "P2_1/c",
        Lattice.monoclinic(5.1505, 5.2116, 5.3173, 99.23),
        ["Zr", "O", "O"],
        [[0.2754, 0.0395, 0.2083], [0.0700, 0.3317, 0.3447], [0.4496, 0.7569, 0.4792]],
    )


def triclinic() -> Structure:  # P-1, general positions
    return Structure.from_spacegroup(
        "P-1",
        Lattice.from_parameters(5.1, 6.3, 7.2, 78.0, 85.0, 102.0),
        ["Ca", "S", "O", "O"],
        [[0.13, 0.27, 0.41], [0.62, 0.18, 0.77], [0.31, 0.55, 0.09], [0.85, 0.71, 0.36]],
    )


def disordered_rock_salt() -> Structure:
    """Mixed cation site (Mg + Fe²⁺ + Fe³⁺, two species of one element) and 10 % oxygen vacancies."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.25), [{"Mg": 0.5, "Fe2+": 0.2, "Fe3+": 0.3}, {"O": 0.9}], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def with_anisotropic_displacements(structure: Structure, seed: int = 0) -> Structure:
    """A copy with U11_cif..U12_cif site properties (Å²), which switch on anisotropic Debye-Waller factors."""
    rng = np.random.default_rng(seed)
    structure = structure.copy()
    diagonal = rng.uniform(0.005, 0.03, (len(structure), 3))
    off_diagonal = rng.uniform(-0.003, 0.003, (len(structure), 3))
    for name, values in zip(("U11_cif", "U22_cif", "U33_cif"), diagonal.T):
        structure.add_site_property(name, values.tolist())
    for name, values in zip(("U23_cif", "U13_cif", "U12_cif"), off_diagonal.T):
        structure.add_site_property(name, values.tolist())
    return structure


@pytest.fixture(scope="module")
def aflow_sample() -> list[tuple[str, Structure]]:
    """21 of pymatgen's 288 AFLOW prototypes, every 14th (orthorhombic to cubic; the other systems are above)."""
    from pymatgen.analysis import prototypes

    path = os.path.join(os.path.dirname(prototypes.__file__), "aflow_prototypes.json.gz")
    with gzip.open(path, "rt") as handle:
        library = json.load(handle)  # plain JSON: much faster than monty's loadfn of the StructureNLs
    return [(entry["tags"]["aflow"], Structure.from_dict(entry["snl"])) for entry in library[::14]]


@pytest.fixture(scope="module")
def random_crystals() -> list[Structure]:
    """pyxtal random crystals in a spread of space groups, triclinic to cubic (R-3 in its hexagonal setting)."""
    from pyxtal import pyxtal

    recipes = [
        (2, ["Ca", "S", "O"], [2, 2, 8]),
        (14, ["Zr", "O"], [4, 8]),
        (62, ["Mg", "Si", "O"], [8, 4, 16]),
        (141, ["Y", "V", "O"], [4, 4, 16]),
        (148, ["Fe", "Ti", "O"], [6, 6, 18]),
        (194, ["Mo", "S"], [2, 4]),
        (227, ["Mg", "Al", "O"], [8, 16, 32]),
    ]
    structures = []
    for space_group, elements, counts in recipes:
        crystal = pyxtal()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            crystal.from_random(3, space_group, elements, counts, random_state=7)
        structures.append(crystal.to_pymatgen())
    return structures


# ---------------------------------------------------------------- agreement with pymatgen


@pytest.mark.parametrize(
    "make",
    [rock_salt, wurtzite_zno, corundum, baddeleyite, triclinic, disordered_rock_salt],
    ids=["cubic", "hexagonal", "trigonal-hexagonal-setting", "monoclinic", "triclinic", "disordered"],
)
def test_agrees_with_pymatgen_across_crystal_systems(make):
    reference, fast = assert_same_peaks(make())
    assert_identical_peak_lists(reference, fast)


def test_trigonal_rhombohedral_setting_agrees_and_matches_hexagonal_setting():
    hexagonal_setting = corundum()
    rhombohedral = SpacegroupAnalyzer(hexagonal_setting).get_primitive_standard_structure()
    a, b, c = rhombohedral.lattice.abc
    alpha, beta, gamma = rhombohedral.lattice.angles
    assert len(rhombohedral) == 10 and math.isclose(a, c) and math.isclose(alpha, gamma) and abs(alpha - 90) > 20
    reference, fast = assert_same_peaks(rhombohedral)
    assert_identical_peak_lists(reference, fast)
    # the same crystal in either cell gives the same powder pattern
    in_hexagonal_cell = kinematic_peaks(hexagonal_setting, CU_KA, RANGE)
    strong = fast.intensity > ABOVE
    strong_hexagonal = in_hexagonal_cell.intensity > ABOVE
    np.testing.assert_allclose(fast.two_theta[strong], in_hexagonal_cell.two_theta[strong_hexagonal], atol=1e-6)
    np.testing.assert_allclose(fast.intensity[strong], in_hexagonal_cell.intensity[strong_hexagonal], atol=1e-6)


def test_debye_waller_factors_agree_with_pymatgen():
    assert_same_peaks(corundum(), debye_waller_factors={"Al": 0.35, "O": 0.6})
    assert_same_peaks(disordered_rock_salt(), debye_waller_factors={"Fe": 0.5, "O": 1.1}, wavelength=MO_KA)


def test_anisotropic_displacements_from_site_properties_agree_with_pymatgen():
    reference, fast = assert_same_peaks(with_anisotropic_displacements(baddeleyite()))
    assert_identical_peak_lists(reference, fast)


def test_aflow_prototypes_agree_with_pymatgen(aflow_sample):
    assert len(aflow_sample) == 21
    for name, structure in aflow_sample:
        try:
            reference, fast = assert_same_peaks(structure)
            assert_identical_peak_lists(reference, fast)
        except AssertionError as error:
            raise AssertionError(f"AFLOW {name}: {error}") from None


@pytest.mark.parametrize(
    "wavelength, two_theta_range",
    [(MO_KA, (2.0, 60.0)), (MO_KA, (10.0, 120.0)), (resolve_wavelength("CrKa"), (20.0, 160.0)), (CU_KA, (0.0, 180.0))],
    ids=["MoKa-2-60", "MoKa-10-120", "CrKa-20-160", "CuKa-0-180"],
)
def test_other_wavelengths_and_ranges_agree(wavelength, two_theta_range, aflow_sample):
    for make in (wurtzite_zno, baddeleyite, triclinic):
        assert_same_peaks(make(), wavelength, two_theta_range)
    for _, structure in aflow_sample[::5]:
        assert_same_peaks(structure, wavelength, two_theta_range)


def test_random_pyxtal_crystals_agree(random_crystals):
    for structure in random_crystals:
        reference, fast = assert_same_peaks(structure)
        assert_identical_peak_lists(reference, fast)


def test_whole_limiting_sphere_when_range_is_none():
    structure = baddeleyite()
    pattern = XRDCalculator(wavelength=CU_KA).get_pattern(structure, two_theta_range=None)
    fast = kinematic_peaks(structure, CU_KA, None)
    np.testing.assert_array_equal(fast.two_theta, pattern.x)
    np.testing.assert_allclose(fast.intensity, pattern.y, atol=1e-9)
    assert fast.two_theta.max() > 170  # reaches back-scattering


def test_peaks_at_the_range_edges_are_kept_or_dropped_like_pymatgen():
    """Ranges ending exactly at, one ulp beside, or just short of a peak: pymatgen's rounding decides.

    Below a limiting radius 2 sin θ / λ of 1 Å⁻¹ pymatgen keeps |g| <= r; from 1 Å⁻¹ on (MoKa above
    2θ = 41.6° here) its neighbour search keeps |g|² < r² + 1e-8, so a peak about 1e-7° above the upper
    end of the range is still in, while 1e-6° above it is out.
    """
    structure = rock_salt()
    beyond_the_end = 0
    for wavelength, edges_from in ((CU_KA, 20.0), (MO_KA, 45.0)):
        peaks = pymatgen_peaks(structure, wavelength, RANGE)
        for edge in peaks.two_theta[peaks.two_theta > edges_from][:4]:
            low = edge - 5
            just_below, just_above = np.nextafter(edge, 0), np.nextafter(edge, 90)
            for two_theta_range in [(low, edge), (low, just_below), (edge, 90.0), (just_above, 90.0),
                                    (low, edge - 1e-7), (low, edge - 1e-6)]:
                reference = pymatgen_peaks(structure, wavelength, two_theta_range)
                fast = kinematic_peaks(structure, wavelength, two_theta_range)
                np.testing.assert_array_equal(fast.two_theta, reference.two_theta)
                beyond_the_end += int(np.any(fast.two_theta > two_theta_range[1]))
    assert beyond_the_end > 0


def test_chunked_phase_sums_give_the_same_peaks(monkeypatch):
    structure = corundum()
    whole = kinematic_peaks(structure, MO_KA, (5.0, 60.0))
    monkeypatch.setattr(kinematic, "_CHUNK_ENTRIES", 64)  # one h-plane per chunk
    chunked = kinematic_peaks(structure, MO_KA, (5.0, 60.0))
    np.testing.assert_array_equal(chunked.two_theta, whole.two_theta)
    np.testing.assert_allclose(chunked.intensity, whole.intensity, atol=1e-9)


def test_reflections_whose_angles_come_out_of_order_are_still_grouped_by_2theta_bin(monkeypatch):
    """pymatgen groups reflections by 2θ bin in a dict; sorting by |g| gives the same groups only while
    arcsin keeps the order, so an out-of-order angle must be regrouped, not split off."""
    simple_cubic = Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]])  # no absences: (100), (110), ... all there
    expected = kinematic_peaks(simple_cubic, CU_KA, RANGE)
    true_arcsin = np.arcsin

    def arcsin_with_first_two_swapped(x):
        theta = true_arcsin(x)
        return theta[[1, 0, *range(2, len(theta))]] if theta.ndim == 1 and len(theta) > 2 else theta

    monkeypatch.setattr(np, "arcsin", arcsin_with_first_two_swapped)
    swapped = kinematic_peaks(simple_cubic, CU_KA, RANGE)
    np.testing.assert_array_equal(swapped.two_theta, expected.two_theta)  # still ascending, nothing lost


# ---------------------------------------------------------------- physics, independent of pymatgen


def test_copper_peaks_sit_at_bragg_angles_of_allowed_fcc_reflections():
    a = 3.615  # Å
    copper = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Cu"], [[0, 0, 0]])
    peaks = kinematic_peaks(copper, CU_KA, RANGE)
    # fcc: h, k, l all even or all odd -> (111), (200), (220) below 90°
    expected = [2 * math.degrees(math.asin(CU_KA * math.sqrt(n) / (2 * a))) for n in (3, 4, 8)]
    np.testing.assert_allclose(peaks.two_theta, expected, atol=1e-9)
    assert peaks.hkls[0][0] == (1, 1, 1) and np.argmax(peaks.intensity) == 0


def test_every_peak_obeys_bragg_and_its_hkl_has_its_d_spacing():
    for make in (wurtzite_zno, baddeleyite, triclinic):
        structure = make()
        peaks = kinematic_peaks(structure, CU_KA, RANGE)
        np.testing.assert_allclose(peaks.d_spacing, CU_KA / (2 * np.sin(np.radians(peaks.two_theta / 2))), rtol=1e-12)
        for d_spacing, (hkl,) in zip(peaks.d_spacing, peaks.hkls):
            if len(hkl) == 4:  # hexagonal (h, k, i, l) with i = -h - k
                assert hkl[2] == -hkl[0] - hkl[1]
                hkl = (hkl[0], hkl[1], hkl[3])
            assert math.isclose(structure.lattice.d_hkl(hkl), d_spacing, rel_tol=1e-9)


def test_hexagonal_cells_get_four_index_labels():
    assert all(len(hkl) == 4 for (hkl,) in kinematic_peaks(wurtzite_zno(), CU_KA, RANGE).hkls)
    assert all(len(hkl) == 3 for (hkl,) in kinematic_peaks(baddeleyite(), CU_KA, RANGE).hkls)


def test_debye_waller_factor_damps_intensity_as_exp_minus_2_b_s_squared():
    """One B for every element multiplies each intensity by exp(-2 B s²), s = 1 / 2d (then rescaled)."""
    structure, b_factor = corundum(), 0.8  # Å²
    plain = kinematic_peaks(structure, CU_KA, RANGE)
    damped = kinematic_peaks(structure, CU_KA, RANGE, {"Al": b_factor, "O": b_factor})
    np.testing.assert_array_equal(damped.two_theta, plain.two_theta)
    strong = plain.intensity > ABOVE
    s_squared = (1 / (2 * plain.d_spacing[strong])) ** 2
    slope = np.polyfit(s_squared, np.log(damped.intensity[strong] / plain.intensity[strong]), 1)[0]
    assert slope == pytest.approx(-2 * b_factor, rel=1e-6)


def test_body_centred_iron_has_no_forbidden_reflections():
    iron = Structure(Lattice.cubic(2.8665), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    peaks = kinematic_peaks(iron, CU_KA, RANGE)
    # h + k + l even only: (110), (200), (211) below 90°, not (100), (111), (210)
    for (hkl,) in peaks.hkls:
        assert sum(hkl) % 2 == 0
    assert len(peaks) == 3


# ---------------------------------------------------------------- engine plumbing and bad input


def test_is_the_simulators_fast_engine():
    assert ENGINES["fast"] is kinematic_peaks
    structure = baddeleyite()
    simulated = XRDSimulator(wavelength="MoKa", two_theta_range=(3, 50), engine="fast").simulate(structure)
    direct = kinematic_peaks(structure, MO_KA, (3.0, 50.0))
    np.testing.assert_array_equal(simulated.two_theta, direct.two_theta)
    assert simulated.wavelength == MO_KA


def test_no_peaks_in_range_raises_no_peaks_error_through_the_simulator():
    copper = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.615), ["Cu"], [[0, 0, 0]])
    assert len(kinematic_peaks(copper, CU_KA, (5.0, 30.0))) == 0  # (111) is at 43.3°
    with pytest.raises(NoPeaksError, match="Cu"):
        XRDSimulator(two_theta_range=(5, 30), engine="fast").simulate(copper)


def test_only_systematic_absences_in_range_means_no_peaks():
    """bcc (100) lies in 5-40° but is forbidden: XRDCalculator rescales its round-off to 100, the
    reference engine drops it below absent_reflection_floor, and so must the kinematic engine."""
    iron = Structure(Lattice.cubic(2.8665), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert XRDCalculator(wavelength=CU_KA).get_pattern(iron, two_theta_range=(5.0, 40.0)).y.tolist() == [100.0]
    assert len(pymatgen_peaks(iron, CU_KA, (5.0, 40.0))) == 0
    with pytest.raises(NoPeaksError):
        XRDSimulator(two_theta_range=(5, 40), engine="fast").simulate(iron)


def test_absent_reflection_floor_is_the_reference_engines():
    for structure in (disordered_rock_salt(), corundum(), Structure(Lattice.cubic(4.0), [], [])):
        floor = kinematic.ABSENT_FLOOR_FRACTION * kinematic._Scatterers(structure).scale_squared
        assert floor == pytest.approx(absent_reflection_floor(structure), rel=1e-12)


def test_structure_without_atoms_has_no_peaks():
    assert len(kinematic_peaks(Structure(Lattice.cubic(4.0), [], []), CU_KA, RANGE)) == 0


def test_species_without_scattering_data_is_a_clear_error():
    structure = Structure(Lattice.cubic(4.0), ["Na", "Es"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    message = r"NaEs: no X-ray scattering-factor coefficients for species 'Es'"
    with pytest.raises(UnsupportedStructureError, match=message) as error:
        kinematic_peaks(structure, CU_KA, RANGE)
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_debye_waller_factors_with_displacement_properties_is_an_error():
    structure = with_anisotropic_displacements(baddeleyite())
    with pytest.raises(UnsupportedStructureError, match="cannot be combined"):
        kinematic_peaks(structure, CU_KA, RANGE, {"Zr": 0.3})


def test_displacement_properties_missing_on_a_site_is_a_clear_error():
    structure = with_anisotropic_displacements(rock_salt())
    structure.replace(0, "Na", properties={})  # site 0 loses its U values
    with pytest.raises(UnsupportedStructureError, match="NaCl: .*U11_cif"):
        kinematic_peaks(structure, CU_KA, RANGE)
