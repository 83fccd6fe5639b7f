"""Noise-gated smoothing of a scan before its lines are picked (the `indexing_v10` and `indexing_v11` features).

A scan with counting noise is picked with `indexing.pick_peaks`'s noise rules: a 3-point moving average,
thresholds of 5 σ, and no curvature search, whose positions noise moves. At 10⁵ counts on the strongest
line those picks find again 85 % of a clean render's lines, at 10³ 73 %. A Savitzky-Golay filter (a
cubic fitted over 7 points) removes most of the point-to-point noise while keeping a line's position,
height and width far better than a moving average of the same reach (it preserves the first three
moments of a line), so the smoothed scan is picked as a nearly clean one. That pays while the noise is
moderate; in a scan with few counts the filter turns noise into line-shaped bumps, and those become
false lines. Measured on 600 synthetic validation crystals read by the `indexing_v9` model (README):
0.882 → 0.915 at 10⁵ counts, 0.863 → 0.877 at 10⁴, 0.830 → 0.728 at 10³ smoothed; 0.830 left alone.

Two gates. `smooth_noisy_profile` (`indexing_v10`) smooths scans `indexing.is_noisy` calls noisy; clean
renders are not, and pass unchanged, so clean features are `indexing_v9`'s bit for bit. But a scan taken
at fine steps (0.01°) and averaged onto the model's coarser grid loses part of its noise on the way: at
10⁵ counts on the strongest line it reads √y σ ≈ 2.5·10⁻³, under `is_noisy`'s 3·10⁻³ (set above the
1.9·10⁻³ that dense clean renders' crowded lines give second differences), so `indexing_v10` leaves it
alone, yet it is far too noisy for the curvature search. `smooth_unresolved_profile` (`indexing_v11`)
gates on what the line search itself sees: fourth differences of √y (`indexing.fine_noise_level`, blind
to a clean render's curvature) above the curvature search's limit, i.e. every scan whose lines only the
maxima can give. On 1,000 synthetic validation crystals read by the `indexing_v10` model (README), the
10⁵-count measured-style row reads 0.863 with `indexing_v10`'s gate and 0.892 with this one; clean
renders 0.901 both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import savgol_filter

from xrdnet.xrd import indexing

SMOOTHING_WINDOW_POINTS = 7  # Savitzky-Golay window (grid points): ~2-3 points either side of a line's core
SMOOTHING_ORDER = 3  # cubic: keeps a line's height and width where a moving average flattens them
# √y noise σ (fraction of the maximum's square root) up to which a noisy scan is smoothed: scans with 10⁵
# counts on the strongest line have ~3·10⁻³, 10⁴ ~8·10⁻³, 10³ with a 20 % background ~2·10⁻² and more
SMOOTHING_MAX_SIGMA_SQRT = 1.2e-2


def sqrt_noise_level(profile: np.ndarray) -> float:
    """Point-to-point noise σ of √y, y the profile scaled to maximum 1 (0 for an empty or all-zero profile).

    Counting noise has the same σ at every height on √y (Anscombe's variance-stabilizing transform), so
    this measures the counts of a scan whatever its lines: σ ≈ 1 / (2 √counts on the strongest line).
    """
    return _sqrt_noise(profile, indexing.noise_level)


def fine_sqrt_noise_level(profile: np.ndarray) -> float:
    """`sqrt_noise_level` from fourth differences (`indexing.fine_noise_level`): the noise the curvature
    search compares with its limit, near 0 for a clean render however crowded its lines."""
    return _sqrt_noise(profile, indexing.fine_noise_level)


def _sqrt_noise(profile: np.ndarray, level: Callable[[np.ndarray], float]) -> float:
    y = np.asarray(profile, dtype=float).ravel()
    top = y.max() if y.size else 0.0
    return level(np.sqrt(np.maximum(y / top, 0.0))) if top > 0 else 0.0


def smooth_noisy_profile(profile: np.ndarray) -> np.ndarray:
    """The profile Savitzky-Golay smoothed (negative values clipped to 0) when `indexing.is_noisy` calls it
    noisy and the smoothing pays at its noise level (√y noise σ ≤ SMOOTHING_MAX_SIGMA_SQRT); otherwise the
    profile itself (the `indexing_v10` gate)."""
    profile = np.asarray(profile)
    if profile.size < SMOOTHING_WINDOW_POINTS or not indexing.is_noisy(profile):
        return profile
    return _smoothed_if_moderate(profile)


def smooth_unresolved_profile(profile: np.ndarray) -> np.ndarray:
    """The profile Savitzky-Golay smoothed when its noise hides lines from the curvature search (fourth-
    difference √y noise above `indexing.CURVATURE_MAX_SIGMA_SQRT`) and the smoothing pays at its noise
    level (√y noise σ ≤ SMOOTHING_MAX_SIGMA_SQRT); otherwise the profile itself (the `indexing_v11` gate)."""
    profile = np.asarray(profile)
    if profile.size < SMOOTHING_WINDOW_POINTS or fine_sqrt_noise_level(profile) <= indexing.CURVATURE_MAX_SIGMA_SQRT:
        return profile
    return _smoothed_if_moderate(profile)


def _smoothed_if_moderate(profile: np.ndarray) -> np.ndarray:
    if sqrt_noise_level(profile) > SMOOTHING_MAX_SIGMA_SQRT:
        return profile
    smoothed = savgol_filter(np.asarray(profile, dtype=float), SMOOTHING_WINDOW_POINTS, SMOOTHING_ORDER)
    return np.maximum(smoothed, 0.0).astype(profile.dtype, copy=False)
