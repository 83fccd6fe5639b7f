"""Resuming a training run from a checkpoint (ckpt_path): it goes on where the checkpoint stopped, and a
run longer than the checkpoint's one-cycle schedule is refused in one line before it trains."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from xrdnet.config import CONFIG_DIR
from xrdnet.train import train
from xrdnet.utils.errors import SetupError


def tiny_config(root, run: str, *overrides: str):
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[
            f"paths.output_dir={root / run}", f"paths.data_dir={root / 'data'}", f"paths.log_dir={root / 'outputs'}",
            "data.source.n=140", "data.real_source=null", "data.build_workers=1", "data.batch_size=32",
            "data.grid.step_deg=0.1", "data.features=null", "callbacks.rich_progress_bar=null",
            "callbacks.early_stopping=null", "callbacks.model_checkpoint.save_top_k=-1",
            "model.net.channels=[8,16]", "model.net.head_hidden=32", "test=false", *overrides])


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory):
    """A two-epoch run that kept a checkpoint of each epoch."""
    root = tmp_path_factory.mktemp("resume")
    train(tiny_config(root, "first", "trainer.max_epochs=2"))
    return root


def test_a_run_resumed_from_its_first_epoch_trains_only_the_second(two_epochs):
    first = torch.load(two_epochs / "first/checkpoints/epoch_000.ckpt", map_location="cpu", weights_only=True)
    complete = torch.load(two_epochs / "first/checkpoints/last.ckpt", map_location="cpu", weights_only=True)
    train(tiny_config(two_epochs, "resumed", "trainer.max_epochs=2",
                      f"ckpt_path={two_epochs / 'first/checkpoints/epoch_000.ckpt'}"))
    resumed = torch.load(two_epochs / "resumed/checkpoints/last.ckpt", map_location="cpu", weights_only=True)
    assert first["epoch"] == 0 and resumed["epoch"] == complete["epoch"] == 1
    # the optimizer steps went on from the checkpoint's count, not from zero
    assert resumed["global_step"] == complete["global_step"] == 2 * first["global_step"]
    schedule = resumed["lr_schedulers"][0]
    assert schedule["last_epoch"] == schedule["total_steps"] == complete["global_step"]


def test_resuming_past_the_one_cycle_schedule_is_refused_before_training(two_epochs):
    with pytest.raises(SetupError, match=r"last\.ckpt: its OneCycleLR schedule has 0 optimizer steps left but this "
                                         r"run needs \d+; resume with the trainer.max_epochs"):
        train(tiny_config(two_epochs, "longer", "trainer.max_epochs=3",
                          f"ckpt_path={two_epochs / 'first/checkpoints/last.ckpt'}"))
    assert not list((two_epochs / "longer").glob("checkpoints/*.ckpt")), "it trained before refusing"
