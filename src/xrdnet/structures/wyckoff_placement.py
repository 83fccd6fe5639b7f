"""Random crystals by placing atoms straight onto Wyckoff orbits, without pyxtal's generation loop.

Builds the same kind of crystal as pyxtal's `from_random` for a CrystalSpec, with the same volume
estimate and the same distance tolerance, but:
- each space group's Wyckoff orbits are turned into affine arrays once per process;
- a site is one random point pushed through its orbit's operations (a special position's operations
  project the point onto the position, so free parameters are random and fixed sites stay fixed);
- the distance check is vectorised and periodic: a whole random arrangement at once, then site by site;
- every loop is bounded: LATTICE_TRIES cells x SITE_TRIES points per site, then GenerationError.
Worst case is therefore a few thousand small numpy calls, never an open-ended search.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition, Element, Lattice, Structure

from xrdnet.structures.base import GenerationError
from xrdnet.structures.mp_statistics import CrystalSpec, pyxtal_group

LATTICE_TRIES = 20  # fresh cells, each 10% larger and more anisotropic than the last
SITE_TRIES = 20  # random points per free site in one cell
VOLUME_FACTOR = 1.1  # pyxtal's default `factor`
MIN_VOLUME_PER_ATOM = 0.75  # Å^3, pyxtal's floor
TOLERANCE_FACTOR = 0.5  # pair distance >= 0.5 (r_cov,i + r_cov,j): pyxtal's "atomic" tolerance
MIN_CELL_LENGTH = 1.2  # Å, pyxtal's minimum lattice vector
AXIS_RATIO = 2.0  # each axis's random factor is log-uniform in (1/AXIS_RATIO, AXIS_RATIO), first cell
RATIO_WIDENING = 1.15  # each retry widens the ratio range: many sites on one axis need a long axis ...
MAX_RATIO_WIDENING = 3.0  # ... up to factors within (1/8, 8) at the default AXIS_RATIO
MAX_LOG_FACTOR = MAX_RATIO_WIDENING * np.log(AXIS_RATIO)  # the widest any axis_ratio gets on retries
MONOCLINIC_BETA_DEG = (92.0, 120.0)  # away from 90 so the metric is visibly monoclinic
TRICLINIC_ANGLE_DEG = (70.0, 110.0)

# Sublattice crystals (SyntheticStructures(sublattice=p)). Many real structures are superstructures of a
# small packing (γ-brass a 3x3x3 bcc cell, Cr23C6, ordered alloys, perovskite tilts): their atoms sit near
# the points of a sub-cell a/n, so the sub-cell's reflections carry most of the intensity and the true cell
# shows only in weak lines. Random points in the cell seldom do that; a sublattice crystal draws each free
# site near a point k/n of the conventional cell (n from SUBLATTICE_DIVISIONS), off by a Gaussian of
# σ = SUBLATTICE_SIGMA (fractions of the cell edge, log-uniform: 0.05-0.3 Å on a 10 Å cell). The sub-cell's
# reflections then carry a median 0.19 of the CuKα intensity, against 0.04 for the same specs drawn uniformly.
SUBLATTICE_DIVISIONS = (2, 3, 4)
SUBLATTICE_SIGMA = (0.005, 0.03)

# Pseudo-symmetric cells (SyntheticStructures(pseudo_symmetric=p)). Real crystals are often slight
# distortions or superstructures of a simpler packing, so their metric sits near that of a lattice of
# higher symmetry: Ga has a ≈ c, CaTiO3 a ≈ b ≈ c/√2, an orthohexagonal cell b ≈ √3 a, and a hexagonal
# cell with c/a ≈ (√3/2)·m has lines Q² ∝ h² + hk + k² + (l/m)², a cubic-like integer form (Fe3C).
# Independent log-uniform ratios land within 0.5 % of such a value for 11 % of orthorhombic cells (some
# pair of axes), 4 % of tetragonal and 3 % of hexagonal ones; pseudo_symmetric = 0.2 makes that 20 %, 13 %
# and 12 %. Ratios are the special value times a relative deviation, log-uniform in PSEUDO_DEVIATION and
# of either sign (from splittings no profile resolves to resolved ones).
SQRT2, SQRT3 = np.sqrt(2.0), np.sqrt(3.0)
PSEUDO_AXIS_RATIOS = {
    "tetragonal": (1.0, SQRT2, 1 / SQRT2, SQRT3, 1 / SQRT3, 2.0, 0.5, 3.0, 1 / 3),  # c/a
    "hexagonal": (SQRT3 / 2, np.sqrt(1.5), SQRT3, np.sqrt(6.0)),  # c/a = (√3/2)·m, m = 1, √2, 2, √8
    "pair": (1.0, SQRT2, SQRT3, 2.0, 3.0),  # one axis over another (orthorhombic, monoclinic, triclinic)
}
PSEUDO_DEVIATION = (0.001, 0.03)
PSEUDO_MONOCLINIC_BETA_DEG = (90.2, 92.0)  # the pseudo-orthorhombic monoclinic cell

_IMAGES = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float)
_NONZERO_IMAGES = _IMAGES.any(axis=1)
# Neighbouring cells worth checking after wrapping fractional differences into [-0.5, 0.5): none for 90° cells,
# the 9 in the ab plane for hexagonal axes (a reduced basis, c normal to it); monoclinic and triclinic cells
# are first LLL-reduced (as pymatgen's pbc_shortest_vectors does) and then try all 27.
_CHECKED_IMAGES = {
    "cubic": None,
    "tetragonal": None,
    "orthorhombic": None,
    "hexagonal": _IMAGES[_IMAGES[:, 2] == 0],
    "trigonal": _IMAGES[_IMAGES[:, 2] == 0],
    "monoclinic": _IMAGES,
    "triclinic": _IMAGES,
}
_LLL_REDUCED = ("monoclinic", "triclinic")


@dataclass(frozen=True)
class _WyckoffOrbit:
    """One Wyckoff position as arrays: generic point p (row vector) -> orbit = (p @ linear + shift) % 1, as (m, 3)."""

    linear: np.ndarray  # (3, 3m) rotation parts of the m operations, side by side
    shift: np.ndarray  # (3m,) translation parts
    multiplicity: int
    free: bool  # has free parameters (x, y or z); False: a fixed point such as 4a (0, 0, 0)

    def points(self, generic: np.ndarray) -> np.ndarray:
        """Orbit of one generic point (3,) -> (m, 3), fractional in [0, 1)."""
        return ((generic @ self.linear + self.shift) % 1.0).reshape(self.multiplicity, 3)


@lru_cache(maxsize=None)
def _orbits(space_group: int) -> tuple[tuple[_WyckoffOrbit, ...], str]:
    """Every Wyckoff orbit of a space group as arrays, and its lattice type (pyxtal conventions)."""
    group = pyxtal_group(space_group)
    orbits = []
    for wp in group.Wyckoff_positions:
        affine = np.array([op.affine_matrix[:3] for op in wp.ops])  # (m, 3, 4)
        linear = affine[:, :, :3].transpose(2, 0, 1).reshape(3, -1)
        orbits.append(_WyckoffOrbit(linear, affine[:, :, 3].reshape(-1), len(affine), wp.get_dof() > 0))
    return tuple(orbits), group.lattice_type


def preload(space_groups) -> None:
    """Fill the per-space-group cache ahead of time (it otherwise fills on first use, a one-off cost per group)."""
    for space_group in space_groups:
        _orbits(int(space_group))


@lru_cache(maxsize=None)
def element_radii(symbol: str) -> tuple[float, float]:
    """(covalent, van der Waals) radius in Å from pyxtal's element table, the numbers pyxtal itself uses."""
    from pyxtal.database.element import Element

    element = Element(symbol)
    covalent, vdw = element.covalent_radius, element.vdw_radius
    if covalent is None or vdw is None:
        raise ValueError(f"element {symbol!r} has no covalent/van der Waals radius in pyxtal's table")
    return float(covalent), float(vdw)


