"""Calibration error: zero when confidence matches accuracy, the gap when it does not."""

import numpy as np
import pytest

from xrdnet.metrics import classification_report, expected_calibration_error


def test_calibration_error_is_zero_for_a_calibrated_model_and_the_gap_for_an_overconfident_one():
    labels = np.zeros(10, dtype=int)
    # 0.8 confident everywhere and right 8 times in 10: calibrated
    probabilities = np.tile([0.8, 0.2], (10, 1))
    probabilities[:2] = [0.2, 0.8]  # wrong twice, also at 0.8 confidence
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0)
    # 0.95 confident and right 5 times in 10: off by 0.45
    overconfident = np.tile([0.95, 0.05], (10, 1))
    overconfident[:5] = [0.05, 0.95]
    assert expected_calibration_error(overconfident, labels) == pytest.approx(0.45)
    assert classification_report(overconfident, labels)["expected_calibration_error"] == pytest.approx(0.45)


def test_macro_f1_is_the_one_training_logs():
    import torch
    from torchmetrics.classification import MulticlassF1Score

    rng = np.random.default_rng(0)
    for _ in range(5):
        labels = rng.integers(0, 4, size=40)  # classes 4-6 absent ...
        predicted = rng.integers(0, 6, size=40)  # ... and 4-5 sometimes predicted
        expected = MulticlassF1Score(7, average="macro")(torch.from_numpy(predicted), torch.from_numpy(labels))
        report = classification_report(np.eye(7)[predicted], labels)
        assert report["macro_f1"] == pytest.approx(float(expected), abs=1e-6)
