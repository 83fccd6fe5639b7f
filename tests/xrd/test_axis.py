"""The axis the network reads: ln Q turns a change of cell size into a shift; the torch layer matches numpy."""

import math

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from xrdnet.models.resample import SubsampleAverage
from xrdnet.xrd.axis import ModelAxis
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

GRID = TwoThetaGrid()
LN_Q = ModelAxis("ln_q", 2048)
SETTINGS = ProfileSettings("pseudo_voigt", crystallite_size_nm=40.0)


def silicon(a: float = 5.431) -> Structure:
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(a), ["Si"], [[0, 0, 0]])


def ln_q_profile(structure: Structure, axis: ModelAxis = LN_Q) -> np.ndarray:
    peaks = XRDSimulator("CuKa", (5, 90)).simulate(structure)
    return axis.apply(render_profile(peaks.two_theta, peaks.intensity, GRID, SETTINGS, peaks.wavelength), GRID)


def test_ln_q_points_are_uniform_in_ln_sin_theta_over_the_grid():
    centers = LN_Q.centers_two_theta_deg(GRID)
    assert centers.shape == (2048,) and LN_Q.length(GRID) == 2048
    step = np.diff(np.log(np.sin(np.radians(centers / 2))))
    np.testing.assert_allclose(step, math.log(math.sin(math.radians(45)) / math.sin(math.radians(2.5))) / 2048)
    assert GRID.start_deg < centers[0] < centers[-1] < GRID.stop_deg


def test_silicon_111_lands_on_its_bragg_angle_on_the_ln_q_axis():
    profile = ln_q_profile(silicon())
    centers = LN_Q.centers_two_theta_deg(GRID)
    strongest = centers[np.argmax(profile)]
    assert strongest == pytest.approx(28.44, abs=0.045)  # Si (111), CuKα; one ln Q bin is 0.04° there


def test_a_cell_scaled_by_5_percent_shifts_the_ln_q_profile_by_ln_1_05():
    step = math.log(math.sin(math.radians(45)) / math.sin(math.radians(2.5))) / LN_Q.n_points
    small, large = ln_q_profile(silicon(5.431)), ln_q_profile(silicon(5.431 * 1.05))
    expected = math.log(1.05) / step  # larger d, smaller Q: the pattern moves down the axis
    lags = np.arange(1, 61)
    overlap = [np.dot(small[60:-60], np.roll(large, lag)[60:-60]) for lag in lags]
    assert lags[int(np.argmax(overlap))] == pytest.approx(expected, abs=1.0)
    # the shape is kept: once shifted back, the two profiles nearly coincide (Scherrer widths differ a little)
    shift = int(round(expected))
    assert np.abs(small[200:-200] - large[200 - shift:-200 - shift]).max() < 0.15


def test_two_theta_axis_is_the_grid_itself_and_sqrt_keeps_weak_lines():
    profile = render_profile([20.0, 40.0], [100.0, 4.0], GRID, SETTINGS, 1.5418)
    np.testing.assert_allclose(ModelAxis("two_theta").apply(profile, GRID), profile, atol=1e-6)
    rooted = ModelAxis("two_theta", intensity="sqrt").apply(profile, GRID)
    weak = np.argmin(np.abs(GRID.points - 40.0))
    assert rooted[weak] == pytest.approx(math.sqrt(profile[weak]), rel=1e-4)


@pytest.mark.parametrize("axis", [ModelAxis("ln_q", 1024), ModelAxis("ln_q", 2048, "sqrt"), ModelAxis("two_theta", intensity="sqrt")])
def test_torch_layer_matches_the_numpy_reference(axis):
    rng = np.random.default_rng(0)
    profiles = np.stack([render_profile(rng.uniform(6, 89, 30), rng.uniform(0, 100, 30), GRID, SETTINGS, 1.5418)
                         for _ in range(3)])
    positions = axis.sample_positions(GRID)
    if positions is None:
        positions = np.arange(GRID.n_points, dtype=float)[:, None]
    layer = SubsampleAverage(positions, sqrt=axis.intensity == "sqrt")
    out = layer(torch.from_numpy(profiles)).numpy()
    np.testing.assert_allclose(out, axis.apply(profiles, GRID), atol=2e-5)
    assert out.shape == (3, axis.length(GRID))


def test_unknown_axis_settings_are_refused():
    with pytest.raises(ValueError, match="unknown model axis"):
        ModelAxis("q_squared")
    with pytest.raises(ValueError, match="unknown intensity scale"):
        ModelAxis("ln_q", intensity="log")
