"""PANalytical .xrdml: the XML that Data Collector and HighScore write (schema www.xrdml.com, versions 1.0-2.x).

    <xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5">
      <xrdMeasurement measurementType="Scan">
        <usedWavelength intended="K-Alpha">           "K-Alpha 1": a Kα1 monochromator, one line
          <kAlpha1 unit="Angstrom">1.5405980</kAlpha1>
          <kAlpha2 unit="Angstrom">1.5444260</kAlpha2>
          <ratioKAlpha2KAlpha1>0.5</ratioKAlpha2KAlpha1>
        </usedWavelength>
        <scan scanAxis="Gonio">
          <dataPoints>
            <positions axis="2Theta" unit="deg">       startPosition + endPosition (evenly spaced),
              <startPosition>10</startPosition>        or listPositions (one per point)
              <endPosition>80</endPosition>
            </positions>
            <commonCountingTime unit="seconds">1</commonCountingTime>   or countingTimes, one per point
            <intensities unit="counts">...</intensities>                 <counts> before schema 1.5

The first scan of the first measurement is read; per-point counting times turn counts into counts/s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xrdnet.xrd.formats.scan import MeasuredScan, checked_scan, recorded_radiation
from xrdnet.xrd.formats.xml_tools import child, find_all, find_first, local_name, numbers, parse_xml
from xrdnet.xrd.measured import PatternFileError

FORMAT = "xrdml"


def read_xrdml(path: Path) -> MeasuredScan:
    root = parse_xml(path, path.read_bytes(), "the file")
    if local_name(root) != "xrdMeasurements":
        raise PatternFileError(f"{path}: not an XRDML file (root element <{local_name(root)}>, expected <xrdMeasurements>)")
    measurement = find_first(root, "xrdMeasurement")
    scan = find_first(measurement, "scan") if measurement is not None else None
    points = find_first(scan, "dataPoints") if scan is not None else None
    if points is None:
        raise PatternFileError(f"{path}: XRDML file without a <scan> with <dataPoints>")
    counts_element = child(points, "intensities")
    if counts_element is None:  # schema before 1.5
        counts_element = child(points, "counts")
    if counts_element is None:
        raise PatternFileError(f"{path}: XRDML scan without <intensities> or <counts>")
    counts = numbers(path, counts_element.text, f"<{local_name(counts_element)}>")
    times = child(points, "countingTimes")
    if times is not None:
        seconds = numbers(path, times.text, "<countingTimes>")
        if seconds.size != counts.size or np.any(seconds <= 0):
            raise PatternFileError(f"{path}: <countingTimes> must hold one positive time per point")
        counts = counts / seconds
    two_theta = _two_theta(path, points, counts.size)
    return checked_scan(path, two_theta, counts, _radiation(path, measurement), FORMAT)


def _two_theta(path: Path, points, n_points: int) -> np.ndarray:
    axis = next((p for p in find_all(points, "positions") if p.get("axis") == "2Theta"), None)
    if axis is None:
        raise PatternFileError(f"{path}: XRDML scan has no <positions axis=\"2Theta\">")
    listed = child(axis, "listPositions")
    if listed is not None:
        return numbers(path, listed.text, "2Theta <listPositions>")
    start, end = child(axis, "startPosition"), child(axis, "endPosition")
    if start is None or end is None:
        raise PatternFileError(f"{path}: 2Theta is not scanned (no start/end or list positions)")
    (first,), (last,) = numbers(path, start.text, "2Theta <startPosition>"), numbers(path, end.text, "2Theta <endPosition>")
    return np.linspace(first, last, n_points)


def _radiation(path: Path, measurement):
    used = child(measurement, "usedWavelength")
    if used is None:
        return None

    def text(name: str) -> str | None:
        element = child(used, name)
        return element.text.strip() if element is not None and element.text else None

    # intended="K-Alpha 1": the optics pass Kα1 only, though the file still lists the tube's Kα2
    single_line = (used.get("intended") or "").replace(" ", "").lower() == "k-alpha1"
    return recorded_radiation(path, text("kAlpha1"), text("kAlpha2"), text("ratioKAlpha2KAlpha1"), single_line)
