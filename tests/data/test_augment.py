"""Augmentation: determinism, normalization and the physics of each perturbation."""

import pickle

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from xrdnet.config import CONFIG_DIR
from xrdnet.data.augment import PeakAugmenter
from xrdnet.data.measurement import PeakListPool, draw_caglioti
from xrdnet.xrd.instrument import caglioti_fwhm_deg
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, scherrer_fwhm_deg
from xrdnet.xrd.wavelengths import d_to_two_theta, two_theta_to_d

CU_KA = 1.54184
GRID = TwoThetaGrid()
SETTINGS = ProfileSettings("gaussian", fwhm_deg=0.2)
POSITIONS, INTENSITIES = np.array([30.0, 80.0]), np.array([100.0, 60.0])
OFF = dict(zero_shift_deg=0, strain=0, crystallite_size_nm=None, fwhm_deg=None, intensity_jitter=0,
           max_counts=None, gaussian_noise=0, background=0)


def only(**switched_on) -> PeakAugmenter:
    """An augmenter with every perturbation off except the ones given."""
    return PeakAugmenter(GRID, SETTINGS, **{**OFF, **switched_on})


def centroid(profile: np.ndarray, near_deg: float, half_width_deg: float = 0.6) -> float:
    """Intensity-weighted mean 2θ (degrees) of the peak near near_deg: sub-step peak position."""
    window = np.abs(GRID.points - near_deg) < half_width_deg
    return float(np.sum(GRID.points[window] * profile[window]) / np.sum(profile[window]))


def test_output_is_a_normalized_profile_on_the_grid():
    augmenter = PeakAugmenter(GRID, ProfileSettings("pseudo_voigt"))
    for seed in range(5):
        profile = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(seed))
        assert profile.shape == (GRID.n_points,) and profile.dtype == np.float32
        assert profile.max() == 1.0 and profile.min() >= 0


def test_same_seed_same_output_different_seed_different_output():
    augmenter = PeakAugmenter(GRID, SETTINGS)
    first = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(7))
    again = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(7))
    other = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.01
    assert np.abs(first - augmenter.render_clean(POSITIONS, INTENSITIES, CU_KA)).max() > 0.01
    # a pickled copy (as sent to data-loader workers) behaves identically
    copy = pickle.loads(pickle.dumps(augmenter))
    np.testing.assert_array_equal(copy(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(7)), first)


def test_everything_off_is_the_clean_render():
    augmenter = only()
    clean = augmenter.render_clean(POSITIONS, INTENSITIES, CU_KA)
    np.testing.assert_array_equal(augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(0)), clean)


def test_zero_shift_moves_every_peak_by_the_same_amount():
    augmenter = only(zero_shift_deg=0.3)
    clean = augmenter.render_clean(POSITIONS, INTENSITIES, CU_KA)
    shifts = []
    for seed in range(12):
        profile = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(seed))
        low, high = (centroid(profile, p) - centroid(clean, p) for p in POSITIONS)
        assert low == pytest.approx(high, abs=2e-3)  # a constant offset in 2θ, unlike strain
        assert abs(low) <= 0.3 + 2e-3
        shifts.append(low)
    assert min(shifts) < -0.05 and max(shifts) > 0.05  # both directions, not stuck at zero


def test_strain_moves_peaks_as_braggs_law_says():
    augmenter = only(strain=0.01)
    clean = augmenter.render_clean(POSITIONS, INTENSITIES, CU_KA)
    moved_apart = 0
    for seed in range(8):
        profile = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(seed))
        low, high = (centroid(profile, p, 1.5) for p in POSITIONS)
        # the strain seen by the first peak, d -> d (1 + ε), predicts where the second one goes
        epsilon = two_theta_to_d(low, CU_KA) / two_theta_to_d(centroid(clean, 30.0), CU_KA) - 1
        assert abs(epsilon) <= 0.01 + 1e-4
        predicted = d_to_two_theta(two_theta_to_d(centroid(clean, 80.0), CU_KA) * (1 + epsilon), CU_KA)
        assert high == pytest.approx(predicted, abs=0.01)
        # Δ2θ ≈ −2 ε tan θ: the high-angle peak moves about tan 40° / tan 15° = 3.1 times as far
        moved_apart += abs(high - 80.0) > 2.5 * abs(low - 30.0)
    assert moved_apart >= 6


