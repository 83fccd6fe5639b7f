"""scripts/lattice_breakdown.py: checkpoints scored by Bravais lattice."""

import runpy
from pathlib import Path

import numpy as np

from xrdnet.crystal import class_index

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "lattice_breakdown.py"))


def test_lattice_rows_give_each_lattices_share_accuracy_and_what_its_mistakes_are_called():
    cubic, trigonal, hexagonal = (class_index(name) for name in ("cubic", "trigonal", "hexagonal"))
    # W (Im-3m), NaCl (Fm-3m) twice, alpha-quartz (P3_221) twice, corundum (R-3c)
    groups = [229, 225, 225, 154, 154, 167]
    labels = np.array([cubic, cubic, cubic, trigonal, trigonal, trigonal])
    calls = np.array([hexagonal, cubic, cubic, hexagonal, trigonal, trigonal])
    rows = SCRIPT["lattice_rows"](calls, labels, groups)
    assert [row.split()[0] for row in rows] == ["hR", "hP-trigonal", "cI", "cF"]  # BRAVAIS_LATTICES order, absent ones left out
    by_name = {row.split()[0]: row for row in rows}
    assert "n=1" in by_name["cI"] and "share  16.7%" in by_name["cI"] and "accuracy 0.000" in by_name["cI"]
    assert by_name["cI"].endswith("called hexagonal 1")
    assert "n=2" in by_name["hP-trigonal"] and "accuracy 0.500" in by_name["hP-trigonal"]
    assert "accuracy 1.000" in by_name["cF"] and "called" not in by_name["cF"]
