"""A Hydra callback that makes the sweep folder when a multirun starts.

Hydra's launcher makes it only when it launches the first job; a sweeper that keeps state there
(Optuna's SQLite study, configs/hparams_search/optuna.yaml) opens it before that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class MakeSweepFolder(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        Path(config.hydra.sweep.dir).mkdir(parents=True, exist_ok=True)
