"""Bruker (Siemens) binary .raw, versions 1 ("RAW "), 2 ("RAW2"), 3 ("RAW1.01") and 4 ("RAW4.00").

The byte layouts are those of two public readers, which agree wherever both read a field:
  - xylib, wojdyr/xylib `xylib/bruker_raw.cpp` (all four versions; version 3 after the DIFFRAC plus XCH
    V.5.0 user's manual, appendix A),
  - GSAS-II, AdvancedPhotonSource/GSAS-II `GSASII/imports/G2pwd_BrukerRAW.py` (versions 2 to 4).
Where they differ, xylib is followed: version 3 counts start after the range header plus the supplementary
header size the range records (GSAS-II adds a fixed 40 bytes for a file of one range), and version 1,
which GSAS-II does not read, is xylib's.

Every number is little-endian. A range (one scan) is a start 2θ, a step and a number of steps, then one
float32 per step: the counts as stored (neither reference divides by the step time, nor does this reader).
2θ = start + i·step (degrees). The first range is read, as the other readers read the first scan; later
ranges are ignored. Kα1, Kα2 (Å) and the Kα2/Kα1 ratio are taken where the version records them; a
wavelength of 0 is not recorded, a ratio of 0 means no Kα2. Offsets below are bytes from the file start (file
header) or from the range start.
float32 header values are taken as their shortest decimal (a step written as 0.02 is 0.02, not 0.0199999996).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from xrdnet.xrd.formats.scan import MeasuredScan, checked_scan, recorded_radiation
from xrdnet.xrd.measured import PatternFileError

FORMAT = "bruker_raw"
RAW_MAGIC = b"RAW"  # every version's file starts with it
VERSIONS = {b"RAW ": "RAW ", b"RAW2": "RAW2", b"RAW1.01": "RAW1.01", b"RAW4.00": "RAW4.00"}
# version 4: the scan types whose start angle is 2θ (GSAS-II's list; xylib reads the two coupled ones)
TWO_THETA_SCAN_TYPES = ("Locked Coupled", "Unlocked Coupled", "Detector Scan")
COUNT_BYTES = 4  # float32


class RawBytes:
    """The file's bytes read at offsets; a read past the end is a PatternFileError naming the file."""

    def __init__(self, path: Path, data: bytes):
        self.path, self.data = path, data

    def number(self, kind: str, offset: int, what: str) -> float:
        """One little-endian value of struct `kind` (H, I, f, d); float32 as its shortest decimal."""
        size = struct.calcsize(kind)
        if offset < 0 or offset + size > len(self.data):
            raise PatternFileError(f"{self.path}: Bruker RAW truncated: {what} at byte {offset} lies past the end "
                                   f"of the file ({len(self.data)} bytes)")
        value = struct.unpack_from("<" + kind, self.data, offset)[0]
        return float(str(np.float32(value))) if kind == "f" else value

    def text(self, offset: int, size: int, what: str) -> str:
        self.number(f"{size}s", offset, what)  # bounds check
        return self.data[offset:offset + size].split(b"\0")[0].decode("latin-1").strip()

    def counts(self, offset: int, steps: int) -> np.ndarray:
        end = offset + COUNT_BYTES * steps
        if end > len(self.data):
            raise PatternFileError(f"{self.path}: Bruker RAW truncated: the first range announces {steps} steps "
                                   f"(counts up to byte {end}) but the file ends at byte {len(self.data)}")
        return np.frombuffer(self.data, "<f4", steps, offset).astype(float)


def read_bruker_raw(path: Path) -> MeasuredScan:
    raw = RawBytes(path, path.read_bytes())
    version = next((name for magic, name in VERSIONS.items() if raw.data.startswith(magic)), None)
    if version is None:
        found = raw.data[:7].decode("ascii", errors="replace").strip("\0 ")
        raise PatternFileError(f"{path}: unknown Bruker RAW version {found!r}; read are {', '.join(VERSIONS.values())}")
    start, step, steps, counts_at, lines = READERS[version](raw)
    if steps <= 0:
        raise PatternFileError(f"{path}: Bruker RAW {version} first range has {steps} steps")
    two_theta = start + step * np.arange(steps)
    return checked_scan(path, two_theta, raw.counts(counts_at, steps), _radiation(path, *lines), FORMAT)


def _version1(raw: RawBytes):
    """"RAW ": the file is ranges of a 156-byte header then the counts; the first range starts at byte 0.
    +4 steps (uint32), +8 step time (float32, s), +12 step (float32, °), +24 start 2θ (float32, °),
    +72 Kα1, +76 Kα2 (float32, Å; no ratio recorded), +152 "another range follows" (uint32), counts from +156."""
    steps = raw.number("I", 4, "number of steps")
    step = raw.number("f", 12, "step size")
    start = raw.number("f", 24, "start 2θ")
    lines = (raw.number("f", 72, "Kα1"), raw.number("f", 76, "Kα2"), None)
    return start, step, steps, 156, lines


