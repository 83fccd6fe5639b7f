"""Self-contained checkpoints, xrdnet-eval and xrdnet-predict on a tiny model trained here (conftest.trained)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.io.cif import CifWriter

from xrdnet.crystal import CRYSTAL_SYSTEMS, crystal_system_index, same_lattice_confusion
from xrdnet.lit.classifier import CrystalSystemClassifier
from xrdnet.predictor import CrystalSystemPredictor
from xrdnet.structures.aflow import AflowPrototypes
from xrdnet.xrd.cell import HOLOHEDRY_ORDER
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import KALPHA_RELATIVE_SPLIT, kalpha_doublet

BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_checkpoint_carries_everything_needed_to_use_it(trained):
    checkpoint = torch.load(trained["checkpoint"], map_location="cpu", weights_only=True)
    hparams = checkpoint["hyper_parameters"]
    info = hparams["data_info"]
    assert hparams["class_names"] == list(CRYSTAL_SYSTEMS)
    assert TwoThetaGrid.from_dict(info["grid"]).n_points == hparams["input_length"]
    assert info["wavelength_angstrom"] == pytest.approx(1.54184)
    ProfileSettings.from_dict(info["profile"])
    assert hparams["net"]["_target_"].endswith("CNN1D")
    temperature = float(checkpoint["state_dict"]["temperature"])
    assert temperature > 0 and temperature != 1.0, "the best checkpoint was not calibrated"


def test_every_saved_checkpoint_carries_a_fitted_temperature_and_loads_weights_only(trained):
    saved = sorted((trained["checkpoint"].parent).glob("*.ckpt"))
    assert {path.name for path in saved} >= {"last.ckpt", trained["checkpoint"].name}
    for path in saved:
        temperature = float(torch.load(path, map_location="cpu", weights_only=True)["state_dict"]["temperature"])
        assert temperature > 0 and temperature != 1.0, f"{path.name} was not calibrated"
    assert trained["loads"] and all(weights_only is True for weights_only in trained["loads"]), trained["loads"]


def test_the_run_summary_gives_the_validation_figures_of_the_kept_checkpoint(trained):
    """metrics.json's val/ figures are the best checkpoint's (the one tested and shipped), not the last epoch's;
    the check itself leaves the validation curve alone (one point per epoch)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    last = torch.load(trained["checkpoint"].parent / "last.ckpt", map_location="cpu", weights_only=True)
    (state,) = [value for key, value in last["callbacks"].items() if key.startswith("ModelCheckpoint")
                and "'monitor': 'val/acc'" in key]
    assert trained["metrics"]["val/acc"] == pytest.approx(float(state["best_model_score"]))
    events = EventAccumulator(str(trained["root"] / "run" / "tensorboard"))
    events.Reload()
    assert len(events.Scalars("val/acc")) == 2  # the two epochs of conftest.trained


def test_checkpoint_round_trip_in_a_fresh_process_gives_the_same_probabilities(trained, tmp_path):
    rng = np.random.default_rng(0)
    module = CrystalSystemClassifier.load_from_checkpoint(trained["checkpoint"], map_location="cpu", weights_only=True).eval()
    profiles = rng.random((5, module.hparams.input_length)).astype(np.float32)
    expected = CrystalSystemPredictor(module).predict_proba(profiles)  # adds the features the model reads
    np.save(tmp_path / "profiles.npy", profiles)
    script = ("import numpy as np, sys; from xrdnet.predictor import CrystalSystemPredictor; "
              "p = CrystalSystemPredictor.from_checkpoint(sys.argv[1]); "
              "np.save(sys.argv[3], p.predict_proba(np.load(sys.argv[2])))")
    run([sys.executable, "-c", script, str(trained["checkpoint"]), str(tmp_path / "profiles.npy"), str(tmp_path / "out.npy")], tmp_path)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-6)
    assert np.allclose(expected.sum(axis=1), 1.0, atol=1e-5)


