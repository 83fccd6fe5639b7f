"""The table of a sin(r)/r sweep: activation, MSE, epochs to the target MSE and wall time per job.

`write_sweep_table` writes it into the sweep folder; `SincSweepTableCallback` does it when a sweep
of the sinc experiment ends, scripts/sinc_sweep_table.py on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from xrdnet.utils.sweep_table import SweepJob, SweepTableCallback, collect_jobs, csv_table, write_tables

FIELDS = ["job", "activation", "mse", "final_val_mse", "epochs_to_target", "target_mse", "wall_seconds", "other_overrides"]
# overrides every job of an experiment sweep shares, or that only shorten it: not worth a column
_UNINTERESTING_OVERRIDES = ("experiment", "model.activation", "paths.", "hydra.", "trainer.max_epochs")


def job_row(job: SweepJob) -> dict[str, Any]:
    """One job's row; values are None where the job left no metrics (failed or still running)."""
    row: dict[str, Any] = {
        "job": job.folder.name,
        "activation": OmegaConf.select(job.config, "model.activation", default=None),
        "other_overrides": " ".join(o for o in job.overrides if not o.lstrip("+~").startswith(_UNINTERESTING_OVERRIDES)),
        "mse": None, "final_val_mse": None, "epochs_to_target": None, "target_mse": None, "wall_seconds": None,
    }
    if job.summary is None:
        return row
    metrics = job.summary.get("metrics", {})
    row.update(
        mse=metrics.get("test/mse"),
        final_val_mse=metrics.get("val/mse"),
        epochs_to_target=job.summary.get("epochs_to_target"),
        target_mse=job.summary.get("target_mse"),
        wall_seconds=job.summary.get("wall_seconds"),
    )
    return row


def collect_sweep(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """Rows of every job folder in `sweep_dir`, in job order."""
    return [job_row(job) for job in collect_jobs(sweep_dir)]


def _number(value: Any, spec: str) -> str:
    return "" if value is None else format(value, spec)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table; a job without metrics shows 'no metrics.json'.

    MSEs are on the evaluation grid: of the best checkpoint (test/mse) and at the last validation (val/mse).
    """
    targets = {row["target_mse"] for row in rows if row["target_mse"] is not None}
    target = f"{targets.pop():g}" if len(targets) == 1 else "target"
    with_others = any(row["other_overrides"] for row in rows)
    header = ["activation", "MSE, best checkpoint", "MSE, last epoch", f"epochs to MSE ≤ {target}", "wall time (s)"]
    header += ["other overrides"] if with_others else []
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * 4 + ["---"] * with_others) + "|"]
    for row in rows:
        if row["mse"] is None:
            cells = [str(row["activation"] or row["job"]), "no metrics.json", "", "", ""]
        else:
            # target_mse comes with epochs_to_target: without it the job did not record the epochs at all
            reached = "" if row["target_mse"] is None else str(row["epochs_to_target"] or "not reached")
            cells = [str(row["activation"]), _number(row["mse"], ".2e"), _number(row["final_val_mse"], ".2e"), reached,
                     _number(row["wall_seconds"], ".1f")]
        cells += [row["other_overrides"]] if with_others else []
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_sweep_table(sweep_dir: str | Path) -> tuple[Path, Path]:
    """Write sweep_table.md and sweep_table.csv into `sweep_dir` (atomically); returns their paths."""
    rows = collect_sweep(sweep_dir)
    return write_tables(sweep_dir, markdown_table(rows), csv_table(rows, FIELDS))


class SincSweepTableCallback(SweepTableCallback):
    """Hydra callback: when a sinc sweep ends, write its table into the sweep folder."""

    def write(self, sweep_dir: Path) -> tuple[Path, Path]:
        return write_sweep_table(sweep_dir)
