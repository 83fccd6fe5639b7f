"""The crystal-system model shipped with xrdnet.

`xrdnet-predict` and `xrdnet-eval` use it when no checkpoint is given. MODEL_CARD.md beside it says
what it was trained on, the command and commit that reproduce it, and how well it does per set and
per class. It sits inside the package, so a wheel carries it too.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_CHECKPOINT = Path(__file__).with_name("crystal_system.ckpt")
MODEL_CARD = Path(__file__).with_name("MODEL_CARD.md")


def shipped_checkpoint() -> Path:
    """Path of the shipped checkpoint; FileNotFoundError with a one-line reason when it is missing."""
    if not SHIPPED_CHECKPOINT.is_file():
        raise FileNotFoundError(f"{SHIPPED_CHECKPOINT}: the shipped model is missing from this installation; "
                                "give a checkpoint written by xrdnet-train")
    return SHIPPED_CHECKPOINT
