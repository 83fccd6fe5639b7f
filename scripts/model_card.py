"""Write the model card of a trained checkpoint from its xrdnet-eval report and the runs that reproduce it.

    python scripts/model_card.py --checkpoint src/xrdnet/pretrained/crystal_system.ckpt \
        --eval outputs/eval/runs/<time>/metrics.json --runs outputs/train/runs/<seed 42> outputs/train/runs/<seed 7> \
        --command "xrdnet-train experiment=xrd_best" --commit <sha> --out src/xrdnet/pretrained/MODEL_CARD.md

Every figure in the card comes from those files: the per-set and per-class numbers from the eval report
of the checkpoint, the seed spread from the runs' metrics.json.
"""

from __future__ import annotations

import argparse
import json
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from omegaconf import OmegaConf

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.xrd.profile import scherrer_fwhm_deg
from xrdnet.utils.atomic import write_text_atomic

PACKAGES = ("xrdnet", "torch", "lightning", "pymatgen", "pyxtal", "spglib", "numpy")
SET_TITLES = {"test": "synthetic test split (same distribution as training)",
              "aflow_prototypes": "288 AFLOW prototypes (real structure types; report only, never tuned on)"}
SET_NAMES = {"test": "on the synthetic test split", "aflow_prototypes": "on the AFLOW prototypes"}


# share of monoclinic cells the monoclinic fit finds from the lines picked off clean renders of 300 synthetic
# validation crystals (scripts/study_trial_cells.py --unindexed 0.1; the README's solve-rate tables);
# indexing_v10 and indexing_v11 pick a clean render's lines as indexing_v9 does (v11's gate: on none of 3,000);
# indexing_v12 and indexing_v14: the same 300 crystals, xrd.learned_assignments' search with the v12 and v14
# tables (scripts/study_learned_assignments.py); indexing_v16: the same 300 crystals and solve test, v14's search
# refining 100 screened trial cells (`--recipes v14 --sets val --monoclinic-refined 100`, the v14 row with all
# its assignments; measured 2026-12-06 with the fit built as learned_assignments builds it: triclinic crystals
# given a monoclinic cell 0.040 -> 0.050)
MONOCLINIC_SOLVE_RATE = {"indexing_v7": 0.483, "indexing_v8": 0.673, "indexing_v9": 0.740, "indexing_v10": 0.740, "indexing_v11": 0.740,
                         "indexing_v12": 0.840, "indexing_v14": 0.867, "indexing_v16": 0.903}


def monoclinic_fit_lines(feature_kind: str | None) -> list[str]:
    """The low-symmetry failure line, with the measured solve rate of the checkpoint's feature set where there is one."""
    rate = MONOCLINIC_SOLVE_RATE.get(feature_kind)
    opening = "- Triclinic patterns have no lattice fit of their own, and the monoclinic fit finds the cell of"
    if rate is None:
        found = [f"{opening} only", "  some monoclinic patterns; the rest are"]
    else:
        found = [f"{opening} {100 * rate:.0f} % of",
                 f"  monoclinic patterns from picked lines (300 validation crystals with `{feature_kind}`); the rest are"]
    return [*found, "  told from orthorhombic and from each other by the lines the fits leave unindexed, which crowded",
            "  low-symmetry patterns blur."]


def per_class_table(report: dict) -> list[str]:
    lines = ["| class | precision | recall | F1 | n |", "|---|---:|---:|---:|---:|"]
    for name, row in report["per_class"].items():
        lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    return lines


def seed_table(runs: list[Path]) -> list[str]:
    keys = ("test/acc", "test/f1_macro", "real/acc", "real/f1_macro")
    rows, values = [], {key: [] for key in keys}
    for run in runs:
        summary = json.loads((run / "metrics.json").read_text())
        seed = OmegaConf.load(run / ".hydra" / "config.yaml").get("seed")
        metrics = summary["metrics"]
        for key in keys:
            values[key].append(metrics[key])
        wall = summary.get("wall_seconds", 0) / 60
        rows.append(f"| {run.name}{'' if seed is None else f' (seed {seed})'} | "
                    + " | ".join(f"{metrics[k]:.3f}" for k in keys) + f" | {wall:.0f} |")
    spread = ["| mean ± half-range | " + " | ".join(
        f"{np.mean(v):.3f} ± {(max(v) - min(v)) / 2:.3f}" for v in values.values()) + " | |"] if len(runs) > 1 else []
    header = ["| run | synthetic test acc | synthetic test macro-F1 | AFLOW acc | AFLOW macro-F1 | training wall (min) |",
              "|---|---:|---:|---:|---:|---:|"]
    return header + rows + spread


