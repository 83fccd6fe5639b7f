"""Vectorized kinematic powder XRD engine with exactly the physics of pymatgen's `XRDCalculator`.

Same model as the reference engine (xrdnet.xrd.pymatgen_engine): kinematic structure factors with
the International Tables scattering-factor fit f(s) = Z − 41.78214·s²·Σ aᵢ exp(−bᵢ s²)
(s = sin θ / λ in Å⁻¹), site occupancies, isotropic Debye–Waller factors exp(−B s²) (B in Å²) or
anisotropic ones from the U11_cif…U12_cif site properties, the Lorentz-polarization factor
(1 + cos² 2θ) / (sin² θ cos θ), every reciprocal-lattice point inside the limiting sphere (so no
multiplicities are needed), reflections binned to 1e-5° in 2θ and summed, peaks under 1e-3 of the
scaled maximum dropped, and the strongest peak scaled to 100; like the reference engine,
round-off of systematic absences is not a peak.

Where its speed comes from (scripts/bench_simulate.py compares it with the reference):
- reciprocal points come from a numpy grid over the Friedel half of the bounding box
  (|F(hkl)| = |F(-h-k-l)|), with |g|² evaluated in the same floating-point order as pymatgen's
  neighbour search, so 2θ values, 1e-5° bins and range edges are bit-identical to the reference;
- the phase sum Σⱼ wⱼ exp(2πi(h xⱼ + k yⱼ + l zⱼ)) factorises over h, k and l, so for every
  reflection in the box it is one complex matrix product (BLAS) of per-site tables
  exp(2πi h xⱼ)·exp(2πi k yⱼ) with exp(2πi l zⱼ), instead of a sine and a cosine per
  (reflection, site) pair;
- form factors are computed per element, never per atom; reflections are merged with `reduceat`,
  not a Python loop; each peak is labelled with one representative hkl, not its hkl families.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import accumulate

import numpy as np
from pymatgen.analysis.diffraction.core import (
    AbstractDiffractionPatternCalculator,
    get_anisotropic_debye_waller_factors,
    get_ustar,
)
from pymatgen.analysis.diffraction.xrd import ATOMIC_SCATTERING_PARAMS
from pymatgen.core import Element, Structure

from xrdnet.xrd.peak_list import ABSENT_FLOOR_FRACTION, PeakList

TWO_THETA_TOL = AbstractDiffractionPatternCalculator.TWO_THETA_TOL  # degrees: reflections in one bin merge
SCALED_INTENSITY_TOL = AbstractDiffractionPatternCalculator.SCALED_INTENSITY_TOL  # on the 0-100 scale

# pymatgen.optimization.neighbors.find_points_in_spheres, behind Lattice.get_points_in_sphere, keeps
# a point when |g|² < r² + 1e-8; for r < 1 Å⁻¹ it searches with r = 1 + 1e-8 and then keeps |g| <= r.
_SPHERE_TOL = 1e-8
_SPHERE_MIN_R = 1.0

# Like the reference engine (xrdnet.xrd.pymatgen_engine.absent_reflection_floor), peaks whose unscaled
# intensity is below ABSENT_FLOOR_FRACTION of (Σ occupancy·Z)² are round-off of systematic absences,
# which pymatgen alone would rescale to 100 when nothing else is in range.

# Complex entries of the phase tables built at once: bounds memory for huge cells, not results.
_CHUNK_ENTRIES = 1 << 20


class UnsupportedStructureError(ValueError):
    """The engine cannot simulate this structure (e.g. a species without scattering-factor data)."""


@lru_cache(maxsize=4096)
def _element_fits(symbols: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Atomic numbers (E,), minus the fit exponents b (E·4,) and the fit weights a as an (E·4, E)
    block matrix, so that Σᵢ aᵢ exp(−bᵢ s²) of every element is exp(s² ⊗ (−b)) @ a."""
    # every element of pymatgen's table has a 4-term fit
    fits = np.array([ATOMIC_SCATTERING_PARAMS[symbol] for symbol in symbols], dtype=float).reshape(len(symbols), 4, 2)
    n_elements, n_terms = fits.shape[:2]
    weights = np.zeros((n_elements * n_terms, n_elements))
    for column in range(n_elements):
        weights[column * n_terms : (column + 1) * n_terms, column] = fits[column, :, 0]
    z = np.array([Element(symbol).Z for symbol in symbols], dtype=float)
    return z, -fits[:, :, 1].reshape(-1), weights


