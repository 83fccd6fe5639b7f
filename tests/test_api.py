"""The Python API: the README's example as written, and the API agreeing with xrdnet-predict's path."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

import xrdnet
from xrdnet.predictor import CheckpointError

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_api_example() -> str:
    """The first ```python block of the README's "Python API" section."""
    section = README.read_text().split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the Python API section has no python example"
    return blocks[0]


@pytest.fixture(scope="module")
def model():
    return xrdnet.load_model()


@pytest.fixture(scope="module")
def rock_salt() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_api_example(), "README.md (Python API)", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("cubic ")  # rock salt, the example's structure
    assert (tmp_path / "rock_salt.cif").is_file()


def test_import_xrdnet_loads_neither_torch_nor_pymatgen():
    code = "import sys, xrdnet; print(sorted(m for m in ('torch', 'pymatgen.core') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_predictions_list_every_class_and_follow_the_cli_path(model, rock_salt, tmp_path):
    result = model.predict(rock_salt)
    assert list(result.probabilities) == model.class_names and sum(result.probabilities.values()) == pytest.approx(1, abs=1e-5)
    assert result.ranked(1) == [(result.top, result.top_probability)]
    assert result.as_dict()["top"] == result.top and result.source == "NaCl"
    two_theta, intensity = xrdnet.simulate(rock_salt, model)
    np.testing.assert_array_equal(two_theta, model.two_theta)
    assert intensity.max() == pytest.approx(1.0)
    # a scan file and the same arrays give the same answer; the file has no wavelength, so CuKa is used
    counts = 5000 * intensity + 30
    np.savetxt(tmp_path / "scan.xy", np.column_stack([two_theta, counts]))
    from_file, from_arrays = model.predict([tmp_path / "scan.xy", tmp_path / "scan.xy"])[0], model.predict_pattern(two_theta, counts)
    assert from_file.probabilities == pytest.approx(from_arrays.probabilities, abs=1e-6)
    assert from_file.preprocessing["wavelength_from"] == "default CuKa" and from_arrays.preprocessing["wavelength_from"] == "given"
    # the wavelength matters: the same arrays read at MoKα are another pattern
    assert model.predict_pattern(two_theta, counts, wavelength="MoKa").probabilities != pytest.approx(from_arrays.probabilities, abs=1e-3)


def test_bad_inputs_give_one_line_naming_them(model, tmp_path):
    with pytest.raises(ValueError, match="absent.xrdml: no such file"):
        model.predict(tmp_path / "absent.xrdml")
    with pytest.raises(CheckpointError, match="missing.ckpt: checkpoint not found"):
        xrdnet.load_model(tmp_path / "missing.ckpt")
    with pytest.raises(ValueError, match="Kα2 stripping needs a Kα doublet"):
        model.predict_pattern(np.linspace(10, 80, 100), np.ones(100), wavelength="CuKa1", kalpha2="strip")
    with pytest.raises(ValueError, match="only 3 data points"):
        model.predict_pattern([10, 20, 30], [1, 2, 3])


def test_a_call_below_the_lattice_the_lines_index_in_names_the_more_symmetric_cell(model, monkeypatch):
    """The API reports what xrdnet-predict notes: silicon's lines called tetragonal index in the cF 5.431 Å cell."""
    silicon = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
    assert model.predict(silicon).top == "cubic" and model.predict(silicon).more_symmetric_cell is None
    tetragonal = np.eye(len(model.class_names))[model.class_names.index("tetragonal")]
    monkeypatch.setattr(model.predictor, "predict_proba", lambda profiles, *args: np.tile(tetragonal, (len(profiles), 1)))
    result = model.predict(silicon)
    assert result.top == "tetragonal" and result.cell is not None and result.cell.lattice.startswith("t")
    system, cell = result.more_symmetric_cell
    assert system == "cubic" and cell.lattice == "cF" and cell.a == pytest.approx(5.431, abs=0.01)
    assert result.as_dict()["more_symmetric_cell"]["crystal_system"] == "cubic"
