"""The table of a sin(r)/r sweep: activation, MSE, epochs to the target MSE and wall time per job.

The generic sweep table (xrdnet.utils.sweep_table) with the sinc experiment's columns.
`write_sweep_table` writes it into the sweep folder; `SincSweepTableCallback` does it when a sweep
of the sinc experiment ends, scripts/sinc_sweep_table.py on demand.
"""

from __future__ import annotations

from pathlib import Path
from omegaconf import OmegaConf

from xrdnet.utils.sweep_table import (WALL_SECONDS, Column, SweepJob, SweepTableCallback, collect_jobs,
                                      metric_column, optimized_metric, summary_column, sweep_table, write_tables)

# overrides every job of an experiment sweep shares, or that only shorten it: not worth a column
_UNINTERESTING_OVERRIDES = ("experiment", "model.activation", "trainer.max_epochs")



def _activation(job: SweepJob) -> str | None:
    return OmegaConf.select(job.config, "model.activation", default=None)


ACTIVATION = Column("activation", "activation", _activation, cell=lambda job: str(_activation(job) or job.folder.name))
TARGET_MSE = summary_column("target_mse", None)


def _epochs_cell(job: SweepJob) -> str:
    # target_mse comes with epochs_to_target: without it the job did not record the epochs at all
    if (job.summary or {}).get("target_mse") is None:
        return ""
    return str(job.summary.get("epochs_to_target") or "not reached")


def columns(jobs: list[SweepJob]) -> list[Column]:
    """MSEs are on the evaluation grid: of the best checkpoint (test/mse) and at the last validation (val/mse)."""
    targets = {(job.summary or {}).get("target_mse") for job in jobs} - {None}
    target = f"{targets.pop():g}" if len(targets) == 1 else "target"
    epochs = summary_column("epochs_to_target", f"epochs to MSE ≤ {target}")
    return [metric_column("test/mse", "MSE, best checkpoint", ".2e"), metric_column("val/mse", "MSE, last epoch", ".2e"),
            Column(epochs.field, epochs.title, epochs.value, cell=_epochs_cell), TARGET_MSE, WALL_SECONDS]


def sinc_table(sweep_dir: str | Path) -> tuple[str, str]:
    """The Markdown and CSV of the sweep in `sweep_dir`, best validation MSE first."""
    jobs = collect_jobs(sweep_dir)
    metric, maximize = optimized_metric(Path(sweep_dir), jobs)
    return sweep_table(jobs, columns(jobs), metric, maximize, leading=[ACTIVATION], skip=_UNINTERESTING_OVERRIDES)


def write_sweep_table(sweep_dir: str | Path) -> tuple[Path, Path]:
    """Write sweep_table.md and sweep_table.csv into `sweep_dir` (atomically); returns their paths."""
    return write_tables(sweep_dir, *sinc_table(sweep_dir))


class SincSweepTableCallback(SweepTableCallback):
    """Hydra callback: when a sinc sweep ends, write its table into the sweep folder."""

    def write(self, sweep_dir: Path) -> tuple[Path, Path]:
        return write_sweep_table(sweep_dir)