def test_loading_a_non_checkpoint_is_one_clear_line(tmp_path):
    from xrdnet.predictor import CheckpointError, load_classifier

    junk = tmp_path / "model.ckpt"
    junk.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="model.ckpt: cannot read checkpoint"):
        load_classifier(junk)
    with pytest.raises(CheckpointError, match="not found"):
        load_classifier(tmp_path / "missing.ckpt")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """CIFs of four AFLOW prototypes, a measured-style MoKα scan of one of them, and bad files."""
    folder = tmp_path_factory.mktemp("inputs")
    prototypes = AflowPrototypes()
    for index in (0, 50, 100, 150):
        item = prototypes.get(index)
        CifWriter(item.structure).write_file(folder / f"proto_{index}.cif")
    # a diffractometer-like scan: MoKα, broadened, Poisson noise, sloping background, a comment header
    structure = prototypes.get(100).structure
    peaks = XRDSimulator("MoKa", (2, 45)).simulate(structure)
    grid = TwoThetaGrid(2.0, 45.0, 0.01)
    signal = render_profile(peaks.two_theta, peaks.intensity, grid, ProfileSettings("pseudo_voigt", crystallite_size_nm=40), peaks.wavelength)
    rng = np.random.default_rng(1)
    counts = rng.poisson(5000 * signal + 400 * np.exp(-grid.points / 15) + 50).astype(float)
    np.savetxt(folder / "scan_mo.xy", np.column_stack([grid.points, counts]), header="MoKa scan\n2theta counts", comments="# ")
    (folder / "broken.cif").write_text("data_broken\n_cell_length_a 5.0\nthis is not a cif\n")
    (folder / "empty.xy").write_text("")
    (folder / "junk.csv").write_text("2theta,intensity\nten,eleven\nfoo,bar\n")
    return folder


def test_predict_answers_every_good_file_and_skips_bad_ones(trained, inputs, tmp_path):
    out = tmp_path / "results.json"
    result = run([str(BIN / "xrdnet-predict"), str(inputs), "--ckpt", str(trained["checkpoint"]),
                  "--wavelength", "MoKa", "--top-k", "3", "--out", str(out), "--plot-dir", str(tmp_path / "plots")], tmp_path)
    rows = {Path(r["file"]).name: r for r in json.loads(out.read_text())}
    good = {"proto_0.cif", "proto_50.cif", "proto_100.cif", "proto_150.cif", "scan_mo.xy"}
    bad = {"broken.cif", "empty.xy", "junk.csv"}
    assert set(rows) == good | bad
    for name in good:
        row = rows[name]
        assert row["status"] == "ok" and row["reason"] == ""
        probabilities = [t["probability"] for t in row["top"]]
        assert len(row["top"]) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert {t["crystal_system"] for t in row["top"]} <= set(CRYSTAL_SYSTEMS)
        # the cell of the predicted system, when one indexes the lines (the toy model's calls may have none)
        assert "cell" in row and (row["cell"] is None or row["cell"]["text"].startswith(row["cell"]["lattice"]))
        simpler = row["more_symmetric_cell"]  # None, or a cell of a system above the call
        assert simpler is None or HOLOHEDRY_ORDER[simpler["crystal_system"]] > HOLOHEDRY_ORDER[row["top"][0]["crystal_system"]]
        assert (tmp_path / "plots" / f"{Path(name).stem}.png").exists()
    for name in bad:
        assert rows[name]["status"] == "skipped" and name in rows[name]["reason"] and rows[name]["top"] == []
        assert "\n" not in rows[name]["reason"]
    assert "5 predicted, 3 skipped" in result.stdout


def test_predict_writes_csv(trained, inputs, tmp_path):
    out = tmp_path / "results.csv"
    run([str(BIN / "xrdnet-predict"), str(inputs / "proto_0.cif"), str(inputs / "empty.xy"), "--ckpt",
         str(trained["checkpoint"]), "--top-k", "2", "--out", str(out)], tmp_path)
    lines = out.read_text().strip().splitlines()
    assert lines[0].startswith("file,status,reason,uncertain,format,wavelength_angstrom,wavelength,wavelength_from,"
                               "background,kalpha2,kalpha2_seen,displacement_shift_deg,coverage,cell,more_symmetric_cell,crystal_system_1,"
                               "probability_1,crystal_system_2")
    assert len(lines) == 3 and ",skipped," in lines[2]


