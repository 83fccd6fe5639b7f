"""Copy a trained checkpoint into the package as the shipped model, without its optimizer state.

    python scripts/ship_model.py outputs/train/runs/<time>/checkpoints/epoch_<n>.ckpt

Keeps what `xrdnet.predictor.load_classifier` reads (hyperparameters, weights and buffers such as the
fitted temperature) and the versions that wrote it; drops the optimizer and scheduler state, which
only resuming a run needs. Written atomically to src/xrdnet/pretrained/crystal_system.ckpt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from xrdnet.predictor import load_classifier
from xrdnet.pretrained import SHIPPED_CHECKPOINT
from xrdnet.utils.atomic import atomic_path

KEPT = ("hyper_parameters", "state_dict", "epoch", "global_step", "pytorch-lightning_version", "xrdnet_checkpoint_format")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=SHIPPED_CHECKPOINT)
    args = parser.parse_args(argv)
    load_classifier(args.checkpoint)  # refuses anything that is not a classifier checkpoint, in one line
    checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    slim = {key: checkpoint[key] for key in KEPT if key in checkpoint}
    with atomic_path(args.out) as tmp:
        torch.save(slim, tmp)
    load_classifier(args.out)  # the shipped copy loads as it will be loaded
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB (from {args.checkpoint})")


if __name__ == "__main__":
    main()
