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

    With `autocorrelation_lags` > 0 a second conv stack reads the input's autocorrelation
    A(τ) = Σ_x p(x) p(x + τ) / Σ_x p(x)² at lags 1..autocorrelation_lags, and its features join the
    main stack's before the head. On an axis where a change of scale is a shift (ln Q), A does not
    move with the scale, and it peaks at the offsets between every pair of lines: the ratios of their
    positions, which are what relates lines hundreds of points apart.

    Args:
        in_features: profile length (number of 2θ points), the same name as the MLP's input size.
        out_features: number of output classes.
        channels: output channels of each conv block; depth = len(channels).
        kernel_size: conv kernel width in grid points (odd).
        stem_stride: stride of the first conv, to thin long profiles cheaply.
        head_length: feature-map length the conv stack is pooled to before the head.
        head_hidden: width of the hidden fully connected layer of the head.
        activation, dropout, norm: as in the MLP.
        autocorrelation_lags: lags of the autocorrelation branch (0: no branch).
        autocorrelation_channels: output channels of each conv block of that branch.
        extra_features: length of a feature vector given to forward beside the profile (0: none); an
            MLP branch of widths extra_hidden reads it and joins the conv features before the head.
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
        autocorrelation_lags: int = 0,
        autocorrelation_channels: Sequence[int] = (16, 32, 32),
        extra_features: int = 0,
        extra_hidden: Sequence[int] = (256, 256),
    ):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.features = _conv_stack(channels, kernel_size, stem_stride, head_length, activation, norm)
        head_inputs = channels[-1] * head_length
        self.autocorrelation_lags = int(autocorrelation_lags)
        if self.autocorrelation_lags:
            self.autocorrelation_features = _conv_stack(autocorrelation_channels, kernel_size, 1, head_length,
                                                        activation, norm)
            head_inputs += autocorrelation_channels[-1] * head_length
        self.extra_features = int(extra_features)
        if self.extra_features:
            self.feature_branch = feature_branch(self.extra_features, extra_hidden, activation, dropout)
            head_inputs += extra_hidden[-1]
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(head_inputs, head_hidden),
            make_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(head_hidden, out_features),
        )

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of profiles x (batch, length), with the (batch, extra_features) vector when the net reads one."""
        if self.extra_features and extra is None:
            raise ValueError(f"this network reads {self.extra_features} features beside the profile; none given")
        if x.dim() == 2:  # (batch, length) -> (batch, 1 channel, length)
            x = x.unsqueeze(1)
        parts = [self.features(x).flatten(1)]
        if self.autocorrelation_lags:
            parts.append(self.autocorrelation_features(autocorrelation(x, self.autocorrelation_lags)).flatten(1))
        if self.extra_features:
            parts.append(self.feature_branch(extra))
        return self.head(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0])


def autocorrelation(x: torch.Tensor, lags: int) -> torch.Tensor:
    """Σ_i x_i x_(i+τ) / Σ_i x_i² for τ = 1..lags along the last axis (linear, not circular: zero-padded FFT)."""
    size = 1 << (x.shape[-1] + lags - 1).bit_length()
    spectrum = torch.fft.rfft(x, n=size)
    products = torch.fft.irfft(spectrum * spectrum.conj(), n=size)[..., :lags + 1]
    return products[..., 1:] / products[..., :1].clamp_min(1e-12)


def feature_branch(in_features: int, hidden: Sequence[int], activation: str, dropout: float) -> nn.Sequential:
    """Linear -> activation -> dropout layers over a feature vector."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_features, width), make_activation(activation), nn.Dropout(dropout)]
        in_features = width
    return nn.Sequential(*layers)


def _conv_stack(channels: Sequence[int], kernel_size: int, stem_stride: int, out_length: int, activation: str,
                norm: str) -> nn.Sequential:
    """Conv blocks (conv -> norm -> activation -> max-pool /2), the first with stride stem_stride, pooled to out_length."""
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
    blocks.append(nn.AdaptiveMaxPool1d(out_length))
    return nn.Sequential(*blocks)
