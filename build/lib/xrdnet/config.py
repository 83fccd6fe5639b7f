"""Where the Hydra configs live and helpers to build objects from them."""

from __future__ import annotations

import os
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig



def _config_dir() -> Path:
    """XRDNET_CONFIG_DIR when set; else the configs a wheel installs inside the package; else a clone's configs/."""
    if os.environ.get("XRDNET_CONFIG_DIR"):
        return Path(os.environ["XRDNET_CONFIG_DIR"])
    packaged = Path(__file__).resolve().parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"


CONFIG_DIR = _config_dir()


def instantiate_group(group: DictConfig | None) -> list:
    """Objects of a config group whose entries each have a `_target_` (callbacks, loggers)."""
    if not group:
        return []
    return [instantiate(entry) for entry in group.values() if isinstance(entry, DictConfig) and "_target_" in entry]
