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
        extra_features: length of a feature vector given to forward beside x, read with it (0: none).
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
        extra_features: int = 0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        self.extra_features = int(extra_features)
        width = in_features + self.extra_features
        for size in hidden:
            layers += [nn.Linear(width, size), make_norm(norm, size, spatial=False), make_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        if output_activation:
            layers.append(make_activation(output_activation))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        x = x.flatten(1)
        if self.extra_features:
            if extra is None:
                raise ValueError(f"this network reads {self.extra_features} features beside its input; none given")
            x = torch.cat([x, extra], dim=1)
        return self.layers(x)
