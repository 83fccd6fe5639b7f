"""Cost of feature sets per pattern against a baseline set, side by side in one process on one core.

A recipe's feature pass computes each crystal's clean render and its augmented copies; a new feature
set's wall clock follows from its cost per pattern against the set it replaces, measured here on the
same profiles: a sample of the recipe's training items, each rendered clean and once augmented (the
feature copies' generator and impurity pool), every profile described by each set in turn, on one
core (OMP_NUM_THREADS=1), so a loaded or slower machine slows every set alike: read the ratio.

    python scripts/bench_feature_sets.py indexing_v14 indexing_v16 --items 200 experiment=xrd_best

The first set is the baseline. Last line (machine-readable): cost_<set>=<its ms per pattern / the
baseline's> for each other set.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    os.environ["OMP_NUM_THREADS"] = "1"  # one core, before numpy starts its thread pool

import argparse
import sys
import time

import numpy as np
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from xrdnet.config import CONFIG_DIR
from xrdnet.data.features import FEATURE_KINDS, feature_set
from xrdnet.xrd.indexing import indexing_features
from xrdnet.xrd.profile import render_profile


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="+", metavar="SET", choices=FEATURE_KINDS, help="feature sets, the baseline first")
    parser.add_argument("--items", type=int, default=200, help="training items sampled (default 200); 2 profiles each")
    parser.add_argument("--seed", type=int, default=0, help="seed of the item sample (default 0)")
    parser.add_argument("overrides", nargs="*", default=[], metavar="KEY=VALUE",
                        help="Hydra overrides naming the data, e.g. experiment=xrd_best")
    argv = sys.argv[1:] if argv is None else list(argv)
    # overrides (KEY=VALUE) go after the sets, anywhere among the options: parsed apart, so the sets never take them
    overrides = [arg for arg in argv if "=" in arg and not arg.startswith("-")]
    args = parser.parse_args([arg for arg in argv if arg not in overrides])
    args.overrides = [*args.overrides, *overrides]
    if len(args.kinds) < 2:
        parser.error("name a baseline set and at least one more")
    return args


def sample_profiles(cfg, n_items: int, seed: int) -> tuple[list[np.ndarray], np.ndarray, float]:
    """(clean and augmented renders of n_items training items, the grid's 2θ points, wavelength in Å)."""
    datamodule = instantiate(cfg.data, features=None)
    train = datamodule.load_split()["train"]  # builds the dataset if it is not cached
    peaks, grid, settings, augmenter = datamodule.peaks, datamodule.grid, datamodule.settings, datamodule.augmenter
    items = np.sort(np.random.default_rng(seed).choice(train, size=min(n_items, len(train)), replace=False))
    wavelength = peaks.wavelength_angstrom
    profiles = []
    for item in items:
        two_theta, intensity = peaks.peaks(int(item))
        profiles.append(render_profile(two_theta, intensity, grid, settings, wavelength))
        # as the first augmented feature copy renders it (xrdnet.data.features._features_of_chunk)
        profiles.append(augmenter(two_theta, intensity, wavelength, np.random.default_rng([datamodule.split_seed, 1, int(item)])))
    return profiles, grid.points, wavelength


def main(argv=None) -> None:
    args = parse_args(argv)
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["paths.output_dir=.", "data.real_source=null", *args.overrides])
    OmegaConf.resolve(cfg)
    profiles, points, wavelength = sample_profiles(cfg, args.items, args.seed)
    sets = {kind: feature_set(kind) for kind in args.kinds}

    def describe(kind: str, profile: np.ndarray) -> float:
        features = sets[kind]
        start = time.perf_counter()
        indexing_features(features.lines_of(profile), points, wavelength, describe=features.describe, **features.pick)
        return time.perf_counter() - start

    for kind in sets:  # warm-up: learned trial assignments are loaded on first use
        describe(kind, profiles[0])
    spent = dict.fromkeys(sets, 0.0)
    for number, profile in enumerate(profiles, 1):
        for kind in (args.kinds if number % 2 else args.kinds[::-1]):  # alternate the order: drift hits all alike
            spent[kind] += describe(kind, profile)
        if number % 50 == 0:
            print(f"  {number}/{len(profiles)} profiles", flush=True)
    baseline = args.kinds[0]
    print(f"{len(profiles)} profiles ({len(profiles) // 2} training items, clean and augmented), one core, ms per pattern")
    print(f"{'set':14s} {'ms':>8s} {'cost':>6s}")
    for kind in args.kinds:
        print(f"{kind:14s} {1e3 * spent[kind] / len(profiles):8.1f} {spent[kind] / spent[baseline]:5.2f}x")
    print(" ".join(f"cost_{kind}={spent[kind] / spent[baseline]:.3f}" for kind in args.kinds[1:]))


if __name__ == "__main__":
    main()
