"""Atomic writes leave a whole file with the permissions an ordinary open() would give it."""

import os
import stat

import pytest

from xrdnet.utils.atomic import atomic_path, write_text_atomic


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_files_written_atomically_are_group_and_other_readable_under_umask_022(tmp_path, umask_022):
    path = write_text_atomic(tmp_path / "report.json", "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    with atomic_path(tmp_path / "arrays.npz") as tmp:
        tmp.write_bytes(b"data")
    assert stat.S_IMODE((tmp_path / "arrays.npz").stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "manifest.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
