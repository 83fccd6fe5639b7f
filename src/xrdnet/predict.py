"""xrdnet-predict: the crystal system of CIF files and measured powder patterns.

    xrdnet-predict my.cif scans/*.xy --ckpt best.ckpt --wavelength CuKa --top-k 3 --out results.json

CIFs are simulated with the checkpoint's own settings. Measured scans (PANalytical .xrdml, Bruker
.brml, Rigaku .ras, GSAS .gsa/.fxye, text columns .xy/.xye/.dat/.csv/.txt) are read at the
wavelength their file records (--wavelength overrides; CuKa when neither says), moved to the model's
wavelength by Bragg's law, background-subtracted, Kα2-stripped when the wavelength is a doublet,
resampled onto its 2θ grid and normalized, and cleared of a sample displacement that the lattice fits
find (--displacement). Files that cannot be read are reported as skipped with the reason; every
other file still gets an answer. Each answer carries the cell of the predicted system that indexes the
pattern's lines, when one does (lattice, a b c in Å, β for monoclinic, lines indexed, figure of merit M),
for checking the call as an indexing program's answer is checked, and the cell of a more symmetric system
when one indexes the lines about as well (what an indexing program would report instead).
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import sys
from pathlib import Path

import numpy as np

from xrdnet.utils.errors import first_line

BACKGROUNDS = ("rolling_ball", "iterative_polynomial", "none")
# what was done to a measured pattern, per file
PREPROCESSING_FIELDS = ("format", "wavelength_angstrom", "wavelength", "wavelength_from", "background", "kalpha2",
                        "kalpha2_seen", "displacement_shift_deg", "coverage")
LOW_COVERAGE = 0.6  # below this fraction of the model's grid a scan gets a warning in its result
# a primitive hexagonal cell's lines are those of trigonal-P and hexagonal structures alike (hkl and khl at one d)
HEXAGONAL_LATTICE_NOTE = " (trigonal-P or hexagonal: the lines cannot tell)"


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files named directly, every supported file in a named folder, and glob patterns; sorted, unique."""
    from xrdnet.predictor import CIF_SUFFIXES
    from xrdnet.xrd.formats import SCAN_SUFFIXES

    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in {*CIF_SUFFIXES, *SCAN_SUFFIXES})
        elif any(ch in item for ch in "*?[") and not path.exists():
            files += sorted(Path(p) for p in glob.glob(item))
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def predict_files(files: list[Path], predictor, wavelength: str | float | None = None, top_k: int = 3,
                  threshold: float = 0.5, background: str = "rolling_ball", plot_dir: Path | None = None,
                  kalpha2: str = "auto", displacement: str = "auto") -> list[dict]:
    """One result per file: {"file", "status": "ok"|"skipped", "reason", "top": [...], "uncertain", "preprocessing",
    "cell", "more_symmetric_cell"}; "cell": the cell of the predicted system that indexes the pattern's lines
    (`xrdnet.xrd.cell`), or None; "more_symmetric_cell": the cell of a more symmetric system that an indexing program
    would report instead (`xrd.cell.more_symmetric_cell`, with its "crystal_system"), or None.

    wavelength: of every measured scan (None: the one its file records, else the predictor's default).
    """
    results, profiles, ok_rows = [], [], []
    for path in files:
        try:
            profile, preprocessing = predictor.profile_of_file(path, wavelength, background, kalpha2, displacement)
        except Exception as error:  # one bad file is reported, never stops the batch
            results.append({"file": str(path), "status": "skipped", "reason": _reason(path, error), "top": []})
            continue
        reason = ""
        if preprocessing.get("coverage", 1.0) < LOW_COVERAGE:
            reason = f"the scan covers {preprocessing['coverage']:.0%} of the model's 2θ grid; the rest reads as empty"
        results.append({"file": str(path), "status": "ok", "reason": reason, "top": [], "preprocessing": preprocessing})
        profiles.append(profile)
        ok_rows.append(len(results) - 1)
    if profiles:
        probabilities = predictor.predict_proba(np.stack(profiles))
        for row, profile, p in zip(ok_rows, profiles, probabilities):
            order = np.argsort(-p)[:top_k]
            results[row]["top"] = [{"crystal_system": predictor.class_names[i], "probability": round(float(p[i]), 4)} for i in order]
            results[row]["uncertain"] = bool(p[order[0]] < threshold)
            call = predictor.class_names[order[0]]
            cell, simpler = predictor.call_cells(profile, call)
            results[row]["cell"] = _cell_record(cell)
            results[row]["more_symmetric_cell"] = None if simpler is None else {"crystal_system": simpler[0], **_cell_record(simpler[1])}
        if plot_dir is not None:
            _plot_inputs(plot_dir, [results[r] for r in ok_rows], profiles, predictor)
    return results


