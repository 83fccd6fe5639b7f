"""scripts/error_breakdown.py: mistakes split by whether line positions can settle them."""

import json
import runpy
from pathlib import Path

import numpy as np

from xrdnet.crystal import is_trigonal_p, same_lattice_confusion
from xrdnet.metrics import misclassified, pseudo_symmetric_mistakes, same_lattice_mistakes

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "error_breakdown.py"))


def test_trigonal_lattices_are_told_apart():
    # P-3m1 (164) and P3_121 (152) sit on a primitive hexagonal lattice; R-3m (166) and R3c (161) do not
    assert is_trigonal_p(164) and is_trigonal_p(152) and is_trigonal_p(143)
    assert not is_trigonal_p(166) and not is_trigonal_p(161) and not is_trigonal_p(194) and not is_trigonal_p(62)
    assert same_lattice_confusion("trigonal", "hexagonal", 164) and same_lattice_confusion("hexagonal", "trigonal", 186)
    assert not same_lattice_confusion("trigonal", "hexagonal", 166)  # hR lines: −h + k + l = 3n
    assert not same_lattice_confusion("orthorhombic", "hexagonal", 36)


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


def test_eval_rows_carry_space_groups_and_count_the_same_lattice_mistakes(tmp_path, capsys):
    # what xrdnet-eval records: each mistake with its space group, the pair counted beside them
    probabilities = np.eye(7)[[5, 5, 4, 1, 6]]  # read hexagonal, hexagonal, trigonal, monoclinic, cubic
    labels = np.array([4, 4, 5, 2, 6])
    rows = misclassified(["quartz", "calcite", "wurtzite", "olivine", "salt"], probabilities, labels,
                         space_groups=[154, 167, 186, 62, 225])
    assert [row["space_group"] for row in rows] == [154, 167, 186, 62]
    assert same_lattice_mistakes(rows) == 2  # quartz and wurtzite; calcite is rhombohedral
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"sets": {"aflow": {"n": 5, "accuracy": 0.2, "misclassified": rows}}}))
    SCRIPT["main"]([str(metrics), "--data-dir", str(tmp_path / "nothing")])  # no dataset needed
    printed = capsys.readouterr().out
    assert "trigonal-P <-> hexagonal         2" in printed and "rhombohedral <-> hexagonal       1" in printed
    assert "orthorhombic -> monoclinic" in printed


def test_pseudo_symmetric_mistakes_are_counted_apart_with_the_accuracy_left_to_gain(tmp_path, capsys):
    # eval marks a call the lines admit (a more symmetric lattice indexing them as fully): positions cannot settle it
    rows = [{"name": "gallium", "true": "orthorhombic", "predicted": "tetragonal", "space_group": 64, "lines_admit_call": True},
            {"name": "tenorite", "true": "monoclinic", "predicted": "orthorhombic", "space_group": 15, "lines_admit_call": False},
            {"name": "quartz", "true": "trigonal", "predicted": "hexagonal", "space_group": 152, "lines_admit_call": True}]
    assert pseudo_symmetric_mistakes(rows) == 1  # quartz is the one-lattice pair, counted there
    found = SCRIPT["breakdown"](rows, {})
    assert found["kinds"]["pseudo-symmetric"] == 1 and found["kinds"]["trigonal-P <-> hexagonal"] == 1
    assert found["others"] == {("monoclinic", "orthorhombic"): {15: 1}}
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"sets": {"aflow": {"n": 10, "accuracy": 0.7, "misclassified": rows}}}))
    SCRIPT["main"]([str(metrics)])
    printed = capsys.readouterr().out
    assert "pseudo-symmetric                 1" in printed
    assert "positions cannot settle          2  (with every other mistake mended, accuracy 0.800)" in printed


def test_a_file_that_is_not_eval_metrics_is_refused_in_one_line(tmp_path, capsys):
    import pytest

    other = tmp_path / "metrics.json"
    other.write_text(json.dumps({"metrics": {"val/acc": 0.9}}))  # a training run's summary, not eval's
    with pytest.raises(SystemExit):
        SCRIPT["main"]([str(other)])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(other) in error and "not an xrdnet-eval metrics.json" in error

