"""Materials Project structures as a StructureSource: downloaded once per query, then read from data/.

    data/source=materials_project data.source.chemsys=Si-O data.source.num_structures=200

The first use of a query downloads the matching materials (mp_client.py: needs xrdnet[mp], an API key and
the network, each checked before anything else, each failure one line) into
`<data_dir>/materials_project/query-<hash of query and endpoint>.json.gz`, written atomically, holding the
query, the MP ids, the structures and MP's database version. Every later use reads that file and needs
neither key nor network; copying the file to another machine's data/ carries the exact set along.

Labels: the crystal system pymatgen's SpacegroupAnalyzer (spglib) finds at `symprec` (Å), the same call and
tolerance as every other source, so that MP sets are labelled exactly like the AFLOW and CIF sets. MP's own
symmetry field (spglib at 0.1 Å too, but another spglib version) is kept in each item's meta with
`system_agrees_with_mp`, so disagreements can be listed rather than silently mixed in.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock
from pymatgen.core import Structure

from xrdnet.crystal import class_index, crystal_system_index
from xrdnet.structures.base import LabeledStructure, detect_space_group
from xrdnet.structures.mp_client import (
    DEFAULT_ENDPOINT,
    MaterialsProjectError,
    MaterialsProjectQuery,
    check_reachable,
    client_class,
    download,
    resolve_api_key,
)
from xrdnet.utils.atomic import atomic_path
from xrdnet.utils.errors import first_line

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CACHE_FOLDER = "materials_project"


class MaterialsProjectStructures:
    """The materials of one Materials Project query (see MaterialsProjectQuery for the criteria), by MP id.

    data_dir: where the download is cached; symprec: SpacegroupAnalyzer tolerance in Å; api_key: else
    MP_API_KEY (a key written here is saved with the run's config; prefer the variable); endpoint: the API's
    address; timeout_s: the limit on the first request, which tells whether the server can be reached;
    client_factory: builds the mp-api client (tests pass a fake).
    """

    kind = "materials_project"

    def __init__(self, data_dir: str | os.PathLike, chemsys=None, elements=None, exclude_elements=None,
                 energy_above_hull_max: float | None = None, nsites_max: int | None = None,
                 theoretical: bool | None = None, include_gnome: bool = False, num_structures: int | None = None,
                 symprec: float = 0.1, api_key: str | None = None, endpoint: str = DEFAULT_ENDPOINT,
                 timeout_s: float = 10.0, client_factory: Callable[..., Any] | None = None):
        self.query = MaterialsProjectQuery.create(chemsys, elements, exclude_elements, energy_above_hull_max, nsites_max,
                                                  theoretical, include_gnome, num_structures)
        self.symprec, self.endpoint = float(symprec), str(endpoint)
        self.cache_file = cache_path(data_dir, self.query, self.endpoint)
        cached = read_cache(self.cache_file, self.query, self.endpoint)
        if cached is None:
            cached = self._download(api_key, timeout_s, client_factory)
        self.records: list[dict] = cached["structures"]
        self.database_version: str = cached.get("database_version", "")
        if not self.records:
            raise MaterialsProjectError(f"materials_project: no material matches {self.query.describe()} ({self.cache_file})")

    def _download(self, api_key, timeout_s, client_factory) -> dict:
        # the checks that need nothing from the server come first, then one short request, then the download
        factory = client_factory or client_class()
        key = resolve_api_key(api_key)
        database_version = check_reachable(self.endpoint, timeout_s)
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        # sweep jobs and DDP ranks starting together: one downloads, the others then read its file
        with FileLock(self.cache_file.with_name(self.cache_file.name + ".lock")):
            cached = read_cache(self.cache_file, self.query, self.endpoint)
            if cached is not None:
                return cached
            log.info("Downloading Materials Project structures for %s", self.query.describe())
            records = download(self.query, key, self.endpoint, factory)
            cached = write_cache(self.cache_file, self.query, self.endpoint, records, database_version)
        log.info("Saved %d Materials Project structures to %s", len(records), self.cache_file)
        return cached

    def __len__(self) -> int:
        return len(self.records)

    @property
    def material_ids(self) -> list[str]:
        return [r["material_id"] for r in self.records]

    def item_name(self, index: int) -> str:
        """'<MP id>-<formula>', e.g. 'mp-149-Si'."""
        record = self.records[index]
        return f"{record['material_id']}-{record['formula']}"

    def get(self, index: int) -> LabeledStructure:
        record = self.records[index]
        name = self.item_name(index)
        structure = Structure.from_dict(record["structure"])
        space_group = detect_space_group(name, structure, self.symprec)
        label = crystal_system_index(space_group)
        mp_system = record.get("mp_crystal_system")
        meta = {
            "material_id": record["material_id"],
            "formula": record["formula"],
            "mp_space_group": record.get("mp_space_group"),
            "mp_crystal_system": mp_system,
            "system_agrees_with_mp": None if mp_system is None else class_index(mp_system) == label,
            "energy_above_hull": record.get("energy_above_hull"),
            "n_atoms": len(structure),
        }
        return LabeledStructure(name, structure, label, space_group, self.kind, meta)

    def describe(self) -> dict:
        """The query and the downloaded ids: the dataset's cache key, and so its manifest, lists every MP id."""
        return {
            "kind": self.kind,
            "query": self.query.describe(),
            "endpoint": self.endpoint,
            "database_version": self.database_version,
            "cache_file": f"{CACHE_FOLDER}/{self.cache_file.name}",
            "symprec": self.symprec,
            "material_ids": self.material_ids,
        }


def cache_path(data_dir: str | os.PathLike, query: MaterialsProjectQuery, endpoint: str) -> Path:
    """Where the download of `query` at `endpoint` is kept under data_dir."""
    return Path(data_dir).expanduser() / CACHE_FOLDER / f"query-{query.digest(endpoint)}.json.gz"


def read_cache(path: Path, query: MaterialsProjectQuery, endpoint: str) -> dict | None:
    """The cached download of `query` at `endpoint`; None when absent, unreadable (with a warning) or for another query."""
    if not path.exists():
        return None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            cached = json.load(stream)
        matches = (cached["format"] == CACHE_FORMAT and cached["query"] == query.describe()
                   and cached["endpoint"] == endpoint and isinstance(cached["structures"], list))
    except (OSError, ValueError, KeyError, TypeError, EOFError) as error:
        log.warning("%s: unreadable (%s); downloading again", path, first_line(error, with_type=True))
        return None
    if not matches:
        log.warning("%s: written for another query; downloading again", path)
        return None
    return cached


def write_cache(path: Path, query: MaterialsProjectQuery, endpoint: str, records: list[dict], database_version: str) -> dict:
    """Write the download of `query` (mp_client.parse_documents records) atomically; returns what was written."""
    cached = {"format": CACHE_FORMAT, "query": query.describe(), "endpoint": endpoint,
              "database_version": database_version, "downloaded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "material_ids": [r["material_id"] for r in records], "structures": records}
    with atomic_path(path, suffix=".json.gz") as tmp:
        with gzip.open(tmp, "wt", encoding="utf-8") as stream:
            json.dump(cached, stream)
    return cached
