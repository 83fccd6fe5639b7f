"""A wheel (not an editable install) carries its configs and trains from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from xrdnet.xrd.learned_assignments import TABLES

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_trains_from_an_empty_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, env=ENV, capture_output=True, timeout=600)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # the fresh venv borrows this environment's dependencies (a path entry: its .pth files, and so this
    # checkout's editable xrdnet, are not read), and gets xrdnet itself only from the wheel
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", *map(str, wheels.glob("*.whl"))],
                   check=True, env=ENV, capture_output=True, timeout=300)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import xrdnet.config as c; print(c.__file__); print(c.CONFIG_DIR)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert all(str(venv) in line for line in where), where  # code and configs from the installed wheel
    # the learned feature sets (the shipped model's indexing_v14 among them) need their trial-assignment tables,
    # data files the wheel must carry; each loads against its recorded sha256
    stored = subprocess.run([str(venv / "bin" / "python"), "-c", "from xrdnet.xrd import learned_assignments as l\n"
                             "for t in l.TABLES.values(): print(t.path, len(l.load_assignments(t.path, t.sha256)['monoclinic_positions']))"],
                            check=True, capture_output=True, text=True, cwd=tmp_path).stdout.splitlines()
    assert len(stored) == len(TABLES) and all(str(venv) in line and int(line.split()[-1]) > 0 for line in stored), stored
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    result = subprocess.run([str(venv / "bin" / "xrdnet-train"), "debug=fast", "data.source.n=100", "data.real_source=null",
                             "data.build_workers=1", "callbacks.rich_progress_bar=null"],
                            cwd=run_dir, env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "xrdnet run finished" in result.stdout
    assert (run_dir / "data").is_dir() and (run_dir / "outputs").is_dir()  # under the folder it runs from
