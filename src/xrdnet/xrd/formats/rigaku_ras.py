"""Rigaku .ras: the text SmartLab Studio and PDXL write.

    *RAS_DATA_START
    *RAS_HEADER_START
    *HW_XG_WAVE_LENGTH_ALPHA1 "1.540593"           Å
    *HW_XG_WAVE_LENGTH_ALPHA2 "1.544414"
    *MEAS_SCAN_AXIS_X "TwoThetaTheta"
    *MEAS_SCAN_START "10.0000"  ... *MEAS_DATA_COUNT "3501"
    *RAS_HEADER_END
    *RAS_INT_START
    10.0000 123 1.0000                             2θ, counts, attenuator factor
    ...
    *RAS_INT_END
    *RAS_DATA_END

The file records no Kα2/Kα1 intensity ratio: a recorded Kα2 gets the tube's usual KALPHA2_RATIO.
The intensity is counts times the attenuator factor (column 3, 1 without an attenuator). The first
scan of a file with several is read. The header is in Shift-JIS on Japanese installations: only its
ASCII keys and numbers are used.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np

from xrdnet.xrd.formats.scan import MeasuredScan, checked_scan, recorded_radiation
from xrdnet.xrd.measured import PatternFileError

FORMAT = "ras"
MAGIC = "*RAS_DATA_START"


def read_ras(path: Path) -> MeasuredScan:
    lines = path.read_bytes().decode("ascii", errors="replace").splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != MAGIC:
        raise PatternFileError(f"{path}: not a Rigaku RAS file (first line is not {MAGIC})")
    header: dict[str, str] = {}
    rows: list[list[float]] = []
    in_data = False
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if line == "*RAS_INT_START":
            in_data = True
        elif line == "*RAS_INT_END":
            break
        elif in_data:
            try:
                rows.append([float(field) for field in line.split()])
            except ValueError:
                raise PatternFileError(f"{path}: line {number}: expected numbers (2θ counts [attenuation]), "
                                       f"got {line[:40]!r}") from None
        elif line.startswith("*") and " " in line:
            key, _, value = line[1:].partition(" ")
            header.setdefault(key, _unquote(value))
    if not in_data:
        raise PatternFileError(f"{path}: RAS file without a *RAS_INT_START data block")
    if not rows or min(len(row) for row in rows) < 2:
        raise PatternFileError(f"{path}: RAS data block needs 2θ and counts on every line")
    table = np.array([row[:3] if len(row) >= 3 else row + [1.0] for row in rows])
    radiation = recorded_radiation(path, header.get("HW_XG_WAVE_LENGTH_ALPHA1"), header.get("HW_XG_WAVE_LENGTH_ALPHA2"))
    return checked_scan(path, table[:, 0], table[:, 1] * table[:, 2], radiation, FORMAT)


def _unquote(value: str) -> str:
    try:
        return " ".join(shlex.split(value))
    except ValueError:  # an unbalanced quote in a comment
        return value.strip().strip('"')
