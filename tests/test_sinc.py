"""The sin(r)/r warm-up: grids and standardization, a short fit, figures, configs, and a real two-job sweep."""

from __future__ import annotations

import csv
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.pytorch.loggers import TensorBoardLogger

from xrdnet.config import CONFIG_DIR
from xrdnet.data.sinc import SincConfigError, SincDataModule, sinc_surface, square_grid
from xrdnet.lit.regressor import SurfaceRegressor
from xrdnet.utils.sinc_sweep_table import write_sweep_table
from xrdnet.utils.sweep_table import SweepTableError, collect_jobs

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def compose_experiment(name: str, *overrides: str):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[f"experiment={name}", *overrides], return_hydra_config=True)


def grid_variance(half_width: float, points: int) -> float:
    """Variance of `points` evenly spaced values on [-a, a]: a²(n+1)/(3(n-1))."""
    return half_width**2 * (points + 1) / (3 * (points - 1))


# --- data ---------------------------------------------------------------------------------------


def test_sinc_surface_known_values_and_r0_limit():
    assert sinc_surface(np.array(0.0), np.array(0.0)) == 1.0  # the limit, not nan
    assert sinc_surface(np.array(np.pi), np.array(0.0)) == pytest.approx(0.0, abs=1e-15)  # first zero at r = π
    assert sinc_surface(np.array(0.0), np.array(np.pi / 2)) == pytest.approx(2 / np.pi)
    # depends on r only
    assert sinc_surface(np.array(3.0), np.array(4.0)) == pytest.approx(np.sin(5.0) / 5.0)


def test_square_grid_shape_and_layout():
    grid = square_grid(50, -10.0, 10.0)
    assert grid.shape == (2500, 2)
    assert grid.min() == -10.0 and grid.max() == 10.0
    assert len(np.unique(grid[:, 0])) == len(np.unique(grid[:, 1])) == 50
    # x1 varies fastest: reshape(n, n)[i, j] sits at x2 = axis[i], x1 = axis[j]
    assert np.all(np.diff(grid[:50, 0]) > 0) and np.all(grid[:50, 1] == -10.0)


def test_datamodule_grids_cover_the_same_square():
    datamodule = SincDataModule()
    assert datamodule.train_coords.shape == (2500, 2)
    assert datamodule.eval_coords.shape == (10000, 2)
    for coords in (datamodule.train_coords, datamodule.eval_coords):
        assert coords.min(axis=0).tolist() == [-10.0, -10.0] and coords.max(axis=0).tolist() == [10.0, 10.0]
    np.testing.assert_allclose(datamodule.eval_targets, sinc_surface(*datamodule.eval_coords.T))


def test_grid_through_the_origin_has_value_one():
    datamodule = SincDataModule(train_points_per_axis=51)  # an odd count puts a node at (0, 0)
    origin = np.flatnonzero((datamodule.train_coords == 0).all(axis=1))
    assert len(origin) == 1
    assert datamodule.train_targets[origin[0]] == 1.0
    assert np.isfinite(datamodule.train_targets).all()


def test_standardization_uses_training_statistics():
    datamodule = SincDataModule()
    datamodule.setup("fit")
    train_inputs = datamodule.train_set.tensors[0].double().numpy()
    eval_inputs = datamodule.eval_set.tensors[0].double().numpy()
    np.testing.assert_allclose(train_inputs.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(train_inputs.std(axis=0), 1.0, atol=1e-6)
    # the training statistics are those of a 50-point grid on [-10, 10]
    np.testing.assert_allclose(datamodule.standardize.std, np.sqrt(grid_variance(10.0, 50)))
    # the evaluation grid is scaled with them, not with its own (a 100-point grid is slightly narrower)
    expected = (datamodule.eval_coords - datamodule.standardize.mean) / datamodule.standardize.std
    np.testing.assert_allclose(eval_inputs, expected, atol=1e-6)
    np.testing.assert_allclose(eval_inputs.std(axis=0), np.sqrt(grid_variance(10.0, 100) / grid_variance(10.0, 50)), rtol=1e-6)
    assert abs(eval_inputs.std() - 1.0) > 5e-3


def test_loaders_batch_whole_tensors():
    torch.manual_seed(0)
    datamodule = SincDataModule(batch_size=200)
    datamodule.setup("fit")
    batches = list(datamodule.train_dataloader())
    assert [len(targets) for _, targets in batches] == [200] * 12 + [100]
    # one epoch visits every training point exactly once, in shuffled order
    targets = torch.cat([t for _, t in batches])[:, 0]
    assert not torch.equal(targets, datamodule.train_set.tensors[1][:, 0])
    np.testing.assert_allclose(np.sort(targets.numpy()), np.sort(datamodule.train_set.tensors[1][:, 0].numpy()))
    (eval_batch,) = list(datamodule.val_dataloader())
    assert eval_batch[0].shape == (10000, 2) and eval_batch[1].shape == (10000, 1)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"train_points_per_axis": 1}, "train_points_per_axis must be at least 2"),
     ({"low": 5.0, "high": -5.0}, "low must be below high"),
     ({"batch_size": 0}, "batch sizes must be positive")],
)
def test_bad_settings_are_clear_errors(settings, message):
    with pytest.raises(SincConfigError, match=message):
        SincDataModule(**settings)


