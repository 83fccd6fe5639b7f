"""The shipped model: it loads from the package, the CLIs use it by default, and it reads a dozen
textbook structures, built in code from their space group, cell and Wyckoff positions, correctly."""

import numpy as np
import pytest

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.predictor import CrystalSystemPredictor
from xrdnet.pretrained import MODEL_CARD, SHIPPED_CHECKPOINT, shipped_checkpoint
from xrdnet.structures.reference import REFERENCE_STRUCTURES


@pytest.fixture(scope="module")
def predictor() -> CrystalSystemPredictor:
    return CrystalSystemPredictor.from_checkpoint(shipped_checkpoint())


def test_the_shipped_model_and_its_card_are_in_the_package_and_small():
    assert SHIPPED_CHECKPOINT.is_file() and MODEL_CARD.is_file()
    assert SHIPPED_CHECKPOINT.stat().st_size < 20e6
    assert "xrdnet-train experiment=xrd_best" in MODEL_CARD.read_text()


def test_the_shipped_model_reads_textbook_structures_right(predictor):
    profiles = np.stack([predictor.profile_of_structure(reference.structure()) for reference in REFERENCE_STRUCTURES])
    predicted = predictor.predict_proba(profiles).argmax(axis=1)
    wrong = [f"{reference.name}: {CRYSTAL_SYSTEMS[reference.label]} read as {CRYSTAL_SYSTEMS[p]}"
             for reference, p in zip(REFERENCE_STRUCTURES, predicted) if p != reference.label]
    assert not wrong, "; ".join(wrong)