def test_broadening_draws_scherrer_widths_within_the_size_range():
    augmenter = PeakAugmenter(GRID, ProfileSettings("gaussian"), **{**OFF, "crystallite_size_nm": (10, 40)})
    narrowest, widest = scherrer_fwhm_deg(30.0, CU_KA, 40), scherrer_fwhm_deg(30.0, CU_KA, 10)
    widths = []
    for seed in range(10):
        profile = augmenter([30.0], [1.0], CU_KA, np.random.default_rng(seed))
        widths.append(np.count_nonzero(profile >= 0.5) * GRID.step_deg)  # FWHM to within a grid step
    assert all(narrowest - GRID.step_deg <= w <= widest + GRID.step_deg for w in widths)
    assert max(widths) - min(widths) > 0.2  # sizes really vary


def test_intensity_jitter_is_log_normal_per_peak():
    sigma = 0.3
    augmenter = only(intensity_jitter=sigma)
    ratios = []
    for seed in range(300):
        profile = augmenter(POSITIONS, [100.0, 100.0], CU_KA, np.random.default_rng(seed))
        ratios.append(profile[GRID.points.searchsorted(80.0)] / profile[GRID.points.searchsorted(30.0)])
    # log of the ratio of two independent log-normal factors has standard deviation σ √2
    assert np.std(np.log(ratios)) == pytest.approx(sigma * np.sqrt(2), rel=0.15)


def test_counting_noise_shrinks_with_more_counts():
    clean = only().render_clean(POSITIONS, INTENSITIES, CU_KA)
    spread = {}
    for counts in (1e2, 1e4):
        augmenter = only(max_counts=(counts, counts))
        residuals = [augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(s)) - clean for s in range(5)]
        spread[counts] = np.std(np.concatenate(residuals)[np.tile(clean > 0.05, 5)])
    # Poisson noise: relative error 1 / sqrt(counts), so 100 times the counts is 10 times less noise
    assert 5 < spread[1e2] / spread[1e4] < 20


def test_removed_background_leaves_its_counting_noise_on_the_baseline():
    away = np.all(np.abs(GRID.points[:, None] - POSITIONS) > 3, axis=1)
    counts, level = 1e4, 0.25
    quiet = only(max_counts=(counts, counts))(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(0))
    assert not quiet[away].any()  # no signal, no counts, no noise
    augmenter = only(max_counts=(counts, counts), removed_background=(level, level))
    baseline = np.concatenate([augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(s))[away]
                               for s in range(5)])
    # level·counts background counts leave noise of σ = sqrt(level / counts) of the maximum; clipped at
    # zero (counts are never negative) its root mean square is σ / sqrt(2)
    expected_rms = np.sqrt(level / counts / 2)
    assert np.sqrt(np.mean(baseline.astype(float) ** 2)) == pytest.approx(expected_rms, rel=0.1)
    with pytest.raises(ValueError, match="removed_background adds counting noise, so it needs max_counts"):
        only(removed_background=(0.1, 0.2))


def test_background_is_smooth_positive_and_bounded():
    augmenter = only(background=0.2)
    clean = augmenter.render_clean(POSITIONS, INTENSITIES, CU_KA)
    away = np.all(np.abs(GRID.points[:, None] - POSITIONS) > 3, axis=1)
    added = []
    for seed in range(10):
        profile = augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(seed))
        background = profile[away]
        assert background.min() >= 0 and background.max() <= 3 * 0.2  # three components, each at most 0.2
        neighbours = away[1:] & away[:-1]
        assert np.abs(np.diff(profile)[neighbours]).max() < 0.005  # smooth: no jumps from one point to the next
        added.append(background.mean())
    assert not clean[away].any() and min(added) > 0


