"""Structures from a folder of CIF files, labelled by pymatgen's SpacegroupAnalyzer."""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

from pymatgen.core import Structure

from xrdnet.crystal import crystal_system_index
from xrdnet.structures.base import LabeledStructure, StructureError, detect_space_group
from xrdnet.utils.errors import first_line


def read_cif(path: Path) -> Structure:
    """First structure of a CIF file (conventional setting as written); StructureError naming the file otherwise."""
    from pymatgen.io.cif import CifParser

    # pymatgen warns about every rounding fix and missing tag, and logs some; none of it is actionable here
    logger = logging.getLogger("pymatgen.io.cif")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structures = CifParser(path).parse_structures(primitive=False)
    except Exception as error:
        raise StructureError(f"{path.name}: cannot parse CIF: {first_line(error)}") from None
    finally:
        logger.setLevel(level)
    if not structures:
        raise StructureError(f"{path.name}: cannot parse CIF: no structure in the file")
    return structures[0]


class CifDirectory:
    """The CIF files of one folder (not recursive), sorted by name; label = crystal system SpacegroupAnalyzer finds.

    path: the folder; symprec: SpacegroupAnalyzer tolerance in Å; pattern: glob for the file names.
    A file holding several structures contributes its first.
    """

    kind = "cif_dir"

    def __init__(self, path: str, symprec: float = 0.1, pattern: str = "*.cif"):
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ValueError(f"cif_dir: folder {str(folder)!r} does not exist")
        self.files = sorted(p for p in folder.glob(pattern) if p.is_file())
        if not self.files:
            raise ValueError(f"cif_dir: folder {str(folder)!r} has no files matching {pattern!r}")
        self.path, self.symprec, self.pattern = folder.resolve(), float(symprec), pattern
        self._digest: str | None = None

    def __len__(self) -> int:
        return len(self.files)

    def item_name(self, index: int) -> str:
        """The file name of item `index`, without parsing it (used in skip reports)."""
        return self.files[index].name

    def get(self, index: int) -> LabeledStructure:
        path = self.files[index]
        structure = read_cif(path)
        space_group = detect_space_group(path.name, structure, self.symprec)
        return LabeledStructure(
            name=path.name,
            structure=structure,
            label=crystal_system_index(space_group),
            space_group=space_group,
            source=self.kind,
            meta={"file": str(path), "formula": structure.composition.reduced_formula, "n_atoms": len(structure)},
        )

    def content_digest(self) -> str:
        """SHA-256 of the file names and contents, so that editing a CIF changes the dataset's cache key."""
        if self._digest is None:
            digest = hashlib.sha256()
            for path in self.files:
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
            self._digest = digest.hexdigest()
        return self._digest

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "path": str(self.path),
            "pattern": self.pattern,
            "symprec": self.symprec,
            "n_files": len(self.files),
            "content_sha256": self.content_digest(),
        }
