"""Normalization layers by name, shared by the MLP and the CNN."""

from __future__ import annotations

from torch import nn

NORMALIZATIONS = ("none", "batch", "layer")


def make_norm(name: str, features: int, spatial: bool) -> nn.Module:
    """Normalization over `features` channels; `spatial` selects the 1D-conv flavour (N, C, L)."""
    if name == "none":
        return nn.Identity()
    if name == "batch":
        return nn.BatchNorm1d(features)
    if name == "layer":
        # GroupNorm with one group normalises over (C, L) per sample: layer norm for conv maps
        return nn.GroupNorm(1, features) if spatial else nn.LayerNorm(features)
    raise ValueError(f"unknown normalization {name!r}; choose one of {', '.join(NORMALIZATIONS)}")
