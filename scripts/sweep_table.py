"""Write the table of an xrdnet-train sweep's jobs (the overrides that differ, headline metrics) and print it.

    python scripts/sweep_table.py outputs/train/multiruns/2026-01-01_12-00-00

Writes sweep_table.md and sweep_table.csv into the sweep folder: the same files the Hydra callback
writes when a sweep ends (useful for a sweep that was interrupted, or one still running).
"""

from __future__ import annotations

import sys

from xrdnet.utils.sweep_table import main as sweep_table_main, write_train_table


def main(argv: list[str] | None = None) -> int:
    return sweep_table_main(argv, write_train_table, __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