@lru_cache(maxsize=None)
def _site_species(symbol: str) -> Composition:
    # a ready Composition per element (immutable, so sites can share it) spares pymatgen parsing it per site
    return Composition({Element(symbol): 1})


def estimate_volume(species_counts: dict[str, int], rng: np.random.Generator) -> float:
    """Cell volume in Å^3 as pyxtal estimates it: per element a random sphere volume between covalent and vdW radius."""
    volume = 0.0
    for symbol, count in species_counts.items():
        covalent, vdw = element_radii(symbol)
        volume += count * rng.uniform(4 / 3 * np.pi * covalent**3, 4 / 3 * np.pi * vdw**3)
    n_atoms = sum(species_counts.values())
    return max(VOLUME_FACTOR * volume, MIN_VOLUME_PER_ATOM * n_atoms)


def random_lattice(lattice_type: str, volume: float, rng: np.random.Generator, widen: float = 1.0,
                   pseudo_symmetric: float = 0.0, axis_ratio: float = AXIS_RATIO) -> Lattice:
    """A random cell of the given pyxtal lattice type and volume (Å^3), in the setting of pyxtal's Wyckoff tables.

    Monoclinic: unique axis b; trigonal (rhombohedral too) and hexagonal: hexagonal axes.
    Each axis's factor is log-uniform in (1/axis_ratio, axis_ratio), stretched by `widen` (>= 1) in log space up
    to MAX_LOG_FACTOR; the cell is then scaled to the volume.
    With probability `pseudo_symmetric` a non-cubic cell is made pseudo-symmetric instead (see
    PSEUDO_AXIS_RATIOS): c/a, or one axis over another, near a special value, or a monoclinic β near 90°.
    """
    half_width = min(widen * np.log(axis_ratio), MAX_LOG_FACTOR)
    ratios = np.exp(rng.uniform(-half_width, half_width, size=3))
    if lattice_type == "cubic":
        a = volume ** (1 / 3)
        return Lattice.cubic(a)
    # drawn only when asked for, so that the default keeps its random stream (and its cached datasets)
    pseudo = pseudo_symmetric > 0 and rng.random() < pseudo_symmetric
    if lattice_type in ("tetragonal", "hexagonal", "trigonal"):
        c_over_a = ratios[0]
        if pseudo:
            specials = PSEUDO_AXIS_RATIOS["tetragonal" if lattice_type == "tetragonal" else "hexagonal"]
            c_over_a = _near(rng.choice(specials), rng)
        area_factor = 1.0 if lattice_type == "tetragonal" else np.sqrt(3) / 2
        a = (volume / (area_factor * c_over_a)) ** (1 / 3)
        if lattice_type == "tetragonal":
            return Lattice.tetragonal(a, c_over_a * a)
        return Lattice.hexagonal(a, c_over_a * a)
    alpha = beta = gamma = 90.0
    if lattice_type == "monoclinic":
        beta = rng.uniform(*MONOCLINIC_BETA_DEG)
        if pseudo and rng.random() < 0.5:
            beta, pseudo = rng.uniform(*PSEUDO_MONOCLINIC_BETA_DEG), False
    elif lattice_type == "triclinic":
        for _ in range(100):  # reject the rare angle triples that do not form a cell
            alpha, beta, gamma = rng.uniform(*TRICLINIC_ANGLE_DEG, size=3)
            if _angle_volume_factor(alpha, beta, gamma) > 0.5:
                break
    elif lattice_type != "orthorhombic":
        raise ValueError(f"unknown lattice type {lattice_type!r}")
    if pseudo:
        first, second = rng.choice(3, size=2, replace=False)
        ratios[second] = ratios[first] * _near(rng.choice(PSEUDO_AXIS_RATIOS["pair"]), rng)
    scale = (volume / (np.prod(ratios) * _angle_volume_factor(alpha, beta, gamma))) ** (1 / 3)
    a, b, c = scale * ratios
    return Lattice.from_parameters(a, b, c, alpha, beta, gamma)


