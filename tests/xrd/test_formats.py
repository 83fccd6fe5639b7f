"""Instrument files: each format, written here from one known scan following the real format's layout, reads
back to the scan of its two-column twin, with the wavelength the file records; damaged files give one line."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.xrd.formats import read_scan
from xrdnet.xrd.measured import PatternFileError, read_pattern
from xrdnet.xrd.peaks import XRDSimulator
from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile
from xrdnet.xrd.wavelengths import WAVELENGTHS_ANGSTROM

START, STEP, N_POINTS = 10.0, 0.02, 3501  # 10..80° 2θ
CU = (WAVELENGTHS_ANGSTROM["CuKa1"], WAVELENGTHS_ANGSTROM["CuKa2"], 0.5)
MO = (WAVELENGTHS_ANGSTROM["MoKa1"], WAVELENGTHS_ANGSTROM["MoKa2"], 0.5)


def known_scan() -> tuple[np.ndarray, np.ndarray]:
    """Integer counts of rock salt at CuKα on a 0.02° scan (GSAS STD fields hold whole counts)."""
    rock_salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    peaks = XRDSimulator("CuKa", (5, 90)).simulate(rock_salt)
    grid = TwoThetaGrid(START, START + STEP * (N_POINTS - 1), STEP)
    signal = render_profile(peaks.two_theta, peaks.intensity, grid, ProfileSettings("gaussian", fwhm_deg=0.15),
                            peaks.wavelength)
    return grid.points, np.round(20000 * signal / signal.max() + 80 + 40 * np.exp(-grid.points / 20))


def write_xy(path: Path, two_theta, counts, sigma: bool = False) -> Path:
    columns = [two_theta, counts] + [np.sqrt(counts)] * sigma
    np.savetxt(path, np.column_stack(columns), fmt=["%.4f", "%d"] + ["%.3f"] * sigma, header="2theta counts")
    return path


def write_xrdml(path: Path, two_theta, counts, radiation=CU, intended="K-Alpha", listed=False) -> Path:
    """The layout of PANalytical Data Collector 5 (schema 1.5): wavelength block, then one Gonio scan."""
    kalpha1, kalpha2, ratio = radiation
    positions = (f"<listPositions>{' '.join(f'{t:.4f}' for t in two_theta)}</listPositions>" if listed else
                 f"<startPosition>{two_theta[0]:.4f}</startPosition><endPosition>{two_theta[-1]:.4f}</endPosition>")
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" status="Completed">
  <comment><entry>Configuration=Reflection-transmission spinner</entry></comment>
  <sample type="To be analyzed"><id>NaCl</id><name>NaCl</name></sample>
  <xrdMeasurement measurementType="Scan" status="Completed" sampleMode="Reflection">
    <usedWavelength intended="{intended}">
      <kAlpha1 unit="Angstrom">{kalpha1!r}</kAlpha1>
      <kAlpha2 unit="Angstrom">{kalpha2!r}</kAlpha2>
      <kBeta unit="Angstrom">1.3922500</kBeta>
      <ratioKAlpha2KAlpha1>{ratio!r}</ratioKAlpha2KAlpha1>
    </usedWavelength>
    <incidentBeamPath><xRayTube name="Cu LFF"><tension unit="kV">45</tension></xRayTube></incidentBeamPath>
    <scan appendNumber="0" mode="Continuous" scanAxis="Gonio" status="Completed">
      <header><startTimeStamp>2024-01-01T10:00:00+01:00</startTimeStamp></header>
      <dataPoints>
        <positions axis="2Theta" unit="deg">{positions}</positions>
        <positions axis="Omega" unit="deg"><startPosition>5.0</startPosition><endPosition>40.0</endPosition></positions>
        <commonCountingTime unit="seconds">0.5</commonCountingTime>
        <intensities unit="counts">{' '.join(f'{c:.0f}' for c in counts)}</intensities>
      </dataPoints>
    </scan>
  </xrdMeasurement>
</xrdMeasurements>
""")
    return path


