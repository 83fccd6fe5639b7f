"""Fixed resampling of a 1D signal: the mean of its linear interpolation at given fractional positions."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class SubsampleAverage(nn.Module):
    """x (batch, n_in) -> (batch, n_out): output j is the mean of x, linearly interpolated, at positions[j, :].

    positions: (n_out, k) fractional indices into the input, within [0, n_in − 1]. Optional √ of the
    result (negative values clipped to 0 first); each output row is scaled to a maximum of 1.
    """

    def __init__(self, positions: np.ndarray, sqrt: bool = False):
        super().__init__()
        positions = np.asarray(positions, dtype=np.float64)
        lower = np.floor(positions).astype(np.int64)
        lower = np.minimum(lower, int(np.ceil(positions.max())) - 1).clip(min=0)
        self.out_features, self.per_output = positions.shape
        self.sqrt = sqrt
        # rebuilt from the data settings on load, so not stored in checkpoints
        self.register_buffer("lower", torch.from_numpy(lower.ravel()), persistent=False)
        self.register_buffer("weight", torch.from_numpy((positions - lower).ravel()).float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = x.index_select(-1, self.lower)
        right = x.index_select(-1, self.lower + 1)
        sampled = torch.lerp(left, right, self.weight)
        out = sampled.reshape(*x.shape[:-1], self.out_features, self.per_output).mean(-1).clamp_min(0.0)
        if self.sqrt:
            out = out.sqrt()
        return out / out.amax(-1, keepdim=True).clamp_min(1e-12)
