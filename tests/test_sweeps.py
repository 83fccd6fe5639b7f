"""Sweeps and comparing runs: the Optuna config, the generic sweep table, HParams in TensorBoard, and a
real Optuna sweep through xrdnet-train that resumes its study; torch.compile and the GPU trainer config."""

from __future__ import annotations

import csv
import json
import runpy
from pathlib import Path

import optuna
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams import plugin_data_pb2
from test_entry_points import BIN, build_run, compose_train, in_tmp, run_cli, shared_data_dir, tiny_overrides  # noqa: F401

from xrdnet.config import conv_channels
from xrdnet.train import compile_network
from xrdnet.utils.optuna_study import resumed_seed, trials_in_study
from xrdnet.utils.run_hparams import final_metrics
from xrdnet.utils.sweep_table import lower_is_better, write_train_table

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

# --- the Optuna config ----------------------------------------------------------------------------


def test_optuna_config_composes_to_a_seeded_tpe_study_in_a_stable_folder(tmp_path):
    cfg = compose_train(["hparams_search=optuna", *in_tmp(tmp_path)])
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.sampler._target_ == "optuna.samplers.TPESampler"
    assert sweeper.direction == "maximize" and cfg.optimized_metric == "val/acc"
    assert sweeper.sampler.seed == cfg.seed  # a new study: no trials to offset the seed by
    # no timestamp in the folder: the same command finds the study again
    assert cfg.hydra.sweep.dir.endswith("/train/multiruns/optuna_train")
    assert sweeper.storage == f"sqlite:///{cfg.hydra.sweep.dir}/optuna.db"
    assert {"model.optimizer.lr", "sweep.width", "sweep.depth", "model.net.dropout", "data.augment.strain"} <= set(sweeper.params)
    assert "tag(log" in sweeper.params["model.optimizer.lr"]
    assert list(cfg.model.net.channels) == [16, 32, 64, 64]  # the default width and depth: the default CNN
    build_run(cfg)
    # one trial's point in the space builds too
    job = compose_train(["hparams_search=optuna", "sweep.width=8", "sweep.depth=5", "model.optimizer.lr=0.003",
                         *in_tmp(tmp_path)])
    assert list(job.model.net.channels) == [8, 16, 32, 32, 32]
    build_run(job)


def test_conv_channels_double_twice_then_stay():
    assert list(conv_channels(32, 3)) == [32, 64, 128]
    assert list(conv_channels(8, 1)) == [8]
    with pytest.raises(ValueError, match="width and depth >= 1"):
        conv_channels(0, 3)


def test_resumed_seed_counts_the_trials_already_in_the_study(tmp_path):
    storage = f"sqlite:///{tmp_path}/optuna.db"
    assert resumed_seed(42, storage, "s") == 42 and not (tmp_path / "optuna.db").exists()  # nothing created
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    assert trials_in_study(storage, "s") == 3 and resumed_seed(42, storage, "s") == 45
    assert resumed_seed(42, storage, "another") == 42 and resumed_seed(None, storage, "s") is None
    with pytest.raises(ValueError, match="only sqlite"):
        trials_in_study("postgresql://host/db", "s")
    (tmp_path / "junk.db").write_text("not a database")
    with pytest.raises(ValueError, match="junk.db.*not a readable Optuna study"):
        trials_in_study(f"sqlite:///{tmp_path}/junk.db", "s")


# --- the generic sweep table ------------------------------------------------------------------------


def fake_job(sweep: Path, name: str, overrides: list[str], metrics: dict | None) -> None:
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("optimized_metric: val/acc\n")
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if metrics is not None:
        (job / "metrics.json").write_text(json.dumps({"metrics": metrics, "wall_seconds": 12.0}))


def test_train_sweep_table_has_the_varying_overrides_then_metrics_best_first(tmp_path):
    shared = ["model=cnn1d", f"paths.log_dir={tmp_path}"]
    fake_job(tmp_path, "0_a", [*shared, "model.optimizer.lr=0.00123456", "sweep.width=8"],
             {"val/acc": 0.5, "test/acc": 0.45, "val/loss": 1.2})
    fake_job(tmp_path, "1_b", [*shared, "model.optimizer.lr=0.01", "sweep.width=8"], None)  # failed
    fake_job(tmp_path, "2_c", [*shared, "model.optimizer.lr=0.003", "sweep.width=8", "+trainer.limit_train_batches=2"],
             {"val/acc": 0.75, "test/acc": 0.7, "val/loss": 0.9})
    markdown_path, csv_path = write_train_table(tmp_path)
    lines = markdown_path.read_text().splitlines()
    # model=cnn1d, sweep.width and paths.* are the same in every job (or never a column); per-job extras are
    assert lines[0] == "| model.optimizer.lr | trainer.limit_train_batches | val/acc | test/acc | wall time (s) |"
    assert lines[2] == "| 0.003 | 2 | 0.7500 | 0.7000 | 12.0 |"
    assert lines[3] == "| 0.001235 |  | 0.5000 | 0.4500 | 12.0 |"  # floats shortened in Markdown only
    assert lines[4] == "| 0.01 |  | no metrics.json |  |  |"
    rows = list(csv.DictReader(csv_path.open()))
    assert [row["job"] for row in rows] == ["2_c", "0_a", "1_b"]
    assert rows[1]["model.optimizer.lr"] == "0.00123456" and rows[1]["val/acc"] == "0.5" and rows[2]["val/acc"] == ""
    # an Optuna sweep that minimized says so in its multirun.yaml: the order follows the sweeper
    (tmp_path / "multirun.yaml").write_text("hydra:\n  sweeper:\n    direction: minimize\n")
    write_train_table(tmp_path)
    assert [row["job"] for row in csv.DictReader(csv_path.open())] == ["0_a", "2_c", "1_b"]
    # the script rebuilds it
    assert runpy.run_path(str(SCRIPTS / "sweep_table.py"))["main"]([str(tmp_path)]) == 0
    assert runpy.run_path(str(SCRIPTS / "sweep_table.py"))["main"]([str(tmp_path / "missing")]) == 1


