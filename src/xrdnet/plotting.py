"""Figures for TensorBoard and PNG files: confusion matrices and example patterns."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # figures are rendered off-screen (no display on servers and CI)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """Confusion matrix (rows: true class, columns: predicted), colour by row-normalized rate, counts printed."""
    matrix = np.asarray(matrix, dtype=float)
    row_sums = matrix.sum(axis=1, keepdims=True)
    rates = np.divide(matrix, row_sums, out=np.zeros_like(matrix), where=row_sums > 0)
    figure, axis = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    image = axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j]:
                axis.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=8,
                          color="white" if rates[i, j] > 0.6 else "black")
    figure.colorbar(image, ax=axis, label="fraction of true class")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    axis.set_title(f"{title} accuracy {accuracy:.3f}".strip())
    return figure


def patterns_figure(
    two_theta_deg: np.ndarray,
    profiles: np.ndarray,
    titles: Sequence[str],
    colors: Sequence[str] | None = None,
    columns: int = 2,
) -> Figure:
    """A grid of 1D diffraction profiles (intensity vs 2θ), one panel each with its title."""
    count = len(profiles)
    rows = max(1, int(np.ceil(count / columns)))
    figure, axes = plt.subplots(rows, columns, figsize=(5.0 * columns, 1.9 * rows), squeeze=False,
                                sharex=True, layout="constrained")
    for index, axis in enumerate(axes.flat):
        if index >= count:
            axis.set_visible(False)
            continue
        axis.plot(two_theta_deg, profiles[index], lw=0.8, color=(colors[index] if colors else "C0"))
        axis.set_title(titles[index], fontsize=9, color=(colors[index] if colors else "black"))
        axis.set_yticks([])
    for axis in axes[-1]:
        axis.set_xlabel("2θ (degrees)")
    return figure


def save_figure(figure: Figure, path) -> None:
    """Save a figure as PNG atomically and close it."""
    from xrdnet.utils.atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=120)
    plt.close(figure)