class _Scatterers:
    """What scatters in a structure: one entry per (site, species) pair, grouped by element.

    frac_coords: (n_entries, 3) fractional coordinates; occupancies: (n_entries,); groups: the
    slice of entries of each element; z, fit_*: per element; b_factors: isotropic Debye-Waller B
    (Å²) per element, or None; ustar: (n_entries, 3, 3) U*, or None.
    """

    __slots__ = ("frac_coords", "occupancies", "groups", "z", "fit_exponents", "fit_weights", "b_factors",
                 "scale_squared", "ustar")

    def __init__(self, structure: Structure, debye_waller_factors: dict[str, float] | None = None):
        sites = structure.sites
        entries_of: dict[str, list[tuple[int, float]]] = {}
        for site_index, site in enumerate(sites):
            for species, occupancy in site.species.items():
                entries = entries_of.get(species.symbol)
                if entries is None:
                    if species.symbol not in ATOMIC_SCATTERING_PARAMS:
                        raise UnsupportedStructureError(
                            f"{structure.composition.reduced_formula}: no X-ray scattering-factor coefficients "
                            f"for species {species.symbol!r} on site {site_index}"
                        )
                    entries = entries_of[species.symbol] = []
                entries.append((site_index, occupancy))
        symbols = tuple(entries_of)
        site_of = [site_index for entries in entries_of.values() for site_index, _ in entries]
        occupancies = [occupancy for entries in entries_of.values() for _, occupancy in entries]
        self.frac_coords = np.array([sites[i].frac_coords for i in site_of], dtype=float).reshape(-1, 3)
        self.occupancies = np.array(occupancies, dtype=float)
        ends = list(accumulate(len(entries) for entries in entries_of.values()))
        self.groups = [slice(start, end) for start, end in zip([0, *ends[:-1]], ends)]
        self.z, self.fit_exponents, self.fit_weights = _element_fits(symbols)
        # (Σ occupancy·Z)²: |F|² at g = 0, the scale of the strongest possible reflection
        self.scale_squared = sum(float(z) * self.occupancies[group].sum() for z, group in zip(self.z, self.groups)) ** 2
        self.b_factors = None
        if debye_waller_factors and any(debye_waller_factors.get(symbol, 0) for symbol in symbols):
            self.b_factors = np.array([debye_waller_factors.get(symbol, 0) for symbol in symbols], dtype=float)
        self.ustar = None
        if any("U11_cif" in site.properties for site in sites):
            formula = structure.composition.reduced_formula
            if debye_waller_factors:
                raise UnsupportedStructureError(
                    f"{formula}: debye_waller_factors cannot be combined with the U11_cif..U12_cif site properties"
                )
            try:
                self.ustar = get_ustar(structure)[site_of]
            except ValueError as error:  # a site without U values
                raise UnsupportedStructureError(f"{formula}: {error}") from None

    def form_factors(self, s2: np.ndarray) -> np.ndarray:
        """(n_points, n_elements) atomic scattering factors (electrons) at s² = (sin θ / λ)², Å⁻²."""
        gaussians = np.exp(np.multiply.outer(s2, self.fit_exponents)) @ self.fit_weights
        factors = self.z - (41.78214 * s2)[:, None] * gaussians
        if self.b_factors is not None:
            factors *= np.exp(np.multiply.outer(-s2, self.b_factors))
        return factors