def _cell_record(cell) -> dict | None:
    return None if cell is None else {**cell.as_dict(), "text": cell.describe()}


def _reason(path: Path, error: Exception) -> str:
    text = first_line(error)
    return text if str(path) in text else f"{path}: {text}"


def _plot_inputs(plot_dir: Path, rows: list[dict], profiles: list[np.ndarray], predictor) -> None:
    from xrdnet.plotting import patterns_figure, save_figure

    used: set[str] = set()
    for row, profile in zip(rows, profiles):
        best = row["top"][0]
        title = f"{Path(row['file']).name}: {best['crystal_system']} ({best['probability']:.2f})"
        name, copy = Path(row["file"]).stem, 1
        while name in used:  # inputs from different folders, or with other suffixes, may share a stem
            copy += 1
            name = f"{Path(row['file']).stem}-{copy}"
        used.add(name)
        save_figure(patterns_figure(predictor.grid.points, profile[None], [title], columns=1), plot_dir / f"{name}.png")


def format_table(results: list[dict]) -> str:
    from xrdnet.xrd.cell import SYSTEM_LATTICES  # the systems with lattice fits: a call of one without a cell is less often right

    lines = [f"{'file':<40} {'prediction':<42} note"]
    for row in results:
        if row["status"] != "ok":
            lines.append(f"{Path(row['file']).name:<40} {'-':<42} skipped: {row['reason']}")
            continue
        top = ", ".join(f"{t['crystal_system']} {t['probability']:.2f}" for t in row["top"])
        notes = ["uncertain"] * bool(row.get("uncertain")) + [row["reason"]] * bool(row["reason"])
        if row.get("cell"):
            notes.append(f"cell {row['cell']['text']}" + HEXAGONAL_LATTICE_NOTE * (row["cell"]["lattice"] == "hP"))
        elif row["top"][0]["crystal_system"] in SYSTEM_LATTICES:
            notes.append(f"no {row['top'][0]['crystal_system']} cell indexes the lines")
        if row.get("more_symmetric_cell"):
            simpler = row["more_symmetric_cell"]
            notes.append(f"a more symmetric {simpler['crystal_system']} cell indexes them too: {simpler['text']}")
        lines.append(f"{Path(row['file']).name:<40} {top:<42} {'; '.join(notes)}")
    return "\n".join(lines)


def write_results(path: Path, results: list[dict]) -> None:
    """JSON (a list, one object per input) or CSV (one row per input), written atomically."""
    from xrdnet.utils.atomic import write_json_atomic, write_text_atomic

    if path.suffix.lower() == ".csv":
        width = max((len(r["top"]) for r in results), default=0)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["file", "status", "reason", "uncertain", *PREPROCESSING_FIELDS, "cell", "more_symmetric_cell"]
                        + [f"{kind}_{k + 1}" for k in range(width) for kind in ("crystal_system", "probability")])
        for row in results:
            steps = row.get("preprocessing", {})
            cells = [row["file"], row["status"], row["reason"], row.get("uncertain", ""),
                     *(steps.get(field, "") for field in PREPROCESSING_FIELDS), (row.get("cell") or {}).get("text", ""),
                     _more_symmetric_text(row)]
            for top in row["top"]:
                cells += [top["crystal_system"], top["probability"]]
            writer.writerow(cells)
        write_text_atomic(path, buffer.getvalue())
    else:
        write_json_atomic(path, results)


