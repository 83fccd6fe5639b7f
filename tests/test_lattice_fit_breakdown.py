"""scripts/lattice_fit_breakdown.py: the model scored apart where its own lattice fit found a cell and where not."""

import runpy
import sys
from pathlib import Path

import numpy as np

from xrdnet.crystal import class_index
from xrdnet.xrd.indexing_wide import FEATURE_NAMES_V6

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))  # the script takes exact_lines from its sibling study_trial_cells.py
SCRIPT = runpy.run_path(str(SCRIPTS / "lattice_fit_breakdown.py"))


def _features(fraction_log_m: list[tuple[float, float]], system: str) -> np.ndarray:
    features = np.zeros((len(fraction_log_m), len(FEATURE_NAMES_V6)), dtype=np.float32)
    column = {name: i for i, name in enumerate(FEATURE_NAMES_V6)}
    for row, (fraction, log_m) in enumerate(fraction_log_m):
        features[row, column[f"all_{system}_fraction_indexed"]] = fraction
        features[row, column[f"all_{system}_log_m"]] = log_m
        features[row, column[f"strong_{system}_log_m"]] = 9.0  # the strong-line fit is not what counts
    return features


def test_a_fit_is_solved_with_85_percent_of_the_lines_indexed_and_ln_m_of_3():
    features = _features([(0.85, 3.0), (0.80, 6.0), (1.0, 2.9), (1.0, 5.0)], "monoclinic")
    assert SCRIPT["fit_solved"](features, "monoclinic").tolist() == [True, False, False, True]
    assert not SCRIPT["fit_solved"](features, "orthorhombic").any()  # another fit's columns are zero


def test_breakdown_scores_a_system_apart_where_its_fit_is_solved_and_where_not():
    mono, tri, ortho = (class_index(name) for name in ("monoclinic", "triclinic", "orthorhombic"))
    labels = np.array([mono, mono, mono, mono, mono, ortho])
    calls = np.array([mono, mono, tri, mono, ortho, mono])
    solved = np.array([True, True, False, False, True, False])
    row = SCRIPT["breakdown"](labels, calls, solved, "monoclinic")
    assert row["n"] == 5 and row["solved"] == 3 / 5
    assert row["right_when_solved"] == (2, 3) and row["right_when_not"] == (1, 2)
    assert row["mistakes_by_call"] == {"triclinic": 1, "orthorhombic": 1}  # the orthorhombic item is not counted
