"""Reading off a scan whether it holds a Kα2 line beside each line (xrd.doublet)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.predictor import scan_radiation_kalpha2
from xrdnet.xrd.doublet import DoubletEvidence, candidate_doublet, doublet_evidence
from xrdnet.xrd.measured import subtract_background
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import WAVELENGTHS_ANGSTROM, Radiation, d_to_two_theta, two_theta_to_d

SILICON = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])


def scan(anode: str, doublet: bool, fwhm_deg: float = 0.08, counts: float | None = None,
         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Silicon on a 0.01° scan at the anode's Kα1 line, with each line's Kα2 line (Bragg's law for λ2, half
    as strong) when `doublet`; Poisson counts over a 5 % background when `counts` (strongest line) is given."""
    kalpha1, kalpha2 = WAVELENGTHS_ANGSTROM[f"{anode}Ka1"], WAVELENGTHS_ANGSTROM[f"{anode}Ka2"]
    peaks = XRDSimulator(f"{anode}Ka1", (5, 150)).simulate(SILICON)
    two_theta, intensity = peaks.two_theta, peaks.intensity
    if doublet:
        d = two_theta_to_d(peaks.two_theta, kalpha1)
        two_theta = np.concatenate([two_theta, d_to_two_theta(d, kalpha2)])
        intensity = np.concatenate([intensity, 0.5 * intensity])
    grid = TwoThetaGrid(10.0, 120.0 if anode == "Cu" else 60.0, 0.01)
    profile = render_profile(two_theta, intensity, grid, ProfileSettings("gaussian", fwhm_deg=fwhm_deg), kalpha1)
    if counts is None:
        return grid.points, profile
    expected = counts * profile / profile.max() + 0.05 * counts
    return grid.points, np.random.default_rng(seed).poisson(expected).astype(float)


def evidence(points, counts, anode: str) -> DoubletEvidence:
    return doublet_evidence(points, subtract_background(points, counts), Radiation.named(f"{anode}Ka"))


@pytest.mark.parametrize("anode", ["Cu", "Mo"])
def test_a_kalpha2_line_at_its_bragg_angle_reads_as_a_doublet_and_one_line_as_one_line(anode):
    with_kalpha2 = evidence(*scan(anode, doublet=True), anode)
    without = evidence(*scan(anode, doublet=False), anode)
    # stripping the doublet the physical way leaves nothing negative; the mirrored way digs holes
    assert with_kalpha2.forward < 0.01 < with_kalpha2.mirror
    assert with_kalpha2.contrast > 0.9 and with_kalpha2.verdict == "doublet"
    # one line: both ways dig the same holes
    assert without.forward > 0.05 and abs(without.contrast) < 0.1 and without.verdict == "one line"


def test_counting_noise_does_not_turn_the_verdict():
    for seed in range(3):
        assert evidence(*scan("Cu", doublet=True, counts=1e3, seed=seed), "Cu").verdict == "doublet"
        assert evidence(*scan("Cu", doublet=False, counts=1e3, seed=seed), "Cu").verdict == "one line"


def test_lines_broader_than_the_split_cannot_tell():
    # CuKα Kα2 lies 0.07° from Si (111) at 28.4°, 0.5° from (533) at 114.1°: lines 1.5° wide (a few-nm
    # crystallite) hide it everywhere, and the scan is read as declared; 0.5° lines show it at high angle
    assert evidence(*scan("Cu", doublet=True, fwhm_deg=1.5), "Cu").verdict == "cannot tell"
    assert evidence(*scan("Cu", doublet=False, fwhm_deg=1.5), "Cu").verdict == "cannot tell"
    assert evidence(*scan("Cu", doublet=True, fwhm_deg=0.5), "Cu").verdict == "doublet"


def test_the_candidate_doublet_of_a_line():
    cu = Radiation.named("CuKa")
    assert candidate_doublet(cu) is cu
    from_kalpha1 = candidate_doublet(Radiation.named("CuKa1"))
    assert from_kalpha1.kalpha1_angstrom == WAVELENGTHS_ANGSTROM["CuKa1"]
    assert from_kalpha1.kalpha2_angstrom == pytest.approx(WAVELENGTHS_ANGSTROM["CuKa2"])
    assert from_kalpha1.kalpha2_ratio == 0.5
    # 1.5406 Å as a file often writes CuKα1; 1.5418 Å the CuKα mean
    assert candidate_doublet(Radiation.named(1.5406)).kalpha1_angstrom == 1.5406
    assert candidate_doublet(Radiation.named(1.5418)) == cu
    assert candidate_doublet(Radiation.named("MoKa1")).kalpha2_angstrom == pytest.approx(WAVELENGTHS_ANGSTROM["MoKa2"])
    assert candidate_doublet(Radiation.named(0.8)) is None  # a synchrotron's line has no Kα2
    assert candidate_doublet(Radiation.named("CuKb1")) is None


def test_auto_follows_the_scan_and_a_given_choice_is_followed_as_given():
    doublet_points, doublet_counts = scan("Cu", doublet=True)
    radiation, strip, seen = scan_radiation_kalpha2(doublet_points, doublet_counts, Radiation.named("CuKa1"), "auto")
    assert (strip, seen) == (True, "doublet") and radiation.kalpha2_angstrom == pytest.approx(WAVELENGTHS_ANGSTROM["CuKa2"])
    radiation, strip, seen = scan_radiation_kalpha2(*scan("Cu", doublet=False), Radiation.named("CuKa"), "auto")
    assert (strip, seen) == (False, "one line") and not radiation.doublet
    assert radiation.kalpha1_angstrom == pytest.approx(WAVELENGTHS_ANGSTROM["CuKa1"], rel=1e-5)
    assert scan_radiation_kalpha2(doublet_points, doublet_counts, Radiation.named("CuKa"), "keep")[1:] == (False, "not looked")
    assert scan_radiation_kalpha2(doublet_points, doublet_counts, Radiation.named(0.8), "auto")[1:] == (False, "not looked")


def test_axial_divergence_asymmetry_is_not_a_doublet():
    """A lab instrument's split profile (Caglioti widths, a = A / tan 2θ with A = 0.2, four times the augmenter's
    largest) leans every line one way, as Kα2 does, but the line stays one line."""
    kalpha1, kalpha2 = WAVELENGTHS_ANGSTROM["CuKa1"], WAVELENGTHS_ANGSTROM["CuKa2"]
    peaks = XRDSimulator("CuKa1", (5, 150)).simulate(SILICON)
    grid = TwoThetaGrid(10.0, 120.0, 0.01)
    lab = ProfileSettings("gaussian", crystallite_size_nm=100, caglioti_uvw=(0.004, -0.002, 0.003), axial_asymmetry=0.2)
    for doublet, verdict in ((False, "one line"), (True, "doublet")):
        two_theta, intensity = peaks.two_theta, peaks.intensity
        if doublet:
            two_theta = np.concatenate([two_theta, d_to_two_theta(two_theta_to_d(two_theta, kalpha1), kalpha2)])
            intensity = np.concatenate([intensity, 0.5 * intensity])
        profile = render_profile(two_theta, intensity, grid, lab, kalpha1)
        counts = np.random.default_rng(0).poisson(1e4 * profile / profile.max() + 500).astype(float)
        assert evidence(grid.points, counts, "Cu").verdict == verdict