def _near(value: float, rng: np.random.Generator) -> float:
    """value times a relative deviation log-uniform in PSEUDO_DEVIATION, of random sign."""
    deviation = np.exp(rng.uniform(*np.log(PSEUDO_DEVIATION)))
    return float(value * (1 + deviation * rng.choice((-1.0, 1.0))))


def _angle_volume_factor(alpha: float, beta: float, gamma: float) -> float:
    """V / (a b c) for cell angles in degrees."""
    ca, cb, cg = np.cos(np.radians([alpha, beta, gamma]))
    return float(np.sqrt(max(1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg, 0.0)))


def _squared_distances(new: np.ndarray, old: np.ndarray, cell: tuple) -> np.ndarray:
    """(n, m) shortest periodic squared distances in Å^2 between fractional points new (n, 3) and old (m, 3).

    cell = (to_reduced, matrix, image_shifts): fractional -> reduced-basis coordinates (None: same basis),
    the reduced basis as rows (Å), and Cartesian shifts of the neighbouring cells to try (None: 90° cell).
    """
    to_reduced, matrix, image_shifts = cell
    # flat (n*m, 3) products: one matrix multiply instead of n*m tiny stacked ones
    delta = (new[:, None, :] - old[None, :, :]).reshape(-1, 3)
    if to_reduced is not None:
        delta = delta @ to_reduced
    delta -= np.rint(delta)
    cart = (delta @ matrix).reshape(len(new), len(old), 3)
    if image_shifts is None:
        return np.einsum("nmk,nmk->nm", cart, cart)
    shifted = cart[:, :, None, :] + image_shifts
    return np.einsum("nmik,nmik->nmi", shifted, shifted).min(axis=2)


def _distance_cell(lattice: Lattice, lattice_type: str) -> tuple:
    """The `cell` argument of _squared_distances for this lattice."""
    if lattice_type in _LLL_REDUCED:
        to_reduced, matrix = lattice.lll_inverse, lattice.lll_matrix
    else:
        to_reduced, matrix = None, lattice.matrix
    images = _CHECKED_IMAGES[lattice_type]
    return to_reduced, matrix, None if images is None else images @ matrix


def uniform_point(rng: np.random.Generator) -> np.ndarray:
    """A generic point anywhere in the cell (fractional)."""
    return rng.random(3)