def _is_hexagonal(lattice_rows: list[list[float]], lengths: list[float]) -> bool:
    """pymatgen's Lattice.is_hexagonal (two 90° angles, one 60° or 120°, within 5°; equal lengths
    along the right angles within 0.01 Å), from the lattice vectors in Å; used for hkl labels only."""
    angles = []
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        cosine = sum(a * b for a, b in zip(lattice_rows[j], lattice_rows[k])) / (lengths[j] * lengths[k])
        angles.append(math.degrees(math.acos(min(1.0, max(-1.0, cosine)))))
    right = [i for i in range(3) if abs(angles[i] - 90) <= 5]
    hexagonal = [i for i in range(3) if abs(angles[i] - 60) <= 5 or abs(angles[i] - 120) <= 5]
    return len(right) == 2 and len(hexagonal) == 1 and abs(lengths[right[0]] - lengths[right[1]]) <= 0.01


class _HalfSphere:
    """Reciprocal-lattice points in the Friedel half (h, k, l) > 0 with min_r <= |g| <= max_r (Å⁻¹),
    selected exactly as pymatgen selects them.

    Points are flat indices into the box h in [0, H], k in [-K, K], l in [-L, L] (C order, so a
    larger flat index is a lexicographically larger hkl), sorted by g = |g|.
    """

    def __init__(self, lattice_matrix: np.ndarray, inverse_matrix: np.ndarray, min_r: float, max_r: float):
        # Same operations as Lattice.reciprocal_lattice_crystallographic, for bit-identical |g|.
        recip = inverse_matrix.T * 2 * np.pi / (2 * np.pi)
        if max_r >= _SPHERE_MIN_R:
            limit_d2 = max_r * max_r + _SPHERE_TOL
        else:  # a loose first cut; |g| <= max_r is applied exactly below
            limit_d2 = (max_r * (1 + 1e-9)) ** 2
        # |h| = |g·a1| <= |g| |a1|, so the box holds the whole sphere.
        reach = math.sqrt(limit_d2) * (1 + 1e-9)
        self.rows = lattice_matrix.tolist()
        self.lengths = [math.sqrt(x * x + y * y + z * z) for x, y, z in self.rows]
        self.bounds = h_max, k_max, l_max = [int(reach * length) for length in self.lengths]
        self.shape = (h_max + 1, 2 * k_max + 1, 2 * l_max + 1)
        # (3 reciprocal vectors, 3 Cartesian axes, index n = -most..most): n·b_i
        most = max(self.bounds)
        parts = recip[:, :, None] * np.arange(-most, most + 1)
        h_part = parts[0, :, most : most + h_max + 1]
        k_part = parts[1, :, most - k_max : most + k_max + 1]
        l_part = parts[2, :, most - l_max : most + l_max + 1]
        # pymatgen's neighbour search sums (h·b1 + k·b2) + l·b3 per axis, then (x² + y²) + z².
        cartesian = (h_part[:, :, None, None] + k_part[:, None, :, None]) + l_part[:, None, None, :]
        cartesian *= cartesian
        d2 = cartesian[0] + cartesian[1]
        d2 += cartesian[2]
        inside = d2 < limit_d2
        # Friedel half: drop h = 0 with k < 0, and h = k = 0 with l <= 0 (which includes g = 0).
        inside[0, :k_max] = False
        inside[0, k_max, : l_max + 1] = False
        flat = np.flatnonzero(inside)
        g = np.sqrt(d2.reshape(-1)[flat])
        if max_r < _SPHERE_MIN_R or min_r:
            keep = (g <= max_r) & (g >= min_r) if max_r < _SPHERE_MIN_R else g >= min_r
            flat, g = flat[keep], g[keep]
        order = np.argsort(g)
        self.flat, self.g = flat[order], g[order]

    def miller(self, flat: np.ndarray) -> tuple[list[int], list[int], list[int]]:
        """h, k, l of flat box indices."""
        h, k, l = np.unravel_index(flat, self.shape)  # noqa: E741
        return h.tolist(), (k - self.bounds[1]).tolist(), (l - self.bounds[2]).tolist()


