"""Bruker DIFFRAC files: .brml (a zip of XML) is read; binary .raw is recognized and refused with a reason.

.brml: `Experiment0/RawData0.xml` holds a <DataRoute> with one <Datum> per step,
"time,1,2θ,θ,counts" (2θ the third field, counts the last), and the tube's
<WaveLengthAlpha1 Value="1.5406" Unit="Å"/>, <WaveLengthAlpha2 .../>, <WaveLengthRatio .../> (the
tube may instead be described in `MeasurementContainer.xml` beside it). The first route with data
of the first RawData file is read.

.raw (RAW1.01, RAW2, RAW4.00) is binary, and no maintained reader installs from PyPI here (the
xylib bindings need SWIG and Boost to build): such a file is refused with one line asking for a
.brml or .xy export instead of being read by a guessed byte layout.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from xrdnet.utils.errors import first_line
from xrdnet.xrd.formats.scan import MeasuredScan, checked_scan, recorded_radiation
from xrdnet.xrd.formats.xml_tools import find_all, find_first, parse_xml
from xrdnet.xrd.measured import PatternFileError

FORMAT = "brml"
RAW_MAGIC = b"RAW"  # RAW1.01, RAW2, RAW4.00 and the first version's "RAW "


def read_brml(path: Path) -> MeasuredScan:
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted((n for n in archive.namelist() if Path(n).name.startswith("RawData") and n.endswith(".xml")),
                           key=lambda n: (n.count("/"), n))
            if not names:
                raise PatternFileError(f"{path}: Bruker BRML without a RawData*.xml inside")
            raw = parse_xml(path, archive.read(names[0]), names[0])
            container = str(Path(names[0]).with_name("MeasurementContainer.xml"))
            setup = parse_xml(path, archive.read(container), container) if container in archive.namelist() else None
    except (zipfile.BadZipFile, OSError, KeyError) as error:  # truncated or not a zip, a damaged member
        raise PatternFileError(f"{path}: not a readable BRML (zip) file: {first_line(error)}") from None
    route = next((r for r in find_all(raw, "DataRoute") if find_first(r, "Datum") is not None), None)
    if route is None:
        raise PatternFileError(f"{path}: {names[0]} holds no <Datum> data points")
    two_theta, counts = [], []
    for datum in find_all(route, "Datum"):
        fields = (datum.text or "").split(",")
        try:
            two_theta.append(float(fields[2]))
            counts.append(float(fields[-1]))
        except (IndexError, ValueError):
            raise PatternFileError(f"{path}: <Datum> {(datum.text or '')[:40]!r} is not "
                                   "'time,1,2θ,θ,counts'") from None
    radiation = _radiation(path, raw)
    if radiation is None and setup is not None:
        radiation = _radiation(path, setup)
    return checked_scan(path, np.array(two_theta), np.array(counts), radiation, FORMAT)


def _radiation(path: Path, root):
    def value(name: str) -> str | None:
        element = find_first(root, name)
        return element.get("Value") if element is not None else None

    return recorded_radiation(path, value("WaveLengthAlpha1"), value("WaveLengthAlpha2"), value("WaveLengthRatio"))


def refuse_bruker_raw(path: Path) -> MeasuredScan:
    version = path.read_bytes()[:7].decode("ascii", errors="replace").strip("\0 ")
    raise PatternFileError(f"{path}: Bruker binary RAW ({version}) is not supported: export the scan from DIFFRAC "
                           "as .brml or .xy")
