"""scripts/size_breakdown.py: checkpoints scored by atoms per conventional cell of fresh synthetic crystals."""

import runpy
from pathlib import Path

import numpy as np

from xrdnet.crystal import class_index
from xrdnet.structures.synthetic import SyntheticStructures

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "size_breakdown.py"))


def test_atoms_per_cell_counts_the_built_conventional_cells_atoms():
    source = SyntheticStructures(6, seed=3, max_atoms=120)
    names = [source.item_name(i) for i in (4, 0, 2)]  # in another order than the source's
    counted = SCRIPT["atoms_per_cell"](source, names)
    built = [len(source.get(i).structure) for i in (4, 0, 2)]  # the generator builds the conventional cell
    assert counted.tolist() == built


def test_bands_start_with_the_training_range_and_step_by_20_atoms():
    assert SCRIPT["band_edges"](40, 120) == [(1, 40), (41, 60), (61, 80), (81, 100), (101, 120)]
    assert SCRIPT["band_edges"](40, 50) == [(1, 40), (41, 50)]
    assert SCRIPT["band_edges"](40, 40) == [(1, 40)]


def test_band_rows_give_each_bands_accuracy_and_recall():
    cubic, mono, tri = (class_index(name) for name in ("cubic", "monoclinic", "triclinic"))
    labels = np.array([cubic, cubic, mono, mono, mono])
    calls = np.array([cubic, mono, mono, tri, tri])
    atoms = np.array([8, 30, 20, 50, 60])
    rows = SCRIPT["band_rows"](calls, labels, atoms, [(1, 40), (41, 60), (61, 80)])
    assert len(rows) == 2  # no crystal in 61-80: no row
    assert "n=3" in rows[0] and "accuracy 0.667" in rows[0] and "cubic 0.50 (2)" in rows[0] and "monoc 1.00 (1)" in rows[0]
    assert "n=2" in rows[1] and "accuracy 0.000" in rows[1] and "monoc 0.00 (2)" in rows[1]
