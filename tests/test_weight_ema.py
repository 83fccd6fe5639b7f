"""The weight-EMA callback config (`callbacks=[default,weight_ema]`): checkpoints hold the average, and validating
a checkpoint after fitting, as a run's summary does, reads that checkpoint's own average, not the last one."""

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, TensorDataset

from xrdnet.config import CONFIG_DIR


class _Line(L.LightningModule):
    """y = w·x + b fitted by SGD; validation logs the weight sum, a number that moves with every step."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def validation_step(self, batch, batch_idx):
        self.log("val/weight_sum", self.net.weight.sum())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _loader():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=generator)
    return DataLoader(TensorDataset(x, x @ torch.tensor([[1.0], [-2.0], [3.0], [0.5]]) + 1.0), batch_size=16)


def test_checkpoints_hold_the_average_and_validating_one_after_fitting_reads_it(tmp_path):
    torch.manual_seed(0)
    checkpoints = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path, filename="epoch_{epoch}", save_top_k=-1)
    config = OmegaConf.load(CONFIG_DIR / "callbacks" / "weight_ema.yaml").weight_ema
    config.decay = 0.5  # a short average, so each epoch's differs
    trainer = L.Trainer(max_epochs=3, callbacks=[instantiate(config), checkpoints], logger=False,
                        enable_progress_bar=False, enable_model_summary=False)
    module = _Line()
    trainer.fit(module, _loader(), _loader())

    first = torch.load(tmp_path / "epoch_epoch=0.ckpt", map_location="cpu", weights_only=True)
    last = torch.load(tmp_path / "epoch_epoch=2.ckpt", map_location="cpu", weights_only=True)
    # the state_dict is the average, not the raw weights (kept beside it for resuming)
    assert not torch.equal(first["state_dict"]["net.weight"], first["current_model_state"]["net.weight"])
    assert not torch.equal(first["state_dict"]["net.weight"], last["state_dict"]["net.weight"])

    metrics = trainer.validate(module, _loader(), ckpt_path=tmp_path / "epoch_epoch=0.ckpt", weights_only=True,
                               verbose=False)
    expected = float(first["state_dict"]["net.weight"].sum())
    assert abs(metrics[0]["val/weight_sum"] - expected) < 1e-6
