"""Random crystals of a CrystalSpec from pyxtal's `from_random` (the 'pyxtal' generator of SyntheticStructures)."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from xrdnet.structures.base import GenerationError
from xrdnet.structures.mp_statistics import CrystalSpec
from xrdnet.utils.time_limit import TimeLimitExceeded


def generate_with_pyxtal(spec: CrystalSpec, rng: np.random.Generator) -> Structure:
    """A random crystal of `spec` from pyxtal's `from_random` (conventional cell); GenerationError if pyxtal gives up."""
    from pyxtal import pyxtal

    species: list[str] = []
    sites: list[list[str]] = []
    counts: list[int] = []
    for symbol, label, multiplicity in zip(spec.species, spec.wyckoff_labels(), spec.multiplicities()):
        if symbol not in species:
            species.append(symbol)
            sites.append([])
            counts.append(0)
        k = species.index(symbol)
        sites[k].append(label)
        counts[k] += multiplicity
    crystal = pyxtal()
    try:
        crystal.from_random(3, spec.space_group, species, counts, sites=sites, random_state=rng)
    except TimeLimitExceeded:
        raise
    except Exception as error:  # pyxtal gives up with RuntimeError, and trips over some inputs in other ways
        raise GenerationError(f"pyxtal failed on {spec.describe()}: {error}") from None
    if not crystal.valid:
        raise GenerationError(f"pyxtal found no valid arrangement of {spec.describe()}")
    return crystal.to_pymatgen()
