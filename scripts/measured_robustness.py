"""Study: how a checkpoint does on measured-style patterns of the 288 AFLOW prototypes (or of its validation crystals).

Each prototype is simulated with the checkpoint's settings, rendered on a fine 0.01° scan, given a
background of `background` × the strongest peak's counts (a low-angle decay plus a flat level) and
Poisson counting noise at `peak_counts` counts for the strongest peak, then sent through exactly the
path `xrdnet-predict` takes for a measured file (background subtraction, resampling, normalization).
Prints the accuracy per condition; the clean row is the simulated profile itself, as `xrdnet-eval`
scores it. Further rows give every peak its CuKα2 line (half as strong, at its own Bragg angle), sent
through predict's default for `--wavelength CuKa` (Rachinger stripping) and without it, and render the
peaks as sharp as a lab diffractometer's resolution (0.08° FWHM) instead of the model's Scherrer width.
With --inputs-apart the measured-style rows also read each scan with its clean render's indexing features,
and the clean render with the scan's features: which of the model's two inputs carries the loss.
With --validation N the patterns are N crystals drawn from the checkpoint's own synthetic validation split
instead (seeded by --seed): the set to choose recipes and feature sets on; the AFLOW prototypes only report.
With --crystallite-size-nm L the clean and scan renders take Scherrer size L instead of the checkpoint's own: two
checkpoints trained at different clean widths are then scored on the same scans.

    python scripts/measured_robustness.py outputs/train/runs/<time>/checkpoints/epoch_<n>.ckpt
    python scripts/measured_robustness.py <ckpt> --validation 1000
    python scripts/measured_robustness.py <ckpt> --validation 1000 --crystallite-size-nm 25
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from xrdnet.data.dataset import PeakListSet, build_or_load
from xrdnet.data.datamodule import render_all
from xrdnet.eval import training_split
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.robustness import validation_items as draw_validation_items
from xrdnet.structures.aflow import AflowPrototypes
from xrdnet.xrd.measured import preprocess_measured
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import KALPHA_RELATIVE_SPLIT, kalpha_doublet

# (strongest-peak counts, background level as a fraction of them): from a strong, clean scan to a
# weak scatterer on a high background
CONDITIONS = ((1e5, 0.02), (1e4, 0.05), (1e4, 0.2), (3e3, 0.2), (1e3, 0.2), (1e3, 0.5))
SCAN_STEP_DEG = 0.01
DOUBLET_CONDITION = (1e4, 0.05)  # counts and background of the Kα2 and sharp-peak rows
SHARP_FWHM_DEG = 0.08


def measured_counts(profile: np.ndarray, scan: TwoThetaGrid, peak_counts: float, background: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Counts of a scan: peaks scaled to `peak_counts`, a background (decay + flat level), Poisson noise."""
    level = background * peak_counts
    decay = np.exp(-(scan.points - scan.start_deg) / 10.0)
    expected = profile / profile.max() * peak_counts + level * (0.5 + decay)
    return rng.poisson(expected).astype(float)


