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


def test_the_peak_width_line_gives_the_scherrer_width_at_40_degrees():
    # FWHM = K λ / (L cos θ): CuKα, K = 0.9, L = 25 nm at 2θ = 40° is 0.0059 rad = 0.34°; 85 nm gives 0.10°
    info = {"wavelength_angstrom": 1.54184,
            "profile": {"shape": "pseudo_voigt", "fwhm_deg": None, "crystallite_size_nm": 25.0, "scherrer_k": 0.9},
            "datamodule": {"augment": {"crystallite_size_nm": [10.0, 60.0]}}}
    line = SCRIPT["peak_width"](info)
    assert "25 nm (0.34° FWHM at 2θ = 40°)" in line and "10-60 nm" in line
    info["profile"]["crystallite_size_nm"] = 85.0
    assert "(0.10° FWHM" in SCRIPT["peak_width"](info)
    info["profile"].update(fwhm_deg=0.1, crystallite_size_nm=None)
    info["datamodule"] = {"augment": None}
    line = SCRIPT["peak_width"](info)
    assert "0.1° FWHM at every angle" in line and "training renders" not in line
