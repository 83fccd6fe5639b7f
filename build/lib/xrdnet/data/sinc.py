"""The sin(r)/r warm-up: a 2D surface on square grids, as a LightningDataModule.

f(x1, x2) = sin(r)/r with r = sqrt(x1² + x2²), and f = 1 at r = 0 (its limit). The network trains on a
coarse grid (50×50 by default) and is evaluated on a denser grid of the same square (100×100). Inputs
are standardized with the mean and standard deviation of the training inputs; the evaluation grid
uses the same statistics, as any new input would.

The whole data set is a few thousand points, so it is kept as tensors and batches are cut by
indexing (one `tensor[index]` per batch, no per-item collation, no worker processes).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader, Sampler, TensorDataset


class SincConfigError(ValueError):
    """A sinc data setting that cannot work (one line naming the setting and the problem)."""


def sinc_surface(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """sin(r)/r at r = hypot(x1, x2), equal to 1 at r = 0.

    numpy's normalized sinc, sin(πu)/(πu), already takes its limit 1 at u = 0, so sin(r)/r = sinc(r/π).
    """
    return np.sinc(np.hypot(x1, x2) / np.pi)


def square_grid(points_per_axis: int, low: float, high: float) -> np.ndarray:
    """A points_per_axis × points_per_axis grid on [low, high]², as (points_per_axis², 2) coordinates.

    Row k is (x1, x2) with x1 varying fastest, so `values.reshape(n, n)[i, j]` sits at x2 = axis[i],
    x1 = axis[j] (image layout with origin at the lower left).
    """
    axis = np.linspace(low, high, points_per_axis)
    x1, x2 = np.meshgrid(axis, axis, indexing="xy")
    return np.column_stack([x1.ravel(), x2.ravel()])


class Standardizer:
    """Per-column (x - mean) / std with statistics taken from one set of inputs (the training inputs)."""

    def __init__(self, inputs: np.ndarray):
        self.mean = inputs.mean(axis=0)
        self.std = inputs.std(axis=0)
        if np.any(self.std == 0):
            raise SincConfigError("sinc data: an input column is constant, it cannot be standardized")

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return (inputs - self.mean) / self.std


def _tensors(inputs: np.ndarray, targets: np.ndarray) -> TensorDataset:
    return TensorDataset(torch.as_tensor(inputs, dtype=torch.float32), torch.as_tensor(targets, dtype=torch.float32)[:, None])


class IndexBatches(Sampler):
    """Index tensors of whole batches: a fresh permutation every epoch when shuffling, else in order.

    Indexing a tensor with one index tensor per batch avoids what a DataLoader otherwise does per
    item (a Python int per sample, then collation), which costs more than the step for a small MLP.
    Shuffling draws from torch's global generator, which Lightning seeds.
    """

    def __init__(self, size: int, batch_size: int, shuffle: bool):
        self.size, self.batch_size, self.shuffle = size, batch_size, shuffle

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.size) if self.shuffle else torch.arange(self.size)
        return iter(order.split(self.batch_size))


def _batch_loader(dataset: TensorDataset, batch_size: int, shuffle: bool) -> DataLoader:
    # batch_size=None: each index tensor from the sampler fetches one whole batch, no collation
    return DataLoader(dataset, batch_size=None, sampler=IndexBatches(len(dataset), batch_size, shuffle), num_workers=0)


class SincDataModule(LightningDataModule):
    """sin(r)/r on a training grid and a denser evaluation grid of the same square.

    Args:
        train_points_per_axis: training grid size per axis (50 -> 2,500 points).
        eval_points_per_axis: evaluation grid size per axis (100 -> 10,000 points), used for
            validation and test (`val/mse`, `test/mse`).
        low, high: the square [low, high]² of (x1, x2), in the same (dimensionless) units as r.
        batch_size: training batch size; the last batch of an epoch may be smaller.
        eval_batch_size: evaluation batch size; null evaluates the whole grid as one batch.
    """

    def __init__(
        self,
        train_points_per_axis: int = 50,
        eval_points_per_axis: int = 100,
        low: float = -10.0,
        high: float = 10.0,
        batch_size: int = 200,
        eval_batch_size: int | None = None,
    ):
        super().__init__()
        for name, value in (("train_points_per_axis", train_points_per_axis), ("eval_points_per_axis", eval_points_per_axis)):
            if int(value) < 2:
                raise SincConfigError(f"sinc data: {name} must be at least 2, got {value}")
        if not float(low) < float(high):
            raise SincConfigError(f"sinc data: low must be below high, got low={low}, high={high}")
        if int(batch_size) < 1 or (eval_batch_size is not None and int(eval_batch_size) < 1):
            raise SincConfigError(f"sinc data: batch sizes must be positive, got {batch_size} and {eval_batch_size}")
        self.save_hyperparameters(logger=False)
        self.train_coords = square_grid(int(train_points_per_axis), float(low), float(high))
        self.eval_coords = square_grid(int(eval_points_per_axis), float(low), float(high))
        self.train_targets = sinc_surface(*self.train_coords.T)
        self.eval_targets = sinc_surface(*self.eval_coords.T)
        self.standardize = Standardizer(self.train_coords)
        self.train_set: TensorDataset | None = None
        self.eval_set: TensorDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.train_set = _tensors(self.standardize(self.train_coords), self.train_targets)
            self.eval_set = _tensors(self.standardize(self.eval_coords), self.eval_targets)

    def train_dataloader(self) -> DataLoader:
        return _batch_loader(self.train_set, self.hparams.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return _batch_loader(self.eval_set, self.hparams.eval_batch_size or len(self.eval_set), shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()

    def describe(self) -> dict:
        """Grid and standardization settings, stored with the model so it can be used on raw (x1, x2)."""
        return {
            "function": "sin(r)/r",
            "train_points_per_axis": int(self.hparams.train_points_per_axis),
            "eval_points_per_axis": int(self.hparams.eval_points_per_axis),
            "low": float(self.hparams.low),
            "high": float(self.hparams.high),
            "input_mean": self.standardize.mean.tolist(),
            "input_std": self.standardize.std.tolist(),
        }

    def model_kwargs(self) -> dict:
        """Constructor arguments the model takes from the data (see xrdnet.train)."""
        return {"in_features": self.train_coords.shape[1], "data_info": self.describe()}