def validation_items(ckpt: str, predictor: CrystalSystemPredictor, data_dir: str, n: int,
                     seed: int) -> tuple[PeakListSet, np.ndarray, str]:
    """(peak lists, n items of the checkpoint's synthetic validation split drawn with `seed` (all of them when n <= 0),
    a description)."""
    datamodule = training_split(ckpt, predictor, data_dir)
    if datamodule is None:
        raise SystemExit(f"{ckpt}: records no training data, so it has no validation split to draw from")
    validation = datamodule.split_indices["val"]
    items = draw_validation_items(validation, n if n > 0 else len(validation), seed)
    return datamodule.peaks, items, f"synthetic validation crystals (of {len(validation)}, seed {seed})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ckpt", help="checkpoint to score")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--background-method", default="rolling_ball")
    parser.add_argument("--data-dir", default="data", help="dataset cache, shared with xrdnet-eval (default data/)")
    parser.add_argument("--validation", type=int, default=0, metavar="N",
                        help="score N crystals of the checkpoint's synthetic validation split instead of the AFLOW prototypes")
    parser.add_argument("--inputs-apart", action="store_true",
                        help="measured-style rows also read with the clean render's features, and the clean render with the scan's")
    parser.add_argument("--crystallite-size-nm", type=float, default=None, metavar="L",
                        help="render the clean profiles and the scans at Scherrer size L (nm), not the checkpoint's")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    try:
        predictor = CrystalSystemPredictor.from_checkpoint(args.ckpt)
    except CheckpointError as error:
        parser.error(str(error))
    grid = predictor.grid
    settings = predictor.settings
    if args.crystallite_size_nm is not None:
        try:
            settings = settings.with_crystallite_size(args.crystallite_size_nm)
        except ValueError as error:
            parser.error(str(error))
    scan = TwoThetaGrid(grid.start_deg, grid.stop_deg, SCAN_STEP_DEG)
    if args.validation:
        peaks, items, what = validation_items(args.ckpt, predictor, args.data_dir, args.validation, args.seed)
    else:  # the same cached peak lists xrdnet-eval scores
        peaks = build_or_load(args.data_dir, AflowPrototypes(), predictor.simulator)
        items, what = np.arange(len(peaks)), "AFLOW prototypes"
    clean, labels = (tensor.numpy() for tensor in render_all(peaks, items, grid, settings).tensors)
    fine = [render_profile(*peaks.peaks(index), scan, settings, peaks.wavelength_angstrom) for index in items]

    def accuracy(profiles: np.ndarray | list[np.ndarray], feature_profiles=None) -> float:
        probabilities = predictor.predict_proba(np.stack(profiles), None if feature_profiles is None else np.stack(feature_profiles))
        return float((probabilities.argmax(1) == labels).mean())

    rng = np.random.default_rng(args.seed)
    rows = [("clean simulated profile", "-", "-", accuracy(clean))]
    apart = []  # (counts, background, scan with clean features, clean render with the scan's features)
    for peak_counts, background in CONDITIONS:
        measured = [preprocess_measured(scan.points, measured_counts(profile, scan, peak_counts, background, rng),
                                        predictor.wavelength_angstrom, grid, background=args.background_method)
                    for profile in fine]
        rows.append(("measured-style", f"{peak_counts:.0e}", f"{background:g}", accuracy(measured)))
        if args.inputs_apart and predictor.reads_features:
            apart.append((rows[-1][1], rows[-1][2], accuracy(measured, clean), accuracy(clean, measured)))
    split = KALPHA_RELATIVE_SPLIT["Cu"]
    doublets = [render_profile(*kalpha_doublet(*peaks.peaks(index), peaks.wavelength_angstrom, split), scan,
                               settings, peaks.wavelength_angstrom) for index in items]
    sharp_settings = ProfileSettings("pseudo_voigt", fwhm_deg=SHARP_FWHM_DEG)
    sharp = [render_profile(*peaks.peaks(index), scan, sharp_settings, peaks.wavelength_angstrom) for index in items]
    peak_counts, background = DOUBLET_CONDITION
    for name, profiles, strip in (("with Kα2, stripped (predict's default for CuKa)", doublets, split),
                                  ("with Kα2, kept", doublets, None),
                                  (f"sharp peaks ({SHARP_FWHM_DEG}° FWHM)", sharp, None),
                                  ("sharp peaks with Kα2, stripped", None, split)):
        if profiles is None:
            profiles = [render_profile(*kalpha_doublet(*peaks.peaks(index), peaks.wavelength_angstrom, split), scan,
                                       sharp_settings, peaks.wavelength_angstrom) for index in items]
        measured = [preprocess_measured(scan.points, measured_counts(profile, scan, peak_counts, background, rng),
                                        predictor.wavelength_angstrom, grid, background=args.background_method,
                                        kalpha2_split=strip) for profile in profiles]
        rows.append((name, f"{peak_counts:.0e}", f"{background:g}", accuracy(measured)))

    width = f"Scherrer {settings.crystallite_size_nm:g} nm" if settings.fwhm_deg is None else f"{settings.fwhm_deg:g}° FWHM"
    print(f"{len(labels)} {what}, checkpoint {args.ckpt}, rendered at {width}")
    print("| pattern | strongest-peak counts | background / peak | accuracy |\n|---|---:|---:|---:|")
    for name, counts, background, value in rows:
        print(f"| {name} | {counts} | {background} | {value:.3f} |")
    measured_mean = np.mean([row[3] for row in rows[1:]])
    print(f"clean_acc={rows[0][3]:.3f} measured_mean_acc={measured_mean:.3f}")
    if apart:
        print("\nmeasured-style rows, the inputs apart (the profile the network reads / the one its indexing features come from):")
        print("| strongest-peak counts | background / peak | scan / scan | scan / clean render | clean render / scan |\n|---:|---:|---:|---:|---:|")
        for (_, counts, background, both), (_, _, scan_clean, clean_scan) in zip(rows[1:1 + len(apart)], apart):
            print(f"| {counts} | {background} | {both:.3f} | {scan_clean:.3f} | {clean_scan:.3f} |")


if __name__ == "__main__":
    main()
