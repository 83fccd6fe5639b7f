"""Bruker DIFFRAC .brml (a zip of XML); binary .raw is read by bruker_raw.py.

.brml: `Experiment0/RawData0.xml` holds a <DataRoute> with one <Datum> per step,
"time,1,2θ,θ,counts" (2θ the third field, counts the last), and the tube's
<WaveLengthAlpha1 Value="1.5406" Unit="Å"/>, <WaveLengthAlpha2 .../>, <WaveLengthRatio .../> (the
tube may instead be described in `MeasurementContainer.xml` beside it). The first route with data
of the first RawData file is read.
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