def write_ras(path: Path, two_theta, counts, radiation=CU) -> Path:
    """The layout of SmartLab Studio II: header keys in quotes, then 2θ, counts, attenuator factor."""
    header = [("FILE_COMMENT", ""), ("HW_XG_TARGET_NAME", "Cu"), ("HW_XG_WAVE_LENGTH_ALPHA1", f"{radiation[0]!r}"),
              ("HW_XG_WAVE_LENGTH_ALPHA2", f"{radiation[1]!r}"), ("HW_XG_WAVE_LENGTH_BETA", "1.392250"),
              ("HW_XG_WAVE_LENGTH_UNIT", "Angstrom"), ("MEAS_SCAN_AXIS_X", "TwoThetaTheta"),
              ("MEAS_SCAN_START", f"{two_theta[0]:.4f}"), ("MEAS_SCAN_STOP", f"{two_theta[-1]:.4f}"),
              ("MEAS_SCAN_STEP", f"{STEP:.4f}"), ("MEAS_DATA_COUNT", str(len(two_theta))), ("MEAS_SCAN_UNIT_X", "deg")]
    # half the counts recorded behind a 2x attenuator: the intensity is counts times column 3
    attenuation = np.where(np.arange(len(counts)) % 2, 2.0, 1.0)
    rows = [f"{t:.4f} {c / a:.1f} {a:.4f}" for t, c, a in zip(two_theta, counts, attenuation)]
    lines = ["*RAS_DATA_START", "*RAS_HEADER_START", *(f'*{k} "{v}"' for k, v in header), "*RAS_HEADER_END",
             "*RAS_INT_START", *rows, "*RAS_INT_END", "*RAS_DATA_END"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return path


def write_brml(path: Path, two_theta, counts, radiation=CU) -> Path:
    """A zip holding Experiment0/RawData0.xml as DIFFRAC.SUITE writes it: the tube under FixedInformation,
    one <Datum> "time,1,2θ,θ,counts" per step."""
    data = "\n".join(f"<Datum>0.5,1,{t:.4f},{t / 2:.4f},{c:.0f}</Datum>" for t, c in zip(two_theta, counts))
    raw = f"""<?xml version="1.0" encoding="utf-8"?>
<RawData xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" AppVersion="4.2">
  <Identifier><Guid>00000000-0000-0000-0000-000000000000</Guid></Identifier>
  <DataRoutes>
    <DataRoute RouteFlag="Final">
      <ScanInformation VisibleName="Coupled TwoTheta/Theta">
        <ScanAxes><ScanAxisInfo AxisId="TwoTheta" AxisName="TwoTheta" Unit="°">
          <Start>{two_theta[0]:.4f}</Start><Stop>{two_theta[-1]:.4f}</Stop><Increment>{STEP}</Increment>
        </ScanAxisInfo></ScanAxes>
      </ScanInformation>
      <DataViews><RawDataView Start="0" Length="5" xsi:type="RecordView"/></DataViews>
      {data}
    </DataRoute>
  </DataRoutes>
  <FixedInformation><Instrument><PrimaryTracks><TrackInfoData><MountedOptics><InfoData xsi:type="Tube">
    <Tube><TubeMaterial Value="Cu"/>
      <WaveLengthAlpha1 Value="{radiation[0]!r}" Unit="Å"/><WaveLengthAlpha2 Value="{radiation[1]!r}" Unit="Å"/>
      <WaveLengthBeta Value="1.39222" Unit="Å"/><WaveLengthRatio Value="{radiation[2]!r}"/>
    </Tube>
  </InfoData></MountedOptics></TrackInfoData></PrimaryTracks></Instrument></FixedInformation>
</RawData>
"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("experimentCollection.xml", "<ExperimentCollection/>")
        archive.writestr("Experiment0/DataContainer.xml", "<DataContainer/>")
        archive.writestr("Experiment0/RawData0.xml", raw)
    return path


def _gsas_header(title: str, bank: str) -> str:
    return f"{title:<80}\n{'Instrument parameter      cu_kalpha.prm':<80}\n{bank:<80}\n"


def write_gsas_const(path: Path, two_theta, counts, kind: str = "STD") -> Path:
    """GSAS CONST: start and step in centidegrees; STD records hold 10 (I2 counters, F6.0 counts) fields,
    ESD records 5 (F8.0 counts, F8.0 σ) pairs."""
    fields, per_record = (([f"{1:2d}{c:6.0f}" for c in counts], 10) if kind == "STD"
                          else ([f"{c:8.0f}{np.sqrt(c):8.0f}" for c in counts], 5))
    records = ["".join(fields[i:i + per_record]).ljust(80) for i in range(0, len(fields), per_record)]
    bank = f"BANK 1 {len(counts)} {len(records)} CONST {100 * two_theta[0]:.2f} {100 * STEP:.2f} 0 0 {kind}"
    path.write_text(_gsas_header("NaCl CuKa", bank) + "\n".join(records) + "\n")
    return path


def write_fxye(path: Path, two_theta, counts) -> Path:
    """GSAS FXYE: one "2θ (centidegrees) counts σ" line per point."""
    rows = [f"{100 * t:12.4f} {c:12.2f} {np.sqrt(c):10.4f}" for t, c in zip(two_theta, counts)]
    bank = f"BANK 1 {len(counts)} {len(counts)} FXYE 0 0 0 0"
    path.write_text(_gsas_header("NaCl CuKa", bank) + "\n".join(rows) + "\n")
    return path


# Bruker binary RAW, written at the byte offsets documented in xrdnet.xrd.formats.bruker_raw (those of xylib's
# bruker_raw.cpp and GSAS-II's G2pwd_BrukerRAW.py): this checks the reader against the layout as the reference
# readers document it, not against a file an instrument wrote.

def _pack(buffer: bytearray, offset: int, kind: str, *values) -> None:
    struct.pack_into("<" + kind, buffer, offset, *values)


def _float32_counts(counts) -> bytes:
    return np.asarray(counts, dtype="<f4").tobytes()


def write_raw1(path: Path, two_theta, counts, radiation=CU) -> Path:
    """"RAW ": one 156-byte range header (Kα1, Kα2 as float32, no ratio), then the float32 counts."""
    header = bytearray(156)
    _pack(header, 0, "4sIffI", b"RAW ", len(counts), 1.0, STEP, 2)  # magic, steps, step time, step, scan mode
    _pack(header, 24, "ffff32sff", two_theta[0], two_theta[0] / 2, -1e6, -1e6, b"NaCl", radiation[0], radiation[1])
    _pack(header, 152, "I", 0)  # no range follows
    path.write_bytes(bytes(header) + _float32_counts(counts))
    return path


def write_raw2(path: Path, two_theta, counts, radiation=CU) -> Path:
    """"RAW2": a 256-byte file header (lines as float32), then a range with a 64-byte header."""
    header = bytearray(256)
    _pack(header, 0, "4sH", b"RAW2", 1)
    _pack(header, 168, "20s2sfff", b"12/01/26 10:00:00", b"Cu", *radiation)
    range_header = bytearray(64)
    _pack(range_header, 0, "HHIfff", 64, len(counts), 0, 1.0, STEP, two_theta[0])
    _pack(range_header, 46, "H", 295)  # temperature, K
    path.write_bytes(bytes(header + range_header) + _float32_counts(counts))
    return path


def write_raw3(path: Path, two_theta, counts, radiation=CU, ranges: int = 1) -> Path:
    """"RAW1.01": a 712-byte file header (lines as float64), then a 304-byte range header followed by a
    40-byte supplementary header, then the counts."""
    header = bytearray(712)
    _pack(header, 0, "7sxII10s10s", b"RAW1.01", 1, ranges, b"12/01/26", b"10:00:00")
    _pack(header, 608, "4s4xddddd", b"Cu", (radiation[0] * 2 + radiation[1]) / 3, radiation[0], radiation[1], 1.39222,
          radiation[2])
    range_header = bytearray(304)
    _pack(range_header, 0, "IIdd", 304, len(counts), two_theta[0] / 2, two_theta[0])
    _pack(range_header, 176, "d8xf", STEP, 1.0)
    _pack(range_header, 240, "d8xI", radiation[0], 40)  # used λ, supplementary header size
    path.write_bytes(bytes(header + range_header) + b"\xff" * 40 + _float32_counts(counts))
    return path


def _raw4_segment(kind: int, length: int, *fields: tuple[int, str, object]) -> bytes:
    segment = bytearray(length)
    _pack(segment, 0, "II", kind, length)
    for offset, form, value in fields:
        _pack(segment, offset, form, value)
    return bytes(segment)


def _raw4_range(two_theta, counts, scan_type: bytes = b"Locked Coupled", datum: int = 4) -> bytes:
    """A 160-byte range header, its 64-byte type-50 "2Theta" drive segment, then the counts."""
    header = bytearray(160)
    _pack(header, 0, "I", 160)
    _pack(header, 32, "24s", scan_type)
    _pack(header, 72, "ddIf4xff4xd", two_theta[0], STEP, len(counts), 1.0, 40.0, 40.0, CU[0])
    _pack(header, 136, "II", datum, 64)
    drive = _raw4_segment(50, 64, (12, "24s", b"2Theta"), (56, "d", two_theta[0]))
    return bytes(header) + drive + _float32_counts(counts)


def write_raw4(path: Path, two_theta, counts, radiation=CU, scan_type: bytes = b"Locked Coupled",
               datum: int = 4) -> Path:
    """"RAW4.00": a 61-byte file header; VarInfo (10), hardware (30: the lines as float64) and drive alignment
    (60) segments; then two ranges, of which the first is the scan (the second holds other counts)."""
    header = bytearray(61)
    _pack(header, 0, "7s5x12s10s", b"RAW4.00", b"12/01/26", b"10:00:00")
    segments = (_raw4_segment(10, 52, (12, "24s", b"SAMPLEID"), (36, "16s", b"NaCl"))
                + _raw4_segment(30, 120, (72, "d", (radiation[0] * 2 + radiation[1]) / 3), (80, "d", radiation[0]),
                                (88, "d", radiation[1]), (96, "d", 1.39222), (104, "d", radiation[2]),
                                (116, "4s", b"Cu"))
                + _raw4_segment(60, 76, (8, "I", 1), (12, "24s", b"2Theta"), (68, "d", 0.01)))
    first = _raw4_range(two_theta, counts, scan_type, datum)
    path.write_bytes(bytes(header) + segments + first + _raw4_range(two_theta, np.asarray(counts) * 3))
    return path


WRITERS = {"scan.xrdml": write_xrdml, "listed.xrdml": lambda p, t, c: write_xrdml(p, t, c, listed=True),
           "scan.ras": write_ras, "scan.brml": write_brml, "scan.gsa": write_gsas_const,
           "scan.gss": lambda p, t, c: write_gsas_const(p, t, c, kind="ESD"),
           "scan.fxye": write_fxye, "scan.xye": lambda p, t, c: write_xy(p, t, c, sigma=True),
           "v1.raw": write_raw1, "v2.raw": write_raw2, "v3.raw": write_raw3, "v4.raw": write_raw4}
RECORDS_WAVELENGTH = {"scan.xrdml", "listed.xrdml", "scan.ras", "scan.brml", "v1.raw", "v2.raw", "v3.raw", "v4.raw"}


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, Path]:
    """The known scan in every format, and its two-column twin scan.xy, in one folder."""
    folder = tmp_path_factory.mktemp("formats")
    two_theta, counts = known_scan()
    files = {"scan.xy": write_xy(folder / "scan.xy", two_theta, counts)}
    files.update({name: writer(folder / name, two_theta, counts) for name, writer in WRITERS.items()})
    return files


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_format_reads_back_to_its_two_column_twin(scans, name):
    two_theta, counts = read_pattern(scans["scan.xy"])
    scan = read_scan(scans[name])
    np.testing.assert_allclose(scan.two_theta, two_theta, atol=1e-9)
    np.testing.assert_allclose(scan.intensity, counts, rtol=1e-12)
    if name in RECORDS_WAVELENGTH:
        assert (scan.radiation.kalpha1_angstrom, scan.radiation.kalpha2_angstrom, scan.radiation.kalpha2_ratio) == CU
    else:
        assert scan.radiation is None


def test_the_wavelength_comes_from_the_file(tmp_path):
    two_theta, counts = known_scan()
    for writer, name in ((write_xrdml, "mo.xrdml"), (write_ras, "mo.ras"), (write_brml, "mo.brml"),
                         (write_raw1, "mo1.raw"), (write_raw2, "mo2.raw"), (write_raw3, "mo3.raw"),
                         (write_raw4, "mo4.raw")):
        radiation = read_scan(writer(tmp_path / name, two_theta, counts, radiation=MO)).radiation
        assert radiation.doublet and radiation.kalpha1_angstrom == MO[0] and radiation.kalpha2_angstrom == MO[1]
        # the intensity-weighted mean of the recorded doublet is pymatgen's MoKa
        assert radiation.mean_angstrom == pytest.approx(WAVELENGTHS_ANGSTROM["MoKa"], abs=2e-5)
    # a Kα1 monochromator: the file lists the tube's Kα2 but the scan has none
    single = read_scan(write_xrdml(tmp_path / "ka1.xrdml", two_theta, counts, intended="K-Alpha 1")).radiation
    assert not single.doublet and single.mean_angstrom == CU[0]


def test_content_wins_over_the_extension(scans, tmp_path):
    for name, renamed in (("scan.xrdml", "scan.xml"), ("scan.fxye", "gsas_scan.raw"), ("scan.ras", "scan.txt")):
        copy = tmp_path / renamed
        copy.write_bytes(scans[name].read_bytes())
        assert read_scan(copy).format == read_scan(scans[name]).format


def _zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_damaged_files_give_one_line_naming_the_file(scans, tmp_path):
    xrdml = scans["scan.xrdml"].read_text()
    ras = scans["scan.ras"].read_text()
    gsa = scans["scan.gsa"].read_text().splitlines()
    raw3, raw4, known = scans["v3.raw"].read_bytes(), scans["v4.raw"].read_bytes(), known_scan()
    damaged = {
        "truncated.xrdml": (xrdml[: len(xrdml) // 2], "not well-formed XML"),
        "no_2theta.xrdml": (xrdml.replace('axis="2Theta"', 'axis="Chi"'), "no <positions axis=\"2Theta\">"),
        "short.xrdml": (scans["listed.xrdml"].read_text().replace('unit="counts">', 'unit="counts">7 '),
                        "3501 2θ positions but 3502 intensities"),
        "words.ras": (ras.replace("*RAS_INT_START\n", "*RAS_INT_START\nten counts\n"), "expected numbers"),
        "no_data.ras": (ras.split("*RAS_INT_START")[0], "without a *RAS_INT_START"),
        "missing_records.gsa": ("\n".join(gsa[:-20]) + "\n", "announces 3501 points"),
        "tof.gsa": ("\n".join(gsa).replace(" CONST ", " RALF "), "not a constant-wavelength"),
        "words.fxye": (scans["scan.fxye"].read_text().replace("1000.0000", "ten"), "must be numbers"),
        "not_a_zip.brml": (b"PK\x03\x04" + bytes(range(200)), "not a readable BRML"),
        "empty.brml": (_zip_bytes({"Experiment0/DataContainer.xml": "<x/>"}), "without a RawData"),
        "bad_datum.brml": (_zip_bytes({"Experiment0/RawData0.xml": "<RawData><DataRoute><Datum>1,2</Datum></DataRoute></RawData>"}),
                           "is not 'time,1,2θ,θ,counts'"),
        "truncated_v3.raw": (raw3[:-1000], "the first range announces 3501 steps"),
        "header_cut_v4.raw": (raw4[:66], "Bruker RAW truncated: segment length at byte 65 lies past the end"),
        "no_range.raw": (raw3[:12] + struct.pack("<I", 0) + raw3[16:], "holds no range"),
        "rocking.raw": (write_raw4(tmp_path / "r.raw", *known, scan_type=b"Rocking Curve").read_bytes(),
                        "first range is a 'Rocking Curve' scan, not a 2θ scan"),
        "int16.raw": (write_raw4(tmp_path / "i.raw", *known, datum=2).read_bytes(), "counts of 2 bytes"),
        "v3_header.raw": (raw3[:712] + struct.pack("<I", 256) + raw3[716:], "range header of 256 bytes; expected 304"),
        "unknown.raw": (b"RAW5.00\0" + bytes(500), "unknown Bruker RAW version 'RAW5.00'"),
        "empty_v4.raw": (b"RAW4.00\0" + bytes(500), "first range is a '' scan"),
        "scan.spe": ("1 2\n3 4\n", "unsupported file type .spe"),
    }
    for name, (content, expected) in damaged.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(PatternFileError) as caught:
            read_scan(path)
            pytest.fail(f"{name} was read")
        message = str(caught.value)
        assert str(path) in message and expected in message and "\n" not in message, (name, message)


def test_predict_gives_the_same_answer_in_every_format_and_reports_the_wavelength(scans, tmp_path, capsys):
    """xrdnet-predict's own main() with the shipped model over the folder of formats plus damaged files."""
    from xrdnet.predict import main

    folder = scans["scan.xy"].parent
    (tmp_path / "broken.xrdml").write_text("<xrdMeasurements><xrdMeasurement>")
    (tmp_path / "bruker.raw").write_bytes(b"RAW1.01" + bytes(300))
    out = tmp_path / "results.json"
    assert main([str(folder), str(tmp_path / "broken.xrdml"), str(tmp_path / "bruker.raw"), "--top-k", "7",
                 "--out", str(out)]) == 0
    rows = {Path(r["file"]).name: r for r in json.loads(out.read_text())}
    assert set(rows) == {*scans, "broken.xrdml", "bruker.raw"}
    for name in ("broken.xrdml", "bruker.raw"):
        assert rows[name]["status"] == "skipped" and name in rows[name]["reason"] and "\n" not in rows[name]["reason"]
    twin = {t["crystal_system"]: t["probability"] for t in rows["scan.xy"]["top"]}
    for name in scans:
        row = rows[name]
        assert row["status"] == "ok", row
        probabilities = {t["crystal_system"]: t["probability"] for t in row["top"]}
        if name in RECORDS_WAVELENGTH:
            # the file records Kα1/Kα2/ratio, but the scan (rendered with one line per reflection) shows no
            # doublet, so it is read at the file's Kα1, as the default CuKa's twin is at CuKα1 (3 ppm apart)
            assert row["preprocessing"]["wavelength_from"] == "file" and row["preprocessing"]["kalpha2"] == "kept"
            assert row["preprocessing"]["kalpha2_seen"] == "one line"
            assert row["preprocessing"]["wavelength_angstrom"] == pytest.approx(CU[0])
            assert probabilities == pytest.approx(twin, abs=2e-3)
        else:
            assert row["preprocessing"]["wavelength_from"] == "default CuKa"
            assert probabilities == pytest.approx(twin, abs=1e-4)
        assert max(probabilities, key=probabilities.get) == max(twin, key=twin.get)
    assert "13 predicted, 2 skipped" in capsys.readouterr().out
    # --wavelength overrides what the files record; CSV carries the wavelength and where it came from
    csv_out = tmp_path / "results.csv"
    assert main([str(scans["scan.xrdml"]), str(scans["scan.xy"]), "--wavelength", "MoKa", "--out", str(csv_out)]) == 0
    table = list(csv.DictReader(csv_out.open()))
    assert [row["wavelength_from"] for row in table] == ["given", "given"]
    # MoKa names the doublet; the scans show one line per reflection, read as MoKα1
    assert all(float(row["wavelength_angstrom"]) == pytest.approx(WAVELENGTHS_ANGSTROM["MoKa1"]) for row in table)
    assert [row["kalpha2_seen"] for row in table] == ["one line", "one line"]
    assert {row["format"] for row in table} == {"xrdml", "columns"}
