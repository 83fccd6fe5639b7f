"""A run's hyperparameters with its final metrics, for TensorBoard's HParams tab.

TensorBoard lists a run in the HParams tab only when its event file holds an hparams session (the
hyperparameters and the names of the metrics to show) and scalars under those names. Lightning
writes one when `TensorBoardLogger.log_hyperparams` is given metrics; xrdnet.train calls
`log_final_hparams` once the run is tested, so a sweep's jobs line up side by side with their
validation, test and real-structure figures. The metrics are logged again under `final/` so that
their values are those the run ended with, not the last point of a training curve of the same name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

FINAL_PREFIX = "final/"
# the stages a run is judged on; per-class recalls stay in the scalars tab (21 columns would bury the rest)
REPORTED_STAGES = ("val/", "test/", "real/")


def run_hparams(cfg: DictConfig) -> dict[str, Any]:
    """What a run was made of: model, data, trainer and the top-level settings (Lightning flattens it)."""
    keep = ("seed", "optimized_metric", "compile", "model", "data", "trainer")
    return {key: OmegaConf.to_container(cfg[key], resolve=True) if isinstance(cfg[key], DictConfig) else cfg[key]
            for key in keep if key in cfg}


def final_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The run's val/test/real scalars under final/ (per-class recalls left out)."""
    return {FINAL_PREFIX + name: value for name, value in metrics.items()
            if name.startswith(REPORTED_STAGES) and "/recall_" not in name}


def log_final_hparams(loggers: Iterable[Any], cfg: DictConfig, metrics: dict[str, float], step: int) -> None:
    """Write the hparams session with the final metrics into every TensorBoard logger's run, and flush it."""
    final = final_metrics(metrics)
    if not final:
        return
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.log_hyperparams(run_hparams(cfg), metrics=final, step=step)
            # the Trainer closed the writer when the run ended; this closes the one just reopened
            logger.finalize("success")
