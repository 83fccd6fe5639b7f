"""scripts/model_card.py: the card's failure-mode figures come from the eval report."""

import runpy
from pathlib import Path

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "model_card.py"))


def test_the_unsettled_mistakes_line_counts_from_the_eval_report():
    sets = {"aflow_prototypes": {"n": 288, "same_lattice_mistakes": 12, "pseudo_symmetric_mistakes": 9,
                                 "misclassified": [{}] * 43},
            "cif:mine": {"n": 5, "misclassified": []}}  # an older report without the count: left out
    text = "\n".join(SCRIPT["pseudo_symmetry_lines"](sets))
    assert "on the AFLOW prototypes 12 + 9 of its 43 (0.927)" in text  # 1 - 21/288
    assert "cif:mine" not in text
    assert SCRIPT["pseudo_symmetry_lines"]({"test": {"n": 10, "misclassified": []}}) == []


def test_the_monoclinic_fit_line_follows_the_checkpoints_feature_set():
    def text(kind):
        return " ".join(" ".join(SCRIPT["monoclinic_fit_lines"](kind)).split())

    v9, v8 = text("indexing_v9"), text("indexing_v8")
    assert "74 % of monoclinic" in v9 and "`indexing_v9`" in v9
    assert "67 % of monoclinic" in v8 and "`indexing_v8`" in v8
    unmeasured = text(None)
    assert "only some monoclinic" in unmeasured and "%" not in unmeasured
