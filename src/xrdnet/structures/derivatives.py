"""Derivative crystals: a parent crystal distorted into a subgroup of a lower crystal system.

Most real lower-symmetry structures are small distortions of a simpler, more symmetric parent (Bärnighausen
trees): α-quartz of hexagonal β-quartz, CaTiO3 of the cubic perovskite, enargite of wurtzite, Fe2P-type
phases of a hexagonal packing. Their cell sits near the parent's lattice and their intensities near the
parent's; the lower symmetry shows only in split lines and weak extra reflections. Random crystals drawn
straight in the lower group (`synthetic.SyntheticStructures`) have neither, so a model trained on them alone
learns "a near-hexagonal pattern is hexagonal". A derivative here is the parent described in one of its
maximal translationengleiche subgroups H of a lower crystal system (same translations, fewer point
operations; pyxtal's group-subgroup splitter), then
- every atom displaced within H's Wyckoff position by up to `max_displacement_A` (a random direction projected
  onto the position's free parameters; the maximum is drawn log-uniformly per crystal), and
- the cell strained within H's lattice type: each free length (and monoclinic/triclinic angle) scaled by
  1 + s·u, u uniform in [-1, 1], s log-uniform in `strain` (from splittings no profile resolves to resolved ones).
The label is then whatever SpacegroupAnalyzer finds (a distortion under its tolerance gives back the parent).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
from pymatgen.core import Structure

from xrdnet.crystal import crystal_system_index
from xrdnet.structures.base import GenerationError
from xrdnet.structures.wyckoff_placement import TOLERANCE_FACTOR, element_radii

MAX_DISPLACEMENT_A = (0.05, 0.4)  # Å, range of the per-crystal largest atomic displacement (log-uniform)
STRAIN = (0.002, 0.03)  # relative, range of the per-crystal strain scale s (log-uniform)
DISTANCE_TRIES = 3  # displacements halved this many times when two atoms come too close


def lower_system_subgroups(space_group: int) -> list[int]:
    """Maximal t-subgroups of `space_group` whose crystal system is lower (one entry per setting, repeats kept)."""
    from pyxtal.symmetry import Group

    system = crystal_system_index(space_group)
    return [h for h in Group(space_group).get_max_t_subgroup()["subgroup"] if crystal_system_index(h) < system]


def _log_uniform(rng: np.random.Generator, low_high: tuple[float, float]) -> float:
    low, high = low_high
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _strained_lattice(lattice, rng: np.random.Generator, strain: tuple[float, float]):
    """A pyxtal Lattice of the same type with its free parameters scaled by 1 + s·u (see the module docstring)."""
    from pyxtal.lattice import Lattice

    a, b, c, alpha, beta, gamma = lattice.get_para(degree=True)
    scale = _log_uniform(rng, strain)
    a2, b2, c2, alpha2, beta2, gamma2 = np.array([a, b, c, alpha, beta, gamma]) * (1.0 + scale * rng.uniform(-1.0, 1.0, 6))
    kind = lattice.ltype
    if kind in ("hexagonal", "trigonal", "tetragonal"):  # a = b and the angles are fixed by the lattice type
        b2, alpha2, beta2, gamma2 = a2, alpha, beta, gamma
    elif kind == "orthorhombic":
        alpha2 = beta2 = gamma2 = 90.0
    elif kind == "monoclinic":
        alpha2 = gamma2 = 90.0
    elif kind != "triclinic":  # a lower-system subgroup is never cubic
        raise GenerationError(f"derivative: unexpected lattice type {kind} for a lower-system subgroup")
    return Lattice.from_para(a2, b2, c2, alpha2, beta2, gamma2, ltype=kind)


def _too_close(structure: Structure) -> bool:
    radii = np.array([element_radii(site.specie.symbol)[0] for site in structure])
    distances = structure.distance_matrix
    limits = TOLERANCE_FACTOR * (radii[:, None] + radii[None, :])  # the fast generator's own tolerance
    np.fill_diagonal(distances, np.inf)
    return bool((distances < limits).any())


def distort_into_subgroup(
    structure: Structure,
    rng: np.random.Generator,
    max_displacement_A: tuple[float, float] = MAX_DISPLACEMENT_A,
    strain: tuple[float, float] = STRAIN,
) -> tuple[Structure, int, int]:
    """(derivative structure, parent space group, subgroup H); GenerationError when the parent has no
    lower-system maximal t-subgroup or the splitter or the distance check fails."""
    from pyxtal import pyxtal

    parent = pyxtal(random_state=int(rng.integers(2**31)))
    # pyxtal prints on failure and warns on settings: neither is the caller's business, errors are raised below
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parent.from_seed(structure, tol=1e-3)
        except Exception as error:  # pyxtal raises many kinds on a seed it cannot read
            raise GenerationError(f"derivative: pyxtal cannot read the parent ({error})") from None
        g = parent.group.number
        candidates = lower_system_subgroups(g)
        if not candidates:
            raise GenerationError(f"derivative: space group {g} has no maximal t-subgroup of a lower crystal system")
        h = int(candidates[rng.integers(len(candidates))])
        try:
            # eps=0: pyxtal's own displacement draws from the global numpy state; ours below is seeded
            child = parent.subgroup_once(eps=0.0, H=h, group_type="t", mut_lat=False)
        except Exception as error:
            raise GenerationError(f"derivative: pyxtal's splitter failed for {g} -> {h} ({error})") from None
        if child is None:
            raise GenerationError(f"derivative: no splitter for {g} -> {h}")
        child.lattice = _strained_lattice(child.lattice, rng, strain)
        matrix = child.lattice.matrix
        largest = _log_uniform(rng, max_displacement_A)
        directions = rng.normal(size=(len(child.atom_sites), 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        lengths = rng.uniform(0.0, 1.0, len(child.atom_sites))
        start = [site.position.copy() for site in child.atom_sites]
        for _ in range(DISTANCE_TRIES):
            for site, position, direction, length in zip(child.atom_sites, start, directions, lengths):
                # fractional shift of a Cartesian displacement; wp.apply_ops projects it onto the position
                site.update(position + np.linalg.solve(matrix.T, direction * length * largest))
            derived = child.to_pymatgen()
            if not _too_close(derived):
                return derived, g, h
            largest /= 2.0
    raise GenerationError(f"derivative: atoms too close after {DISTANCE_TRIES} displacements ({g} -> {h})")