# --- a short fit through the module and trainer --------------------------------------------------


@pytest.fixture(scope="module")
def short_fit(tmp_path_factory):
    """The textbook network (with ReLU, which learns the rings in few epochs) trained for 40 epochs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the experiment does (torch_threads: 1)
    L.seed_everything(0, verbose=False)
    cfg = compose_experiment("sinc", "model.activation=relu")
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = instantiate(cfg.model, **datamodule.model_kwargs())
    folder = tmp_path_factory.mktemp("short_fit")
    logger = TensorBoardLogger(folder, name=None, version="")
    trainer = L.Trainer(max_epochs=40, logger=logger, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, check_val_every_n_epoch=5,
                        accelerator="cpu")
    before = trainer.validate(model, datamodule=datamodule, verbose=False)[0]["val/mse"]
    trainer.fit(model, datamodule=datamodule)
    after = trainer.validate(model, datamodule=datamodule, verbose=False)[0]["val/mse"]
    summary = {"metrics": {}}
    model.on_run_end(datamodule=datamodule, output_dir=folder, summary=summary)
    torch.set_num_threads(threads)
    return {"before": before, "after": after, "model": model, "datamodule": datamodule, "folder": folder,
            "summary": summary}


def test_short_fit_lowers_mse_by_a_large_factor(short_fit):
    before, after = short_fit["before"], short_fit["after"]
    assert after < before / 5, f"MSE {before:.3g} -> {after:.3g}"
    # and the net explains most of the surface's variance (a constant would score the variance itself)
    assert after < 0.5 * short_fit["datamodule"].eval_targets.var()


def test_short_fit_records_history_and_epochs_to_target(short_fit):
    summary, model = short_fit["summary"], short_fit["model"]
    history = summary["val_history"]
    assert [epoch for epoch, _ in history] == list(range(5, 41, 5))
    assert summary["target_mse"] == 0.01
    reached = [epoch for epoch, mse in history if mse <= 0.01]
    assert summary["epochs_to_target"] == (reached[0] if reached else None)
    # the trainer.validate calls before and after the fit are not part of the training record
    assert history[-1][1] == pytest.approx(short_fit["after"], rel=1e-5)
    assert model.hparams.activation == "relu" and model.hparams.net["hidden"] == [80]


def test_predict_standardizes_raw_coordinates(short_fit):
    model, datamodule = short_fit["model"], short_fit["datamodule"]
    with torch.no_grad():
        direct = model(datamodule.eval_set.tensors[0])[:, 0].numpy()
    np.testing.assert_allclose(model.predict(datamodule.eval_coords), direct, atol=1e-6)


def test_run_end_writes_png_and_tensorboard_images(short_fit):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    png = short_fit["folder"] / "sinc_surfaces.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    events = EventAccumulator(str(short_fit["folder"]), size_guidance={"images": 0})
    events.Reload()
    assert {"activations", "sinc/surfaces"} <= set(events.Tags()["images"])
    assert len(events.Images("activations")) == 1  # once per run


# --- figures ------------------------------------------------------------------------------------


def test_activation_figure_shows_known_derivatives():
    from xrdnet.plotting import activations_figure

    figure = activations_figure(highlight="tanh")
    axes = {axis.get_title().split(" ")[0]: axis for axis in figure.axes}
    assert set(axes) == {"sigmoid", "tanh", "relu", "leaky_relu"}
    slopes = {name: axis.get_lines()[1] for name, axis in axes.items()}
    assert slopes["sigmoid"].get_ydata().max() == pytest.approx(0.25, abs=1e-4)  # σ' = σ(1-σ) peaks at 1/4
    assert slopes["tanh"].get_ydata().max() == pytest.approx(1.0, abs=1e-4)
    x, relu_slope = slopes["relu"].get_xdata(), slopes["relu"].get_ydata()
    assert np.all(relu_slope[x < -0.01] == 0) and np.all(relu_slope[x > 0.01] == 1)
    leaky_slope = slopes["leaky_relu"].get_ydata()
    assert np.allclose(leaky_slope[x < -0.01], 0.01)
    assert axes["tanh"].title.get_fontweight() == "bold"


def test_sinc_figure_panels_and_mse():
    from xrdnet.plotting import sinc_figure

    truth = np.ones((4, 4))
    figure = sinc_figure(np.ones((2, 2)), truth, truth + 0.1, extent=(-10, 10))
    titles = [axis.get_title() for axis in figure.axes[:4]]  # the four panels, then their colour bars
    assert titles[0].startswith("training data (2×2)") and titles[1].startswith("true") and titles[2] == "network"
    assert "MSE 1.00e-02" in titles[3]


def test_plot_activations_script_writes_png(tmp_path):
    script = runpy.run_path(str(SCRIPTS / "plot_activations.py"))
    output = script["main"](["-o", str(tmp_path / "act.png"), "--highlight", "relu"])
    assert output.read_bytes()[:4] == b"\x89PNG"


# --- configs ------------------------------------------------------------------------------------


def test_sinc_experiment_composes_to_the_textbook_recipe():
    cfg = compose_experiment("sinc")
    assert cfg.task_name == "sinc" and "sinc" in cfg.tags
    assert cfg.optimized_metric == "val/mse"
    assert cfg.model.net.hidden == [80] and cfg.model.activation == "tanh" and cfg.model.net.activation == "tanh"
    assert cfg.model.net.output_activation == "tanh"
    assert cfg.model.optimizer._target_ == "torch.optim.Adam" and cfg.model.optimizer.lr == 0.01
    assert cfg.data.batch_size == 200 and cfg.trainer.max_epochs == 400
    assert (cfg.data.train_points_per_axis, cfg.data.eval_points_per_axis) == (50, 100)
    assert cfg.trainer.accelerator == "auto"
    for name in ("model_checkpoint", "early_stopping"):
        assert (cfg.callbacks[name].monitor, cfg.callbacks[name].mode) == ("val/mse", "min")
    # a regression run has no use for the classifier's callbacks
    assert "temperature_scaling" not in cfg.callbacks and "lr_monitor" not in cfg.callbacks
    assert cfg.hydra.callbacks.sweep_table._target_ == "xrdnet.utils.sinc_sweep_table.SincSweepTableCallback"
    # it builds: 2 -> 80 -> 1 has 2*80 + 80 + 80 + 1 parameters
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model, **datamodule.model_kwargs())
    assert isinstance(model, SurfaceRegressor)
    assert sum(p.numel() for p in model.parameters()) == 321


def test_sinc_deep_experiment_composes_deeper_and_wider():
    textbook, deep = compose_experiment("sinc"), compose_experiment("sinc_deep")
    assert deep.task_name == "sinc_deep" and deep.optimized_metric == "val/mse"
    assert len(deep.model.net.hidden) > len(textbook.model.net.hidden)
    assert deep.model.scheduler.total_steps == deep.trainer.max_epochs
    datamodule = instantiate(deep.data)
    model = instantiate(deep.model, **datamodule.model_kwargs())
    assert sum(p.numel() for p in model.parameters()) > 10 * 321
    assert "temperature_scaling" not in deep.callbacks


# --- sweep table --------------------------------------------------------------------------------


def fake_job(sweep: Path, name: str, activation: str, summary: dict | None) -> None:
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text(f"optimized_metric: val/mse\nmodel:\n  activation: {activation}\n")
    (job / ".hydra" / "overrides.yaml").write_text(f"- experiment=sinc\n- model.activation={activation}\n")
    if summary is not None:
        (job / "metrics.json").write_text(json.dumps(summary))


def test_sweep_table_from_job_folders(tmp_path):
    summary = {"metrics": {"test/mse": 0.0012, "val/mse": 0.0015}, "wall_seconds": 9.5, "target_mse": 0.01}
    fake_job(tmp_path, "0_model.activation=tanh", "tanh", {**summary, "epochs_to_target": 170})
    fake_job(tmp_path, "1_model.activation=sigmoid", "sigmoid",
             {**summary, "metrics": {"test/mse": 0.004, "val/mse": 0.0045}, "epochs_to_target": None})
    fake_job(tmp_path, "2_model.activation=relu", "relu", None)  # failed: no metrics.json
    fake_job(tmp_path, "10_model.activation=leaky_relu", "leaky_relu",
             {**summary, "metrics": {"test/mse": 0.0009, "val/mse": 0.001}, "epochs_to_target": 30})
    markdown_path, csv_path = write_sweep_table(tmp_path)
    lines = markdown_path.read_text().splitlines()
    assert "epochs to MSE ≤ 0.01" in lines[0] and "target" not in lines[0].replace("≤ 0.01", "")
    # lowest validation MSE (the experiment's optimized metric) first, the failed job last
    assert lines[2].startswith("| leaky_relu | 9.00e-04 | 1.00e-03 | 30 | 9.5 |")
    assert lines[3].startswith("| tanh | 1.20e-03 | 1.50e-03 | 170 | 9.5 |")
    assert "not reached" in lines[4] and lines[5].startswith("| relu | no metrics.json")
    rows = list(csv.DictReader(csv_path.open()))
    assert [row["activation"] for row in rows] == ["leaky_relu", "tanh", "sigmoid", "relu"]
    assert float(rows[1]["test/mse"]) == 0.0012 and rows[2]["epochs_to_target"] == "" and rows[3]["test/mse"] == ""
    assert rows[1]["target_mse"] == "0.01" and rows[1]["job"] == "0_model.activation=tanh"


def test_sweep_table_errors_name_the_problem(tmp_path):
    with pytest.raises(SweepTableError, match="no such sweep folder"):
        collect_jobs(tmp_path / "missing")
    with pytest.raises(SweepTableError, match="no job folders"):
        collect_jobs(tmp_path)
    fake_job(tmp_path, "0_x", "tanh", None)
    (tmp_path / "0_x" / "metrics.json").write_text("{not json")
    with pytest.raises(SweepTableError, match=r"0_x/metrics.json: not valid JSON"):
        write_sweep_table(tmp_path)
    script = runpy.run_path(str(SCRIPTS / "sinc_sweep_table.py"))
    assert script["main"]([str(tmp_path / "missing")]) == 1


# --- the real entry point -----------------------------------------------------------------------


@pytest.mark.slow
def test_two_job_activation_sweep_through_the_entry_point(tmp_path):
    entry = shutil.which("xrdnet-train", path=str(Path(sys.executable).parent))
    command = [entry] if entry else [sys.executable, "-m", "xrdnet.train"]
    # XRDNET_ROOT moves the outputs (a paths.log_dir=/... override would also name the job folders)
    result = subprocess.run(
        [*command, "-m", "experiment=sinc", "model.activation=tanh,relu", "trainer.max_epochs=3"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env={**os.environ, "XRDNET_ROOT": str(tmp_path), "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "outputs" / "sinc" / "multiruns").iterdir()
    for name in ("0_model.activation=tanh", "1_model.activation=relu"):
        summary = json.loads((sweep / name / "metrics.json").read_text())
        assert summary["metrics"]["test/mse"] > 0 and len(summary["val_history"]) == 3
        assert (sweep / name / "sinc_surfaces.png").is_file()
    rows = list(csv.DictReader((sweep / "sweep_table.csv").open()))
    assert sorted(row["activation"] for row in rows) == ["relu", "tanh"]
    validation_mses = [float(row["val/mse"]) for row in rows]
    assert validation_mses == sorted(validation_mses)  # best (lowest) first
    assert "| relu |" in (sweep / "sweep_table.md").read_text()
    # the script rebuilds the same table
    markdown = (sweep / "sweep_table.md").read_text()
    (sweep / "sweep_table.md").unlink()
    assert runpy.run_path(str(SCRIPTS / "sinc_sweep_table.py"))["main"]([str(sweep)]) == 0
    assert (sweep / "sweep_table.md").read_text() == markdown
