"""xrdnet-train: compose the Hydra config, build data, model and trainer, fit, test, summarise.

    xrdnet-train                                  # default: synthetic XRD, 1D-CNN
    xrdnet-train model=mlp model.activation=tanh  # any config value from the command line
    xrdnet-train -m model=cnn1d,mlp               # a sweep, one run folder per job
    xrdnet-train experiment=sinc                  # the sin(r)/r warm-up
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

# torch's OpenMP threads spin between operations by default, taking the cores from the loader workers
# that render the next batches: waiting passively made a default training epoch 15 % faster on 2 cores.
# Read once, when torch loads (below); OMP_WAIT_POLICY=ACTIVE in the environment keeps the spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from xrdnet.config import CONFIG_DIR, instantiate_group
from xrdnet.data.ranks import prepare_data_once
from xrdnet.utils.atomic import write_json_atomic
from xrdnet.utils.errors import exit_on_setup_error
from xrdnet.utils.run_hparams import log_final_hparams

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Run one training job described by `cfg`; returns the final metrics (val, test, real)."""
    OmegaConf.resolve(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    if cfg.get("torch_threads"):
        # small networks (the sinc MLP) run fastest on one thread: more only add synchronisation per op
        torch.set_num_threads(int(cfg.torch_threads))
    started = time.time()

    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    # the Trainer comes first: its ranks decide which process builds the data
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    datamodule = instantiate(cfg.data)
    # the model's inputs depend on the data, so it is loaded before fit: local rank 0 builds the
    # datasets and their features (Lightning's prepare_data rule), the other ranks wait and load;
    # trainer.fit's own prepare_data/setup find it loaded
    prepare_data_once(trainer, datamodule, timeout_min=cfg.get("prepare_timeout_min"))
    datamodule.setup("fit")
    model_inputs = datamodule.model_kwargs()
    if "data_info" in model_inputs:
        # the data config rides in the checkpoint so xrdnet-eval can rebuild the held-out split
        model_inputs["data_info"] = {**model_inputs["data_info"], "datamodule": OmegaConf.to_container(cfg.data)}
    model = instantiate(cfg.model, **model_inputs)
    if cfg.get("compile"):
        compile_network(model)
    for logger in loggers:
        logger.log_hyperparams({"seed": cfg.get("seed"), "tags": list(cfg.get("tags") or []),
                                "model": OmegaConf.to_container(cfg.model), "data": OmegaConf.to_container(cfg.data)})

    if cfg.get("train", True):
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"), weights_only=True)
    metrics = _scalars(trainer.callback_metrics)

    best_path = ""
    if trainer.checkpoint_callback is not None:
        best_path = trainer.checkpoint_callback.best_model_path
    if cfg.get("train", True) and best_path and trainer.world_size == 1:
        # single-process runs only: a second distributed stage after fitting hung once in CI (DDP on 2 CPU
        # processes, not reproduced), so a DDP run's summary keeps the last epoch's validation figures
        metrics.update(validate_checkpoint(trainer, model, datamodule, best_path))
    if cfg.get("test", True):
        if not best_path and not cfg.get("train", True) and cfg.get("ckpt_path"):
            best_path = cfg.ckpt_path
        trainer.test(model, datamodule=datamodule, ckpt_path=best_path or None, weights_only=True)
        metrics.update(_scalars(trainer.callback_metrics))

    summary = {"metrics": metrics, "best_checkpoint": best_path, "run_dir": cfg.paths.output_dir,
               "wall_seconds": round(time.time() - started, 1)}
    if not trainer.is_global_zero:  # DDP: one process reports
        return metrics
    if hasattr(model, "on_run_end"):
        model.on_run_end(datamodule=datamodule, output_dir=Path(cfg.paths.output_dir), summary=summary)
    log_final_hparams(loggers, cfg, metrics, step=trainer.global_step)
    write_json_atomic(Path(cfg.paths.output_dir) / "metrics.json", summary)
    _print_summary(summary, cfg)
    return metrics


def validate_checkpoint(trainer: L.Trainer, model: L.LightningModule, datamodule, path: str) -> dict[str, float]:
    """Validation metrics of the checkpoint at `path`, so that a run's summary describes one model (the one it
    tests and keeps), not the last epoch. Loggers are off meanwhile: the curves keep each epoch's own figures."""
    loggers, trainer.loggers = trainer.loggers, []
    try:
        trainer.validate(model, datamodule=datamodule, ckpt_path=path, weights_only=True, verbose=False)
    finally:
        trainer.loggers = loggers
    return {key: value for key, value in _scalars(trainer.callback_metrics).items() if key.startswith("val/")}


def compile_network(model: L.LightningModule) -> None:
    """torch.compile the module's network in place (nn.Module.compile), so its state_dict keys, and
    so checkpoints, stay those of the plain network (torch.compile(net) would prefix them `_orig_mod.`)."""
    model.net.compile()


def _scalars(metrics) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items() if getattr(value, "numel", lambda: 1)() == 1}


def _print_summary(summary: dict, cfg: DictConfig) -> None:
    metrics = summary["metrics"]
    headline = [k for k in ("test/acc", "test/f1_macro", "real/acc", "real/f1_macro", "test/mse", "val/mse", "val/acc")
                if k in metrics]
    lines = ["", "=" * 64, f"xrdnet run finished in {summary['wall_seconds']:.0f} s"]
    lines += [f"  {key:<16} {metrics[key]:.4g}" for key in headline]
    lines += [
        f"  run folder       {summary['run_dir']}",
        f"  best checkpoint  {summary['best_checkpoint'] or '(none)'}",
        f"  TensorBoard      tensorboard --logdir {Path(cfg.paths.log_dir)}",
        "=" * 64,
    ]
    print("\n".join(lines), flush=True)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    with exit_on_setup_error("xrdnet-train"):
        metrics = train(cfg)
    target = cfg.get("optimized_metric")
    if HydraConfig.get().mode.name == "MULTIRUN":
        log.info("job metrics: %s", {k: round(v, 5) for k, v in metrics.items() if "/" in k})
    return metrics.get(target) if target else None


if __name__ == "__main__":
    main()
