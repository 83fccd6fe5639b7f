"""The impurity study's line lists (scripts/study_impurity_features.py): impurity scale, strong filter, merging,
impurity plans, and its 10 %-threshold indexing_v4 variant against the 6 % default."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from xrdnet.data.dataset import PeakListSet
from xrdnet.xrd import indexing, indexing_impurity

STUDY = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "study_impurity_features.py"))
WAVELENGTH = 1.5406


def peak_list_set(lists: list[tuple[list[float], list[float]]]) -> PeakListSet:
    """A PeakListSet of the given (2θ, intensity) lists, as PeakListSet.load makes one."""
    sizes = [len(two_theta) for two_theta, _ in lists]
    n = len(lists)
    return PeakListSet(indices=np.arange(n), labels=np.zeros(n, dtype=int), space_groups=np.ones(n, dtype=int),
                       names=np.array([f"item{i}" for i in range(n)]), peak_offsets=np.concatenate([[0], np.cumsum(sizes)]),
                       peak_two_theta=np.concatenate([np.asarray(t, float) for t, _ in lists]),
                       peak_intensity=np.concatenate([np.asarray(i, float) for _, i in lists]),
                       wavelength_angstrom=WAVELENGTH, manifest={})


# item 0: lines at 20, 30 and 30.05 (merged: 0.05° apart), 40 (weak), 95 (outside 5-90°); item 1: the impurity
PEAKS = peak_list_set([([20.0, 30.0, 30.05, 40.0, 95.0], [100.0, 30.0, 20.0, 4.0, 50.0]),
                       ([25.0, 35.0, 45.0], [100.0, 50.0, 10.0])])


def no_jitter_rng():
    return np.random.default_rng(0)


def test_close_lines_merge_at_their_intensity_weighted_position_and_far_ones_drop():
    two_theta, heights = STUDY["line_list"](PEAKS, 0, no_jitter_rng())
    assert len(two_theta) == 3  # 30/30.05 merged, 95° outside the range
    assert abs(two_theta[1] - (30.0 * 30 + 30.05 * 20) / 50) < 0.05  # intensity-weighted; jitter σ 0.01°
    assert heights.tolist() == pytest.approx([1.0, 0.5, 0.04])  # the merged line holds 30 + 20


def test_impurity_lines_stay_within_the_requested_fraction():
    fraction = 0.05
    two_theta, heights = STUDY["line_list"](PEAKS, 0, no_jitter_rng(), impurity=1, fraction=fraction)
    foreign = np.min(np.abs(two_theta[:, None] - np.array([25.0, 35.0, 45.0])), axis=1) < 0.1
    assert foreign.sum() == 2  # 25° at 5 %, 35° at 2.5 %; 45° at 0.5 % is below the 1 % picking height
    assert heights[foreign].max() == pytest.approx(fraction)
    assert np.all(heights[foreign] <= fraction + 1e-12)


def test_strong_filter_keeps_only_lines_at_the_threshold():
    _, every = STUDY["line_list"](PEAKS, 0, no_jitter_rng(), impurity=1, fraction=0.05)
    _, strong = STUDY["line_list"](PEAKS, 0, no_jitter_rng(), impurity=1, fraction=0.05, strong=0.06)
    assert np.all(strong >= 0.06) and np.all(every >= 0.01)
    assert strong.tolist() == every[every >= 0.06].tolist() == pytest.approx([1.0, 0.5])


def test_impurity_plan_takes_another_item_of_the_set_at_the_requested_share():
    items = np.arange(10, 50)
    plan = STUDY["impurity_plan"](items, 0.5, 0.01, 0.05, seed=2)
    impure = [(item, other, fraction) for item, other, fraction, _ in plan if other >= 0]
    assert 8 <= len(impure) <= 32  # binomial(40, 0.5)
    assert all(other != item and other in items and 0.01 <= fraction <= 0.05 for item, other, fraction in impure)
    assert all(other < 0 for _, other, _, _ in STUDY["impurity_plan"](items, 0.0, 0.0, 0.0, seed=1))
    assert len({seed for *_, seed in plan}) == len(items)  # each item its own line-list seed


def test_v4_variants_split_their_strong_lines_at_their_threshold():
    rng = np.random.default_rng(3)
    cell = 4.2  # a cubic cell's lines plus two weak foreign ones, so the strong half differs from the whole
    d = cell / np.sqrt(np.array([1, 2, 3, 4, 5, 6, 8, 9, 10, 11]))
    two_theta = np.concatenate([2 * np.degrees(np.arcsin(WAVELENGTH / (2 * d))), [33.3, 51.7]])
    heights = np.concatenate([rng.uniform(0.1, 1.0, 10), [0.03, 0.02]])
    heights[3] = 0.08  # one cell line between the two thresholds: strong at 6 %, not at 10 %
    order = np.argsort(two_theta)
    two_theta, heights = two_theta[order], heights[order] / heights.max()
    variants = STUDY["variants"]()
    assert variants["v4"][1] is indexing_impurity.line_features_v4  # the study's v4 is the shipped set
    at_six = indexing.peak_list_features(two_theta, heights, WAVELENGTH, describe=variants["v4"][1])
    at_ten = indexing.peak_list_features(two_theta, heights, WAVELENGTH, describe=variants["v4_strong0.10"][1])
    n = indexing.N_FEATURES
    assert not np.array_equal(at_six[:n], at_six[n:])  # the weak foreign lines are out of the strong half
    np.testing.assert_array_equal(at_six[:n], at_ten[:n])  # the all-lines half does not depend on the threshold
    strong = heights >= 0.10
    expected = indexing.peak_list_features(two_theta[strong], heights[strong], WAVELENGTH,
                                           describe=indexing_impurity.forgiving_v3_features)
    np.testing.assert_array_equal(at_ten[n:], expected)  # the 10 % variant's strong half: the lines >= 10 % alone
    assert not np.array_equal(at_six[n:], at_ten[n:])  # and the 0.08 line makes it differ from the 6 % half
