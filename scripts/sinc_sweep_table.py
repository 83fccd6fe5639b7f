"""Write the table of a sweep's jobs (activation, MSE, epochs to target MSE, wall time) and print it.

    python scripts/sinc_sweep_table.py outputs/sinc/multiruns/2026-01-01_12-00-00

Writes sweep_table.md and sweep_table.csv into the sweep folder: the same files the sinc
experiment's Hydra callback writes when a sweep ends.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xrdnet.utils.sinc_sweep_table import write_sweep_table
from xrdnet.utils.sweep_table import SweepTableError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="a sweep folder (outputs/<task>/multiruns/<time>)")
    args = parser.parse_args(argv)
    try:
        markdown_path, csv_path = write_sweep_table(args.sweep_dir)
    except SweepTableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(markdown_path.read_text(), end="")
    print(f"wrote {markdown_path} and {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
