"""Tables of a Hydra sweep's jobs, as Markdown and CSV, written into the sweep folder.

Each job folder of a sweep (`<sweep dir>/<num>_<overrides>/`) holds Hydra's `.hydra/config.yaml` and
`.hydra/overrides.yaml` and, once the job has finished, the `metrics.json` written by xrdnet.train.
`collect_jobs` reads them in job order; `sweep_table` lays them out: the overrides that differ
between jobs, then one column per `Column` (headline metrics), rows sorted by the sweep's optimized
metric. `write_train_table` is the table of any xrdnet-train sweep, which `SweepTableCallback`
writes when a multirun ends (registered in configs/hydra/default.yaml); xrdnet.utils.sinc_sweep_table
is the same table with the sinc experiment's columns.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from xrdnet.utils.atomic import write_text_atomic

log = logging.getLogger(__name__)

TABLE_NAME = "sweep_table"
# overrides that name where a job writes, or that every job of a sweep shares: never a column
SKIPPED_OVERRIDES = ("paths.", "hydra.", "hparams_search")
# the metrics a classifier sweep is compared on, in this order, where its jobs recorded them
HEADLINE_METRICS = ("val/acc", "val/f1_macro", "test/acc", "test/f1_macro", "real/acc", "real/f1_macro")
# last path part of a metric that is better when lower (anything else is better when higher)
_LOWER_IS_BETTER = re.compile(r"(loss|mse|mae|rmse|nll|ece|error)(_|$)")


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


def override_values(job: SweepJob) -> dict[str, str]:
    """The job's command-line overrides as key -> value (`+`/`~` prefixes dropped), in their order."""
    values = {}
    for override in job.overrides:
        key, _, value = override.lstrip("+~").partition("=")
        values[key] = value
    return values


def varying_overrides(jobs: Sequence[SweepJob], skip: tuple[str, ...] = ()) -> list[str]:
    """Override keys whose value is not the same in every job (missing in some counts), in first-seen order."""
    per_job = [override_values(job) for job in jobs]
    keys = list(dict.fromkeys(key for values in per_job for key in values))
    return [key for key in keys if not key.startswith(SKIPPED_OVERRIDES + skip)
            and len({values.get(key) for values in per_job}) > 1]


def metric_value(job: SweepJob, name: str) -> float | None:
    """A metric of the job's metrics.json, or None (no such number, or the job left no metrics)."""
    metrics = (job.summary or {}).get("metrics")
    value = metrics.get(name) if isinstance(metrics, dict) else None
    return value if isinstance(value, (int, float)) else None


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of `metric` is better, from its name (val/mse: yes; val/acc: no)."""
    return bool(_LOWER_IS_BETTER.search(metric.rsplit("/", 1)[-1]))


@dataclass(frozen=True)
class Column:
    """A column after the override columns: `field` in the CSV, `title` in Markdown (None: CSV only).

    value(job) is the CSV value (None: empty); cell(job) the Markdown text, by default the value in
    format `spec`.
    """

    field: str
    title: str | None
    value: Callable[[SweepJob], Any]
    spec: str = ".4f"
    cell: Callable[[SweepJob], str] | None = None

    def text(self, job: SweepJob) -> str:
        if self.cell is not None:
            return self.cell(job)
        value = self.value(job)
        return "" if value is None else format(value, self.spec)


def metric_column(name: str, title: str | None = None, spec: str = ".4f") -> Column:
    return Column(name, title or name, lambda job: metric_value(job, name), spec)


def summary_column(key: str, title: str | None, spec: str = "") -> Column:
    """A column of a top-level value of metrics.json (wall_seconds, epochs_to_target, ...)."""
    return Column(key, title, lambda job: (job.summary or {}).get(key), spec)


WALL_SECONDS = summary_column("wall_seconds", "wall time (s)", ".1f")


def _short(value: str) -> str:
    """An override value for Markdown: floats to 4 significant digits (the CSV keeps them whole)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value else format(number, ".4g")


def sorted_jobs(jobs: Sequence[SweepJob], metric: str | None, maximize: bool) -> list[SweepJob]:
    """Jobs with a value of `metric`, best first, then the others in job order."""
    if not metric:
        return list(jobs)
    scored = [job for job in jobs if metric_value(job, metric) is not None]
    unscored = [job for job in jobs if metric_value(job, metric) is None]
    return sorted(scored, key=lambda job: metric_value(job, metric), reverse=maximize) + unscored


