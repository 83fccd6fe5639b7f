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


def accuracy_coverage_figure(rows: Sequence[dict], title: str = "") -> Figure:
    """Accuracy of the kept predictions against the fraction kept (most confident first)."""
    figure, axis = plt.subplots(figsize=(5, 3.6), layout="constrained")
    fractions = [row["fraction"] for row in rows]
    axis.plot(fractions, [row["accuracy"] for row in rows], marker="o")
    axis.set_xlabel("fraction of predictions kept (most confident first)")
    axis.set_ylabel("accuracy of kept predictions")
    axis.set_xlim(0, 1.02)
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.set_title(f"{title} accuracy vs coverage".strip())
    return figure


def activations_figure(names: Sequence[str] | None = None, highlight: str | None = None,
                       x_range: tuple[float, float] = (-5.0, 5.0)) -> Figure:
    """One panel per activation: the function f(x) and its derivative f′(x) on x_range.

    Values come from the same torch modules the networks use (xrdnet.models.activations) and the
    derivatives from autograd, so the figure shows exactly what training sees. `highlight` marks the
    activation a run uses (bold title and frame).
    """
    import torch

    from xrdnet.models.activations import ACTIVATIONS, make_activation

    names = list(names or ACTIVATIONS)
    x = torch.linspace(*x_range, 1001, requires_grad=True)
    figure, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.4), sharex=True, squeeze=False,
                                layout="constrained")
    for axis, name in zip(axes[0], names):
        module = make_activation(name)
        y = module(x)
        (slope,) = torch.autograd.grad(y.sum(), x)
        axis.plot(x.detach().numpy(), y.detach().numpy(), lw=2.0, color="C0", label="f(x)")
        axis.plot(x.detach().numpy(), slope.numpy(), lw=2.0, color="C1", ls="--", label="f′(x)")
        axis.axhline(0, color="0.6", lw=0.8, zorder=0)
        axis.axvline(0, color="0.6", lw=0.8, zorder=0)
        axis.grid(alpha=0.3)
        axis.set_xlabel("x")
        # leaky ReLU's negative slope is too small to see; say it
        detail = f" (slope {module.negative_slope:g} for x<0)" if hasattr(module, "negative_slope") else ""
        chosen = name == highlight
        axis.set_title(f"{name}{detail}", fontsize=10, fontweight="bold" if chosen else "normal")
        if chosen:
            for spine in axis.spines.values():
                spine.set_linewidth(2.0)
    axes[0][0].legend(loc="upper left")
    return figure


def sinc_figure(train_values: np.ndarray, true_values: np.ndarray, predicted_values: np.ndarray,
                extent: tuple[float, float], title: str = "") -> Figure:
    """Four panels of the sin(r)/r fit: training data, true surface, network surface, absolute error.

    Each array is a square grid of values laid out as square_grid makes it (row i at x2 = axis[i],
    column j at x1 = axis[j]); `extent` is the square's (low, high) on both axes.
    """
    low, high = extent
    image_extent = (low, high, low, high)
    error = np.abs(predicted_values - true_values)
    mse = float(np.mean((predicted_values - true_values) ** 2))
    vmin, vmax = float(true_values.min()), float(true_values.max())
    figure, axes = plt.subplots(1, 4, figsize=(17.0, 4.4), layout="constrained")
    panels = [
        (train_values, f"training data ({train_values.shape[0]}×{train_values.shape[1]})", "viridis", vmin, vmax),
        (true_values, f"true sin(r)/r ({true_values.shape[0]}×{true_values.shape[1]})", "viridis", vmin, vmax),
        (predicted_values, "network", "viridis", vmin, vmax),
        (error, f"|network − true|, MSE {mse:.2e}", "magma", 0.0, float(error.max()) or 1.0),
    ]
    for axis, (values, panel_title, cmap, low_value, high_value) in zip(axes, panels):
        # nearest-neighbour pixels show the training grid as the coarse grid it is
        image = axis.imshow(values, origin="lower", extent=image_extent, cmap=cmap, vmin=low_value, vmax=high_value,
                            interpolation="nearest")
        axis.set_title(panel_title, fontsize=10)
        axis.set_xlabel("x1")
        axis.set_aspect("equal")
        figure.colorbar(image, ax=axis, shrink=0.8)
    axes[0].set_ylabel("x2")
    if title:
        figure.suptitle(title)
    return figure
