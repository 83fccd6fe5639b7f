"""Talking to the Materials Project: the query, the API key, a bounded reachability check, the download.

Uses the official client `mp-api` (the optional extra xrdnet[mp]), imported only when a download is
needed. Every failure before or during the download is a MaterialsProjectError with one line that
says what to do; MaterialsProjectStructures (materials_project.py) caches what comes back.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from xrdnet.utils.errors import SetupError, first_line

DEFAULT_ENDPOINT = "https://api.materialsproject.org/"
INSTALL_HINT = "pip install 'xrdnet[mp]'"
KEY_HINT = "set MP_API_KEY (a key from https://next-gen.materialsproject.org/api) or data.source.api_key"
# what each downloaded material keeps: the structure to simulate, its id, and MP's own symmetry for comparison
FIELDS = ["material_id", "formula_pretty", "structure", "symmetry", "energy_above_hull"]
PAGE_SIZE = 1000  # documents per request; the server pages larger answers


class MaterialsProjectError(SetupError):
    """The Materials Project cannot be queried (no client, no key, no network, a refused query)."""


@dataclass(frozen=True)
class MaterialsProjectQuery:
    """Which materials to download.

    chemsys: chemical system(s) such as "Si-O" (exactly these elements); elements: materials containing all of
    these; exclude_elements: none of these; energy_above_hull_max: eV/atom above the convex hull (0: stable only);
    nsites_max: atoms in MP's cell; theoretical: False keeps materials matched to an ICSD entry (experimentally
    known), True only the unmatched, None both; include_gnome: the GNoME predicted crystals too;
    num_structures: at most this many (the server's order decides which), None: all that match.
    """

    chemsys: tuple[str, ...] | None = None
    elements: tuple[str, ...] | None = None
    exclude_elements: tuple[str, ...] | None = None
    energy_above_hull_max: float | None = None
    nsites_max: int | None = None
    theoretical: bool | None = None
    include_gnome: bool = False
    num_structures: int | None = None

    @classmethod
    def create(cls, chemsys=None, elements=None, exclude_elements=None, energy_above_hull_max=None, nsites_max=None,
               theoretical=None, include_gnome=False, num_structures=None) -> MaterialsProjectQuery:
        """A query from config values (strings or lists, numbers as strings), normalised so equal queries hash equal."""
        if num_structures is not None and int(num_structures) < 1:
            raise ValueError(f"materials_project: num_structures must be >= 1 or null, got {num_structures}")
        return cls(
            chemsys=_names(chemsys),
            elements=_names(elements),
            exclude_elements=_names(exclude_elements),
            energy_above_hull_max=None if energy_above_hull_max is None else float(energy_above_hull_max),
            nsites_max=None if nsites_max is None else int(nsites_max),
            theoretical=None if theoretical is None else bool(theoretical),
            include_gnome=bool(include_gnome),
            num_structures=None if num_structures is None else int(num_structures),
        )

    def describe(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    def digest(self, endpoint: str) -> str:
        """12 hex digits naming the cache file of this query at this endpoint."""
        key = json.dumps({"query": self.describe(), "endpoint": endpoint}, sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def search_kwargs(self) -> dict:
        """Keyword arguments of mp-api's MPRester().materials.summary.search for this query."""
        kwargs: dict[str, Any] = {"fields": FIELDS, "deprecated": False, "include_gnome": self.include_gnome}
        if self.chemsys:
            kwargs["chemsys"] = list(self.chemsys)
        if self.elements:
            kwargs["elements"] = list(self.elements)
        if self.exclude_elements:
            kwargs["exclude_elements"] = list(self.exclude_elements)
        if self.energy_above_hull_max is not None:
            kwargs["energy_above_hull"] = (0.0, self.energy_above_hull_max)
        if self.nsites_max is not None:
            kwargs["num_sites"] = (1, self.nsites_max)
        if self.theoretical is not None:
            kwargs["theoretical"] = self.theoretical
        if self.num_structures is not None:
            # whole pages up to num_structures; download() keeps the first num_structures
            kwargs["chunk_size"] = min(PAGE_SIZE, self.num_structures)
            kwargs["num_chunks"] = math.ceil(self.num_structures / kwargs["chunk_size"])
        return kwargs


def _names(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    return tuple(str(v) for v in values) or None


def client_class() -> type:
    """mp-api's MPRester; MaterialsProjectError with the install line when the extra is missing."""
    try:
        from mp_api.client import MPRester
    except ImportError:
        raise MaterialsProjectError(f"materials_project: the Materials Project client is not installed: {INSTALL_HINT}") from None
    return MPRester


def resolve_api_key(api_key: str | None) -> str:
    """The key given, else MP_API_KEY, else pymatgen's PMG_MAPI_KEY setting; MaterialsProjectError when none is set."""
    key = api_key or os.environ.get("MP_API_KEY")
    if not key:
        from pymatgen.core import SETTINGS

        key = SETTINGS.get("PMG_MAPI_KEY")
    if not key:
        raise MaterialsProjectError(f"materials_project: no API key: {KEY_HINT}")
    return str(key)


def check_reachable(endpoint: str, timeout_s: float) -> str:
    """GET the endpoint's heartbeat once, within timeout_s; the database version it reports.

    mp-api's own first requests have no time limit (a dropped connection would hang for minutes), so this
    one, without retries, decides quickly whether there is a network path to the server at all.
    """
    import requests

    url = endpoint.rstrip("/") + "/heartbeat"
    try:
        response = requests.get(url, timeout=timeout_s)
    except requests.RequestException as error:
        raise MaterialsProjectError(
            f"materials_project: cannot reach {url} within {timeout_s:g} s ({type(error).__name__}); "
            f"check the network or copy a downloaded cache into data/materials_project/"
        ) from None
    try:  # any answer means the server is reachable; the version is only recorded
        return str(response.json().get("db_version", ""))
    except (ValueError, AttributeError):
        return ""


def download(query: MaterialsProjectQuery, api_key: str, endpoint: str,
             client_factory: Callable[..., Any] | None = None) -> list[dict]:
    """Documents of the materials matching `query`, as parse_documents() records, sorted by material id.

    client_factory(api_key=..., endpoint=...) builds the client (tests pass a fake; default: MPRester).
    mp-api bounds each request itself (20 s timeout, at most 3 retries).
    """
    factory = client_factory or client_class()
    try:
        client = factory(api_key=api_key, endpoint=endpoint, use_document_model=False)
        documents = client.materials.summary.search(**query.search_kwargs())
    except MaterialsProjectError:
        raise
    except Exception as error:  # mp-api raises MPRestError, requests errors, pydantic errors: all end the download
        raise MaterialsProjectError(f"materials_project: query at {endpoint} failed: {first_line(error, with_type=True)}") from None
    records = parse_documents(documents)
    if query.num_structures is not None:
        records = records[:query.num_structures]
    return sorted(records, key=lambda r: material_id_sort_key(r["material_id"]))


def parse_documents(documents: Iterable[Any]) -> list[dict]:
    """Summary documents (dicts or mp-api document models) -> {material_id, formula, structure (as dict),
    mp_space_group, mp_crystal_system, energy_above_hull}; a document without a structure is an error."""
    from pymatgen.core import Structure

    records = []
    for document in documents:
        material_id = str(_field(document, "material_id"))
        structure = _field(document, "structure")
        if structure is None:
            raise MaterialsProjectError(f"materials_project: document {material_id} has no structure")
        if not isinstance(structure, Structure):
            structure = Structure.from_dict(structure)
        symmetry = _field(document, "symmetry") or {}
        crystal_system = _field(symmetry, "crystal_system")
        records.append({
            "material_id": material_id,
            "formula": str(_field(document, "formula_pretty") or structure.composition.reduced_formula),
            "structure": structure.as_dict(),
            "mp_space_group": _field(symmetry, "number"),
            "mp_crystal_system": None if crystal_system is None else str(getattr(crystal_system, "value", crystal_system)).lower(),
            "energy_above_hull": _field(document, "energy_above_hull"),
        })
    return records


def _field(document: Any, name: str) -> Any:
    return document.get(name) if isinstance(document, dict) else getattr(document, name, None)


def material_id_sort_key(material_id: str) -> tuple[str, int, str]:
    """'mp-149' before 'mp-1000': prefix, then the number."""
    prefix, _, number = material_id.rpartition("-")
    return (prefix, int(number), "") if number.isdigit() else (material_id, -1, material_id)
