"""scripts/extinction_ceiling.py: the powder absences that can tell trigonal-P from hexagonal space groups."""

import runpy
from pathlib import Path

import numpy as np

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "extinction_ceiling.py"))
powder_absences = SCRIPT["powder_absences"]


def test_powder_absences_are_the_international_tables_conditions():
    # P6_3/mmc: 000l and hh-2hl only with l even (lines (0, l) and (3h², l)); 100, 002, 110 allowed
    absent = powder_absences(194)
    assert {(0, 1), (0, 3), (3, 1), (12, 3)} <= absent
    assert not {(0, 2), (1, 0), (3, 0), (3, 2), (1, 1)} & absent
    assert powder_absences(164) == frozenset() and powder_absences(191) == frozenset()  # P-3m1, P6/mmm: none
    assert {line for line in powder_absences(169) if line[0] == 0} == {(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)}  # P6_1: 000l, l = 6n
    assert powder_absences(152) == {(0, 1), (0, 2), (0, 4), (0, 5)}  # P3_121: 000l, l = 3n


def test_absences_alone_cannot_split_a_shared_extinction_class():
    # P-31c (trigonal) shows P6_3/mmc's absences: a rule on absences calls both the majority system
    assert powder_absences(163) == powder_absences(194)
    rule = SCRIPT["absence_rule"](np.array([194, 194, 194, 163, 164, 164, 191, 62]))
    assert rule[powder_absences(194)] == "hexagonal" and rule[frozenset()] == "trigonal"
    accuracy, n = SCRIPT["rule_accuracy"](rule, np.array([194, 163, 152, 225]))
    assert n == 3 and accuracy == 1 / 3  # 152's class unseen: called hexagonal, wrongly


def test_model_pair_accuracy_counts_only_crossings_of_the_pair():
    report = {"misclassified": [
        {"true": "trigonal", "predicted": "hexagonal", "space_group": 164},    # trigonal-P read hexagonal
        {"true": "hexagonal", "predicted": "trigonal", "space_group": 194},    # and the reverse
        {"true": "trigonal", "predicted": "hexagonal", "space_group": 166},    # rhombohedral: not the pair
        {"true": "hexagonal", "predicted": "orthorhombic", "space_group": 194}]}
    assert SCRIPT["model_pair_accuracy"](report, 10) == 0.8