def test_eval_metrics_agree_with_the_confusion_matrix(trained, inputs, tmp_path):
    cif_dir = tmp_path / "cifs"
    cif_dir.mkdir()
    for cif in inputs.glob("*.cif"):
        (cif_dir / cif.name).write_bytes(cif.read_bytes())
    result = run([str(BIN / "xrdnet-eval"), f"ckpt_path={trained['checkpoint']}", f"cif_dir={cif_dir}",
                  f"paths.log_dir={tmp_path / 'outputs'}", f"paths.data_dir={trained['root'] / 'data'}", "build_workers=1"],
                 tmp_path)
    assert "could not be verified" not in result.stdout  # the checkpoint records its split, and it matches
    assert "trigonal-P/hexagonal mistakes (one lattice: line positions cannot tell them apart):" in result.stdout
    assert "pseudo-symmetric mistakes (the lines index as fully in the called, more symmetric lattice):" in result.stdout
    metrics_files = list((tmp_path / "outputs").rglob("metrics.json"))
    assert len(metrics_files) == 1
    results = json.loads(metrics_files[0].read_text())
    assert set(results["sets"]) == {"test", "aflow_prototypes", "cif:cifs"}
    assert len(results["sets"]["aflow_prototypes"]["confusion_matrix"]) == 7
    for name, report in results["sets"].items():
        matrix = np.array(report["confusion_matrix"])
        assert matrix.sum() == report["n"], name
        assert report["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum()), name
        assert len(report["misclassified"]) == matrix.sum() - np.trace(matrix), name
        # each mistake names its space group, of its true system, and the trigonal-P/hexagonal ones are counted
        for row in report["misclassified"]:
            assert CRYSTAL_SYSTEMS[crystal_system_index(row["space_group"])] == row["true"], (name, row)
        assert report["same_lattice_mistakes"] == sum(
            same_lattice_confusion(row["true"], row["predicted"], row["space_group"]) for row in report["misclassified"])
        # and carries the cells of its true and called systems; a call the lines admit is more symmetric
        for row in report["misclassified"]:
            assert set(row["cells"]) == {"true", "predicted"}, (name, row)
            if row["lines_admit_call"]:
                assert HOLOHEDRY_ORDER[row["predicted"]] > HOLOHEDRY_ORDER[row["true"]], (name, row)
                assert row["cells"]["predicted"]["fraction_indexed"] >= 0.95, (name, row)
        assert report["pseudo_symmetric_mistakes"] == sum(
            row["lines_admit_call"] and not same_lattice_confusion(row["true"], row["predicted"], row["space_group"])
            for row in report["misclassified"])
        for i, cls in enumerate(CRYSTAL_SYSTEMS):
            row = report["per_class"][cls]
            assert row["support"] == matrix[i].sum()
            if matrix[i].sum():
                assert row["recall"] == pytest.approx(matrix[i, i] / matrix[i].sum())
            if matrix[:, i].sum():
                assert row["precision"] == pytest.approx(matrix[i, i] / matrix[:, i].sum())
        assert report["top2_accuracy"] >= report["accuracy"]
        coverage = report["accuracy_coverage"]
        assert coverage[0]["fraction"] == 1.0 and coverage[0]["accuracy"] == pytest.approx(report["accuracy"])
    assert results["sets"]["cif:cifs"]["n"] == 4
    assert [s["name"] for s in results["sets"]["cif:cifs"]["skipped"]] == ["broken.cif"]
    # the held-out split eval rebuilds is the one training tested: same checkpoint, same figures
    assert results["sets"]["test"]["accuracy"] == pytest.approx(trained["metrics"]["test/acc"], abs=1e-6)
    assert results["sets"]["test"]["macro_f1"] == pytest.approx(trained["metrics"]["test/f1_macro"], abs=1e-6)
    run_dir = metrics_files[0].parent
    assert (run_dir / "aflow_prototypes_confusion_matrix.png").exists()
    assert (run_dir / "aflow_prototypes_accuracy_coverage.png").exists()


def test_predict_reports_preprocessing_warns_on_partial_scans_and_fails_when_nothing_is_predicted(trained, tmp_path):
    grid = TwoThetaGrid(30.0, 60.0, 0.02)
    peaks = XRDSimulator("CuKa", (5, 90)).simulate(AflowPrototypes().get(0).structure)
    signal = render_profile(peaks.two_theta, peaks.intensity, grid, ProfileSettings("gaussian", fwhm_deg=0.1), peaks.wavelength)
    np.savetxt(tmp_path / "part.xy", np.column_stack([grid.points, 1000 * signal + 20]))
    out = tmp_path / "results.json"
    run([str(BIN / "xrdnet-predict"), str(tmp_path / "part.xy"), "--ckpt", str(trained["checkpoint"]), "--out", str(out)],
        tmp_path)
    (row,) = json.loads(out.read_text())
    # read at CuKa (no wavelength in the file), which names the doublet, but the scan shows one line per reflection
    assert row["status"] == "ok" and row["preprocessing"]["kalpha2"] == "kept"
    assert row["preprocessing"]["kalpha2_seen"] == "one line"
    assert row["preprocessing"]["background"] == "rolling_ball"
    assert row["preprocessing"]["coverage"] == pytest.approx(30 / 85, abs=0.01)
    assert "covers 35%" in row["reason"]
    # the same reflections with their Kα2 lines, declared as the Kα1 line alone: the scan shows the doublet
    doublet = render_profile(*kalpha_doublet(peaks.two_theta, peaks.intensity, peaks.wavelength,
                                             KALPHA_RELATIVE_SPLIT["Cu"]),
                             grid, ProfileSettings("gaussian", fwhm_deg=0.1), peaks.wavelength)
    np.savetxt(tmp_path / "doublet.xy", np.column_stack([grid.points, 1000 * doublet + 20]))
    declared_kalpha1 = subprocess.run([str(BIN / "xrdnet-predict"), str(tmp_path / "doublet.xy"), "--ckpt",
                                       str(trained["checkpoint"]), "--wavelength", "CuKa1", "--out", str(out)],
                                      cwd=tmp_path, env=ENV, capture_output=True, text=True)
    (row,) = json.loads(out.read_text())
    assert declared_kalpha1.returncode == 0 and row["preprocessing"]["kalpha2"] == "stripped"
    assert row["preprocessing"]["kalpha2_seen"] == "doublet"
    kept = subprocess.run([str(BIN / "xrdnet-predict"), str(tmp_path / "doublet.xy"), "--ckpt", str(trained["checkpoint"]),
                           "--kalpha2", "keep", "--out", str(out)], cwd=tmp_path, env=ENV, capture_output=True, text=True)
    (row,) = json.loads(out.read_text())
    assert kept.returncode == 0 and row["preprocessing"]["kalpha2"] == "kept"
    assert row["preprocessing"]["kalpha2_seen"] == "not looked"  # the user's choice is followed as given
    (tmp_path / "junk.xy").write_text("not a pattern\n")
    failed = subprocess.run([str(BIN / "xrdnet-predict"), str(tmp_path / "junk.xy"), "--ckpt", str(trained["checkpoint"])],
                            cwd=tmp_path, env=ENV, capture_output=True, text=True)
    assert failed.returncode == 1 and "0 predicted, 1 skipped" in failed.stdout
    wrong = subprocess.run([str(BIN / "xrdnet-predict"), str(tmp_path / "part.xy"), "--ckpt", str(trained["checkpoint"]),
                            "--background", "magic"], cwd=tmp_path, env=ENV, capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice: 'magic'" in wrong.stderr


def test_predict_removes_a_sample_displacement_and_reports_it(trained, tmp_path):
    from pymatgen.core import Lattice, Structure

    from xrdnet.xrd.instrument import displacement_shift_deg

    silicon = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
    peaks = XRDSimulator("CuKa1", (5, 90)).simulate(silicon)
    grid = TwoThetaGrid(5.0, 90.0, 0.01)
    displaced = peaks.two_theta + displacement_shift_deg(peaks.two_theta, 0.2, 240.0)  # s = 0.2 mm, R = 240 mm
    signal = render_profile(displaced, peaks.intensity, grid, ProfileSettings("gaussian", fwhm_deg=0.1), peaks.wavelength)
    np.savetxt(tmp_path / "displaced.xy", np.column_stack([grid.points, 1000 * signal + 20]))
    out = tmp_path / "results.json"
    shifts = {}
    for choice in ("auto", "off"):
        run([str(BIN / "xrdnet-predict"), str(tmp_path / "displaced.xy"), "--ckpt", str(trained["checkpoint"]),
             "--wavelength", "CuKa1", "--displacement", choice, "--out", str(out)], tmp_path)
        shifts[choice] = json.loads(out.read_text())[0]["preprocessing"]["displacement_shift_deg"]
    # −0.095°; the test model reads a grid of 0.1° steps, on which picked lines are good to ~0.02°
    assert shifts["auto"] == pytest.approx(np.degrees(-2 * 0.2 / 240.0), abs=0.03)
    assert shifts["off"] == 0.0


def test_predict_cli_offers_exactly_the_library_choices():
    # the CLI spells its choices out (no torch or pymatgen to answer --help): they must be the library's
    from xrdnet.predict import argument_parser
    from xrdnet.predictor import DISPLACEMENT_CHOICES, KALPHA2_CHOICES
    from xrdnet.xrd.displacement import MAX_SHIFT_DEG
    from xrdnet.xrd.measured import BACKGROUND_METHODS

    options = {action.dest: action for action in argument_parser()._actions}
    assert tuple(options["background"].choices) == BACKGROUND_METHODS
    assert tuple(options["kalpha2"].choices) == KALPHA2_CHOICES
    assert tuple(options["displacement"].choices) == DISPLACEMENT_CHOICES
    assert f"|c| ≤ {MAX_SHIFT_DEG:g}°" in options["displacement"].help


def test_foreign_or_damaged_checkpoints_give_one_line_and_exit_2(trained, tmp_path):
    checkpoint = torch.load(trained["checkpoint"], map_location="cpu", weights_only=True)
    assert checkpoint["xrdnet_checkpoint_format"] == 1
    extra = {**checkpoint, "hyper_parameters": {**checkpoint["hyper_parameters"], "in_features": 2}}
    foreign_net = {**checkpoint, "hyper_parameters": {**checkpoint["hyper_parameters"],
                                                      "net": {"_target_": "builtins.print"}}}
    newer = {**checkpoint, "xrdnet_checkpoint_format": 99}
    state = dict(checkpoint["state_dict"])
    key = next(k for k in state if k.endswith("weight"))
    state[key] = torch.zeros(3, 3)
    changed = {**checkpoint, "state_dict": state}
    cases = {"extra.ckpt": extra, "foreign_net.ckpt": foreign_net, "newer.ckpt": newer, "changed.ckpt": changed}
    for name, content in cases.items():
        torch.save(content, tmp_path / name)
    (tmp_path / "random.ckpt").write_bytes(np.random.default_rng(0).bytes(2000))
    np.savetxt(tmp_path / "scan.xy", np.column_stack([np.arange(10, 80, 0.1), np.ones(700)]))
    expected = {"extra.ckpt": "unknown hyperparameters in_features", "foreign_net.ckpt": "'builtins.print' is not one of",
                "newer.ckpt": "format 99", "changed.ckpt": "can rebuild", "random.ckpt": "cannot read checkpoint"}
    for name, words in expected.items():
        for command in ([str(BIN / "xrdnet-predict"), str(tmp_path / "scan.xy"), "--ckpt", str(tmp_path / name)],
                        [str(BIN / "xrdnet-eval"), f"ckpt_path={tmp_path / name}", f"paths.log_dir={tmp_path / 'out'}"]):
            result = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
            assert result.returncode == 2, (name, command[0], result.stderr[-2000:])
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and words in lines[0] and str(tmp_path / name) in lines[0], lines


def test_eval_refuses_another_test_split_and_notes_a_checkpoint_without_one(trained, tmp_path):
    checkpoint = torch.load(trained["checkpoint"], map_location="cpu", weights_only=True)
    record = checkpoint["hyper_parameters"]["data_info"]["training_data"]
    assert record["dataset"].startswith("synthetic-") and len(record["test_split_sha256"]) == 64
    other, older = copy.deepcopy(checkpoint), copy.deepcopy(checkpoint)
    other["hyper_parameters"]["data_info"]["training_data"]["test_split_sha256"] = "0" * 64
    del older["hyper_parameters"]["data_info"]["training_data"]  # as in checkpoints from before the record
    torch.save(other, tmp_path / "other_split.ckpt")
    torch.save(older, tmp_path / "older.ckpt")
    settings = ["aflow_prototypes=false", f"paths.data_dir={trained['root'] / 'data'}", f"paths.log_dir={tmp_path / 'out'}"]
    refused = subprocess.run([str(BIN / "xrdnet-eval"), f"ckpt_path={tmp_path / 'other_split.ckpt'}", *settings],
                             cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1, refused.stderr[-2000:]
    assert "test split differs" in lines[0] and str(tmp_path / "other_split.ckpt") in lines[0]
    accepted = run([str(BIN / "xrdnet-eval"), f"ckpt_path={tmp_path / 'older.ckpt'}", *settings], tmp_path)
    assert "records no training split" in accepted.stdout and "could not be verified" in accepted.stdout
    results = json.loads(next((tmp_path / "out").rglob("metrics.json")).read_text())
    assert results["sets"]["test"]["accuracy"] == pytest.approx(trained["metrics"]["test/acc"], abs=1e-6)


def test_the_table_shows_the_cell_or_that_none_indexes_the_lines():
    from xrdnet.predict import format_table

    def row(system, cell):
        return {"file": f"{system}.xy", "status": "ok", "reason": "", "uncertain": False, "cell": cell,
                "top": [{"crystal_system": system, "probability": 0.9}]}

    cubic = {"lattice": "cF", "text": "cF a=5.431 Å, 6/6 lines, M=1493"}
    hexagonal = {"lattice": "hP", "text": "hP a=3.250 c=5.207 Å, 13/13 lines, M=804"}
    lines = format_table([row("cubic", cubic), row("hexagonal", hexagonal), row("orthorhombic", None),
                          row("triclinic", None)]).splitlines()
    assert "cell cF a=5.431 Å" in lines[1] and "trigonal-P or hexagonal" not in lines[1]
    assert "cell hP a=3.250" in lines[2] and "trigonal-P or hexagonal" in lines[2]
    assert "no orthorhombic cell indexes the lines" in lines[3]
    assert "cell" not in lines[4]  # the fits stop at monoclinic: a triclinic call has no cell to miss
    assert not any("more symmetric" in line for line in lines)


def test_the_table_and_csv_name_a_more_symmetric_cell_that_indexes_the_lines(tmp_path):
    import csv

    from xrdnet.predict import format_table, write_results

    cubic = {"crystal_system": "cubic", "lattice": "cI", "text": "cI a=8.866 Å, 16/16 lines, M=440"}
    row = {"file": "brass.xy", "status": "ok", "reason": "", "uncertain": False, "more_symmetric_cell": cubic,
           "cell": {"lattice": "hP", "text": "hP a=5.119 c=6.270 Å, 15/16 lines, M=333"},
           "top": [{"crystal_system": "hexagonal", "probability": 0.84}]}
    line = format_table([row]).splitlines()[1]
    assert "cell hP a=5.119" in line and "a more symmetric cubic cell indexes them too: cI a=8.866 Å" in line
    write_results(tmp_path / "out.csv", [row])
    record = next(csv.DictReader((tmp_path / "out.csv").read_text().splitlines()))
    assert record["more_symmetric_cell"] == "cubic: cI a=8.866 Å, 16/16 lines, M=440"
    assert record["cell"].startswith("hP a=5.119")


def test_fresh_synthetic_crystals_keep_the_checkpoints_generator_with_another_seed():
    from types import SimpleNamespace

    from xrdnet.eval import fresh_synthetic

    source = {"_target_": "xrdnet.structures.synthetic.SyntheticStructures", "n": 24000, "seed": 0, "max_atoms": 30,
              "pseudo_symmetric": 0.2}
    predictor = SimpleNamespace(module=SimpleNamespace(hparams=SimpleNamespace(data_info={"datamodule": {"source": source}})))
    fresh = fresh_synthetic(predictor, 50, seed=1, pseudo_symmetric=0.0, derivative=0.5)
    described = fresh.describe()
    assert (len(fresh), described["seed"], described["max_atoms"]) == (50, 1, 30)  # the generator's settings kept
    assert "pseudo_symmetric" not in described and described["derivative"] == 0.5  # options replace them
    with pytest.raises(ValueError, match="seed 0 is the seed the checkpoint trained on"):
        fresh_synthetic(predictor, 50, seed=0)
