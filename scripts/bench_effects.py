"""What each diffractometer effect costs the augmenter: ms of CPU per augmented, rendered sample, one process.

The default recipe's augmenter alone, then with each effect group of `experiment=xrd_instrument`
switched on by itself (its settings from that experiment), then all of them together, on the
training peak lists of the benchmark dataset. Variants are timed in turns and the best of
--repeats is kept; CPU time of this process (time.process_time), so other work on a shared
machine moves the figures less than wall time would.

    python scripts/bench_effects.py                      # 400 peak lists, 3 rounds
    python scripts/bench_effects.py --only default,all

Last line: all_over_default=<ms of all effects together / ms of the default augmenter>.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from xrdnet.config import CONFIG_DIR
from xrdnet.data.augment import PeakAugmenter
from xrdnet.data.measurement import PeakListPool

# each effect group: the augmenter settings of experiment=xrd_instrument that switch it on and set its ranges
EFFECTS = {
    "kalpha2": ["kalpha2_probability", "kalpha2_split"],
    "size_10_500nm": ["crystallite_size_nm"],
    "instrument_widths": ["instrument_probability", "caglioti_u_deg2", "caglioti_w_deg2", "microstrain",
                          "axial_asymmetry"],
    "displacement": ["displacement_mm", "goniometer_radius_mm"],
    "march_dollase": ["march_dollase_probability", "march_dollase_r"],
    "impurity": ["impurity_probability", "impurity_fraction"],
    "low_angle_rise": ["low_angle_rise"],
    "amorphous_humps": ["amorphous_humps"],
    "scan_step": ["scan_step_deg"],
    "partial_range": ["partial_range_probability", "partial_range_start_deg", "partial_range_stop_deg"],
    "background_subtraction": ["background_method"],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=400, help="training peak lists rendered per round (default 400)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the best is kept (default 3)")
    parser.add_argument("--n", type=int, default=3000, help="synthetic structures in the benchmark dataset (default 3000)")
    parser.add_argument("--data-dir", default=None, help="dataset cache folder (default: a temporary folder)")
    parser.add_argument("--only", default=None, help="comma-separated variants (default, all, or effect names)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="xrdnet-bench-")
    common = [f"paths.data_dir={data_dir}", "paths.output_dir=.", f"data.source.n={args.n}", "data.real_source=null",
              "data.num_workers=0", "data.features=null"]  # features are read from a cache, not rendered: not timed
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        default = compose("train", overrides=common).data.augment
        instrument = compose("train", overrides=[*common, "experiment=xrd_instrument"])
    OmegaConf.resolve(instrument)
    datamodule = instantiate(instrument.data)  # its peak lists reach the widest range the effects can move peaks over
    datamodule.prepare_data()
    datamodule.setup("fit")
    peaks, indices = datamodule.train_set.peaks, datamodule.train_set.indices
    lists = [peaks.peaks(int(i)) for i in indices[:args.samples]]
    wavelength = peaks.wavelength_angstrom

    default = OmegaConf.to_container(default)
    every = OmegaConf.to_container(instrument.data.augment)
    variants = {"default": default}
    variants.update({name: {**default, **{key: every[key] for key in keys}} for name, keys in EFFECTS.items()})
    variants["all"] = every
    if args.only:
        variants = {name: variants[name] for name in args.only.split(",")}
    augmenters = {}
    for name, settings in variants.items():
        augmenter = PeakAugmenter(grid=datamodule.grid, settings=datamodule.settings, **settings)
        if augmenter.impurity_probability:
            augmenter.set_impurity_pool(PeakListPool(peaks, indices))
        augmenters[name] = augmenter

    def ms_per_sample(augmenter) -> float:
        rng = np.random.default_rng(0)
        started = time.process_time()
        for two_theta, intensity in lists:
            augmenter(two_theta, intensity, wavelength, rng)
        return (time.process_time() - started) / len(lists) * 1e3

    best = {name: float("inf") for name in augmenters}
    for name, augmenter in augmenters.items():
        ms_per_sample(augmenter)  # warm-up: caches of shape filters and grid trigonometry
    for _ in range(args.repeats):  # in turns, so a busy spell of the machine hits every variant alike
        for name, augmenter in augmenters.items():
            best[name] = min(best[name], ms_per_sample(augmenter))
    print(f"{'variant':<24}{'ms/sample':>10}{'over default':>14}")
    for name, ms in best.items():
        extra = f"{ms - best['default']:+14.3f}" if "default" in best and name != "default" else ""
        print(f"{name:<24}{ms:>10.3f}{extra}")
    if "default" in best and "all" in best:
        print(f"all_over_default={best['all'] / best['default']:.2f}")


if __name__ == "__main__":
    main()
