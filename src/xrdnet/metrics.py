"""Classification metrics from predicted probabilities: report, confusion matrix, accuracy-coverage.

Pure numpy so that numbers in metrics.json can be checked against the confusion matrix by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xrdnet.crystal import CRYSTAL_SYSTEMS, same_lattice_confusion

COVERAGE_FRACTIONS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int = len(CRYSTAL_SYSTEMS)) -> np.ndarray:
    """Counts (true class rows, predicted class columns)."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def classification_report(probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str] = CRYSTAL_SYSTEMS) -> dict:
    """Accuracy, macro-F1, top-2 accuracy, per-class precision/recall/F1/support and the confusion matrix.

    Macro averages run over the classes that occur in the labels or the predictions, as torchmetrics'
    macro F1 (what training logs) does: a class neither present nor predicted does not count, one
    predicted but absent counts with F1 0.
    """
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, len(class_names))
    true_positive = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1)
    predicted_count = matrix.sum(axis=0)
    precision = np.divide(true_positive, predicted_count, out=np.zeros_like(true_positive), where=predicted_count > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    present = (support > 0) | (predicted_count > 0)
    top2 = np.argsort(-probabilities, axis=1)[:, :2]
    return {
        "n": int(len(labels)),
        "accuracy": float(true_positive.sum() / max(len(labels), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "top2_accuracy": float((top2 == labels[:, None]).any(axis=1).mean()) if len(labels) else 0.0,
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": matrix.tolist(),
        "expected_calibration_error": expected_calibration_error(probabilities, labels),
    }


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Σ_b (n_b / n) |accuracy_b − mean confidence_b| over `bins` equal-width bins of top-class confidence.

    0 for a perfectly calibrated model: among predictions made with confidence p, a fraction p is right.
    """
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    if not len(labels):
        return 0.0
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def accuracy_coverage(probabilities: np.ndarray, labels: np.ndarray, fractions: Sequence[float] = COVERAGE_FRACTIONS) -> list[dict]:
    """Accuracy of the most confident predictions when only a fraction of them is kept.

    Each row: fraction kept, how many kept, the confidence threshold that keeps them, their accuracy.
    """
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    order = np.argsort(-confidence, kind="stable")
    rows = []
    for fraction in fractions:
        kept = max(1, int(round(fraction * len(labels)))) if len(labels) else 0
        chosen = order[:kept]
        rows.append({
            "fraction": float(fraction),
            "kept": int(kept),
            "threshold": float(confidence[chosen].min()) if kept else 1.0,
            "accuracy": float(correct[chosen].mean()) if kept else 0.0,
        })
    return rows


def misclassified(names: Sequence[str], probabilities: np.ndarray, labels: np.ndarray,
                  class_names: Sequence[str] = CRYSTAL_SYSTEMS, space_groups: Sequence[int] | None = None) -> list[dict]:
    """Wrongly predicted items with their true and predicted class, all class probabilities and, when
    space_groups are given, the item's space group."""
    predicted = np.asarray(probabilities).argmax(axis=1)
    rows = []
    for index in np.flatnonzero(predicted != np.asarray(labels)):
        rows.append({
            "name": str(names[index]),
            "true": class_names[int(labels[index])],
            "predicted": class_names[int(predicted[index])],
            "probabilities": {name: round(float(p), 4) for name, p in zip(class_names, probabilities[index])},
        })
        if space_groups is not None:
            rows[-1]["space_group"] = int(space_groups[index])
    return rows


def pseudo_symmetric_mistakes(mistakes: Sequence[dict]) -> int:
    """How many of `misclassified`'s rows (as xrdnet-eval records them) call a more symmetric system whose
    lattice indexes the lines as fully as the true one's (`xrd.cell.lines_admit_call`); trigonal-P ↔
    hexagonal rows are `same_lattice_mistakes`, not counted here."""
    return sum(bool(row.get("lines_admit_call")) and not same_lattice_confusion(row["true"], row["predicted"], row["space_group"])
               for row in mistakes if "space_group" in row)


def same_lattice_mistakes(mistakes: Sequence[dict]) -> int:
    """How many of `misclassified`'s rows (with space groups) confuse trigonal-P and hexagonal structures,
    which line positions cannot tell apart (`crystal.same_lattice_confusion`)."""
    return sum(same_lattice_confusion(row["true"], row["predicted"], row["space_group"])
               for row in mistakes if "space_group" in row)
