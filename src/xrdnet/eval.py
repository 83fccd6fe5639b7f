"""xrdnet-eval: metrics of a checkpoint on the held-out synthetic split and on real structures.

    xrdnet-eval ckpt_path=outputs/train/runs/<time>/checkpoints/epoch_012.ckpt
    xrdnet-eval ckpt_path=<ckpt> cif_dir=/my/cifs synthetic_test=false
    xrdnet-eval materials_project='{chemsys: Si-O, num_structures: 100}'   # needs xrdnet[mp]; a key the first time

Writes metrics.json (atomically), confusion matrices and an accuracy-coverage figure (PNG and
TensorBoard) to its run folder, and prints the tables.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from xrdnet.config import CONFIG_DIR
from xrdnet.data.dataset import PeakListSet, build_or_load
from xrdnet.data.datamodule import render_all
from xrdnet.metrics import (accuracy_coverage, classification_report, misclassified, pseudo_symmetric_mistakes,
                            same_lattice_mistakes)
from xrdnet.predictor import CheckpointError, CrystalSystemPredictor
from xrdnet.structures.base import StructureSource
from xrdnet.structures.synthetic import SyntheticStructures
from xrdnet.utils.atomic import write_json_atomic
from xrdnet.utils.errors import exit_on_setup_error
from xrdnet.xrd.cell import lines_admit_call

log = logging.getLogger(__name__)
MISCLASSIFIED_SHOWN = 15  # more than this on the terminal: the most confident mistakes, the rest in metrics.json


def real_sources(cfg: DictConfig) -> dict[str, StructureSource]:
    """name of set -> the real-structure sources asked for; made before the checkpoint loads, so that a
    missing key or network for the Materials Project stops the run first."""
    sources: dict[str, StructureSource] = {}
    if cfg.aflow_prototypes:
        from xrdnet.structures.aflow import AflowPrototypes

        sources["aflow_prototypes"] = AflowPrototypes(symprec=cfg.symprec)
    if cfg.cif_dir:
        from xrdnet.structures.cif import CifDirectory

        sources[f"cif:{Path(cfg.cif_dir).name}"] = CifDirectory(str(cfg.cif_dir), symprec=cfg.symprec)
    if cfg.get("materials_project"):
        from xrdnet.structures.materials_project import MaterialsProjectStructures

        criteria = {"symprec": cfg.symprec, **OmegaConf.to_container(cfg.materials_project)}
        sources["materials_project"] = MaterialsProjectStructures(cfg.paths.data_dir, **criteria)
    return sources


def labelled_profiles(cfg: DictConfig, predictor: CrystalSystemPredictor,
                      sources: dict[str, StructureSource]) -> dict[str, tuple]:
    """name of set -> (profiles, labels, item names, skipped items, space groups, features or None) rendered the way
    the model was trained: the held-out synthetic split (cfg.synthetic_test), then each of `sources`; features: the
    clean features a training run cached (None: the predictor computes them)."""
    sets: dict[str, tuple] = {}
    if cfg.synthetic_test:
        datamodule = training_split(cfg.ckpt_path, predictor, cfg.paths.data_dir)
        if datamodule is None:
            log.warning("%s has no training-data config; skipping the synthetic test split", cfg.ckpt_path)
        else:
            # the test items alone, rendered clean; their features read from the training run's cache where it
            # is there, else computed by the predictor for these items alone (never a pass over the whole set)
            indices = datamodule.split_indices["test"]
            profiles, labels = render_all(datamodule.peaks, indices, predictor.grid, predictor.settings).tensors
            cached = datamodule.cached_clean_features() if datamodule.features == predictor.feature_kind else None
            sets["test"] = (profiles.numpy(), labels.numpy(), datamodule.peaks.names[indices], [],
                            datamodule.peaks.space_groups[indices], None if cached is None else cached[indices])
    for name, source in sources.items():
        peaks = real_peaks(cfg.paths.data_dir, source, predictor, cfg.build_workers)
        sets[name] = (*_rendered(peaks, predictor), peaks.space_groups, None)
    return sets


def real_profiles(data_dir: str, source: StructureSource, predictor: CrystalSystemPredictor,
                  num_workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    """(profiles, labels, item names, skipped items) of a real-structure source: simulated (cached in data_dir)
    and rendered clean, as the model was trained. No skip limit: evaluation reports every file it could not use."""
    return _rendered(real_peaks(data_dir, source, predictor, num_workers), predictor)


def real_peaks(data_dir: str, source: StructureSource, predictor: CrystalSystemPredictor,
               num_workers: int | None = None) -> PeakListSet:
    """The peak lists of a real-structure source, simulated with the model's settings (cached in data_dir)."""
    return build_or_load(data_dir, source, predictor.simulator, num_workers=num_workers, max_skip_fraction=None)


