"""1D convolutional network for fixed-length diffraction profiles."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from xrdnet.models.activations import make_activation
from xrdnet.models.layers import make_norm


class CNN1D(nn.Module):
    """Conv blocks (conv -> norm -> activation -> max-pool /2) then a fully connected head.

    The head flattens a short feature map instead of global pooling, because where a peak sits on
    the 2θ axis (not only that it exists) carries the symmetry information.

    Args:
        in_features: profile length (number of 2θ points), the same name as the MLP's input size.
        out_features: number of output classes.
        channels: output channels of each conv block; depth = len(channels).
        kernel_size: conv kernel width in grid points (odd).
        stem_stride: stride of the first conv, to thin long profiles cheaply.
        head_length: feature-map length the conv stack is pooled to before the head.
        head_hidden: width of the hidden fully connected layer of the head.
        activation, dropout, norm: as in the MLP.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        channels: Sequence[int] = (16, 32, 64, 64),
        kernel_size: int = 7,
        stem_stride: int = 2,
        head_length: int = 16,
        head_hidden: int = 128,
        activation: str = "relu",
        dropout: float = 0.2,
        norm: str = "batch",
    ):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        blocks: list[nn.Module] = []
        in_channels = 1
        for depth, out_channels in enumerate(channels):
            stride = stem_stride if depth == 0 else 1
            blocks += [
                nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2),
                make_norm(norm, out_channels, spatial=True),
                make_activation(activation),
                nn.MaxPool1d(2),
            ]
            in_channels = out_channels
        blocks.append(nn.AdaptiveMaxPool1d(head_length))
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(in_channels * head_length, head_hidden),
            make_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(head_hidden, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # (batch, length) -> (batch, 1 channel, length)
            x = x.unsqueeze(1)
        return self.head(self.features(x))
