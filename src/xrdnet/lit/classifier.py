"""LightningModule that classifies diffraction profiles into the 7 crystal systems."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torchmetrics import ConfusionMatrix, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score, MulticlassRecall

from xrdnet.crystal import CRYSTAL_SYSTEMS, NUM_CLASSES
from xrdnet.lit.base import NetworkModule, plain
from xrdnet.models.resample import SubsampleAverage
from xrdnet.xrd.axis import ModelAxis
from xrdnet.xrd.profile import TwoThetaGrid

# Checkpoints say which layout of theirs this is; a reader refuses a newer one in one line.
CHECKPOINT_FORMAT_KEY = "xrdnet_checkpoint_format"
CHECKPOINT_FORMAT = 1  # 1: data_info may carry 'axis' and 'features'

# Stage prefixes of the test dataloaders, in the order the datamodule returns them.
TEST_PREFIXES = ("test", "real")


class CrystalSystemClassifier(NetworkModule):
    """Cross-entropy classifier over CRYSTAL_SYSTEMS around any network built from `net`.

    Args:
        net: network config with `_target_` (e.g. xrdnet.models.cnn1d.CNN1D); built with
            in_features=input_length and out_features=7.
        optimizer: optimizer config with `_target_` and `_partial_: true` (gets the parameters).
        scheduler: optional LR scheduler config with `_partial_: true` (gets the optimizer;
            `total_steps` is filled in from the trainer for schedulers that take it).
        scheduler_interval: 'step' or 'epoch'.
        input_length: profile length in 2θ points (set by the training entry point from the data).
        class_weights: optional per-class loss weights (set from the training split's imbalance).
        data_info: how inputs were made (2θ grid, wavelength, profile settings): kept in the checkpoint
            so the model can be used without the training config.
        activation: the activation name, mirrored into `net` by the config; kept for sweeps/logs.
        label_smoothing: cross-entropy label smoothing.
        n_example_patterns: profiles drawn in the validation pattern figure.
        auxiliary_classes: classes of a finer label training batches carry as a third element (set by the
            training entry point from data.auxiliary_target; 0: none). The network then has that many more
            outputs, trained on it with weight `auxiliary_weight`; only the 7 crystal-system outputs are read.
        auxiliary_weight: weight of the auxiliary cross-entropy beside the crystal-system one.
    """

    def __init__(
        self,
        net: dict,
        optimizer: dict,
        scheduler: dict | None = None,
        scheduler_interval: str = "step",
        input_length: int = 2126,
        class_weights: list[float] | None = None,
        data_info: dict | None = None,
        activation: str | None = None,
        label_smoothing: float = 0.0,
        n_example_patterns: int = 8,
        auxiliary_classes: int = 0,
        auxiliary_weight: float = 0.5,
    ):
        hparams = {
            "net": net,
            "optimizer": optimizer,
            "scheduler": scheduler,
            "scheduler_interval": scheduler_interval,
            "input_length": int(input_length),
            "class_weights": None if class_weights is None else [float(w) for w in class_weights],
            "data_info": data_info or {},
            "activation": activation,
            "label_smoothing": float(label_smoothing),
            "n_example_patterns": int(n_example_patterns),
            "auxiliary_classes": int(auxiliary_classes),
            "auxiliary_weight": float(auxiliary_weight),
            "class_names": list(CRYSTAL_SYSTEMS),
        }
        data_info = plain(data_info) or {}
        input_transform, net_inputs = _input_transform(data_info, int(input_length))
        # per-item features (data_info['features']) ride after the profile; standardized in forward
        features = data_info.get("features") or {}
        n_features = len(features.get("mean") or [])
        super().__init__(hparams, in_features=net_inputs, out_features=NUM_CLASSES + int(auxiliary_classes),
                         **({"extra_features": n_features} if n_features else {}))
        self.input_transform = input_transform
        self.profile_length = int(input_length)
        self.register_buffer("feature_mean", torch.tensor(features.get("mean") or [], dtype=torch.float32), persistent=False)
        self.register_buffer("feature_scale", torch.tensor(features.get("scale") or [], dtype=torch.float32), persistent=False)
        weights = torch.ones(NUM_CLASSES) if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
        self.register_buffer("class_weights", weights)
        # Softmax temperature; 1 until calibrated on the validation split.
        self.register_buffer("temperature", torch.ones(()))

        def summary() -> MetricCollection:
            return MetricCollection(
                {
                    "acc": MulticlassAccuracy(NUM_CLASSES, average="micro"),
                    "f1_macro": MulticlassF1Score(NUM_CLASSES, average="macro"),
                }
            )

        # ModuleDict keys get a "_set" suffix: a key "train" would shadow nn.Module.train
        self.metrics = torch.nn.ModuleDict({f"{stage}_set": summary() for stage in ("train", "val", *TEST_PREFIXES)})
        self.recalls = torch.nn.ModuleDict(
            {f"{stage}_set": MulticlassRecall(NUM_CLASSES, average="none") for stage in ("val", *TEST_PREFIXES)}
        )
        self.confusion = torch.nn.ModuleDict({f"{stage}_set": ConfusionMatrix("multiclass", num_classes=NUM_CLASSES) for stage in ("val", *TEST_PREFIXES)})
        self._examples: dict[str, torch.Tensor] = {}

    def forward(self, profiles: torch.Tensor) -> torch.Tensor:
        """Logits (batch, 7) of profiles (batch, 2θ grid points [+ features when the data has them])."""
        return self._outputs(profiles)[..., :NUM_CLASSES]

    def _outputs(self, profiles: torch.Tensor) -> torch.Tensor:
        """The network's outputs: the 7 crystal-system logits, then the auxiliary head's (if any)."""
        inputs = self.input_transform(profiles[..., :self.profile_length])
        if not len(self.feature_mean):
            return self.net(inputs)
        features = (profiles[..., self.profile_length:] - self.feature_mean) / self.feature_scale
        return self.net(inputs, features)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_FORMAT_KEY] = CHECKPOINT_FORMAT

    @torch.no_grad()
    def predict_proba(self, profiles: torch.Tensor) -> torch.Tensor:
        """Calibrated class probabilities (batch, 7)."""
        return torch.softmax(self(profiles) / self.temperature, dim=-1)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels, weight=self.class_weights, label_smoothing=self.hparams.label_smoothing)

    def training_step(self, batch, batch_idx):
        profiles, labels, *auxiliary = batch
        outputs = self._outputs(profiles)
        logits = outputs[:, :NUM_CLASSES]
        loss = self._loss(logits, labels)
        if self.hparams.auxiliary_classes:
            if not auxiliary:
                raise ValueError("this model has an auxiliary head but the training batches carry no auxiliary "
                                 "labels; set data.auxiliary_target to the target it was built for")
            auxiliary_loss = F.cross_entropy(outputs[:, NUM_CLASSES:], auxiliary[0],
                                             label_smoothing=self.hparams.label_smoothing)
            self.log("train/auxiliary_loss", auxiliary_loss, on_step=False, on_epoch=True)
            loss = loss + self.hparams.auxiliary_weight * auxiliary_loss
        self.metrics["train_set"].update(logits, labels)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log_dict({f"train/{k}": v for k, v in self.metrics["train_set"].items()}, on_step=False, on_epoch=True)
        return loss

    def _evaluate(self, stage: str, batch) -> None:
        profiles, labels = batch
        logits = self(profiles)
        self.log(f"{stage}/loss", self._loss(logits, labels), on_epoch=True, prog_bar=stage == "val",
                 add_dataloader_idx=False, sync_dist=True)
        self.metrics[f"{stage}_set"].update(logits, labels)
        self.recalls[f"{stage}_set"].update(logits, labels)
        self.confusion[f"{stage}_set"].update(logits, labels)
        if stage == "val" and "profiles" not in self._examples:
            count = self.hparams.n_example_patterns
            self._examples = {"profiles": profiles[:count, :self.profile_length].cpu(), "labels": labels[:count].cpu(), "preds": logits[:count].argmax(-1).cpu()}

    def validation_step(self, batch, batch_idx):
        self._evaluate("val", batch)

    def test_step(self, batch, batch_idx, dataloader_idx: int = 0):
        self._evaluate(TEST_PREFIXES[dataloader_idx], batch)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")
        if not self.trainer.sanity_checking:
            self._log_example_patterns()
        self._examples = {}

    def on_test_epoch_end(self) -> None:
        for stage in TEST_PREFIXES:
            if self.confusion[f"{stage}_set"].update_count:
                self._log_epoch_metrics(stage)

    def _log_epoch_metrics(self, stage: str) -> None:
        # torchmetrics' compute() already gathers over DDP processes; sync_dist only averages equal values
        self.log_dict({f"{stage}/{k}": v for k, v in self.metrics[f"{stage}_set"].compute().items()}, sync_dist=True)
        recalls = self.recalls[f"{stage}_set"].compute()
        self.log_dict({f"{stage}/recall_{name}": recalls[i] for i, name in enumerate(CRYSTAL_SYSTEMS)}, sync_dist=True)
        matrix = self.confusion[f"{stage}_set"].compute().cpu().numpy()
        for metric in (self.metrics[f"{stage}_set"], self.recalls[f"{stage}_set"], self.confusion[f"{stage}_set"]):
            metric.reset()
        if not self.trainer.sanity_checking:
            self.add_figure(f"{stage}/confusion_matrix", _confusion_figure(matrix, stage))

    def _log_example_patterns(self) -> None:
        if not self._examples:
            return
        from xrdnet.plotting import patterns_figure

        grid = self.hparams.data_info.get("grid", {})
        profiles = self._examples["profiles"].numpy()
        two_theta = np.linspace(grid.get("start_deg", 0), grid.get("stop_deg", profiles.shape[-1]), profiles.shape[-1])
        titles, colors = [], []
        for true, pred in zip(self._examples["labels"].tolist(), self._examples["preds"].tolist()):
            titles.append(f"true {CRYSTAL_SYSTEMS[true]} | predicted {CRYSTAL_SYSTEMS[pred]}")
            colors.append("tab:green" if true == pred else "tab:red")
        self.add_figure("val/example_patterns", patterns_figure(two_theta, profiles, titles, colors))


def _input_transform(data_info: dict, input_length: int) -> tuple[torch.nn.Module, int]:
    """The fixed layer that puts 2θ profiles on the axis the network reads (data_info['axis']), and its length."""
    axis = ModelAxis(**(data_info.get("axis") or {}))
    if axis.kind == "two_theta" and axis.intensity == "linear":
        return torch.nn.Identity(), input_length
    grid = TwoThetaGrid.from_dict(data_info["grid"])
    if grid.n_points != input_length:
        raise ValueError(f"input_length {input_length} differs from the {grid.n_points} points of the 2θ grid in data_info")
    positions = axis.sample_positions(grid)
    if positions is None:  # 2θ read as it is, only the intensity scale changes
        positions = np.arange(grid.n_points, dtype=float)[:, None]
    return SubsampleAverage(positions, sqrt=axis.intensity == "sqrt"), axis.length(grid)


def _confusion_figure(matrix: np.ndarray, stage: str):
    from xrdnet.plotting import confusion_matrix_figure

    return confusion_matrix_figure(matrix, CRYSTAL_SYSTEMS, title=stage)