def confusions(report: dict, pairs=(("trigonal", "hexagonal"), ("hexagonal", "trigonal"), ("monoclinic", "orthorhombic"),
                                     ("orthorhombic", "monoclinic"), ("triclinic", "monoclinic"))) -> list[str]:
    matrix = np.array(report["confusion_matrix"])
    index = {name: i for i, name in enumerate(CRYSTAL_SYSTEMS)}
    return [f"- {true} called {pred}: {matrix[index[true], index[pred]]} of {matrix[index[true]].sum()}"
            for true, pred in pairs]


def pseudo_symmetry_lines(sets: dict) -> list[str]:
    """The failure-mode bullet on the mistakes line positions cannot settle, from eval reports that count them."""
    counted = {name: report for name, report in sets.items() if "pseudo_symmetric_mistakes" in report}
    if not counted:
        return []
    figures = []
    for name, report in counted.items():
        unsettled = report["same_lattice_mistakes"] + report["pseudo_symmetric_mistakes"]
        figures.append(f"{SET_NAMES.get(name, name)} {report['same_lattice_mistakes']} + {report['pseudo_symmetric_mistakes']} "
                       f"of its {len(report['misclassified'])} ({1 - unsettled / report['n']:.3f})")
    return ["- Pseudo-symmetric cells: where a more symmetric lattice indexes the lines as fully as the true one (an orthorhombic",
            "  cell with a ≈ b, or b ≈ √3 a, within a line width) it reads the more symmetric system, as an indexing program",
            "  would. `xrdnet-eval` of this model counts these with the trigonal-P/hexagonal pair as the mistakes line positions",
            "  cannot settle (in brackets: the accuracy with every other mistake mended): " + "; ".join(figures) + "."]


