"""Table of training runs side by side: what each changed, synthetic validation (the selection set),
synthetic test, the AFLOW prototypes (report only) and wall time, as Markdown.

    python scripts/ablation_table.py outputs/train/runs/<time> outputs/train/runs/<time> ... [--out table.md]

Each run folder holds Hydra's `.hydra/overrides.yaml`, the `metrics.json` written by xrdnet-train and its
TensorBoard events; `val acc` is the best epoch's validation accuracy (the epoch whose checkpoint is tested).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from xrdnet.utils.atomic import write_text_atomic

COLUMNS = ("val/acc", "val/f1_macro", "test/acc", "test/f1_macro", "real/acc", "real/f1_macro")
_NOT_A_LEVER = ("hydra.", "paths.", "callbacks.rich_progress_bar")


def best_validation(run: Path) -> dict[str, float]:
    """Validation accuracy and macro-F1 of the epoch with the best validation accuracy."""
    curves: dict[str, list[float]] = {}
    for events in sorted(run.glob("tensorboard/**/events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in ("val/acc", "val/f1_macro"):
            if tag in accumulator.Tags()["scalars"]:
                curves.setdefault(tag, []).extend(event.value for event in accumulator.Scalars(tag))
    if not curves.get("val/acc"):
        return {}
    best = max(range(len(curves["val/acc"])), key=curves["val/acc"].__getitem__)
    return {tag: values[best] for tag, values in curves.items() if best < len(values)}


def run_row(run: Path) -> dict:
    overrides_path = run / ".hydra" / "overrides.yaml"
    overrides = [str(o) for o in OmegaConf.load(overrides_path)] if overrides_path.is_file() else []
    metrics_path = run / "metrics.json"
    summary = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    metrics = dict(summary.get("metrics", {}))
    metrics.update(best_validation(run))
    config = OmegaConf.load(run / ".hydra" / "config.yaml") if (run / ".hydra" / "config.yaml").is_file() else {}
    return {
        "run": run.name,
        "changes": " ".join(o for o in overrides if not o.lstrip("+~").startswith(_NOT_A_LEVER)) or "(default)",
        "seed": OmegaConf.select(config, "seed", default=None) if config else None,
        "metrics": metrics,
        "wall_seconds": summary.get("wall_seconds"),
    }


def markdown(rows: list[dict]) -> str:
    header = ["changes", "seed", *COLUMNS, "wall (min)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        values = [f"{row['metrics'][c]:.3f}" if c in row["metrics"] else "-" for c in COLUMNS]
        wall = f"{row['wall_seconds'] / 60:.1f}" if row["wall_seconds"] else "-"
        lines.append("| " + " | ".join([f"`{row['changes']}`", str(row["seed"]), *values, wall]) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders of xrdnet-train")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    missing = [str(run) for run in args.runs if not (run / ".hydra").is_dir()]
    if missing:
        raise SystemExit(f"not an xrdnet-train run folder (no .hydra/): {', '.join(missing)}")
    table = markdown([run_row(run) for run in args.runs])
    print(table, end="")
    if args.out:
        write_text_atomic(args.out, table)


if __name__ == "__main__":
    main()
