"""CifDirectory: known structures read and labelled correctly; broken input gives errors naming the file or folder."""

from __future__ import annotations

import pickle

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from xrdnet.crystal import class_index
from xrdnet.structures import CifDirectory, StructureError

# a cell edge and an atom-site loop with no atoms: pymatgen cannot build a structure from it
MALFORMED_CIF = "data_broken\n_cell_length_a 5.0\nloop_\n_atom_site_label\n"


def _write(folder, name, structure):
    CifWriter(structure).write_file(folder / name)


@pytest.fixture
def cif_folder(tmp_path):
    _write(tmp_path, "a_rocksalt.cif", Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]))
    _write(tmp_path, "b_rutile.cif", Structure.from_spacegroup(
        "P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"], [[0, 0, 0], [0.3048, 0.3048, 0]]))
    _write(tmp_path, "c_wurtzite.cif", Structure.from_spacegroup(
        "P6_3mc", Lattice.hexagonal(3.25, 5.21), ["Zn", "O"], [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.382]]))
    (tmp_path / "notes.txt").write_text("not a CIF, not matched by the pattern")
    return tmp_path


def test_known_structures_get_their_space_group_and_system(cif_folder):
    source = CifDirectory(str(cif_folder))
    items = [source.get(i) for i in range(len(source))]
    assert [i.name for i in items] == ["a_rocksalt.cif", "b_rutile.cif", "c_wurtzite.cif"]
    assert [i.space_group for i in items] == [225, 136, 186]
    assert [i.label for i in items] == [class_index("cubic"), class_index("tetragonal"), class_index("hexagonal")]
    assert items[1].structure.composition.reduced_formula == "TiO2" and len(items[1].structure) == 6
    assert all(i.source == "cif_dir" for i in items)
    assert pickle.loads(pickle.dumps(source)).get(0).space_group == 225


def test_malformed_cif_is_a_structure_error_naming_the_file(cif_folder):
    (cif_folder / "b_broken.cif").write_text(MALFORMED_CIF)
    source = CifDirectory(str(cif_folder))
    assert source.item_name(1) == "b_broken.cif"  # named in skip reports without parsing
    with pytest.raises(StructureError, match=r"^b_broken\.cif: cannot parse CIF: "):
        source.get(1)
    assert source.get(0).space_group == 225  # the other files are unaffected


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=rf"cif_dir: folder '{tmp_path}' has no files matching '\*\.cif'"):
        CifDirectory(str(tmp_path))
    with pytest.raises(ValueError, match="cif_dir: folder .*nowhere' does not exist"):
        CifDirectory(str(tmp_path / "nowhere"))


def test_description_changes_when_a_file_changes(cif_folder):
    before = CifDirectory(str(cif_folder)).describe()
    assert before["n_files"] == 3 and before["symprec"] == 0.1
    _write(cif_folder, "a_rocksalt.cif", Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.70), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]))
    assert CifDirectory(str(cif_folder)).describe()["content_sha256"] != before["content_sha256"]


def test_unknown_element_and_malformed_files_are_skipped_by_name_in_a_build(cif_folder, tmp_path_factory):
    from xrdnet.data.dataset import build_or_load
    from xrdnet.xrd.peaks import XRDSimulator

    rock_salt = (cif_folder / "a_rocksalt.cif").read_text()
    (cif_folder / "d_unknown_element.cif").write_text(rock_salt.replace("Cl", "Xx"))
    (cif_folder / "e_broken.cif").write_text(MALFORMED_CIF)
    source = CifDirectory(str(cif_folder))
    for engine in ("fast", "pymatgen"):
        dataset = build_or_load(tmp_path_factory.mktemp(engine), source, XRDSimulator(engine=engine), num_workers=1,
                                progress=False, max_skip_fraction=None)
        assert list(dataset.names) == ["a_rocksalt.cif", "b_rutile.cif", "c_wurtzite.cif"]
        skipped = {s["name"]: s["reason"] for s in dataset.manifest["skipped"]}
        assert set(skipped) == {"d_unknown_element.cif", "e_broken.cif"}
        assert "scattering" in skipped["d_unknown_element.cif"] and "Xx" in skipped["d_unknown_element.cif"]
        assert "e_broken.cif: cannot parse CIF" in skipped["e_broken.cif"]
        assert all("\n" not in reason for reason in skipped.values())
