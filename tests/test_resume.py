"""Resuming a training run from a checkpoint (ckpt_path): it goes on where the checkpoint stopped, and a
run longer than the checkpoint's one-cycle schedule is refused in one line before it trains."""

import pytest
import torch

from xrdnet.train import train
from xrdnet.utils.errors import SetupError

# a tiny run that keeps a checkpoint of every epoch and is not tested at the end
KEEP_EVERY_EPOCH = ("data.features=null", "callbacks.early_stopping=null", "callbacks.model_checkpoint.save_top_k=-1",
                    "test=false")


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory, tiny_train_config):
    """A two-epoch run that kept a checkpoint of each epoch, and the config of more runs beside it."""
    root = tmp_path_factory.mktemp("resume")

    def config(run: str, *overrides: str):
        return tiny_train_config(root, run, *KEEP_EVERY_EPOCH, *overrides)

    train(config("first", "trainer.max_epochs=2"))
    return root, config


def test_a_run_resumed_from_its_first_epoch_trains_only_the_second(two_epochs):
    root, config = two_epochs
    first = torch.load(root / "first/checkpoints/epoch_000.ckpt", map_location="cpu", weights_only=True)
    complete = torch.load(root / "first/checkpoints/last.ckpt", map_location="cpu", weights_only=True)
    train(config("resumed", "trainer.max_epochs=2", f"ckpt_path={root / 'first/checkpoints/epoch_000.ckpt'}"))
    resumed = torch.load(root / "resumed/checkpoints/last.ckpt", map_location="cpu", weights_only=True)
    assert first["epoch"] == 0 and resumed["epoch"] == complete["epoch"] == 1
    # the optimizer steps went on from the checkpoint's count, not from zero
    assert resumed["global_step"] == complete["global_step"] == 2 * first["global_step"]
    schedule = resumed["lr_schedulers"][0]
    assert schedule["last_epoch"] == schedule["total_steps"] == complete["global_step"]


def test_resuming_past_the_one_cycle_schedule_is_refused_before_training(two_epochs):
    root, config = two_epochs
    with pytest.raises(SetupError, match=r"last\.ckpt: its OneCycleLR schedule has 0 optimizer steps left but this "
                                         r"run needs \d+; resume with the trainer.max_epochs"):
        train(config("longer", "trainer.max_epochs=3", f"ckpt_path={root / 'first/checkpoints/last.ckpt'}"))
    assert not list((root / "longer").glob("checkpoints/*.ckpt")), "it trained before refusing"
