"""Powder indexing features against known cells: Si, NaCl (cubic F), rutile (tetragonal), ZnO (hexagonal), corundum (hR)."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.xrd import indexing
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid(5.0, 90.0, 0.04)
SETTINGS = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)

STRUCTURES = {
    "Si": lambda: Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]]),
    "NaCl": lambda: Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                              [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "rutile": lambda: Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"],
                                                [[0, 0, 0], [0.3053, 0.3053, 0]]),
    "ZnO": lambda: Structure.from_spacegroup("P6_3mc", Lattice.hexagonal(3.25, 5.207), ["Zn", "O"],
                                             [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.382]]),
    "corundum": lambda: Structure.from_spacegroup("R-3c", Lattice.hexagonal(4.759, 12.991), ["Al", "O"],
                                                  [[0, 0, 0.35216], [0.30624, 0, 0.25]]),
}


@pytest.fixture(scope="module")
def patterns():
    """name -> (simulated PeakList, rendered clean profile)."""
    simulator = XRDSimulator("CuKa")
    out = {}
    for name, build in STRUCTURES.items():
        peaks = simulator.simulate(build())
        profile = render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength)
        out[name] = (peaks, profile)
    return out


def _fits(peaks, profile):
    two_theta, _ = indexing.pick_peaks(profile, GRID.points)
    q2 = indexing.q_squared(two_theta, peaks.wavelength)[: indexing.N_FIT_LINES]
    tol = indexing.q_squared_tolerance(two_theta, peaks.wavelength)[: indexing.N_FIT_LINES]
    return {name: indexing.fit_family(name, q2, tol) for name in indexing.FAMILIES}


def test_q_squared_is_inverse_d_squared():
    # Bragg: d = λ / (2 sin θ); Si (111) d = 5.431/√3 Å at 2θ = 28.44° with λ = 1.54056 Å
    q2 = indexing.q_squared(np.array([28.44]), 1.54056)
    assert 1.0 / np.sqrt(q2[0]) == pytest.approx(5.431 / np.sqrt(3), rel=1e-3)


def test_picked_peaks_match_simulated_isolated_peaks(patterns):
    for name in ("Si", "NaCl"):
        peaks, profile = patterns[name]
        two_theta, heights = indexing.pick_peaks(profile, GRID.points)
        nearest = np.abs(two_theta[:, None] - peaks.two_theta[None, :]).min(axis=1)
        # isolated peaks: the parabola vertex is within a quarter of a grid step of the true position
        assert np.max(nearest) < 0.25 * GRID.step_deg, name
        # every line of a few % intensity is found (NaCl (331) at 1 % falls under the height threshold)
        strong = peaks.two_theta[peaks.intensity >= 3.0]
        assert np.abs(strong[:, None] - two_theta[None, :]).min(axis=1).max() < 0.25 * GRID.step_deg, name
        assert heights.max() == pytest.approx(1.0, abs=0.02)


def test_pick_peaks_survives_noise_and_caps_the_count(patterns):
    peaks, profile = patterns["Si"]
    rng = np.random.default_rng(0)
    noisy = profile + 0.004 * rng.standard_normal(profile.size)
    two_theta, _ = indexing.pick_peaks(noisy, GRID.points, smooth_points=3)
    assert len(two_theta) == len(peaks.two_theta)
    assert np.max(np.abs(two_theta - peaks.two_theta)) < 0.05
    assert len(indexing.pick_peaks(profile, GRID.points, max_peaks=3)[0]) == 3
    assert indexing.pick_peaks(np.zeros(GRID.n_points), GRID.points)[0].size == 0


@pytest.mark.parametrize("name, a", [("Si", 5.431), ("NaCl", 5.64)])
def test_cubic_crystals_index_as_cubic_f_with_the_right_cell(patterns, name, a):
    fits = _fits(*patterns[name])
    cubic = max((fits[f] for f in ("cubic_P", "cubic_I", "cubic_F")), key=lambda fit: fit.log_m)
    assert cubic.family == "cubic_F"
    assert cubic.fraction_indexed == 1.0
    assert cubic.params[0] == pytest.approx(1.0 / a**2, rel=2e-3)  # A = 1/a², not a multiple (no huge cell)
    # the primitive cubic cell indexes the same lines but predicts more: lower figure of merit
    assert fits["cubic_P"].n_calc > cubic.n_calc
    assert fits["cubic_P"].log_m < cubic.log_m


@pytest.mark.parametrize("name, family, params, others", [
    ("rutile", "tetragonal_P", [1 / 4.594**2, 1 / 2.959**2], ("cubic_P", "cubic_I", "cubic_F")),
    ("ZnO", "hexagonal", [4 / (3 * 3.25**2), 1 / 5.207**2],
     ("cubic_P", "cubic_I", "cubic_F", "tetragonal_P", "tetragonal_I")),
])
def test_uniaxial_structures_fit_their_own_family_and_not_the_higher_ones(patterns, name, family, params, others):
    fits = _fits(*patterns[name])
    best = fits[family]
    assert best.fraction_indexed == 1.0
    assert best.params == pytest.approx(params, rel=3e-3)
    for other in others:
        assert fits[other].fraction_indexed < 0.5
        assert fits[other].log_m < best.log_m - 2.0


def test_corundum_is_rhombohedral(patterns):
    fits = _fits(*patterns["corundum"])
    rhombohedral = fits["rhombohedral"]
    assert rhombohedral.fraction_indexed == 1.0
    assert rhombohedral.params == pytest.approx([4 / (3 * 4.759**2), 1 / 12.991**2], rel=3e-3)
    # the same cell read as hexagonal P predicts the lines hR forbids: twice the lines, lower M
    assert fits["hexagonal"].n_calc > 1.5 * rhombohedral.n_calc
    assert fits["hexagonal"].log_m < rhombohedral.log_m
    for other in ("cubic_P", "cubic_I", "cubic_F", "tetragonal_P", "tetragonal_I"):
        assert fits[other].fraction_indexed < 0.5


def test_feature_vector_layout(patterns):
    peaks, profile = patterns["ZnO"]
    features = indexing.indexing_features(profile, GRID.points, peaks.wavelength)
    assert features.shape == (indexing.N_FEATURES,) == (len(indexing.FEATURE_NAMES),)
    assert np.all(np.isfinite(features))
    named = dict(zip(indexing.FEATURE_NAMES, features))
    assert named["hexagonal_fraction_indexed"] == 1.0
    assert named["hexagonal_log_m"] > named["cubic_log_m"] + 2.0
    # ln(c/a) + ½ ln(4/3) for hexagonal axes
    assert named["hexagonal_log_c_over_a_ratio"] == pytest.approx(np.log(5.207 / 3.25) + 0.5 * np.log(4 / 3), abs=5e-3)
    groups = indexing.FEATURE_GROUPS
    assert sum(s.stop - s.start for s in groups.values()) == indexing.N_FEATURES
    empty = indexing.indexing_features(np.zeros(GRID.n_points), GRID.points, peaks.wavelength)
    assert empty.shape == (indexing.N_FEATURES,) and np.all(np.isfinite(empty))
    assert empty[groups["cubic"]].tolist() == [0.0] * (groups["cubic"].stop - groups["cubic"].start)