def _phase_sums_factorised(points: _HalfSphere, scatterers: _Scatterers) -> np.ndarray:
    """(n_points, n_elements) Σ occupancy·exp(2πi g·r) over the sites of each element.

    exp(2πi(h x + k y + l z)) = [exp(2πi h x)·exp(2πi k y)]·exp(2πi l z), so for one element the
    sums over the whole box are one complex matrix product (rows (h, k) × sites) @ (sites × l);
    box row h·(2K+1) + k + K holds flat indices row·(2L+1) + l + L.
    """
    h_max, k_max, l_max = points.bounds
    n_k, n_l = points.shape[1], points.shape[2]
    x, y, z = 2j * np.pi * scatterers.frac_coords.T
    x_table = np.exp(np.multiply.outer(np.arange(0, h_max + 1), x))  # (H+1, entries)
    y_table = np.exp(np.multiply.outer(np.arange(-k_max, k_max + 1), y))  # (2K+1, entries)
    lz_table = np.exp(np.multiply.outer(z, np.arange(-l_max, l_max + 1)))  # (entries, 2L+1)
    lz_table *= scatterers.occupancies[:, None]

    flat = points.flat
    sums = np.empty((len(flat), len(scatterers.groups)), dtype=complex)
    planes_per_chunk = max(1, _CHUNK_ENTRIES // (n_k * (len(z) + n_l)))
    for first in range(0, h_max + 1, planes_per_chunk):
        last = min(h_max + 1, first + planes_per_chunk)
        if first == 0 and last == h_max + 1:
            in_chunk, offset = slice(None), flat
        else:
            in_chunk = np.flatnonzero((flat >= first * n_k * n_l) & (flat < last * n_k * n_l))
            offset = flat[in_chunk] - first * n_k * n_l
        hk_table = (x_table[first:last, None, :] * y_table).reshape(-1, len(z))
        for column, group in enumerate(scatterers.groups):
            sums[in_chunk, column] = (hk_table[:, group] @ lz_table[group]).reshape(-1)[offset]
    return sums


def _phase_sums_direct(points: _HalfSphere, scatterers: _Scatterers) -> np.ndarray:
    """The same sums with per-site anisotropic Debye-Waller factors, which do not factorise."""
    hkl = np.stack(np.unravel_index(points.flat, points.shape), axis=1) - [0, points.bounds[1], points.bounds[2]]
    hkl = hkl.astype(float)
    sums = np.empty((len(hkl), len(scatterers.groups)), dtype=complex)
    rows_per_chunk = max(1, _CHUNK_ENTRIES // max(1, len(scatterers.frac_coords)))
    for start in range(0, len(hkl), rows_per_chunk):
        part = hkl[start : start + rows_per_chunk]
        phase = np.exp(2j * np.pi * (part @ scatterers.frac_coords.T))
        phase *= get_anisotropic_debye_waller_factors(part, scatterers.ustar)
        for column, group in enumerate(scatterers.groups):
            sums[start : start + rows_per_chunk, column] = phase[:, group] @ scatterers.occupancies[group]
    return sums


def kinematic_peaks(
    structure: Structure,
    wavelength_angstrom: float,
    two_theta_range: tuple[float, float] | None,
    debye_waller_factors: dict[str, float] | None = None,
) -> PeakList:
    """Peak list of `structure`: the peaks of the reference engine (pymatgen's XRDCalculator), scaled to 100.

    wavelength_angstrom: X-ray wavelength, Å. two_theta_range: (min, max) in degrees, or None for
    the whole limiting sphere. debye_waller_factors: {element symbol: B in Å²}. Returns an empty
    PeakList when no reflection (other than systematic absences) lies in range. Each peak carries
    one representative hkl, one of pymatgen's family labels of that peak (the largest merged
    reflection; 4-index (h, k, -h-k, l) for hexagonal cells).
    """
    wavelength = float(wavelength_angstrom)
    if two_theta_range is None:
        min_r, max_r = 0.0, 2 / wavelength
    else:
        min_r, max_r = (2 * math.sin(math.radians(t / 2)) / wavelength for t in two_theta_range)
    scatterers = _Scatterers(structure, debye_waller_factors)
    if not scatterers.groups:  # no atoms
        return PeakList.empty(wavelength)
    lattice = structure.lattice
    points = _HalfSphere(lattice.matrix, lattice.inv_matrix, min_r, max_r)
    if len(points.g) == 0:
        return PeakList.empty(wavelength)
    distinct_g, two_theta, intensity, largest_flat = _reflections(points, scatterers, wavelength)
    return _merged_peaks(distinct_g, two_theta, intensity, largest_flat, points, scatterers.scale_squared, wavelength)


def _reflections(points: _HalfSphere, scatterers: _Scatterers,
                 wavelength: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct |g| of `points`, ascending: |g| (Å⁻¹), 2θ (degrees), the unscaled intensity of the
    reflections sharing it (both Friedel halves), and the largest flat box index among them."""
    g = points.g
    if scatterers.ustar is None:
        phase_sums = _phase_sums_factorised(points, scatterers)
    else:
        phase_sums = _phase_sums_direct(points, scatterers)
    # Reflections sharing |g| (symmetry equivalents) share form factors, 2θ and Lorentz-polarization.
    g_changes = g[1:] != g[:-1]
    distinct_starts = np.flatnonzero(np.concatenate(([True], g_changes)))
    distinct_g = g[distinct_starts]
    form_factors = scatterers.form_factors((distinct_g / 2) ** 2)
    distinct_index = np.concatenate(([0], np.cumsum(g_changes)))
    structure_factor = np.einsum("me,me->m", phase_sums, form_factors[distinct_index])
    f_squared = np.abs(structure_factor) ** 2

    # g >= 0, so pymatgen's clip to [-1, 1] is a minimum with 1
    theta = np.arcsin(np.minimum(wavelength * distinct_g / 2, 1))
    two_theta_rad = 2 * theta
    two_theta = np.degrees(two_theta_rad)
    lorentz_polarization = (1 + np.cos(two_theta_rad) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    # factor 2: the other Friedel half contributes the same
    intensity = 2 * np.add.reduceat(f_squared, distinct_starts) * lorentz_polarization
    largest_flat = np.maximum.reduceat(points.flat, distinct_starts)
    return distinct_g, two_theta, intensity, largest_flat


def _merged_peaks(distinct_g: np.ndarray, two_theta: np.ndarray, intensity: np.ndarray, largest_flat: np.ndarray,
                  points: _HalfSphere, scale_squared: float, wavelength: float) -> PeakList:
    """Reflections merged into peaks by 2θ bin as pymatgen merges them, cut and scaled to 100."""
    # Sorted by g, the first |g| of a 2θ bin gives the peak's 2θ and d, as in pymatgen.
    bins = np.rint(two_theta / TWO_THETA_TOL)  # pymatgen's np.round(...).astype(int): exact integers here
    steps = bins[1:] - bins[:-1]
    if len(steps) and steps.min() < 0:  # arcsin rounding unsorted nearly equal g; pymatgen groups by bin
        regroup = np.argsort(bins, kind="stable")
        bins, distinct_g, two_theta, intensity, largest_flat = (
            a[regroup] for a in (bins, distinct_g, two_theta, intensity, largest_flat)
        )
        steps = bins[1:] - bins[:-1]
    bin_starts = np.flatnonzero(np.concatenate(([1], steps)))
    peak_intensity = np.add.reduceat(intensity, bin_starts)
    strongest = peak_intensity.max()
    floor = ABSENT_FLOOR_FRACTION * scale_squared
    if not strongest > floor:  # only systematic absences in range
        return PeakList.empty(wavelength)
    # pymatgen's cut relative to the strongest, then the reference engine's absolute floor
    keep = (peak_intensity / strongest * 100 > SCALED_INTENSITY_TOL) & (peak_intensity > floor)
    starts = bin_starts[keep]
    h, k, l = points.miller(np.maximum.reduceat(largest_flat, bin_starts)[keep])  # noqa: E741
    if _is_hexagonal(points.rows, points.lengths):
        hkls = tuple(zip(zip(h, k, [-a - b for a, b in zip(h, k)], l)))
    else:
        hkls = tuple(zip(zip(h, k, l)))
    return PeakList(
        two_theta=two_theta[starts],
        intensity=100.0 * peak_intensity[keep] / strongest,
        d_spacing=1.0 / distinct_g[starts],
        wavelength=wavelength,
        hkls=hkls,
    )
