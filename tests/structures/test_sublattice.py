"""Sublattice crystals (SyntheticStructures(sublattice=p)): free sites near the points of a sub-cell a/n."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.diffraction.xrd import XRDCalculator

from xrdnet.crystal import crystal_system_index
from xrdnet.structures.base import detect_space_group
from xrdnet.structures.synthetic import SyntheticStructures
from xrdnet.structures.wyckoff_placement import SUBLATTICE_DIVISIONS, SUBLATTICE_SIGMA, SublatticePoint


def _sub_cell_intensity(structure, divisions: int) -> float:
    """Share of the CuKα pattern's intensity (5-90° 2θ) in reflections whose h, k, l are all multiples of n."""
    pattern = XRDCalculator().get_pattern(structure, two_theta_range=(5, 90))
    on_sub_cell = [all(index % divisions == 0 for index in (hkl[0]["hkl"][0], hkl[0]["hkl"][1], hkl[0]["hkl"][-1]))
                   for hkl in pattern.hkls]
    return float(pattern.y[on_sub_cell].sum() / pattern.y.sum())


def test_sublattice_points_sit_near_the_sub_cell_points():
    rng = np.random.default_rng(0)
    point = SublatticePoint(divisions=3, sigma=0.01)
    draws = np.array([point(rng) for _ in range(2000)])
    offset = (draws * 3 + 0.5) % 1.0 - 0.5  # distance to the nearest k/3, in units of the sub-cell edge
    assert np.abs(offset).max() < 6 * 0.01 * 3
    assert np.std(offset) == pytest.approx(0.03, rel=0.1)
    drawn = [SublatticePoint.draw(rng) for _ in range(200)]
    assert {p.divisions for p in drawn} == set(SUBLATTICE_DIVISIONS)
    assert all(SUBLATTICE_SIGMA[0] <= p.sigma <= SUBLATTICE_SIGMA[1] for p in drawn)


def test_the_option_leaves_the_other_crystals_as_they_were_and_keeps_labels_true():
    default, sub = SyntheticStructures(12, seed=5), SyntheticStructures(12, seed=5, sublattice=0.5)
    assert "sublattice" not in default.describe()  # datasets built before the option keep their names
    assert sub.describe()["sublattice"] == 0.5
    marked = relabelled = 0
    for i in range(12):
        plain, item = default.get(i), sub.get(i)
        assert sub.spec(i) == default.spec(i)
        if sub.sublattice_point(i) is None:  # not drawn as a sublattice crystal: the default item
            assert np.allclose(item.structure.frac_coords, plain.structure.frac_coords)
            assert "sublattice_divisions" not in item.meta
            continue
        marked += 1
        # off the sub-cell points by more than the 0.1 Å tolerance, so the crystal keeps its generating system
        # rather than collapsing onto the sub-cell's higher symmetry
        relabelled += item.meta["relabelled"]
        assert item.label == crystal_system_index(detect_space_group(item.name, item.structure, 0.1))
    assert 2 <= marked <= 10
    assert relabelled <= 1


def test_sublattice_crystals_put_their_intensity_on_the_sub_cells_reflections():
    # the same specs drawn uniformly and on a sub-cell: the sub-cell's reflections (h, k, l all multiples of n)
    # gain intensity, as in a superstructure of a small packing
    default, sub = SyntheticStructures(24, seed=5), SyntheticStructures(24, seed=5, sublattice=1.0)
    uniform, sublattice = [], []
    for i in range(24):
        item = sub.get(i)
        n = item.meta.get("sublattice_divisions")
        if n:
            uniform.append(_sub_cell_intensity(default.get(i).structure, n))
            sublattice.append(_sub_cell_intensity(item.structure, n))
    assert len(sublattice) >= 12
    assert np.median(sublattice) > 3 * np.median(uniform)


def test_bad_sublattice_options_are_clear_errors():
    with pytest.raises(ValueError, match="sublattice is a probability"):
        SyntheticStructures(5, seed=0, sublattice=1.5)
    with pytest.raises(ValueError, match="sublattice crystals need generator=fast"):
        SyntheticStructures(5, seed=0, sublattice=0.5, generator="pyxtal")