def _more_symmetric_text(row: dict) -> str:
    simpler = row.get("more_symmetric_cell")
    return f"{simpler['crystal_system']}: {simpler['text']}" if simpler else ""


def argument_parser() -> argparse.ArgumentParser:
    """xrdnet-predict's options. Their choices are spelled out here rather than imported, so that the CLI
    answers --help and a bad option without loading torch or pymatgen; tests/test_eval_predict.py checks
    them against the library's (BACKGROUND_METHODS, KALPHA2_CHOICES, DISPLACEMENT_CHOICES, MAX_SHIFT_DEG)."""
    parser = argparse.ArgumentParser(prog="xrdnet-predict", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="CIF or pattern files, folders, or glob patterns")
    parser.add_argument("--ckpt", help="checkpoint written by xrdnet-train (default: the model shipped with xrdnet)")
    parser.add_argument("--wavelength", default=None,
                        help="wavelength of measured patterns: line name (CuKa, MoKa, ...) or Å; default: the one "
                             "each file records (.xrdml, .brml, .ras), else CuKa")
    parser.add_argument("--top-k", type=int, default=3, help="crystal systems listed per file (default 3)")
    parser.add_argument("--threshold", type=float, default=0.5, help="top probability below which a prediction is 'uncertain'")
    parser.add_argument("--background", default="rolling_ball", choices=BACKGROUNDS,
                        help="background subtraction of measured patterns (default rolling_ball)")
    parser.add_argument("--kalpha2", default="auto", choices=("auto", "strip", "keep"),
                        help="Kα2 line of measured patterns: strip it (Rachinger) or keep it; auto strips it when "
                             "the scan shows a Kα doublet (near the wavelength's anode: CuKa or CuKa1, 1.5406 Å, ...), "
                             "keeps a scan that shows one line, and when the scan cannot tell (lines broader than the "
                             "split) strips when the wavelength names the doublet; kalpha2_seen reports it")
    parser.add_argument("--displacement", default="auto", choices=("auto", "off"),
                        help="sample displacement of measured patterns: auto removes the shift Δ2θ = c·cosθ "
                             "(|c| ≤ 0.16°) under which the lines index best, reported as displacement_shift_deg; "
                             "off reads the scan as recorded")
    parser.add_argument("--out", type=Path, help="write results to .json or .csv")
    parser.add_argument("--plot-dir", type=Path, help="save a PNG per input of the processed pattern the model saw")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return argument_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from xrdnet.predictor import CheckpointError, CrystalSystemPredictor, kalpha2_to_strip
    from xrdnet.xrd.wavelengths import Radiation

    try:
        if args.wavelength is not None:  # checked once here rather than once per file
            kalpha2_to_strip(args.kalpha2, Radiation.named(args.wavelength))
        checkpoint = args.ckpt
        if checkpoint is None:
            from xrdnet.pretrained import MODEL_CARD, shipped_checkpoint

            checkpoint = shipped_checkpoint()
            print(f"no --ckpt given: using the shipped model {checkpoint} (see {MODEL_CARD.name} beside it)",
                  file=sys.stderr)
        predictor = CrystalSystemPredictor.from_checkpoint(checkpoint)
    except (CheckpointError, ValueError, FileNotFoundError) as error:
        print(f"xrdnet-predict: {error}", file=sys.stderr)
        return 2
    files = expand_inputs(args.inputs)
    if not files:
        print(f"xrdnet-predict: no input files found in {' '.join(args.inputs)}", file=sys.stderr)
        return 2
    k = max(1, min(args.top_k, len(predictor.class_names)))
    results = predict_files(files, predictor, args.wavelength, top_k=k, threshold=args.threshold,
                            background=args.background, plot_dir=args.plot_dir, kalpha2=args.kalpha2,
                            displacement=args.displacement)
    print(format_table(results))
    if args.out:
        write_results(args.out, results)
        print(f"results: {args.out}")
    skipped = sum(r["status"] != "ok" for r in results)
    print(f"{len(results) - skipped} predicted, {skipped} skipped")
    return 0 if len(results) > skipped else 1


if __name__ == "__main__":
    sys.exit(main())