def test_settings_from_config_dicts_and_clear_errors():
    augmenter = PeakAugmenter(grid={"start_deg": 10, "stop_deg": 50, "step_deg": 0.05},
                              settings={"shape": "pseudo_voigt", "crystallite_size_nm": 30}, zero_shift_deg=0.1)
    assert augmenter(POSITIONS, INTENSITIES, CU_KA, np.random.default_rng(0)).shape == (801,)
    with pytest.raises(ValueError, match=r"crystallite_size_nm must be a \[low, high\] pair"):
        PeakAugmenter(crystallite_size_nm=25)
    with pytest.raises(ValueError, match="max_counts must satisfy 0 < low <= high"):
        PeakAugmenter(max_counts=(1e4, 1e2))
    with pytest.raises(ValueError, match="zero_shift_deg must be a non-negative number"):
        PeakAugmenter(zero_shift_deg=-0.1)
    with pytest.raises(ValueError, match="unknown profile setting"):
        PeakAugmenter(settings={"shape": "gaussian", "size": 3})


# --- diffractometer effects (data.measurement, xrd.instrument) ---------------------------------------------

CU_KA1 = 1.54056


def area(profile: np.ndarray, near_deg: float, half_width_deg: float = 0.8) -> float:
    return float(profile[np.abs(GRID.points - near_deg) < half_width_deg].sum())


class OnePattern:
    """A dataset of peak lists with one item (what PeakListPool draws from)."""

    def __init__(self, two_theta, intensity):
        self.item = (np.asarray(two_theta, float), np.asarray(intensity, float))

    def peaks(self, index):
        return self.item


def test_displacement_shift_scales_with_cos_theta():
    si_111, si_422 = 28.443, 88.03  # Si with CuKα1
    augmenter = only(displacement_mm=0.3, goniometer_radius_mm=(240.0, 240.0))
    clean = augmenter.render_clean([si_111, si_422], [100.0, 100.0], CU_KA1)
    for seed in range(4):
        moved = augmenter([si_111, si_422], [100.0, 100.0], CU_KA1, np.random.default_rng(seed))
        low = centroid(moved, si_111) - centroid(clean, si_111)
        high = centroid(moved, si_422) - centroid(clean, si_422)
        # Δ2θ = −2 s cosθ / R: one s, so the two shifts are in the ratio of cos θ (a zero shift would be equal)
        assert low / high == pytest.approx(np.cos(np.radians(si_111 / 2)) / np.cos(np.radians(si_422 / 2)), rel=0.02)
        assert abs(low) <= np.degrees(2 * 0.3 * np.cos(np.radians(si_111 / 2)) / 240) + 1e-3


def test_march_dollase_changes_areas_within_the_bounds_of_r():
    r = 0.6
    positions, intensities = np.array([20.0, 40.0, 60.0, 80.0]), np.full(4, 100.0)
    augmenter = only(march_dollase_probability=1.0, march_dollase_r=(r, r))
    ratios = []
    for seed in range(10):
        profile = augmenter(positions, intensities, CU_KA1, np.random.default_rng(seed))
        areas = np.array([area(profile, p) for p in positions])
        ratios.append(areas.max() / areas.min())
    # each factor lies between W(90°) = r^1.5 and W(0) = r^-3, so no ratio exceeds r^-4.5, and texture shows
    assert max(ratios) <= r**-4.5 * 1.001
    assert max(ratios) > 1.5


def test_impurity_lines_stay_below_the_stated_fraction():
    augmenter = only(impurity_probability=1.0, impurity_fraction=(0.01, 0.05))
    augmenter.set_impurity_pool(PeakListPool(OnePattern([50.0, 70.0], [100.0, 40.0]), np.array([0])))
    fractions = []
    for seed in range(8):
        profile = augmenter(np.array([30.0]), np.array([100.0]), CU_KA1, np.random.default_rng(seed))
        fractions.append(area(profile, 50.0) / area(profile, 30.0))
        assert area(profile, 70.0) / area(profile, 30.0) == pytest.approx(0.4 * fractions[-1], rel=1e-3)
    assert 0.01 * 0.999 <= min(fractions) and max(fractions) <= 0.05 * 1.001
    assert max(fractions) > min(fractions)  # drawn per pattern


