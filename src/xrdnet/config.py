"""Where the Hydra configs live and helpers to build objects from them."""

from __future__ import annotations

import os
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from xrdnet.utils.optuna_study import resumed_seed


def _config_dir() -> Path:
    """XRDNET_CONFIG_DIR when set; else the configs a wheel installs inside the package; else a clone's configs/."""
    if os.environ.get("XRDNET_CONFIG_DIR"):
        return Path(os.environ["XRDNET_CONFIG_DIR"])
    packaged = Path(__file__).resolve().parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"


CONFIG_DIR = _config_dir()


def conv_channels(width: int, depth: int) -> ListConfig:
    """Channels of a conv stack from a width and a depth: doubling twice, then constant.

    width 16, depth 4 gives the default CNN's [16, 32, 64, 64]; a sweep varies the two independently.
    """
    width, depth = int(width), int(depth)
    if width < 1 or depth < 1:
        raise ValueError(f"conv_channels needs width and depth >= 1, got width={width}, depth={depth}")
    # a ListConfig, not a list: OmegaConf.resolve can only put a container in place of an interpolation
    return ListConfig([width * 2 ** min(block, 2) for block in range(depth)])


# used by configs/hparams_search/optuna.yaml: ${xrdnet.conv_channels:${sweep.width},${sweep.depth}}
OmegaConf.register_new_resolver("xrdnet.conv_channels", conv_channels, replace=True)
# ... and ${xrdnet.resumed_seed:${seed},<storage>,<study name>} for the sampler (see xrdnet.utils.optuna_study)
OmegaConf.register_new_resolver("xrdnet.resumed_seed", resumed_seed, replace=True)


def instantiate_group(group: DictConfig | None) -> list:
    """Objects of a config group whose entries each have a `_target_` (callbacks, loggers)."""
    if not group:
        return []
    return [instantiate(entry) for entry in group.values() if isinstance(entry, DictConfig) and "_target_" in entry]