def card(args: argparse.Namespace) -> str:
    checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    hparams = checkpoint["hyper_parameters"]
    info = hparams["data_info"]
    source = info.get("datamodule", {}).get("source", {})
    evaluation = json.loads(Path(args.eval).read_text())
    sets = evaluation["sets"]
    size_mb = Path(args.checkpoint).stat().st_size / 1e6
    lines = [
        "# xrdnet crystal-system model", "",
        "Reads the crystal system (triclinic ... cubic) of a powder X-ray diffraction pattern. Shipped with",
        "xrdnet: `xrdnet-predict` and `xrdnet-eval` use it when no checkpoint is given.", "",
        "## What it reads",
        f"- a profile on {info['grid']['start_deg']:g}-{info['grid']['stop_deg']:g}° 2θ in {info['grid']['step_deg']:g}° steps "
        f"at {info['wavelength']} ({info['wavelength_angstrom']:g} Å), maximum 1; measured scans at another wavelength are moved onto it by Bragg's law",
        f"- {peak_width(info)}",
        f"- read by the network on the `{info.get('axis', {}).get('kind', 'two_theta')}` axis with "
        f"`{info.get('axis', {}).get('intensity', 'linear')}` intensity, beside the pattern's powder-indexing features "
        f"(`{(info.get('features') or {}).get('kind', 'none')}`: lattice-fit figures of merit of the picked line positions)",
        f"- network: `{hparams['net']['_target_']}` ({sum(v.numel() for v in checkpoint['state_dict'].values()) / 1e6:.2f} M values in the state dict, "
        f"{size_mb:.1f} MB file); softmax temperature {evaluation['temperature']:.3f}, fitted on the synthetic validation split", "",
        "## What it was trained on",
        f"- {source.get('n', '?')} synthetic crystals only (`{source.get('_target_', '?')}`, generator `{source.get('generator', '?')}`, "
        f"space groups and Wyckoff sites sampled with `{source.get('system_weights', '?')}` weights from the Materials Project statistics that ship with pyxtal, "
        f"at most {source.get('max_atoms', '?')} atoms), simulated with the project's kinematic engine and re-rendered with fresh augmentation every epoch",
        "- split 80/10/10, stratified by crystal system; every choice (recipe, epochs, checkpoint) made on the synthetic validation split",
        "- no real structure and no measured pattern was trained or tuned on", "",
        "## Reproduce", "```bash", f"git checkout {args.commit}", "bash scripts/setup.sh", f".venv/bin/{args.command}", "```",
        f"The shipped file is the best checkpoint (by validation accuracy) of the first run below ({Path(args.runs[0]).name}).", "",
        "## Accuracy",
        f"{len(args.runs)} run(s) of the command above, each with its own seed (tested on its best-validation checkpoint):", "",
        *seed_table([Path(r) for r in args.runs]), "", *(f"{note}\n" for note in args.note),
    ]
    for name, report in sets.items():
        title = SET_TITLES.get(name, name)
        lines += [f"### {title}", "",
                  f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, top-2 accuracy {report['top2_accuracy']:.3f}, "
                  f"calibration error (ECE) {report.get('expected_calibration_error', float('nan')):.3f}; "
                  f"accuracy of the most confident half: {next(r['accuracy'] for r in report['accuracy_coverage'] if r['fraction'] == 0.5):.3f}", "",
                  *per_class_table(report), "", "Confusions that matter:", *confusions(report), ""]
    real = sets.get("aflow_prototypes")
    lines += ["## Known failure modes",
              "- Trigonal-P and hexagonal lattices index alike (hkl and khl at the same d): only rhombohedral (hR) lattices",
              "  are told apart by their line positions; the rest of that pair is decided on intensities and absences.",
              *pseudo_symmetry_lines(sets),
              *monoclinic_fit_lines((info.get("features") or {}).get("kind")),
              "- The indexing features come from picked peak positions: overlapping peaks, a strong impurity phase, or a",
              "  Kα2 line that was not stripped (`xrdnet-predict --kalpha2`) move or add lines.",
              ]
    lines += [f"- {failure}" for failure in args.failure]
    if real:
        wrong = sorted(real["misclassified"], key=lambda r: -r["probabilities"][r["predicted"]])[:8]
        lines += ["- The most confident mistakes on the AFLOW prototypes:"]
        lines += [f"  - {r['name']}: {r['true']} called {r['predicted']} ({r['probabilities'][r['predicted']]:.2f})" for r in wrong]
    lines += ["", "## Package versions (when this card was written)", ""]
    for package in PACKAGES:
        try:
            lines.append(f"- {package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return "\n".join(lines) + "\n"


def peak_width(info: dict) -> str:
    """How the model's clean renders (simulated structures, its validation and test patterns) draw their lines, and
    the widths its training renders were drawn from."""
    profile = info.get("profile", {})
    if profile.get("fwhm_deg") is not None:
        clean = f"{profile['fwhm_deg']:g}° FWHM at every angle"
    else:
        size = profile.get("crystallite_size_nm")
        fwhm_40 = float(scherrer_fwhm_deg(40.0, info["wavelength_angstrom"], size, profile.get("scherrer_k", 0.9)))
        clean = f"Scherrer size {size:g} nm ({fwhm_40:.2f}° FWHM at 2θ = 40°)"
    trained = (info.get("datamodule", {}).get("augment") or {}).get("crystallite_size_nm")
    drawn = f"; training renders drew sizes log-uniform in {trained[0]:g}-{trained[1]:g} nm" if trained else ""
    return f"clean renders (a simulated structure, the validation and test patterns) have {profile.get('shape', '?')} lines of {clean}{drawn}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--eval", type=Path, required=True, help="metrics.json written by xrdnet-eval for the checkpoint")
    parser.add_argument("--runs", nargs="+", required=True,
                        help="xrdnet-train run folders of the seeds, the one the checkpoint comes from first")
    parser.add_argument("--command", required=True, help="the training command, e.g. 'xrdnet-train experiment=xrd_best'")
    parser.add_argument("--commit", required=True, help="commit the runs were made from")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--note", action="append", default=[], help="a paragraph added under Accuracy (repeatable)")
    parser.add_argument("--failure", action="append", default=[], help="a known failure mode of this checkpoint (repeatable)")
    args = parser.parse_args(argv)
    write_text_atomic(args.out, card(args))
    print(f"model card: {args.out}")


if __name__ == "__main__":
    main()
