"""Write the table of a sweep's jobs (activation, MSE, epochs to target MSE, wall time) and print it.

    python scripts/sinc_sweep_table.py outputs/sinc/multiruns/2026-01-01_12-00-00

Writes sweep_table.md and sweep_table.csv into the sweep folder: the same files the sinc
experiment's Hydra callback writes when a sweep ends.
"""

from __future__ import annotations

import sys

from xrdnet.utils.sinc_sweep_table import write_sweep_table
from xrdnet.utils.sweep_table import main as sweep_table_main


def main(argv: list[str] | None = None) -> int:
    return sweep_table_main(argv, write_sweep_table, __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
