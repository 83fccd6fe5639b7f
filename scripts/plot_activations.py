"""Plot the activation functions the project offers and their derivatives to a PNG.

    python scripts/plot_activations.py                      # -> outputs/activations.png
    python scripts/plot_activations.py -o act.png --highlight relu --range -4 4

Every run of the sinc experiment logs the same figure to TensorBoard (image 'activations').
"""

from __future__ import annotations

import argparse
from pathlib import Path

from xrdnet.models.activations import ACTIVATIONS
from xrdnet.plotting import activations_figure, save_figure


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("outputs/activations.png"), help="PNG file to write")
    parser.add_argument("--highlight", choices=sorted(ACTIVATIONS), help="draw this activation thicker")
    parser.add_argument("--range", nargs=2, type=float, default=(-5.0, 5.0), metavar=("LOW", "HIGH"), help="x range")
    args = parser.parse_args(argv)
    if not args.range[0] < args.range[1]:
        parser.error(f"--range: LOW must be below HIGH, got {args.range[0]} {args.range[1]}")
    save_figure(activations_figure(highlight=args.highlight, x_range=tuple(args.range)), args.output)
    print(f"wrote {args.output}")
    return args.output


if __name__ == "__main__":
    main()
