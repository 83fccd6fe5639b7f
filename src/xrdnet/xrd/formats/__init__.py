"""Instrument scan files: one reader per format, chosen by the file's content, else by its extension.

    scan = read_scan("sample.xrdml")     # MeasuredScan: two_theta, intensity, radiation (or None), format

| format | extensions | reader | wavelength recorded |
|---|---|---|---|
| PANalytical XRDML | .xrdml | xrdml.py | Kα1, Kα2, ratio; "K-Alpha 1" = Kα1 only |
| Bruker DIFFRAC | .brml | bruker.py | Kα1, Kα2, ratio |
| Bruker binary RAW, versions 1-4 | .raw | bruker_raw.py (first range) | Kα1, Kα2, ratio (version 1: Kα1, Kα2) |
| Rigaku | .ras | rigaku_ras.py | Kα1, Kα2 (ratio KALPHA2_RATIO) |
| GSAS | .gsa, .gss, .fxye | gsas.py | none (kept in the instrument file) |
| text columns | .xy, .xye, .dat, .csv, .txt | xrd.measured.read_pattern | none |

Content wins over the extension, so a GSAS .raw or an XRDML saved as .xml is read as what it is.
Every problem is a PatternFileError with one line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from xrdnet.xrd.formats.bruker import read_brml
from xrdnet.xrd.formats.bruker_raw import RAW_MAGIC, read_bruker_raw
from xrdnet.xrd.formats.gsas import is_bank_line, read_gsas
from xrdnet.xrd.formats.rigaku_ras import MAGIC as RAS_MAGIC
from xrdnet.xrd.formats.rigaku_ras import read_ras
from xrdnet.xrd.formats.scan import MeasuredScan, checked_scan
from xrdnet.xrd.formats.xrdml import read_xrdml
from xrdnet.xrd.measured import PatternFileError, read_pattern

COLUMN_SUFFIXES = (".xy", ".xye", ".dat", ".csv", ".txt")
SUFFIX_FORMATS = {".xrdml": "xrdml", ".brml": "brml", ".raw": "bruker_raw", ".ras": "ras",
                  ".gsa": "gsas", ".gss": "gsas", ".fxye": "gsas", **dict.fromkeys(COLUMN_SUFFIXES, "columns")}
SCAN_SUFFIXES = frozenset(SUFFIX_FORMATS)
SNIFF_BYTES = 4096


def read_columns(path: Path) -> MeasuredScan:
    two_theta, intensity = read_pattern(path)
    return checked_scan(path, two_theta, intensity, None, "columns")


READERS = {"xrdml": read_xrdml, "brml": read_brml, "bruker_raw": read_bruker_raw, "ras": read_ras,
           "gsas": read_gsas, "columns": read_columns}


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes of a file show, or None when they show none (plain columns, or damage)."""
    if head.startswith(b"PK\x03\x04"):  # a zip: of the formats read here, only .brml
        return "brml"
    if head.startswith(RAW_MAGIC) and b"\0" in head:
        return "bruker_raw"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml") and "<xrdMeasurements" in text or text.startswith("<xrdMeasurements"):
        return "xrdml"
    if text.startswith(RAS_MAGIC):
        return "ras"
    if any(is_bank_line(line) for line in text.splitlines()[:40]):
        return "gsas"
    return None


def scan_format(path: Path) -> str:
    """The reader a file needs: by content first, then by extension; PatternFileError when neither says."""
    with open(path, "rb") as handle:
        found = sniff_format(handle.read(SNIFF_BYTES))
    found = found or SUFFIX_FORMATS.get(path.suffix.lower())
    if found is None:
        raise PatternFileError(f"{path}: unsupported file type {path.suffix or '(none)'}; expected one of "
                               f"{', '.join(sorted(SCAN_SUFFIXES))}")
    return found


def read_scan(path: str | os.PathLike) -> MeasuredScan:
    """The scan in an instrument file (see the table above); PatternFileError (one line, naming the file) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise PatternFileError(f"{path}: no such file")
    return READERS[scan_format(path)](path)