def sweep_table(jobs: Sequence[SweepJob], columns: Sequence[Column], metric: str | None, maximize: bool,
                leading: Sequence[Column] = (), skip: tuple[str, ...] = ()) -> tuple[str, str]:
    """The jobs as Markdown and CSV, best first by `metric`: `leading` columns, the varying overrides
    (minus keys starting with `skip`), then `columns`. A job without metrics reads 'no metrics.json'."""
    keys = varying_overrides(jobs, skip)
    shown = [column for column in columns if column.title is not None]
    header = [c.title for c in leading] + keys + [c.title for c in shown]
    align = ["---"] * (len(leading) + len(keys)) + ["---:"] * len(shown)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    fields = ["job", *(c.field for c in leading), *keys, *(c.field for c in columns)]
    csv_rows = []
    for job in sorted_jobs(jobs, metric, maximize):
        overrides = override_values(job)
        cells = [c.text(job) for c in leading] + [_short(overrides.get(key, "")) for key in keys]
        if job.summary is None:
            cells += ["no metrics.json"] + [""] * (len(shown) - 1)
        else:
            cells += [column.text(job) for column in shown]
        lines.append("| " + " | ".join(cells) + " |")
        csv_rows.append({"job": job.folder.name, **{c.field: c.value(job) for c in [*leading, *columns]},
                         **{key: overrides.get(key) for key in keys}})
    return "\n".join(lines) + "\n", csv_table(csv_rows, fields)


def csv_table(rows: list[dict[str, Any]], fields: list[str]) -> str:
    """The rows as CSV, one column per field, empty where a value is missing."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row.get(key) is None else row[key] for key in fields})
    return buffer.getvalue()


def write_tables(sweep_dir: str | Path, markdown: str, csv_text: str) -> tuple[Path, Path]:
    """Write sweep_table.md and sweep_table.csv into `sweep_dir` (atomically); returns their paths."""
    sweep_dir = Path(sweep_dir)
    markdown_path = write_text_atomic(sweep_dir / f"{TABLE_NAME}.md", markdown)
    csv_path = write_text_atomic(sweep_dir / f"{TABLE_NAME}.csv", csv_text)
    return markdown_path, csv_path


def optimized_metric(sweep_dir: Path, jobs: Sequence[SweepJob]) -> tuple[str | None, bool]:
    """The metric the sweep optimized (the jobs' `optimized_metric`) and whether higher is better.

    The direction is the sweeper's (`hydra.sweeper.direction` in the sweep's multirun.yaml, an Optuna
    sweep) when it has one, else read from the metric's name.
    """
    metric = next((job.config.get("optimized_metric") for job in jobs if job.config.get("optimized_metric")), None)
    if metric is None:
        return None, True
    multirun_path = sweep_dir / "multirun.yaml"
    direction = None
    if multirun_path.is_file():
        direction = OmegaConf.select(OmegaConf.load(multirun_path), "hydra.sweeper.direction", default=None)
    if isinstance(direction, str) and direction in ("maximize", "minimize"):
        return metric, direction == "maximize"
    return metric, not lower_is_better(metric)


def write_train_table(sweep_dir: str | Path) -> tuple[Path, Path]:
    """Write the table of an xrdnet-train sweep: varying overrides, then the headline metrics its jobs
    recorded (and the optimized metric, when it is not one of them), then wall time."""
    sweep_dir = Path(sweep_dir)
    jobs = collect_jobs(sweep_dir)
    metric, maximize = optimized_metric(sweep_dir, jobs)
    names = list(HEADLINE_METRICS) + ([metric] if metric and metric not in HEADLINE_METRICS else [])
    columns = [metric_column(name) for name in names if any(metric_value(job, name) is not None for job in jobs)]
    markdown, csv_text = sweep_table(jobs, [*columns, WALL_SECONDS], metric, maximize)
    return write_tables(sweep_dir, markdown, csv_text)


def main(argv: list[str] | None = None, write: Callable[[Path], tuple[Path, Path]] = write_train_table,
         description: str = "Write the table of a sweep's jobs into its sweep folder and print it.") -> int:
    """Command line of the sweep-table scripts: rebuild the table of a sweep folder (exit status 1 on a bad one)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("sweep_dir", type=Path, help="a sweep folder (outputs/<task>/multiruns/<name>)")
    args = parser.parse_args(argv)
    try:
        markdown_path, csv_path = write(args.sweep_dir)
    except SweepTableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(markdown_path.read_text(), end="")
    print(f"wrote {markdown_path} and {csv_path}")
    return 0


class SweepTableCallback(Callback):
    """Hydra callback: when a multirun ends, write the sweep table into its sweep folder.

    `write(sweep_dir)` says which table (a subclass may write another) and returns the Markdown and CSV paths.
    """

    def write(self, sweep_dir: Path) -> tuple[Path, Path]:
        return write_train_table(sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            markdown_path, _ = self.write(sweep_dir)
        except SweepTableError as error:
            log.warning("no sweep table: %s", error)
            return
        log.info("sweep table: %s (and .csv)\n%s", markdown_path, markdown_path.read_text())
