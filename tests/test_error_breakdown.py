"""scripts/error_breakdown.py: mistakes split by whether line positions can settle them."""

import json
import runpy
from pathlib import Path

import numpy as np

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "error_breakdown.py"))


def test_trigonal_lattices_are_told_apart():
    # P-3m1 (164) and P3_121 (152) sit on a primitive hexagonal lattice; R-3m (166) and R3c (161) do not
    assert SCRIPT["is_trigonal_p"](164) and SCRIPT["is_trigonal_p"](152) and SCRIPT["is_trigonal_p"](143)
    assert not SCRIPT["is_trigonal_p"](166) and not SCRIPT["is_trigonal_p"](161)
    assert not SCRIPT["is_trigonal_p"](194) and not SCRIPT["is_trigonal_p"](62)


def write_dataset(folder: Path, names: list[str], groups: list[int]) -> None:
    folder.mkdir(parents=True)
    np.savez(folder / "arrays.npz", names=np.array(names), space_groups=np.array(groups, dtype=np.int16))


def test_breakdown_counts_each_kind(tmp_path, capsys):
    write_dataset(tmp_path / "data" / "one", ["quartz", "calcite", "wurtzite", "olivine", "olivine2"],
                  [154, 167, 186, 62, 62])
    # a name two datasets disagree on is not guessed
    write_dataset(tmp_path / "data" / "two", ["olivine2", "gypsum"], [15, 15])
    mistakes = [{"name": "quartz", "true": "trigonal", "predicted": "hexagonal"},
                {"name": "calcite", "true": "trigonal", "predicted": "hexagonal"},
                {"name": "wurtzite", "true": "hexagonal", "predicted": "trigonal"},
                {"name": "olivine", "true": "orthorhombic", "predicted": "monoclinic"},
                {"name": "olivine2", "true": "orthorhombic", "predicted": "monoclinic"},
                {"name": "gypsum", "true": "monoclinic", "predicted": "triclinic"}]
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"sets": {"test": {"n": 20, "accuracy": 0.7, "misclassified": mistakes}}}))

    groups = SCRIPT["space_groups_by_name"](tmp_path / "data")
    assert "olivine2" not in groups and groups["gypsum"] == 15
    found = SCRIPT["breakdown"](mistakes, groups)
    assert found["kinds"]["trigonal-P <-> hexagonal"] == 2  # quartz, and wurtzite read trigonal
    assert found["kinds"]["rhombohedral <-> hexagonal"] == 1  # calcite
    assert found["others"][("orthorhombic", "monoclinic")] == {62: 1}
    assert found["others"][("monoclinic", "triclinic")] == {15: 1}
    assert found["unknown"] == 1

    SCRIPT["main"]([str(metrics), "--data-dir", str(tmp_path / "data")])
    printed = capsys.readouterr().out
    assert "6 mistakes of 20" in printed and "trigonal-P <-> hexagonal         2  (33% of the mistakes" in printed
