"""A table of a sweep's jobs (activation, MSE, epochs to the target MSE, wall time) as Markdown and CSV.

Each job folder of a sweep (`<sweep dir>/<num>_<overrides>/`) holds the `metrics.json` written by
xrdnet.train and Hydra's `.hydra/config.yaml` and `.hydra/overrides.yaml`. `write_sweep_table` reads
them and writes `sweep_table.md` and `sweep_table.csv` into the sweep folder; `SweepTableCallback`
does it when a sweep ends (register it under `hydra.callbacks`), scripts/sinc_sweep_table.py on demand.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from xrdnet.utils.atomic import write_text_atomic

log = logging.getLogger(__name__)

TABLE_NAME = "sweep_table"
# overrides every job of an experiment sweep shares, or that only shorten it: not worth a column
_UNINTERESTING_OVERRIDES = ("experiment", "model.activation", "paths.", "hydra.", "trainer.max_epochs")


class SweepTableError(ValueError):
    """A sweep folder that cannot be tabulated (one line naming the folder or file and the problem)."""


def _job_number(folder: Path) -> tuple[int, str]:
    match = re.match(r"(\d+)", folder.name)
    return (int(match.group(1)) if match else 1 << 30, folder.name)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SweepTableError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None


def _job_row(folder: Path) -> dict[str, Any]:
    """One job's row; values are None where the job left no metrics (failed or still running)."""
    config_path = folder / ".hydra" / "config.yaml"
    config = OmegaConf.load(config_path) if config_path.is_file() else OmegaConf.create()
    overrides_path = folder / ".hydra" / "overrides.yaml"
    overrides = list(OmegaConf.load(overrides_path)) if overrides_path.is_file() else []
    row: dict[str, Any] = {
        "job": folder.name,
        "activation": OmegaConf.select(config, "model.activation", default=None),
        "other_overrides": " ".join(o for o in overrides if not o.lstrip("+~").startswith(_UNINTERESTING_OVERRIDES)),
        "mse": None, "final_val_mse": None, "epochs_to_target": None, "target_mse": None, "wall_seconds": None,
    }
    metrics_path = folder / "metrics.json"
    if not metrics_path.is_file():
        return row
    summary = _read_json(metrics_path)
    metrics = summary.get("metrics", {})
    row.update(
        mse=metrics.get("test/mse"),
        final_val_mse=metrics.get("val/mse"),
        epochs_to_target=summary.get("epochs_to_target"),
        target_mse=summary.get("target_mse"),
        wall_seconds=summary.get("wall_seconds"),
    )
    return row


def collect_sweep(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """Rows of every job folder in `sweep_dir` (folders holding .hydra/ or metrics.json), in job order."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise SweepTableError(f"{sweep_dir}: no such sweep folder")
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and ((p / "metrics.json").is_file() or (p / ".hydra").is_dir())]
    if not jobs:
        raise SweepTableError(f"{sweep_dir}: no job folders (none holds metrics.json or .hydra/)")
    return [_job_row(folder) for folder in sorted(jobs, key=_job_number)]


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


def csv_table(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, one column per field, empty where a value is missing."""
    buffer = io.StringIO()
    fields = ["job", "activation", "mse", "final_val_mse", "epochs_to_target", "target_mse", "wall_seconds", "other_overrides"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row[key] is None else row[key] for key in fields})
    return buffer.getvalue()


def write_sweep_table(sweep_dir: str | Path) -> tuple[Path, Path]:
    """Write sweep_table.md and sweep_table.csv into `sweep_dir` (atomically); returns their paths."""
    sweep_dir = Path(sweep_dir)
    rows = collect_sweep(sweep_dir)
    markdown_path = write_text_atomic(sweep_dir / f"{TABLE_NAME}.md", markdown_table(rows))
    csv_path = write_text_atomic(sweep_dir / f"{TABLE_NAME}.csv", csv_table(rows))
    return markdown_path, csv_path


class SweepTableCallback(Callback):
    """Hydra callback: when a multirun ends, write the sweep table into its sweep folder."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            markdown_path, _ = write_sweep_table(sweep_dir)
        except SweepTableError as error:
            log.warning("no sweep table: %s", error)
            return
        log.info("sweep table: %s (and .csv)\n%s", markdown_path, markdown_path.read_text())
