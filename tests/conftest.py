"""Shared fixtures: small, fast structure sources, dataset folders in temporary directories, a tiny trained model."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from xrdnet.crystal import class_index
from xrdnet.structures.base import LabeledStructure, StructureError

os.environ.setdefault("OMP_NUM_THREADS", "1")

# One lattice maker per crystal system; the two-atom basis keeps every symmetry of the lattice.
_LATTICES = {
    "triclinic": lambda r: Lattice.from_parameters(*(r.uniform(4, 6, 3)), *(r.uniform(70, 110, 3))),
    "monoclinic": lambda r: Lattice.monoclinic(*r.uniform(4, 6, 3), r.uniform(100, 115)),
    "orthorhombic": lambda r: Lattice.orthorhombic(*(np.sort(r.uniform(4, 7, 3)) * [1, 1.07, 1.15])),
    "tetragonal": lambda r: Lattice.tetragonal(r.uniform(4, 5), r.uniform(5.5, 7)),
    "trigonal": lambda r: Lattice.rhombohedral(r.uniform(4, 6), r.uniform(65, 80)),
    "hexagonal": lambda r: Lattice.hexagonal(r.uniform(3, 4), r.uniform(5, 7)),
    "cubic": lambda r: Lattice.cubic(r.uniform(3.5, 6)),
}


@dataclass
class LatticeSource:
    """Deterministic toy crystals, balanced over the 7 systems (item i has system i % 7).

    Items listed in `broken` raise StructureError, to exercise skip-and-report paths. The fields after
    `systems` are test hooks outside describe(), so a misbehaving source builds the same dataset:
    items in `raise_at` raise `error` (a bug or an interruption, not a bad item), every get() waits
    `delay_s` and appends its index to `calls_file`; `unbounded`: items past n exist (on-the-fly
    training may draw them), as for the synthetic source.
    """

    n: int = 70
    seed: int = 0
    broken: tuple[int, ...] = ()
    kind: str = "toy_lattices"
    systems: tuple[str, ...] = field(default=tuple(_LATTICES))
    raise_at: tuple[int, ...] = ()
    error: type[BaseException] = KeyboardInterrupt
    delay_s: float = 0.0
    calls_file: str | None = None
    unbounded: bool = True

    def __len__(self) -> int:
        return self.n

    def get(self, index: int) -> LabeledStructure:
        if self.calls_file:
            with open(self.calls_file, "a") as calls:
                calls.write(f"{index}\n")
        if self.delay_s:
            time.sleep(self.delay_s)
        if index in self.raise_at:
            raise self.error(f"toy[{index}]: raised on purpose")
        if index in self.broken:
            raise StructureError(f"toy[{index}]: deliberately broken item")
        rng = np.random.default_rng([self.seed, index])
        system = self.systems[index % len(self.systems)]
        lattice = _LATTICES[system](rng)
        if system == "trigonal":
            # a general position along the 3-fold axis keeps R-3m-like (trigonal) symmetry, not cubic
            coords = [[0, 0, 0], [0.27, 0.27, 0.27]]
        elif system in ("hexagonal",):
            coords = [[0, 0, 0], [1 / 3, 2 / 3, 0.5]]
        else:
            coords = [[0, 0, 0], [0.5, 0.5, 0.5]]
        structure = Structure(lattice, ["Na", "Cl"], coords)
        return LabeledStructure(name=f"toy-{index:04d}", structure=structure, label=class_index(system),
                                space_group=0, source=self.kind, meta={"system": system})

    def describe(self) -> dict:
        return {"kind": self.kind, "n": self.n, "seed": self.seed, "broken": list(self.broken)}


@pytest.fixture
def toy_source() -> LatticeSource:
    return LatticeSource()


@pytest.fixture(name="LatticeSource")
def lattice_source_class() -> type[LatticeSource]:
    """The toy source class itself, for tests that need variants (other seeds, broken items)."""
    return LatticeSource


@pytest.fixture
def mp_documents() -> list[dict]:
    """Materials Project summary documents as the API returns them (JSON), in the server's order, with MP's symmetry
    fields: a stored response for tests that must not reach the network."""
    silicon = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])
    rutile = Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.59, 2.96), ["Ti", "O"], [[0, 0, 0], [0.305, 0.305, 0]])
    magnesium = Structure.from_spacegroup("P6_3/mmc", Lattice.hexagonal(3.21, 5.21), ["Mg"], [[1 / 3, 2 / 3, 0.25]])
    documents = [
        # MP's field says trigonal here, to show that labels come from SpacegroupAnalyzer and disagreements are flagged
        ("mp-1000", "Mg", magnesium, 194, "Trigonal", 0.0),
        ("mp-149", "Si", silicon, 227, "Cubic", 0.0),
        ("mp-2657", "TiO2", rutile, 136, "Tetragonal", 0.01),
    ]
    return json.loads(json.dumps([
        {"material_id": mid, "formula_pretty": formula, "structure": structure.as_dict(),
         "symmetry": {"number": number, "crystal_system": system, "symprec": 0.1}, "energy_above_hull": e_hull}
        for mid, formula, structure, number, system, e_hull in documents
    ]))


@pytest.fixture
def store_mp_download(mp_documents):
    """store(data_dir, endpoint, **source config) writes mp_documents as the download that config would make, so
    the source builds offline (config keys other than the query's are ignored)."""
    from xrdnet.structures.materials_project import cache_path, write_cache
    from xrdnet.structures.mp_client import MaterialsProjectQuery, download

    def serve(**kwargs):  # a client whose every search answers with the stored response
        return SimpleNamespace(materials=SimpleNamespace(summary=SimpleNamespace(search=lambda **query: mp_documents)))

    def store(data_dir, endpoint: str, **config) -> None:
        query = MaterialsProjectQuery.create(**{k: v for k, v in config.items() if k in MaterialsProjectQuery.__dataclass_fields__})
        records = download(query, "stored-in-test", endpoint, client_factory=serve)
        write_cache(cache_path(data_dir, query, endpoint), query, endpoint, records, "stored-in-test")

    return store


def _tiny_train_config(root, run: str, *overrides: str):
    """The train config of a tiny, fast run: 140 synthetic crystals (data in root / "data"), a coarse grid, a
    small CNN, outputs in root / run; `overrides` on top."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from xrdnet.config import CONFIG_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[
            f"paths.output_dir={root / run}", f"paths.data_dir={root / 'data'}", f"paths.log_dir={root / 'outputs'}",
            "data.source.n=140", "data.real_source=null", "data.build_workers=1", "data.batch_size=32",
            "data.grid.step_deg=0.1", "callbacks.rich_progress_bar=null",
            "model.net.channels=[8,16]", "model.net.head_hidden=32", *overrides])


@pytest.fixture(scope="session")
def tiny_train_config():
    """_tiny_train_config(root, run, *overrides): the config of a tiny, fast training run."""
    return _tiny_train_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """Train a tiny CNN through xrdnet.train.train (the entry point's own function), once per test module:
    {"root", "checkpoint", "metrics", "loads"}; its dataset is in root / "data"."""
    import torch

    from xrdnet.train import train

    root = tmp_path_factory.mktemp("trained")
    cfg = _tiny_train_config(root, "run", "trainer.max_epochs=2")
    loads = []  # weights_only of every torch.load during training (resume, test, calibration)
    real_load = torch.load

    def recording_load(*args, **kwargs):
        loads.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch, "load", recording_load)
        metrics = train(cfg)
    checkpoint = next((root / "run" / "checkpoints").glob("epoch_*.ckpt"))
    return {"root": root, "checkpoint": checkpoint, "metrics": metrics, "loads": loads}