def _rendered(peaks: PeakListSet, predictor: CrystalSystemPredictor) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    profiles, labels = render_all(peaks, np.arange(len(peaks)), predictor.grid, predictor.settings).tensors
    return profiles.numpy(), labels.numpy(), peaks.names, peaks.manifest.get("skipped", [])


def fresh_synthetic(predictor: CrystalSystemPredictor, n: int, seed: int, **options) -> SyntheticStructures:
    """n synthetic crystals of the generator settings the checkpoint trained with (`options` replace any of them)
    drawn with another seed: crystals it never saw. ValueError when `seed` is the one it trained on."""
    trained_on = predictor.module.hparams.data_info["datamodule"]["source"]
    if seed == trained_on.get("seed"):
        raise ValueError(f"seed {seed} is the seed the checkpoint trained on")
    settings = {key: value for key, value in trained_on.items() if key not in ("_target_", "n", "seed")}
    return SyntheticStructures(n, seed=seed, **{**settings, **options})


def training_split(ckpt_path, predictor: CrystalSystemPredictor, data_dir: str):
    """The XRDDataModule `ckpt_path` was trained with, its dataset loaded (built in data_dir if absent) and split,
    nothing rendered; the split checked against the one the checkpoint records (SplitMismatchError).
    None when the checkpoint records no training-data config."""
    data_config = predictor.module.hparams.data_info.get("datamodule")
    if data_config is None:
        return None
    datamodule = instantiate({**data_config, "real_source": None, "data_dir": data_dir})
    datamodule.load_split()
    check_split(ckpt_path, predictor.module.hparams.data_info.get("training_data"), datamodule.training_data_record())
    return datamodule


class SplitMismatchError(ValueError):
    """The held-out split eval rebuilt is not the one the checkpoint's model was tested on."""


def check_split(ckpt_path, trained: dict | None, rebuilt: dict) -> None:
    """Refuse a rebuilt test split whose crystals differ from the recorded one; note what cannot be checked."""
    if not trained:
        print(f"note: {ckpt_path} records no training split (an older checkpoint): the synthetic test split "
              f"could not be verified")
        return
    if trained["test_split_sha256"] != rebuilt["test_split_sha256"]:
        raise SplitMismatchError(
            f"{ckpt_path}: the rebuilt test split differs from the one this model was trained with (dataset "
            f"{rebuilt['dataset']}, trained on {trained['dataset']}: other code or package versions made other "
            f"crystals), so it may hold training crystals; evaluate with synthetic_test=false")
    if trained["dataset"] != rebuilt["dataset"]:
        print(f"note: {ckpt_path} was trained on dataset {trained['dataset']}, the test split is rebuilt in "
              f"{rebuilt['dataset']} (other package versions?); it holds the same crystals")


def evaluate(cfg: DictConfig) -> dict:
    """Evaluate cfg.ckpt_path on every requested set; returns what metrics.json holds."""
    from xrdnet.plotting import accuracy_coverage_figure, confusion_matrix_figure, save_figure

    output_dir = Path(cfg.paths.output_dir)
    sources = real_sources(cfg)
    if cfg.ckpt_path is None:
        from xrdnet.pretrained import MODEL_CARD, shipped_checkpoint

        cfg.ckpt_path = str(shipped_checkpoint())
        print(f"no ckpt_path given: evaluating the shipped model {cfg.ckpt_path} (see {MODEL_CARD.name} beside it)")
    predictor = CrystalSystemPredictor.from_checkpoint(cfg.ckpt_path)
    results = {"checkpoint": str(cfg.ckpt_path), "temperature": float(predictor.module.temperature),
               "uncertainty_threshold": cfg.uncertainty_threshold, "sets": {}}
    writer = _tensorboard_writer(output_dir)
    for name, (profiles, labels, names, skipped, space_groups, features) in labelled_profiles(cfg, predictor, sources).items():
        probabilities = predictor.predict_proba(profiles, features=features)
        report = classification_report(probabilities, labels, predictor.class_names)
        confident = probabilities.max(axis=1) >= cfg.uncertainty_threshold
        report["coverage_at_threshold"] = float(confident.mean())
        report["accuracy_at_threshold"] = float((probabilities.argmax(1) == labels)[confident].mean()) if confident.any() else None
        report["accuracy_coverage"] = accuracy_coverage(probabilities, labels)
        report["misclassified"] = misclassified(names, probabilities, labels, predictor.class_names, space_groups)
        report["same_lattice_mistakes"] = same_lattice_mistakes(report["misclassified"])
        record_cells_of_mistakes(report["misclassified"], profiles, probabilities.argmax(axis=1) != labels, predictor)
        report["pseudo_symmetric_mistakes"] = pseudo_symmetric_mistakes(report["misclassified"])
        report["skipped"] = skipped
        results["sets"][name] = report
        tag = name.replace(":", "_")
        figures = {
            f"{tag}_confusion_matrix": confusion_matrix_figure(np.array(report["confusion_matrix"]), predictor.class_names, title=name),
            f"{tag}_accuracy_coverage": accuracy_coverage_figure(report["accuracy_coverage"], title=name),
        }
        for figure_name, figure in figures.items():
            if writer is not None:
                writer.add_figure(f"eval/{figure_name}", figure)
            save_figure(figure, output_dir / f"{figure_name}.png")
        _print_report(name, report)
    if writer is not None:
        writer.close()
    write_json_atomic(output_dir / "metrics.json", results)
    print(f"\nmetrics: {output_dir / 'metrics.json'}")
    return results


