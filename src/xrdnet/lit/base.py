"""The base of the project's LightningModules: a network built from its config, the optimizer and
scheduler set-up, hyperparameters kept as plain data, and figures logged to TensorBoard."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from lightning import LightningModule
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from xrdnet.utils.errors import SetupError


def plain(value: Any) -> Any:
    """Hydra configs -> plain dicts/lists, so hyperparameters load with torch's weights_only unpickler."""
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


class NetworkModule(LightningModule):
    """A LightningModule around the network `hparams["net"]` describes.

    Subclasses pass all their hyperparameters, including the `net`, `optimizer`, `scheduler` (or None)
    and `scheduler_interval` configs, the network's input and output sizes, and any other arguments
    the data fixes for the network (`net_options`). Hydra configs among
    the hyperparameters are stored as plain dicts, so checkpoints load with torch's weights_only
    unpickler and rebuild the module without the training config.
    """

    def __init__(self, hparams: dict[str, Any], in_features: int, out_features: int, **net_options: Any):
        super().__init__()
        # the subclass's __init__ frame, as if it had called save_hyperparameters itself
        self.save_hyperparameters({key: plain(value) for key, value in hparams.items()},
                                  frame=inspect.currentframe().f_back)
        self.net = instantiate(self.hparams.net, in_features=int(in_features), out_features=int(out_features),
                               **net_options)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The network's outputs (batch, out_features) for inputs (batch, in_features)."""
        return self.net(inputs)

    def configure_optimizers(self):
        """Optimizer (and scheduler) from the `optimizer` / `scheduler` hyperparameters.

        Both are `_partial_` configs: the optimizer gets the parameters, the scheduler the optimizer.
        Schedulers that take `total_steps` (one-cycle) get it from the trainer when the config leaves
        it out: optimizer steps for interval 'step', epochs for interval 'epoch'.
        """
        hparams = self.hparams
        optimizer = instantiate(hparams.optimizer)(params=self.parameters())
        if not hparams.scheduler:
            return optimizer
        scheduler_config = dict(hparams.scheduler)
        interval = hparams.get("scheduler_interval", "step")
        if "total_steps" in inspect.signature(get_class(scheduler_config["_target_"])).parameters:
            trainer = self.trainer
            total = trainer.estimated_stepping_batches if interval == "step" else trainer.max_epochs
            scheduler_config.setdefault("total_steps", int(total))
        scheduler = instantiate(scheduler_config)(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": interval}}

    def on_train_start(self) -> None:
        """Refuse, in one line, a resumed run whose fixed-length schedule ends before the run does.

        A resumed run (ckpt_path) gets the schedule's state back from the checkpoint, including the
        one-cycle `total_steps` of the run that wrote it; a longer run (a larger max_epochs) would step
        past it and fail deep inside torch after the first epoch.
        """
        trainer = self.trainer
        for config in trainer.lr_scheduler_configs:
            total = getattr(config.scheduler, "total_steps", None)
            if total is None:
                continue
            by_step = config.interval == "step"
            needed = (trainer.estimated_stepping_batches - trainer.global_step if by_step
                      else trainer.max_epochs - trainer.current_epoch)
            left = total - config.scheduler.last_epoch
            if needed > left:
                unit = "optimizer steps" if by_step else "epochs"
                raise SetupError(f"{trainer.ckpt_path}: its {type(config.scheduler).__name__} schedule has {max(left, 0)} "
                                 f"{unit} left but this run needs {int(needed)}; resume with the trainer.max_epochs "
                                 f"the run started with, or start a new run")

    def tensorboard_loggers(self) -> list[TensorBoardLogger]:
        return [logger for logger in self.loggers if isinstance(logger, TensorBoardLogger)]

    def add_figure(self, tag: str, figure, close: bool = True) -> None:
        """Log a matplotlib figure to every TensorBoard logger at the current step; close it unless told not to."""
        import matplotlib.pyplot as plt

        for logger in self.tensorboard_loggers():
            logger.experiment.add_figure(tag, figure, global_step=self.global_step, close=False)
            logger.experiment.flush()
        if close:
            plt.close(figure)
