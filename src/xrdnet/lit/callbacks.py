"""Lightning callbacks of the project."""

from __future__ import annotations

import logging
import os

import torch
from lightning import Callback, LightningModule, Trainer

from xrdnet.lit.calibration import expected_calibration_error, fit_temperature
from xrdnet.utils.atomic import atomic_path

log = logging.getLogger(__name__)


class TemperatureScaling(Callback):
    """After fitting, calibrate the probabilities of every saved checkpoint on the validation split.

    For each checkpoint file the checkpoint callbacks kept (the best ones and last.ckpt), loads its
    weights, fits the softmax temperature on their validation logits and writes it into that file
    (atomically), so evaluation, prediction and resumed training from any of them are calibrated.
    The best checkpoint goes last: the module ends with its weights and temperature.
    """

    def on_fit_end(self, trainer: Trainer, module: LightningModule) -> None:
        if trainer.fast_dev_run or not trainer.is_global_zero:
            return
        best = os.path.realpath(trainer.checkpoint_callback.best_model_path) if trainer.checkpoint_callback else ""
        saved = {os.path.realpath(path) for callback in trainer.checkpoint_callbacks
                 for path in (*callback.best_k_models, callback.last_model_path, callback.best_model_path) if path}
        for path in sorted(saved - {best}) + ([best] if best in saved else []):
            if os.path.isfile(path):
                self._calibrate(trainer, module, path, log_metrics=path == best)

    def _calibrate(self, trainer: Trainer, module: LightningModule, path: str, log_metrics: bool) -> None:
        checkpoint = torch.load(path, map_location=module.device, weights_only=True)
        module.load_state_dict(checkpoint["state_dict"])
        logits, labels = self._validation_logits(trainer, module)
        if len(labels) == 0:
            return
        before = expected_calibration_error(torch.softmax(logits, -1), labels)
        temperature = fit_temperature(logits, labels)
        after = expected_calibration_error(torch.softmax(logits / temperature, -1), labels)
        module.temperature.fill_(temperature)
        checkpoint["state_dict"]["temperature"] = module.temperature.detach().cpu().clone()
        with atomic_path(path, suffix=".ckpt") as tmp:
            torch.save(checkpoint, tmp)
        log.info("Calibrated %s: temperature %.3f, validation ECE %.4f -> %.4f", path, temperature, before, after)
        if log_metrics:
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