def record_cells_of_mistakes(mistakes: list[dict], profiles: np.ndarray, wrong: np.ndarray,
                             predictor: CrystalSystemPredictor) -> None:
    """Give each of `misclassified`'s rows (in order of the items, `wrong` marking them) the cells of its true
    and called systems that index its lines, and whether those lines admit the call (`xrd.cell.lines_admit_call`)."""
    for row, index in zip(mistakes, np.flatnonzero(wrong)):
        by_system = predictor.cells(profiles[index], {row["true"], row["predicted"]})
        cells = {which: by_system[row[which]] for which in ("true", "predicted")}
        row["cells"] = {which: cell.as_dict() if cell is not None else None for which, cell in cells.items()}
        row["lines_admit_call"] = lines_admit_call(row["predicted"], cells["predicted"], row["true"], cells["true"])


def _tensorboard_writer(output_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(output_dir / "tensorboard"))


def _print_report(name: str, report: dict) -> None:
    lines = [f"\n== {name}: {report['n']} structures ==",
             f"accuracy {report['accuracy']:.3f}   macro-F1 {report['macro_f1']:.3f}   top-2 accuracy {report['top2_accuracy']:.3f}"
             f"   calibration error (ECE) {report['expected_calibration_error']:.3f}",
             f"{'class':<14}{'precision':>10}{'recall':>8}{'f1':>7}{'n':>6}"]
    for cls, row in report["per_class"].items():
        lines.append(f"{cls:<14}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>6d}")
    lines.append("accuracy vs coverage: " + "  ".join(f"{r['fraction']:.0%}:{r['accuracy']:.3f}" for r in report["accuracy_coverage"]))
    if report["skipped"]:
        lines.append(f"skipped {len(report['skipped'])}: " + "; ".join(f"{s['name']} ({s['reason']})" for s in report["skipped"][:5]))
    wrong = report["misclassified"]
    if wrong:
        lines.append(f"trigonal-P/hexagonal mistakes (one lattice: line positions cannot tell them apart): "
                     f"{report['same_lattice_mistakes']} of {len(wrong)}")
        unsettled = report["same_lattice_mistakes"] + report["pseudo_symmetric_mistakes"]
        lines.append(f"pseudo-symmetric mistakes (the lines index as fully in the called, more symmetric lattice): "
                     f"{report['pseudo_symmetric_mistakes']} of {len(wrong)}; with every other mistake mended, "
                     f"accuracy would be {1 - unsettled / report['n']:.3f}")
    if len(wrong) > MISCLASSIFIED_SHOWN:
        lines.append(f"misclassified: {len(wrong)} (all listed in metrics.json); the {MISCLASSIFIED_SHOWN} most confident:")
        wrong = sorted(wrong, key=lambda row: -row["probabilities"][row["predicted"]])[:MISCLASSIFIED_SHOWN]
    elif wrong:
        lines.append(f"misclassified ({len(wrong)}):")
    for row in wrong:
        top = sorted(row["probabilities"].items(), key=lambda kv: -kv[1])[:2]
        lines.append(f"  {row['name']:<40} true {row['true']:<13} predicted {row['predicted']:<13} "
                     + ", ".join(f"{k} {v:.2f}" for k, v in top))
    print("\n".join(lines), flush=True)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="eval")
def main(cfg: DictConfig) -> None:
    OmegaConf.resolve(cfg)
    try:
        with exit_on_setup_error("xrdnet-eval"):
            evaluate(cfg)
    except (CheckpointError, SplitMismatchError, FileNotFoundError) as error:
        print(f"xrdnet-eval: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