@dataclass(frozen=True)
class SublatticePoint:
    """Generic points near the sub-cell points k/divisions (fractional), off by N(0, sigma) on each axis."""

    divisions: int
    sigma: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> SublatticePoint:
        return cls(int(rng.choice(SUBLATTICE_DIVISIONS)), float(np.exp(rng.uniform(*np.log(SUBLATTICE_SIGMA)))))

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        return (rng.integers(0, self.divisions, 3) / self.divisions + rng.normal(0.0, self.sigma, 3)) % 1.0


def _place_all(spec: CrystalSpec, orbits, lattice: Lattice, lattice_type: str, radius: np.ndarray,
               rng: np.random.Generator, point=uniform_point):
    """Fractional coordinates and site index per atom, or None when a site cannot be placed in this cell.

    One complete random arrangement first (a single distance matrix; enough for about a third of cells);
    otherwise sites are redrawn in order (fixed sites first) from the first one that clashes with itself
    or an earlier site, with up to SITE_TRIES random points for each free site. point(rng) draws a generic
    point (uniform_point, or a SublatticePoint).
    """
    cell = _distance_cell(lattice, lattice_type)
    translations = _IMAGES[_NONZERO_IMAGES] @ cell[1]
    if np.einsum("ik,ik->i", translations, translations).min() < max(MIN_CELL_LENGTH, 2 * TOLERANCE_FACTOR * radius.max()) ** 2:
        return None  # an atom would touch its own copy in the next cell
    site_orbits = [orbits[i] for i in spec.wyckoff_indices]
    order = sorted(range(len(site_orbits)), key=lambda s: site_orbits[s].free)  # fixed sites cannot move: first
    owners = np.concatenate([np.full(site_orbits[s].multiplicity, s) for s in order])
    n_atoms = len(owners)
    limits = (TOLERANCE_FACTOR * (radius[owners][:, None] + radius[owners][None, :])) ** 2
    diagonal = np.arange(n_atoms)

    coords = np.vstack([site_orbits[s].points(point(rng)) for s in order])
    d2 = _squared_distances(coords, coords, cell)
    d2[diagonal, diagonal] = np.inf  # an atom and itself
    clash_i, clash_j = np.nonzero(d2 < limits)
    if not len(clash_i):
        return coords, owners

    # keep the sites before the first one that clashes with itself or an earlier site; redraw from there on
    position = np.repeat(np.arange(len(order)), [site_orbits[s].multiplicity for s in order])
    first_bad = int(np.maximum(position[clash_i], position[clash_j]).min())
    start = int(np.searchsorted(position, first_bad))
    for s in order[first_bad:]:
        orbit = site_orbits[s]
        stop = start + orbit.multiplicity
        own = (diagonal[: orbit.multiplicity], diagonal[start:stop])
        for _ in range(SITE_TRIES if orbit.free else 1):
            coords[start:stop] = orbit.points(point(rng))
            d2 = _squared_distances(coords[start:stop], coords[:stop], cell)
            d2[own] = np.inf
            if (d2 >= limits[start:stop, :stop]).all():
                break
        else:
            return None
        start = stop
    return coords, owners


def place_on_wyckoff_positions(spec: CrystalSpec, rng: np.random.Generator, pseudo_symmetric: float = 0.0,
                               point=uniform_point, axis_ratio: float = AXIS_RATIO) -> Structure:
    """A random crystal of `spec` (conventional cell); raises GenerationError when the bounded tries run out.
    pseudo_symmetric: probability of a pseudo-symmetric cell, axis_ratio: the spread of its axes (random_lattice);
    point(rng): a free site's generic point (uniform_point, or a SublatticePoint for a sublattice crystal)."""
    orbits, lattice_type = _orbits(spec.space_group)
    multiplicities = [orbits[i].multiplicity for i in spec.wyckoff_indices]
    counts: dict[str, int] = {}
    for symbol, m in zip(spec.species, multiplicities):
        counts[symbol] = counts.get(symbol, 0) + m
    radius = np.array([element_radii(symbol)[0] for symbol in spec.species])
    volume = estimate_volume(counts, rng)
    for attempt in range(LATTICE_TRIES):
        lattice = random_lattice(lattice_type, volume, rng, widen=min(RATIO_WIDENING**attempt, MAX_RATIO_WIDENING),
                                 pseudo_symmetric=pseudo_symmetric, axis_ratio=axis_ratio)
        placed = _place_all(spec, orbits, lattice, lattice_type, radius, rng, point)
        if placed is not None:
            coords, owners = placed
            return Structure(lattice, [_site_species(spec.species[s]) for s in owners], coords)
        volume *= 1.1
    raise GenerationError(f"no arrangement of {spec.describe()} passed the distance check in {LATTICE_TRIES} cells")
