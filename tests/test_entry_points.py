"""Configs compose and build, and the real console scripts run end to end on tiny data."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import OmegaConf

from xrdnet.config import CONFIG_DIR, instantiate_group

BIN = Path(sys.executable).parent
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def compose_train(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def build_run(cfg) -> None:
    """Build what xrdnet.train builds from a config (data module, model, callbacks, loggers, trainer), short of
    loading data and fitting."""
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    assert isinstance(datamodule, L.LightningDataModule) and isinstance(model, L.LightningModule)
    assert isinstance(trainer, L.Trainer) and all(isinstance(c, L.Callback) for c in callbacks)


def in_tmp(tmp_path: Path) -> list[str]:
    # the trainer configs that ask for GPUs are built on the CPU here
    return [f"paths.output_dir={tmp_path}", f"paths.data_dir={tmp_path / 'data'}", "trainer.accelerator=cpu"]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_config_builds(experiment, tmp_path):
    cfg = compose_train([f"experiment={experiment}", *in_tmp(tmp_path)])
    assert cfg.seed is not None
    build_run(cfg)


@pytest.mark.parametrize("group", ["model", "trainer", "logger", "callbacks", "data/source", "hparams_search"])
def test_every_option_of_each_group_builds(group, tmp_path, store_mp_download):
    cif_dir = tmp_path / "cifs"
    cif_dir.mkdir()
    (cif_dir / "NaCl.cif").write_text("data_NaCl\n")  # the source lists files when built, parses them when read
    for option in sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml")):
        extra = [f"data.source.path={cif_dir}"] if option == "cif_dir" else []
        cfg = compose_train([f"{group}={option}", *extra, *in_tmp(tmp_path)])
        if option == "materials_project":  # offline: its download stored beforehand
            source = OmegaConf.to_container(cfg.data.source, resolve=True)
            store_mp_download(source["data_dir"], **{k: v for k, v in source.items() if k != "data_dir"})
        build_run(cfg)
        if group == "hparams_search" and cfg.hydra.sweeper._target_.endswith("BasicSweeper"):  # and every job
            params = cfg.hydra.sweeper.params
            for values in itertools.product(*(str(choices).split(",") for choices in params.values())):
                jobs = [f"{key}={value}" for key, value in zip(params, values)]
                build_run(compose_train([*jobs, *in_tmp(tmp_path)]))


def test_default_config_is_the_cnn_on_synthetic_data():
    cfg = compose_train([])
    assert cfg.model.net._target_.endswith("CNN1D")
    assert cfg.data.source._target_.endswith("SyntheticStructures")
    assert cfg.data.real_source._target_.endswith("AflowPrototypes")
    assert cfg.trainer.accelerator == "auto"
    assert cfg.model.net.activation == cfg.model.activation


def test_the_simulated_range_follows_the_grid_of_the_readme_moka_example(tmp_path):
    cfg = compose_train([*in_tmp(tmp_path), "data.simulation.wavelength=MoKa", "data.grid.start_deg=2",
                         "data.grid.stop_deg=45"])
    low, high = instantiate(cfg.data).simulator.two_theta_range
    assert low < 2.0 and 45.0 < high < 46.0, (low, high)  # widened by the zero shift and strain it may undo


def tiny_overrides(tmp_path: Path, data_dir: Path) -> list[str]:
    return [
        f"paths.log_dir={tmp_path / 'outputs'}",
        f"paths.data_dir={data_dir}",
        "data.source.n=70",
        "data.real_source=null",
        "data.build_workers=1",
        "data.batch_size=16",
        "callbacks.rich_progress_bar=null",
    ]


def run_cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args[:3])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def shared_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.mark.slow
def test_the_best_recipe_runs_one_batch(tmp_path):
    # experiment=xrd_best with its indexing_v16 features, on a tiny dataset: one batch of each stage
    result = run_cli([str(BIN / "xrdnet-train"), "experiment=xrd_best", "debug=fast",
                      *tiny_overrides(tmp_path, tmp_path / "data")], tmp_path)
    assert "xrdnet run finished" in result.stdout
    config = next((tmp_path / "outputs").rglob("config.yaml")).read_text()
    assert "features: indexing_v16" in config


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cnn1d", "mlp"])
def test_fast_dev_run_through_the_real_entry_point(model, tmp_path, shared_data_dir):
    result = run_cli([str(BIN / "xrdnet-train"), f"model={model}", "debug=fast", *tiny_overrides(tmp_path, shared_data_dir)], tmp_path)
    assert "xrdnet run finished" in result.stdout
    summaries = list((tmp_path / "outputs").rglob("metrics.json"))
    assert len(summaries) == 1
    metrics = json.loads(summaries[0].read_text())["metrics"]
    assert "test/acc" in metrics and 0.0 <= metrics["test/acc"] <= 1.0


@pytest.mark.slow
def test_two_job_multirun_gives_one_run_folder_per_job(tmp_path, shared_data_dir):
    run_cli([str(BIN / "xrdnet-train"), "-m", "model=mlp", "model.activation=relu,tanh", "trainer.max_epochs=1",
             "+trainer.limit_train_batches=2", "test=false", *tiny_overrides(tmp_path, shared_data_dir)], tmp_path)
    sweeps = list((tmp_path / "outputs" / "train" / "multiruns").iterdir())
    assert len(sweeps) == 1
    jobs = sorted(p.name for p in sweeps[0].iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(jobs) == 2 and "model.activation=relu" in jobs[0] + jobs[1] and "model.activation=tanh" in jobs[0] + jobs[1]
    for job in jobs:
        assert list((sweeps[0] / job / "tensorboard").glob("events.out.tfevents.*")), f"{job} has no TensorBoard run"
        assert (sweeps[0] / job / ".hydra" / "config.yaml").exists()
    # every multirun ends with its sweep table: the override that differs, then the validation figures
    header = (sweeps[0] / "sweep_table.md").read_text().splitlines()[0]
    assert header.startswith("| model.activation | val/acc |")


@pytest.mark.slow
def test_ddp_with_two_cpu_processes(tmp_path, shared_data_dir):
    result = run_cli([str(BIN / "xrdnet-train"), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
                      "trainer.max_epochs=1", "model=mlp", *tiny_overrides(tmp_path, shared_data_dir)], tmp_path)
    assert "xrdnet run finished" in result.stdout
    summaries = list((tmp_path / "outputs").rglob("metrics.json"))
    assert len(summaries) == 1, "both DDP processes must share one run folder"
    assert json.loads(summaries[0].read_text())["best_checkpoint"].endswith(".ckpt")


def test_slurm_launcher_preset_composes():
    cfg = compose_train(["hydra/launcher=slurm", "hydra.launcher.partition=gpu"])
    assert cfg.hydra.launcher._target_.endswith("SlurmLauncher")
    assert cfg.hydra.launcher.partition == "gpu" and cfg.hydra.launcher.gpus_per_node == 1


@pytest.mark.parametrize("preset, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_training_sets_passive_openmp_waiting_unless_told_otherwise(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    probe = "import sys, os, xrdnet.train; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == [expected, "True"]
