"""Checkpoint writer that never leaves a half-written checkpoint behind."""

from __future__ import annotations

from typing import Any

import torch
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO

from xrdnet.utils.atomic import atomic_path


class AtomicCheckpointIO(TorchCheckpointIO):
    """Save to a temporary file beside the target, then rename it into place."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None) -> None:
        with atomic_path(path, suffix=".ckpt") as tmp:
            torch.save(checkpoint, tmp)
