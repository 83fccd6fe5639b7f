"""The independent robustness check: xrayutilities' peak positions, the scans of each condition, a tiny scored run,
and the screen on synthetic validation crystals."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.predictor import CrystalSystemPredictor
from xrdnet.pretrained import shipped_checkpoint
from xrdnet.robustness import (CONDITIONS, SCAN_LINES_ANGSTROM, Condition, measured_scan, predict_profile,
                               prototype_peak_lists, score_conditions)
from xrdnet.xrd.independent import independent_peaks, line_wavelength
from xrdnet.xrd.wavelengths import d_to_two_theta

SILICON = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "independent_robustness.py"


def test_xrayutilities_puts_si_111_at_28_44_degrees_with_cu_kalpha1():
    two_theta, intensity = independent_peaks(SILICON)
    assert line_wavelength() == pytest.approx(1.54059, abs=1e-4)
    assert two_theta[0] == pytest.approx(28.44, abs=0.01) and intensity[0] == 100.0  # (111), the strongest
    assert two_theta[1] == pytest.approx(47.30, abs=0.01)  # (220); (200) is forbidden in the diamond structure
    assert np.all(np.diff(two_theta) > 0)


def test_condition_scans_carry_their_effect():
    rng = np.random.default_rng(0)
    lines = (np.array([28.44]), np.array([100.0]))
    noiseless = Condition("x", counts=None, fwhm_deg=0.05)
    points, plain = measured_scan(*lines, 1.5405929, noiseless, rng)
    assert points[np.argmax(plain)] == pytest.approx(28.44, abs=0.006)
    _, doublet = measured_scan(*lines, 1.5405929, Condition("x", counts=None, fwhm_deg=0.05, kalpha2=True), rng)
    kalpha2 = 2 * np.degrees(np.arcsin(1.544414 / 1.5405929 * np.sin(np.radians(14.22))))
    second = np.abs(points - kalpha2) < 0.02
    assert doublet[second].max() / doublet.max() == pytest.approx(0.5, rel=0.1)  # half-height line at λ2's angle
    shifted_points, shifted = measured_scan(*lines, 1.5405929, Condition("x", counts=None, fwhm_deg=0.05,
                                                                         displacement_mm=0.2), rng)
    assert shifted_points[np.argmax(shifted)] - 28.44 == pytest.approx(
        -np.degrees(2 * 0.2 * np.cos(np.radians(14.22)) / 240), abs=0.006)
    partial, _ = measured_scan(*lines, 1.5405929, Condition("x", scan_range=(10.0, 80.0)), rng)
    assert partial[0] == 10.0 and partial[-1] == pytest.approx(80.0)
    _, counts = measured_scan(*lines, 1.5405929, Condition("x", counts=1e2), rng)
    assert np.all(counts == np.round(counts)) and counts.max() < 200  # Poisson counts around 100


@pytest.mark.slow
def test_tiny_run_of_the_condition_loop(tmp_path):
    predictor = CrystalSystemPredictor.from_checkpoint(shipped_checkpoint())
    peak_lists, labels, names, skipped = prototype_peak_lists(tmp_path, count=3, workers=1, progress=False)
    assert len(peak_lists) + len(skipped) == 3 and len(labels) == len(peak_lists) == len(names)
    assert list(tmp_path.glob("independent_peaks-*.npz"))  # cached for the next run
    conditions = [CONDITIONS[0], Condition("partial", scan_range=(10.0, 80.0)), Condition("Kα2", kalpha2=True)]
    rows = score_conditions(predictor, peak_lists, labels, line_wavelength(), conditions, progress=False)
    assert [name for name, _ in rows] == [c.name for c in conditions]
    assert all(value in {k / len(labels) for k in range(len(labels) + 1)} for _, value in rows)
    again = score_conditions(predictor, *prototype_peak_lists(tmp_path, count=3, progress=False)[:2],
                             line_wavelength(), conditions, progress=False)
    assert again == rows  # seeded: the same table from the cache


def test_a_mokalpha_scan_lands_on_the_model_grid_where_the_cukalpha_scan_does():
    predictor = CrystalSystemPredictor.from_checkpoint(shipped_checkpoint())
    d_spacings = np.array([3.1355, 1.9201])  # Si (111), (220)
    lines = (d_to_two_theta(d_spacings, 1.5405929), np.array([100.0, 60.0]))  # a CuKα1 list, as xrayutilities' are
    rng = np.random.default_rng(0)
    cu_points, cu_counts = measured_scan(*lines, 1.5405929, Condition("Cu", counts=None), rng)
    mo = Condition("Mo", counts=None, radiation="Mo", scan_range=(2.0, 45.0), step_deg=0.005)
    mo_points, mo_counts = measured_scan(*lines, 1.5405929, mo, rng)
    assert mo_points[np.argmax(mo_counts)] == pytest.approx(d_to_two_theta(3.1355, SCAN_LINES_ANGSTROM["Mo"][0]),
                                                            abs=0.003)  # 13.0° on the MoKα1 scan
    cu = predict_profile(cu_points, cu_counts, Condition("Cu", counts=None), predictor)
    on_grid = predict_profile(mo_points, mo_counts, mo, predictor)
    step = predictor.grid.step_deg
    expected = d_to_two_theta(3.1355, predictor.wavelength_angstrom)  # 28.47° at the model's CuKα
    assert predictor.grid.points[np.argmax(cu)] == pytest.approx(expected, abs=step)
    assert abs(int(np.argmax(on_grid)) - int(np.argmax(cu))) <= 1
    second = np.abs(predictor.grid.points - d_to_two_theta(1.9201, predictor.wavelength_angstrom)) <= step
    assert on_grid[second].max() == pytest.approx(cu[second].max(), abs=0.1)  # (220) as strong in both
    # with Kα2, MoKa declared: stripped, the line is back where the Kα1 scan has it
    doublet = Condition("Mo", counts=None, kalpha2=True, radiation="Mo", scan_range=(2.0, 45.0), step_deg=0.005)
    stripped = predict_profile(*measured_scan(*lines, 1.5405929, doublet, rng), doublet, predictor)
    assert abs(int(np.argmax(stripped)) - int(np.argmax(cu))) <= 1
    with pytest.raises(ValueError, match="unknown radiation 'Ag'"):
        Condition("x", radiation="Ag")


@pytest.mark.slow
def test_the_screen_scores_every_condition_on_validation_crystals_only(trained, tmp_path, capsys):
    script = runpy.run_path(str(SCRIPT))
    checkpoint, data_dir, out = str(trained["checkpoint"]), str(trained["root"] / "data"), tmp_path / "screen.md"
    assert script["main"](["--ckpt", checkpoint, "--source", "synthetic-val", "--data-dir", data_dir, "--n", "4",
                           "--out", str(out)]) == 0
    table = out.read_text()
    assert "4 synthetic validation crystals" in table and "not independent" in table
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ") and not line.startswith("| condition")]
    assert [row[0][2:] for row in rows] == [script["CLEAN_ROW"]] + [c.name for c in CONDITIONS]
    assert all(0.0 <= float(row[1].rstrip(" |")) <= 1.0 for row in rows)
    # the items the screen drew (seed 0, as the run above): validation crystals, none trained on
    predictor = CrystalSystemPredictor.from_checkpoint(checkpoint)
    datamodule, items = script["screen_items"](checkpoint, predictor, data_dir, 4, 0)
    split = datamodule.split_indices
    assert len(items) == 4 and set(items) <= set(split["val"]) and not set(items) & set(split["train"])
    assert set(script["screen_items"](checkpoint, predictor, data_dir, 10_000, 0)[1]) == set(split["val"])


def test_predict_path_removes_a_displacement_unless_the_condition_says_not_to():
    predictor = CrystalSystemPredictor.from_checkpoint(shipped_checkpoint())
    lines = independent_peaks(SILICON)
    rng = np.random.default_rng(0)
    placed = Condition("in place", counts=None)
    displaced = Condition("displaced", counts=None, displacement_mm=0.2)  # (111) 0.093° low: 2.3 grid steps
    kept = Condition("displaced, kept", counts=None, displacement_mm=0.2, correct_displacement=False)
    peak = {}
    for condition in (placed, displaced, kept):
        profile = predict_profile(*measured_scan(*lines, line_wavelength(), condition, rng), condition, predictor)
        peak[condition.name] = int(np.argmax(profile))
    assert abs(peak["displaced"] - peak["in place"]) <= 1
    assert peak["in place"] - peak["displaced, kept"] >= 2


def test_a_run_of_some_conditions_draws_their_rows_as_the_whole_table_does(monkeypatch):
    """Noise follows a condition's place in CONDITIONS, not in the run, so `--conditions` repeats table rows."""
    import xrdnet.robustness as robustness

    scans: dict[str, list[np.ndarray]] = {}

    def recorded(points, counts, condition, predictor):
        scans.setdefault(condition.name, []).append(counts)
        return np.zeros(3, dtype=np.float32)

    class Uniform:
        def predict_proba(self, profiles):
            return np.full((len(profiles), 7), 1 / 7)

    monkeypatch.setattr(robustness, "predict_profile", recorded)
    lines = [(np.array([28.44, 47.30, 56.12]), np.array([100.0, 55.0, 30.0]))]
    chosen = CONDITIONS[8]  # counts 1e3: the noise shows
    score_conditions(Uniform(), lines, np.array([6]), 1.5405929, CONDITIONS[:9], progress=False)
    whole = scans.pop(chosen.name)[0]
    score_conditions(Uniform(), lines, np.array([6]), 1.5405929, [chosen], progress=False)
    np.testing.assert_array_equal(scans[chosen.name][0], whole)
