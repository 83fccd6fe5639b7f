"""What every LightningModule of the project shares: plain hyperparameters and optimizer set-up."""

from __future__ import annotations

import inspect
from typing import Any

from hydra.utils import get_class, instantiate
from lightning import LightningModule
from omegaconf import DictConfig, OmegaConf


def plain(value: Any) -> Any:
    """Hydra configs -> plain dicts/lists, so hyperparameters load with torch's weights_only unpickler."""
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


def configure_optimizers(module: LightningModule):
    """Optimizer (and scheduler) from the module's `optimizer` / `scheduler` hyperparameters.

    Both are `_partial_` configs: the optimizer gets the parameters, the scheduler the optimizer.
    Schedulers that take `total_steps` (one-cycle) get it from the trainer when the config leaves
    it out: optimizer steps for interval 'step', epochs for interval 'epoch'.
    """
    hparams = module.hparams
    optimizer = instantiate(hparams.optimizer)(params=module.parameters())
    if not hparams.scheduler:
        return optimizer
    scheduler_config = dict(hparams.scheduler)
    interval = hparams.get("scheduler_interval", "step")
    if "total_steps" in inspect.signature(get_class(scheduler_config["_target_"])).parameters:
        trainer = module.trainer
        total = trainer.estimated_stepping_batches if interval == "step" else trainer.max_epochs
        scheduler_config.setdefault("total_steps", int(total))
    scheduler = instantiate(scheduler_config)(optimizer=optimizer)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": interval}}
