"""LightningModule that fits a scalar function of a few inputs with MSE (the sin(r)/r warm-up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.trainer.states import TrainerFn

from xrdnet.lit.base import NetworkModule


class SurfaceRegressor(NetworkModule):
    """MSE regression around any network built from `net` (the project's MLP for the sinc task).

    Training loss is accumulated on the device and logged once per epoch (`train/mse`), so a step
    costs no logging work. Every validation (the dense grid, one batch) logs `val/mse` and records
    the first epoch at which it reaches `target_mse`; that epoch (`epochs_to_target`, null if never)
    and the per-validation history (`val_history`) are added to the run summary (metrics.json) by
    `on_run_end`.

    Args:
        net: network config with `_target_` (e.g. xrdnet.models.mlp.MLP); built with in_features and
            out_features.
        optimizer: optimizer config with `_target_` and `_partial_: true` (gets the parameters).
        scheduler: optional LR scheduler config with `_partial_: true` (gets the optimizer); stepped
            every epoch unless `scheduler_interval` is 'step'.
        scheduler_interval: 'epoch' or 'step'.
        in_features: number of inputs (set by the entry point from the data: 2 for sinc).
        out_features: number of outputs.
        data_info: how inputs were made (grid, standardization statistics), kept in the checkpoint so
            `predict` works on raw coordinates.
        activation: the hidden activation name, mirrored into `net` by the config; drawn highlighted in
            the activation figure and kept for sweeps.
        target_mse: the validation MSE whose first crossing is recorded as `epochs_to_target`.
        log_activation_figure: log the activation-function figure to TensorBoard once per run.
    """

    def __init__(
        self,
        net: dict,
        optimizer: dict,
        scheduler: dict | None = None,
        scheduler_interval: str = "epoch",
        in_features: int = 2,
        out_features: int = 1,
        data_info: dict | None = None,
        activation: str | None = None,
        target_mse: float = 1e-2,
        log_activation_figure: bool = True,
    ):
        hparams = {
            "net": net,
            "optimizer": optimizer,
            "scheduler": scheduler,
            "scheduler_interval": scheduler_interval,
            "in_features": int(in_features),
            "out_features": int(out_features),
            "data_info": data_info or {},
            "activation": activation,
            "target_mse": float(target_mse),
            "log_activation_figure": bool(log_activation_figure),
        }
        super().__init__(hparams, in_features=in_features, out_features=out_features)
        self._loss_sum = torch.zeros(())
        self._loss_count = 0
        # (epoch, val/mse) of every validation of this fit; epochs are counted from 1
        self.val_history: list[tuple[int, float]] = []
        self.epochs_to_target: int | None = None

    @torch.no_grad()
    def predict(self, coords: np.ndarray) -> np.ndarray:
        """Predictions for raw coordinates (n, in_features), standardized with the training statistics."""
        info = self.hparams.data_info
        mean = np.asarray(info.get("input_mean", 0.0))
        std = np.asarray(info.get("input_std", 1.0))
        inputs = torch.as_tensor((np.asarray(coords) - mean) / std, dtype=torch.float32, device=self.device)
        was_training = self.training
        self.eval()
        outputs = self(inputs).cpu().numpy()
        self.train(was_training)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    # --- training -------------------------------------------------------------------------------

    def on_train_epoch_start(self) -> None:
        self._loss_sum = torch.zeros((), device=self.device)
        self._loss_count = 0

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        loss = F.mse_loss(self(inputs), targets)
        # a detached running sum: no host sync and no logger call per step
        self._loss_sum += loss.detach() * len(targets)
        self._loss_count += len(targets)
        return loss

    def on_train_epoch_end(self) -> None:
        if self._loss_count:
            self.log("train/mse", self._loss_sum / self._loss_count)

    def on_fit_start(self) -> None:
        if self.hparams.log_activation_figure and self.tensorboard_loggers():
            from xrdnet.plotting import activations_figure

            self.add_figure("activations", activations_figure(highlight=self.hparams.activation))

    # --- evaluation -----------------------------------------------------------------------------

    def validation_step(self, batch, batch_idx):
        inputs, targets = batch
        self.log("val/mse", F.mse_loss(self(inputs), targets), prog_bar=True, batch_size=len(targets))

    def on_validation_epoch_end(self) -> None:
        # only validations inside a fit make the training record (not sanity checks or trainer.validate)
        fitting = self.trainer.state.fn == TrainerFn.FITTING
        if not fitting or self.trainer.sanity_checking or "val/mse" not in self.trainer.callback_metrics:
            return
        epoch = self.current_epoch + 1
        mse = float(self.trainer.callback_metrics["val/mse"])
        self.val_history.append((epoch, mse))
        if self.epochs_to_target is None and mse <= self.hparams.target_mse:
            self.epochs_to_target = epoch

    def test_step(self, batch, batch_idx):
        inputs, targets = batch
        self.log("test/mse", F.mse_loss(self(inputs), targets), batch_size=len(targets))

    # --- checkpoints: keep the training record across resume ------------------------------------

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["surface_regressor"] = {"val_history": [list(item) for item in self.val_history],
                                          "epochs_to_target": self.epochs_to_target}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # Only a resumed fit takes the stored record; loading the best checkpoint for testing must not
        # replace the full record of this run with the shorter one saved at that checkpoint.
        record = checkpoint.get("surface_regressor")
        if record and not self.val_history:
            self.val_history = [(int(epoch), float(mse)) for epoch, mse in record["val_history"]]
            self.epochs_to_target = record["epochs_to_target"]

    # --- end of run -----------------------------------------------------------------------------

    def on_run_end(self, datamodule, output_dir: Path, summary: dict) -> None:
        """Add the training record to the run summary; draw the four-panel sinc figure (PNG + TensorBoard)."""
        # beside the metrics, not in them: the metrics are floats (returned to sweepers), this may be None
        summary["target_mse"] = self.hparams.target_mse
        summary["epochs_to_target"] = self.epochs_to_target
        summary["val_history"] = [[epoch, round(mse, 8)] for epoch, mse in self.val_history]
        if not hasattr(datamodule, "eval_coords"):
            return
        from xrdnet.plotting import save_figure, sinc_figure

        n_train = int(round(np.sqrt(len(datamodule.train_coords))))
        n_eval = int(round(np.sqrt(len(datamodule.eval_coords))))
        predicted = self.predict(datamodule.eval_coords)
        figure = sinc_figure(
            train_values=datamodule.train_targets.reshape(n_train, n_train),
            true_values=datamodule.eval_targets.reshape(n_eval, n_eval),
            predicted_values=predicted.reshape(n_eval, n_eval),
            extent=(datamodule.hparams.low, datamodule.hparams.high),
            title=f"sin(r)/r: {self._describe_net()}" + (" (best checkpoint)" if summary.get("best_checkpoint") else ""),
        )
        self.add_figure("sinc/surfaces", figure, close=False)
        save_figure(figure, Path(output_dir) / "sinc_surfaces.png")

    # --- helpers --------------------------------------------------------------------------------

    def _describe_net(self) -> str:
        """e.g. 'MLP 2-80-1, tanh'."""
        widths = [self.hparams.in_features, *self.hparams.net.get("hidden", []), self.hparams.out_features]
        name = self.hparams.net["_target_"].rsplit(".", 1)[-1]
        return f"{name} {'-'.join(map(str, widths))}, {self.hparams.activation or self.hparams.net.get('activation')}"
