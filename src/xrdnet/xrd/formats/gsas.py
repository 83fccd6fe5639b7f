"""GSAS powder data (.gsa, .gss, .fxye): constant-wavelength 2θ scans in the GSAS manual's layout.

    title line (80 characters)
    # comment lines, an "Instrument parameter ..." line
    BANK 1 3501 351 CONST 1000.0 2.0 0 0 STD       bank, points, records, BINTYP, start and step (centidegrees), type
     1   123 1   130 ...                            STD: 10 fields of (I2 counters, F6.0 intensity) per record
                                                    ESD: 5 pairs of (F8.0 intensity, F8.0 σ) per record
    BANK 1 3501 3501 FXYE 0 0 0 0                   FXYE: one "2θ (centidegrees) intensity σ" per line

Time-of-flight banks (RALF, ALT, TIME_MAP) are refused. GSAS keeps the wavelength in the separate
instrument parameter file, so these files record none. The first bank is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xrdnet.xrd.formats.scan import MeasuredScan, checked_scan
from xrdnet.xrd.measured import PatternFileError

FORMAT = "gsas"
CENTIDEGREES = 100.0  # GSAS gives constant-wavelength positions in hundredths of a degree
FIXED_FIELDS = {"STD": (10, 8), "ESD": (10, 8)}  # fields per record, characters per field


def is_bank_line(line: str) -> bool:
    return line.startswith("BANK ") and len(line.split()) >= 5


def read_gsas(path: Path) -> MeasuredScan:
    lines = path.read_bytes().decode("ascii", errors="replace").splitlines()
    start = next((i for i, line in enumerate(lines) if is_bank_line(line)), None)
    if start is None:
        raise PatternFileError(f"{path}: not a GSAS data file (no 'BANK n points records type ...' line)")
    fields = lines[start].split()
    try:
        n_points = int(fields[2])
        binning = fields[4].upper()
        coefficients = [float(f) for f in fields[5:7]] if binning == "CONST" else []
    except (IndexError, ValueError):
        raise PatternFileError(f"{path}: line {start + 1}: unreadable BANK line {lines[start][:60]!r}") from None
    records = [line for line in lines[start + 1:] if not line.startswith("#")]
    end = next((i for i, line in enumerate(records) if is_bank_line(line)), len(records))
    records = records[:end]
    if binning == "FXYE":
        return checked_scan(path, *_free_columns(path, records, n_points), None, FORMAT)
    if binning != "CONST":
        raise PatternFileError(f"{path}: GSAS bank type {binning} is not a constant-wavelength 2θ scan (CONST or FXYE)")
    kind = fields[9].upper() if len(fields) > 9 else "STD"
    if kind not in FIXED_FIELDS:
        raise PatternFileError(f"{path}: GSAS CONST data type {kind!r} is not read; expected STD or ESD")
    intensity = _fixed_fields(path, records, n_points, kind)
    first_deg, step_deg = coefficients[0] / CENTIDEGREES, coefficients[1] / CENTIDEGREES
    return checked_scan(path, first_deg + step_deg * np.arange(n_points), intensity, None, FORMAT)


def _free_columns(path: Path, records: list[str], n_points: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        table = np.array([[float(v) for v in line.split()[:2]] for line in records if line.strip()])
    except ValueError:
        raise PatternFileError(f"{path}: FXYE data lines must be numbers '2θ intensity σ'") from None
    if table.ndim != 2 or table.shape[1] != 2 or len(table) != n_points:
        raise PatternFileError(f"{path}: BANK line announces {n_points} points, the file has {len(table)}")
    return table[:, 0] / CENTIDEGREES, table[:, 1]


def _fixed_fields(path: Path, records: list[str], n_points: int, kind: str) -> np.ndarray:
    count, width = FIXED_FIELDS[kind]
    values: list[float] = []
    for line in records:
        cells = [line[i * width:(i + 1) * width] for i in range(count)]
        if kind == "STD":  # (I2 counters, F6.0 intensity): the intensity is the last 6 characters
            cells = [cell[2:] for cell in cells]
        else:  # (intensity, σ) pairs
            cells = cells[0::2]
        for cell in cells:
            if not cell.strip():
                continue  # the last record is padded
            try:
                values.append(float(cell))
            except ValueError:
                raise PatternFileError(f"{path}: {kind} record {line[:40]!r} holds {cell!r}, not a number") from None
    if len(values) != n_points:
        raise PatternFileError(f"{path}: BANK line announces {n_points} points, the {kind} records hold {len(values)}")
    return np.array(values)
