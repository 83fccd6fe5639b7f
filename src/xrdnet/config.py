"""Where the Hydra configs live and helpers to build objects from them."""

from __future__ import annotations

import os
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig

# configs/ sits at the repository root, beside src/ (the package is installed editable from a clone);
# XRDNET_CONFIG_DIR points elsewhere when needed.
CONFIG_DIR = Path(os.environ.get("XRDNET_CONFIG_DIR", Path(__file__).resolve().parents[2] / "configs"))


def instantiate_group(group: DictConfig | None) -> list:
    """Objects of a config group whose entries each have a `_target_` (callbacks, loggers)."""
    if not group:
        return []
    return [instantiate(entry) for entry in group.values() if isinstance(entry, DictConfig) and "_target_" in entry]
