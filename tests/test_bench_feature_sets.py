"""scripts/bench_feature_sets.py: feature sets timed side by side on the same profiles of a recipe's dataset."""

import runpy
from pathlib import Path

import pytest

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "bench_feature_sets.py"))


def test_hydra_overrides_after_the_sets_are_not_taken_for_sets():
    args = SCRIPT["parse_args"](["indexing_v14", "indexing_v16", "experiment=xrd_best", "--items", "5", "data.source.n=100"])
    assert args.kinds == ["indexing_v14", "indexing_v16"] and args.items == 5
    assert args.overrides == ["experiment=xrd_best", "data.source.n=100"]
    with pytest.raises(SystemExit):
        SCRIPT["parse_args"](["indexing_v14", "experiment=xrd_best"])  # one set: nothing to compare with


def test_it_times_each_set_on_clean_and_augmented_renders_and_prints_the_cost_ratio(tmp_path, capsys):
    SCRIPT["main"](["indexing", "indexing_v2", "--items", "3", f"paths.data_dir={tmp_path}", "data.source.n=40",
                    "data.source.max_atoms=8"])
    out = capsys.readouterr().out
    assert "6 profiles (3 training items, clean and augmented)" in out
    ratio = float(out.strip().splitlines()[-1].removeprefix("cost_indexing_v2="))
    assert ratio > 0
