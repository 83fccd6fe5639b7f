"""Lightning callbacks of the project."""

from __future__ import annotations

import logging

import torch
from lightning import Callback, LightningModule, Trainer

from xrdnet.lit.calibration import expected_calibration_error, fit_temperature
from xrdnet.utils.atomic import atomic_path

log = logging.getLogger(__name__)


class TemperatureScaling(Callback):
    """After fitting, calibrate the best checkpoint's probabilities on the validation split.

    Loads the best weights, fits the softmax temperature on validation logits, and writes it into
    the best checkpoint (atomically), so evaluation and prediction from that file are calibrated.
    """

    def on_fit_end(self, trainer: Trainer, module: LightningModule) -> None:
        callback = trainer.checkpoint_callback
        best = getattr(callback, "best_model_path", "") if callback else ""
        if not best or trainer.fast_dev_run or not trainer.is_global_zero:
            return
        checkpoint = torch.load(best, map_location=module.device, weights_only=True)
        module.load_state_dict(checkpoint["state_dict"])
        logits, labels = self._validation_logits(trainer, module)
        if len(labels) == 0:
            return
        before = expected_calibration_error(torch.softmax(logits, -1), labels)
        temperature = fit_temperature(logits, labels)
        after = expected_calibration_error(torch.softmax(logits / temperature, -1), labels)
        module.temperature.fill_(temperature)
        checkpoint["state_dict"]["temperature"] = module.temperature.detach().cpu().clone()
        with atomic_path(best, suffix=".ckpt") as tmp:
            torch.save(checkpoint, tmp)
        log.info("Calibrated %s: temperature %.3f, validation ECE %.4f -> %.4f", best, temperature, before, after)
        for logger in trainer.loggers:
            logger.log_metrics({"val/temperature": temperature, "val/ece_before": before, "val/ece_after": after},
                               step=trainer.global_step)

    @staticmethod
    @torch.no_grad()
    def _validation_logits(trainer: Trainer, module: LightningModule) -> tuple[torch.Tensor, torch.Tensor]:
        was_training = module.training
        module.eval()
        logits, labels = [], []
        for profiles, targets in trainer.datamodule.val_dataloader():
            logits.append(module(profiles.to(module.device)).cpu())
            labels.append(targets)
        module.train(was_training)
        return torch.cat(logits), torch.cat(labels)