def test_lower_is_better_is_read_from_the_metric_name():
    assert lower_is_better("val/mse") and lower_is_better("val/loss") and lower_is_better("val/ece_after")
    assert not lower_is_better("val/acc") and not lower_is_better("real/f1_macro")


def test_final_metrics_keep_the_judged_stages_without_per_class_recalls():
    metrics = {"train/loss": 1.0, "val/acc": 0.5, "val/recall_cubic": 0.1, "test/acc": 0.4, "real/f1_macro": 0.3}
    assert final_metrics(metrics) == {"final/val/acc": 0.5, "final/test/acc": 0.4, "final/real/f1_macro": 0.3}


# --- torch.compile and the GPU trainer ----------------------------------------------------------------


def test_compiled_network_keeps_plain_checkpoint_keys(tmp_path):
    cfg = compose_train(["trainer=gpu", "compile=true", *in_tmp(tmp_path)])
    assert cfg.trainer.precision == "16-mixed" and cfg.compile is True
    model = instantiate(cfg.model)
    plain_keys = list(model.state_dict())
    compile_network(model)
    assert model.net._compiled_call_impl is not None  # compiled: the next call goes through torch.compile
    assert list(model.state_dict()) == plain_keys and not any("_orig_mod" in key for key in plain_keys)
    fresh = instantiate(cfg.model)
    fresh.load_state_dict(model.state_dict())  # strict: a checkpoint of a compiled run loads as a plain one


# --- a real Optuna sweep through the entry point ----------------------------------------------------


def hparams_session(run_dir: Path) -> tuple[dict, list[str], EventAccumulator]:
    """The hparams of a TensorBoard run, the metric names its HParams tab shows, and its events."""
    events = EventAccumulator(str(run_dir))
    events.Reload()
    hparams, metric_names = {}, []
    for content in events.PluginTagToContent(hparams_metadata.PLUGIN_NAME).values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.HasField("session_start_info"):
            hparams = {key: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
                       for key, value in data.session_start_info.hparams.items()}
        if data.HasField("experiment"):
            metric_names = [info.name.tag for info in data.experiment.metric_infos]
    return hparams, metric_names, events


@pytest.mark.slow
def test_optuna_sweep_writes_study_table_and_hparams_then_resumes(tmp_path, shared_data_dir):
    sweep_dir = tmp_path / "outputs" / "train" / "multiruns" / "optuna_train"
    command = [str(BIN / "xrdnet-train"), "-m", "hparams_search=optuna", "trainer.max_epochs=1",
               "+trainer.limit_train_batches=2", *tiny_overrides(tmp_path, shared_data_dir)]
    run_cli([*command, "hydra.sweeper.n_trials=2"], tmp_path)
    storage = f"sqlite:///{sweep_dir}/optuna.db"
    study = optuna.load_study(study_name="train", storage=storage)
    assert [trial.state.name for trial in study.trials] == ["COMPLETE", "COMPLETE"]

    rows = list(csv.DictReader((sweep_dir / "sweep_table.csv").open()))
    assert len(rows) == 2 and "model.optimizer.lr" in rows[0]
    accuracies = [float(row["val/acc"]) for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    assert "| model.optimizer.lr |" in (sweep_dir / "sweep_table.md").read_text()

    # the HParams tab of a job: its swept values, and the final metrics of its metrics.json
    job_dir = sweep_dir / rows[0]["job"]
    summary = json.loads((job_dir / "metrics.json").read_text())
    hparams, metric_names, events = hparams_session(job_dir / "tensorboard")
    assert hparams["model/optimizer/lr"] == pytest.approx(float(rows[0]["model.optimizer.lr"]))
    assert hparams["seed"] == 42 and "data/augment/strain" in hparams
    assert {"final/val/acc", "final/test/acc"} <= set(metric_names)
    assert events.Scalars("final/val/acc")[-1].value == pytest.approx(summary["metrics"]["val/acc"])
    assert study.trials[0].value in [pytest.approx(a) for a in accuracies]

    # the same command again resumes the study: n_trials more trials, at points not drawn before
    run_cli([*command, "hydra.sweeper.n_trials=1"], tmp_path)
    study = optuna.load_study(study_name="train", storage=storage)
    assert len(study.trials) == 3
    assert study.trials[2].params not in [study.trials[0].params, study.trials[1].params]
    assert len(list(csv.DictReader((sweep_dir / "sweep_table.csv").open()))) == 3
    assert OmegaConf.load(sweep_dir / "optimization_results.yaml").best_value == pytest.approx(study.best_value)
