"""Peak lists against known diffraction facts: silicon and rock salt at Cu and Mo radiation."""

import numpy as np
import pytest
from omegaconf import OmegaConf
from pymatgen.core import Lattice, Structure

from xrdnet.config import CONFIG_DIR
from xrdnet.xrd.peaks import NoPeaksError, XRDSimulator
from xrdnet.xrd.wavelengths import WAVELENGTHS_ANGSTROM, convert_two_theta

# diamond structure: fcc lattice with a two-atom basis (0,0,0), (1/4,1/4,1/4)
_FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
_DIAMOND = np.vstack([_FCC, _FCC + 0.25])


@pytest.fixture(scope="module")
def silicon() -> Structure:
    return Structure(Lattice.cubic(5.431), ["Si"] * 8, _DIAMOND)


@pytest.fixture(scope="module")
def rock_salt() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _peak_near(peaks, two_theta, tolerance):
    index = int(np.argmin(np.abs(peaks.two_theta - two_theta)))
    assert abs(peaks.two_theta[index] - two_theta) <= tolerance, (
        f"no peak within {tolerance}° of {two_theta}°; nearest {peaks.two_theta[index]:.3f}°")
    return index


def test_silicon_cu_ka1_peaks_match_reference_positions(silicon):
    peaks = XRDSimulator("CuKa1").simulate(silicon)
    # Si (111), (220), (311) with CuKα1 (λ = 1.54056 Å): 28.44°, 47.30°, 56.12° (PDF 27-1402)
    for hkl, two_theta in (((1, 1, 1), 28.44), ((2, 2, 0), 47.30), ((3, 1, 1), 56.12)):
        index = _peak_near(peaks, two_theta, 0.02)
        assert hkl in {tuple(sorted(map(abs, h), reverse=True)) for h in peaks.hkls[index]}
    assert peaks.strongest()[0] == pytest.approx(28.44, abs=0.02)  # (111) is the strongest line
    # the diamond glide extinguishes (200) (h + k + l = 4n + 2) although fcc allows it
    assert np.all(np.abs(peaks.two_theta - 32.96) > 0.5)


def test_silicon_cu_ka_mean_wavelength(silicon):
    peaks = XRDSimulator("CuKa").simulate(silicon)  # λ = 1.54184 Å, the Kα1/Kα2 weighted mean
    for two_theta in (28.47, 47.34, 56.17):
        _peak_near(peaks, two_theta, 0.05)
    assert peaks.wavelength == pytest.approx(1.54184)


def test_rock_salt_strongest_peak_is_200(rock_salt):
    peaks = XRDSimulator("CuKa").simulate(rock_salt)
    two_theta, intensity = peaks.strongest()
    assert two_theta == pytest.approx(31.7, abs=0.1)
    assert intensity == pytest.approx(100.0)
    index = int(np.argmax(peaks.intensity))
    assert (2, 0, 0) in {tuple(sorted(map(abs, h), reverse=True)) for h in peaks.hkls[index]}
    assert peaks.d_spacing[index] == pytest.approx(5.64 / 2, abs=1e-6)
    # Na+ and Cl- scatter nearly in antiphase for odd hkl, so (111) is weak
    weak = _peak_near(peaks, 27.37, 0.1)
    assert peaks.intensity[weak] < 15


def test_changing_wavelength_moves_every_peak_by_braggs_law(rock_salt):
    copper = XRDSimulator("CuKa", (10, 90)).simulate(rock_salt)
    molybdenum = XRDSimulator("MoKa", (5, 90)).simulate(rock_salt)
    assert molybdenum.two_theta.max() < 90 and len(molybdenum) > len(copper)  # shorter λ reaches smaller d
    expected = convert_two_theta(copper.two_theta, WAVELENGTHS_ANGSTROM["CuKa"], WAVELENGTHS_ANGSTROM["MoKa"])
    for d, two_theta in zip(copper.d_spacing, expected):
        index = int(np.argmin(np.abs(molybdenum.d_spacing - d)))
        assert molybdenum.d_spacing[index] == pytest.approx(d, rel=1e-9)  # same planes
        assert molybdenum.two_theta[index] == pytest.approx(two_theta, abs=1e-6)
        assert np.sin(np.radians(two_theta / 2)) == pytest.approx(WAVELENGTHS_ANGSTROM["MoKa"] / (2 * d))


def test_range_without_reflections_raises_no_peaks_error(silicon):
    # the largest Si spacing, d(100) = 5.431 Å (and that one is extinct), diffracts above 16° with CuKα
    with pytest.raises(NoPeaksError, match=r"Si: no allowed reflection between 2θ = 5° and 10° at λ = 1.54184 Å"):
        XRDSimulator("CuKa", (5, 10)).simulate(silicon)
    # the same spacing needs 2θ >= 7.5° with MoKα
    with pytest.raises(NoPeaksError, match="no allowed reflection"):
        XRDSimulator("MoKa", (5, 7)).simulate(silicon)


def test_range_with_only_extinct_reflections_raises_no_peaks_error(silicon):
    # (100) at 16.3° is extinct in the diamond structure; the first allowed line, (111), is at 28.5°
    with pytest.raises(NoPeaksError):
        XRDSimulator("CuKa", (5, 20)).simulate(silicon)


def test_bad_wavelength_name_is_a_clear_value_error():
    with pytest.raises(ValueError, match="unknown wavelength 'CuKz'"):
        XRDSimulator("CuKz")
    with pytest.raises(ValueError, match="positive"):
        XRDSimulator(-1.0)


def test_simulator_default_engine_is_the_one_training_data_uses():
    # so every test that builds XRDSimulator() exercises the production engine
    configured = OmegaConf.load(CONFIG_DIR / "data" / "xrd.yaml").simulation.engine
    assert XRDSimulator().engine == configured == "fast"
