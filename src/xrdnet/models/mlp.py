"""Fully connected network: in_features -> hidden layers -> out_features."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from xrdnet.models.activations import make_activation
from xrdnet.models.layers import make_norm


class MLP(nn.Module):
    """Multilayer perceptron.

    Args:
        in_features: input size (e.g. 2 for the sinc task, the number of 2θ points for XRD).
        out_features: output size (1 for regression, 7 crystal systems for classification).
        hidden: widths of the hidden layers, e.g. [80] or [512, 256].
        activation: hidden activation (sigmoid, tanh, relu, leaky_relu).
        dropout: dropout probability after each hidden activation.
        norm: 'none', 'batch' or 'layer' normalization before each hidden activation.
        output_activation: optional activation on the output (the textbook sinc net uses tanh).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (256, 128),
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str = "none",
        output_activation: str | None = None,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), make_norm(norm, size, spatial=False), make_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        if output_activation:
            layers.append(make_activation(output_activation))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))
