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


# alpha-quartz (P3_221) has a hexagonal-P metric and the 00l: l = 3n absences of P6_222 too, so its line
# positions fit the hexagonal reading exactly; the shipped model reads it as hexagonal. Kept, and strict:
# the day a model reads it right, this test says so and the mark goes.
KNOWN_WRONG = {"SiO2 (alpha-quartz)": "trigonal-P with a hexagonal metric: the shipped model reads it hexagonal"}


@pytest.mark.parametrize("reference", [
    pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[r.name])) if r.name in KNOWN_WRONG else r
    for r in REFERENCE_STRUCTURES], ids=lambda r: r.name)
def test_the_shipped_model_reads_textbook_structures_right(predictor, reference):
    probabilities = predictor.predict_proba(predictor.profile_of_structure(reference.structure()))[0]
    predicted = int(np.argmax(probabilities))
    assert predicted == reference.label, (
        f"{reference.name}: {CRYSTAL_SYSTEMS[reference.label]} read as {CRYSTAL_SYSTEMS[predicted]} ({probabilities.max():.2f})")


def test_the_shipped_model_reads_textbook_structures_beside_a_weak_second_phase(predictor):
    """Each structure (alpha-quartz aside, read wrong alone) with every other one's lines added at 5 % of its
    strongest, as a weak impurity phase: the model shipped at 688fa87 (no impurity lines in training) read
    98 of these 121 right, indexing_v4 (7b702b5) and indexing_v5 (b2e5785) 120, indexing_v6 at 20 epochs 119,
    at 30 epochs 118, indexing_v7 120, indexing_v8 117, indexing_v9 117, indexing_v12 117, indexing_v14 117,
    indexing_v16 (now) 117."""
    from xrdnet.data.measurement import with_impurity
    from xrdnet.xrd.profile import render_profile

    peaks = {reference.name: predictor.simulator.simulate(reference.structure()) for reference in REFERENCE_STRUCTURES}
    profiles, labels, pairs = [], [], []
    for main in REFERENCE_STRUCTURES:
        if main.name in KNOWN_WRONG:
            continue
        for impurity in REFERENCE_STRUCTURES:
            if impurity is main:
                continue
            mine, other = peaks[main.name], peaks[impurity.name]
            two_theta, intensity = with_impurity(mine.two_theta, mine.intensity, other.two_theta, other.intensity, 0.05)
            profiles.append(render_profile(two_theta, intensity, predictor.grid, predictor.settings,
                                           predictor.wavelength_angstrom))
            labels.append(main.label)
            pairs.append(f"{main.name} + {impurity.name}")
    predicted = predictor.predict_proba(np.stack(profiles)).argmax(axis=1)
    wrong = [f"{pair}: {CRYSTAL_SYSTEMS[p]}" for pair, p, label in zip(pairs, predicted, labels) if p != label]
    assert len(pairs) == 121 and len(wrong) <= 6, wrong  # at least 95 % right


def test_the_shipped_model_names_the_cell_behind_its_calls(predictor):
    # predict reports the cell of the predicted system, from the lines the model's feature set picks
    calls = {"Si (diamond)": ("cubic", "cF", 5.431), "TiO2 (rutile)": ("tetragonal", "tP", 4.594),
             "Al2O3 (corundum)": ("trigonal", "hR", 4.759)}
    for reference in REFERENCE_STRUCTURES:
        if reference.name in calls:
            system, lattice, a = calls[reference.name]
            cell = predictor.cell(predictor.profile_of_structure(reference.structure()), system)
            assert cell is not None and cell.lattice == lattice and abs(cell.a - a) < 0.01, (reference.name, cell)


def test_a_profile_can_be_read_with_another_profiles_indexing_features(predictor):
    # the study of which input carries a loss (scripts/measured_robustness.py --inputs-apart) reads a noisy
    # scan with its clean render's features: the profile part stays, the features are the other profile's
    by_name = {r.name: r for r in REFERENCE_STRUCTURES}
    silicon = predictor.profile_of_structure(by_name["Si (diamond)"].structure())
    rutile = predictor.profile_of_structure(by_name["TiO2 (rutile)"].structure())
    n = predictor.grid.n_points
    mixed = predictor.model_inputs(silicon, feature_profiles=rutile)
    np.testing.assert_array_equal(mixed[:, :n], predictor.model_inputs(silicon)[:, :n])
    np.testing.assert_array_equal(mixed[:, n:], predictor.model_inputs(rutile)[:, n:])
    assert not np.array_equal(mixed[:, n:], predictor.model_inputs(silicon)[:, n:])
    np.testing.assert_array_equal(predictor.predict_proba(silicon, feature_profiles=silicon), predictor.predict_proba(silicon))