def _version2(raw: RawBytes):
    """"RAW2": +4 number of ranges (uint16), +190 Kα1, +194 Kα2 (float32, Å), +198 Kα2/Kα1 ratio (float32);
    the first range at byte 256: +0 its header length (uint16), +2 steps (uint16), +8 step time (float32, s),
    +12 step (float32, °), +16 start 2θ (float32, °); counts from +header length."""
    _ranges(raw, raw.number("H", 4, "number of ranges"))
    lines = (raw.number("f", 190, "Kα1"), raw.number("f", 194, "Kα2"), raw.number("f", 198, "Kα2/Kα1 ratio"))
    first = 256
    header = raw.number("H", first, "range header length")
    if header <= 48:  # xylib: the fields read end at +48
        raise PatternFileError(f"{raw.path}: Bruker RAW2 range header of {header} bytes; expected more than 48")
    steps = raw.number("H", first + 2, "number of steps")
    step = raw.number("f", first + 12, "step size")
    start = raw.number("f", first + 16, "start 2θ")
    return start, step, steps, first + header, lines


def _version3(raw: RawBytes):
    """"RAW1.01": a 712-byte file header: +12 number of ranges (uint32), +608 anode (char[4]), +616 Kα mean,
    +624 Kα1, +632 Kα2, +640 Kβ (float64, Å), +648 Kα2/Kα1 ratio (float64). The first range at byte 712: +0 its
    header length (uint32, 304), +4 steps (uint32), +8 start θ, +16 start 2θ (float64, °), +176 step
    (float64, °), +192 step time (float32, s), +256 supplementary header size (uint32); counts from
    +304 + supplementary size."""
    _ranges(raw, raw.number("I", 12, "number of ranges"))
    lines = (raw.number("d", 624, "Kα1"), raw.number("d", 632, "Kα2"), raw.number("d", 648, "Kα2/Kα1 ratio"))
    first = 712
    header = raw.number("I", first, "range header length")
    if header != 304:
        raise PatternFileError(f"{raw.path}: Bruker RAW1.01 range header of {header} bytes; expected 304")
    steps = raw.number("I", first + 4, "number of steps")
    start = raw.number("d", first + 16, "start 2θ")
    step = raw.number("d", first + 176, "step size")
    supplementary = raw.number("I", first + 256, "supplementary header size")
    return start, step, steps, first + header + supplementary, lines


def _version4(raw: RawBytes):
    """"RAW4.00": a 61-byte file header, then segments of type (uint32) and length (uint32, the whole segment)
    until a type 0 or 160 opens the first range. Segment type 30 (hardware) holds +72 Kα mean, +80 Kα1,
    +88 Kα2, +96 Kβ (float64, Å), +104 Kα2/Kα1 ratio (float64), +116 anode (char[4]). The range: a 160-byte
    header, +32 scan type (char[24]), +72 start 2θ (float64, °), +80 step (float64, °), +88 steps (uint32),
    +92 step time (float32, s), +136 bytes per count (uint32, 4), +140 size of the range's own segments
    (uint32); counts from +160 + that size."""
    offset, lines = 61, (None, None, None)
    while (kind := raw.number("I", offset, "segment type")) not in (0, 160):
        length = raw.number("I", offset + 4, "segment length")
        if length < 8:
            raise PatternFileError(f"{raw.path}: Bruker RAW4.00 segment of type {kind} at byte {offset} is "
                                   f"{length} bytes long; a segment is at least 8")
        if kind == 30:
            lines = tuple(raw.number("d", offset + at, name)
                          for at, name in ((80, "Kα1"), (88, "Kα2"), (104, "Kα2/Kα1 ratio")))
        offset += length
    scan_type = raw.text(offset + 32, 24, "scan type")
    if scan_type not in TWO_THETA_SCAN_TYPES:
        raise PatternFileError(f"{raw.path}: Bruker RAW4.00 first range is a {scan_type!r} scan, not a 2θ scan "
                               f"({', '.join(TWO_THETA_SCAN_TYPES)})")
    start = raw.number("d", offset + 72, "start 2θ")
    step = raw.number("d", offset + 80, "step size")
    steps = raw.number("I", offset + 88, "number of steps")
    datum = raw.number("I", offset + 136, "bytes per count")
    if datum != COUNT_BYTES:
        raise PatternFileError(f"{raw.path}: Bruker RAW4.00 counts of {datum} bytes; read are float32 (4 bytes)")
    segments = raw.number("I", offset + 140, "range segments size")
    return start, step, steps, offset + 160 + segments, lines


def _ranges(raw: RawBytes, count: int) -> None:
    if count < 1:
        raise PatternFileError(f"{raw.path}: Bruker RAW holds no range (scan)")


READERS = {"RAW ": _version1, "RAW2": _version2, "RAW1.01": _version3, "RAW4.00": _version4}


def _radiation(path: Path, kalpha1, kalpha2, ratio):
    """The recorded lines: a wavelength of 0 (or one that is no number) in a binary header is not recorded; a
    recorded ratio of 0 is a scan without Kα2 (a Kα1 monochromator); no ratio (version 1) is KALPHA2_RATIO."""
    def wavelength(value):
        return value if value is not None and np.isfinite(value) and value > 0 else None

    ratio = ratio if ratio is not None and np.isfinite(ratio) and ratio >= 0 else None
    return recorded_radiation(path, wavelength(kalpha1), wavelength(kalpha2), ratio)
