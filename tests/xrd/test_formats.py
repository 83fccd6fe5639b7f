"""Instrument files: each format, written here from one known scan following the real format's layout, reads
back to the scan of its two-column twin, with the wavelength the file records; damaged files give one line."""

from __future__ import annotations

import csv
import io
import json
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


WRITERS = {"scan.xrdml": write_xrdml, "listed.xrdml": lambda p, t, c: write_xrdml(p, t, c, listed=True),
           "scan.ras": write_ras, "scan.brml": write_brml, "scan.gsa": write_gsas_const,
           "scan.gss": lambda p, t, c: write_gsas_const(p, t, c, kind="ESD"),
           "scan.fxye": write_fxye, "scan.xye": lambda p, t, c: write_xy(p, t, c, sigma=True)}
RECORDS_WAVELENGTH = {"scan.xrdml", "listed.xrdml", "scan.ras", "scan.brml"}


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
    for writer, suffix in ((write_xrdml, "xrdml"), (write_ras, "ras"), (write_brml, "brml")):
        radiation = read_scan(writer(tmp_path / f"mo.{suffix}", two_theta, counts, radiation=MO)).radiation
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
        "bruker.raw": (b"RAW4.00\0" + bytes(500), "Bruker binary RAW (RAW4.00) is not supported"),
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
            # read at the file's Kα1/Kα2/ratio, whose mean (1.541837 Å) is within 3 ppm of the default CuKa
            assert row["preprocessing"]["wavelength_from"] == "file" and row["preprocessing"]["kalpha2"] == "stripped"
            assert row["preprocessing"]["wavelength_angstrom"] == pytest.approx((CU[0] + CU[2] * CU[1]) / (1 + CU[2]))
            assert probabilities == pytest.approx(twin, abs=2e-3)
        else:
            assert row["preprocessing"]["wavelength_from"] == "default CuKa"
            assert probabilities == pytest.approx(twin, abs=1e-4)
        assert max(probabilities, key=probabilities.get) == max(twin, key=twin.get)
    assert "9 predicted, 2 skipped" in capsys.readouterr().out
    # --wavelength overrides what the files record; CSV carries the wavelength and where it came from
    csv_out = tmp_path / "results.csv"
    assert main([str(scans["scan.xrdml"]), str(scans["scan.xy"]), "--wavelength", "MoKa", "--out", str(csv_out)]) == 0
    table = list(csv.DictReader(csv_out.open()))
    assert [row["wavelength_from"] for row in table] == ["given", "given"]
    assert all(float(row["wavelength_angstrom"]) == pytest.approx(WAVELENGTHS_ANGSTROM["MoKa"]) for row in table)
    assert {row["format"] for row in table} == {"xrdml", "columns"}
