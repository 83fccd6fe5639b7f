"""Tables of a Hydra sweep's jobs, as Markdown and CSV, written into the sweep folder.

Each job folder of a sweep (`<sweep dir>/<num>_<overrides>/`) holds Hydra's `.hydra/config.yaml` and
`.hydra/overrides.yaml` and, once the job has finished, the `metrics.json` written by xrdnet.train.
`collect_jobs` reads them in job order; a table module (xrdnet.utils.sinc_sweep_table) turns jobs
into rows and text; `write_tables` writes `sweep_table.md` and `sweep_table.csv`, and a
`SweepTableCallback` subclass does it when a sweep ends (registered under `hydra.callbacks`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from xrdnet.utils.atomic import write_text_atomic

log = logging.getLogger(__name__)

TABLE_NAME = "sweep_table"


class SweepTableError(ValueError):
    """A sweep folder that cannot be tabulated (one line naming the folder or file and the problem)."""


@dataclass(frozen=True)
class SweepJob:
    """One job folder: its composed config, its command-line overrides and its run summary.

    summary: the job's metrics.json, or None when it left none (failed or still running).
    """

    folder: Path
    config: DictConfig
    overrides: list[str]
    summary: dict | None


def _job_number(folder: Path) -> tuple[int, str]:
    match = re.match(r"(\d+)", folder.name)
    return (int(match.group(1)) if match else 1 << 30, folder.name)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SweepTableError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None


def _read_job(folder: Path) -> SweepJob:
    config_path = folder / ".hydra" / "config.yaml"
    config = OmegaConf.load(config_path) if config_path.is_file() else OmegaConf.create()
    overrides_path = folder / ".hydra" / "overrides.yaml"
    overrides = list(OmegaConf.load(overrides_path)) if overrides_path.is_file() else []
    metrics_path = folder / "metrics.json"
    summary = _read_json(metrics_path) if metrics_path.is_file() else None
    return SweepJob(folder, config, overrides, summary)


def collect_jobs(sweep_dir: str | Path) -> list[SweepJob]:
    """Every job folder in `sweep_dir` (folders holding .hydra/ or metrics.json), in job order."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise SweepTableError(f"{sweep_dir}: no such sweep folder")
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and ((p / "metrics.json").is_file() or (p / ".hydra").is_dir())]
    if not jobs:
        raise SweepTableError(f"{sweep_dir}: no job folders (none holds metrics.json or .hydra/)")
    return [_read_job(folder) for folder in sorted(jobs, key=_job_number)]


def csv_table(rows: list[dict[str, Any]], fields: list[str]) -> str:
    """The rows as CSV, one column per field, empty where a value is missing."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row[key] is None else row[key] for key in fields})
    return buffer.getvalue()


def write_tables(sweep_dir: str | Path, markdown: str, csv_text: str) -> tuple[Path, Path]:
    """Write sweep_table.md and sweep_table.csv into `sweep_dir` (atomically); returns their paths."""
    sweep_dir = Path(sweep_dir)
    markdown_path = write_text_atomic(sweep_dir / f"{TABLE_NAME}.md", markdown)
    csv_path = write_text_atomic(sweep_dir / f"{TABLE_NAME}.csv", csv_text)
    return markdown_path, csv_path


class SweepTableCallback(Callback):
    """Hydra callback: when a multirun ends, write the sweep table into its sweep folder.

    Subclasses say which table: `write(sweep_dir)` returns the Markdown and CSV paths.
    """

    def write(self, sweep_dir: Path) -> tuple[Path, Path]:
        raise NotImplementedError

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            markdown_path, _ = self.write(sweep_dir)
        except SweepTableError as error:
            log.warning("no sweep table: %s", error)
            return
        log.info("sweep table: %s (and .csv)\n%s", markdown_path, markdown_path.read_text())