def test_partial_scan_is_zero_outside_its_range_and_finer_steps_average_noise():
    augmenter = only(partial_range_probability=1.0, partial_range_start_deg=(15.0, 15.0),
                     partial_range_stop_deg=(70.0, 70.0))
    profile = augmenter(np.array([30.0, 60.0, 80.0]), np.array([100.0, 80.0, 100.0]), CU_KA1, np.random.default_rng(0))
    outside = (GRID.points < 15.0) | (GRID.points > 70.0)
    assert np.all(profile[outside] == 0) and area(profile, 60.0) > 0
    assert area(profile, 80.0) == 0  # beyond the scan, as xrdnet-predict zero-fills it
    # counting noise on a flat stretch: a scan 8 times finer is averaged over 8 points by resample_to_grid
    noise = {}
    for step in (0.04, 0.005):
        noisy = only(max_counts=(1e3, 1e3), removed_background=(0.5, 0.5), scan_step_deg=(step, step))
        flat = [noisy(np.array([80.0]), np.array([100.0]), CU_KA1, np.random.default_rng(s))[:1500] for s in range(4)]
        noise[step] = np.std(np.concatenate(flat))
    assert noise[0.04] / noise[0.005] == pytest.approx(np.sqrt(8), rel=0.1)


def test_low_angle_rise_is_added_and_removed_by_the_predict_background_subtraction():
    positions, intensities = np.array([30.0, 45.0, 60.0]), np.array([100.0, 70.0, 50.0])
    kept = only(low_angle_rise=0.5)(positions, intensities, CU_KA1, np.random.default_rng(1))
    assert kept[:50].mean() > 0.05  # the rise is there at low angle
    removed = only(low_angle_rise=0.5, background_method="rolling_ball")(positions, intensities, CU_KA1,
                                                                            np.random.default_rng(1))
    assert removed[:50].mean() < 0.2 * kept[:50].mean()
    assert centroid(removed, 45.0) == pytest.approx(45.0, abs=0.02)


def test_drawn_caglioti_widths_stay_real_over_the_whole_range():
    rng = np.random.default_rng(0)
    angles = np.linspace(1.0, 170.0, 400)
    for _ in range(200):
        u, v, w = draw_caglioti(rng, (1e-4, 2e-2), (1e-5, 5e-3))
        assert v < 0 and np.all(u * np.tan(np.radians(angles / 2)) ** 2 + v * np.tan(np.radians(angles / 2)) + w > 0)
        assert 0.003 <= caglioti_fwhm_deg(0.0, u, v, w) <= 0.071


def test_instrument_experiment_config_builds_an_augmenter_with_every_effect_on():
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=xrd_instrument"])
    augmenter = PeakAugmenter(grid=cfg.data.grid, settings=cfg.data.profile, **cfg.data.augment)
    for name in PeakAugmenter._MEASUREMENT_FIELDS:
        assert getattr(augmenter, name), name
    profile = augmenter(np.array([30.0, 45.0]), np.array([100.0, 50.0]), 1.54184, np.random.default_rng(0))
    assert profile.shape == (GRID.n_points,) and profile.max() == pytest.approx(1.0)
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        default = compose("train")
    plain = PeakAugmenter(grid=default.data.grid, settings=default.data.profile, **default.data.augment)
    # the default draws impurity lines (indexing_v4 was chosen with them) and no other diffractometer effect
    assert [name for name in PeakAugmenter._MEASUREMENT_FIELDS if getattr(plain, name)] == ["impurity_probability"]
    assert "instrument" not in repr(plain) and "impurity_probability=0.7" in repr(plain)  # the repr names what is on
