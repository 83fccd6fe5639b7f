"""Which indexing features survive a weak second phase? The study that chose `indexing_v4`, reproducible.

Builds exact line lists from the cached peak lists of the synthetic dataset (no profile, no peak
picking): lines within 5-90° 2θ, lines closer than 0.08° merged (a rendered peak would hold them),
heights at least 1 % of the strongest, each position jittered by N(0, 0.01°), the first 30 kept. An
"impure" item also carries the lines of another crystal of its split, scaled so that that crystal's
strongest line is a fraction of the main one's strongest. For each variant it computes the features
of four sets (cached under --cache-dir):
  train clean; train half impure (half the items, impurity fraction U(0.01, 0.05));
  validation clean; validation 5 % impure (every item, fraction 0.05),
trains a features-only MLP (2 × 256, Adam, last epoch) on each training set for every seed, and
prints a Markdown table of validation accuracy, mean ± standard deviation over the seeds. Items are a
random --train-items of the training split and --val-items of the VALIDATION split (stratified
0.8/0.1/0.1, split seed 0, as training splits); the test split and AFLOW are not read.

Variants (see xrdnet.xrd.indexing_impurity):
  v3            indexing_v3 (indexing_ortho.line_features_v3)
  v3_forgiving  indexing_v3 with each figure of merit leaving out the worst 10 % of the lines
  strong0.06    v3_forgiving on the lines ≥ 6 % of the strongest only
  strong0.10    v3_forgiving on the lines ≥ 10 % of the strongest only
  v4            indexing_v4: v3_forgiving on all lines, then on the lines ≥ 6 % (the default features)
  v4_strong0.10 the same with the strong lines ≥ 10 %

Example (the table of README "Impurity lines"; about 10 minutes of features on 2 cores, cached after):
    PYTHONPATH=src python scripts/study_impurity_features.py
    PYTHONPATH=src python scripts/study_impurity_features.py --variants v3 v4 --seeds 0 1 2
    PYTHONPATH=src python scripts/study_impurity_features.py --dataset data/synthetic-4e8c50488d68 \\
        --train-items 400 --val-items 150 --seeds 0
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import json
import multiprocessing
from pathlib import Path

import numpy as np

TWO_THETA_RANGE_DEG = (5.0, 90.0)  # lines kept strictly inside, as the model's grid
MERGE_DEG = 0.08  # lines closer than this are one line (one rendered peak holds them)
MIN_HEIGHT = 0.01  # lines picked down to 1 % of the strongest, as indexing.pick_peaks
JITTER_DEG = 0.01  # standard deviation of the position error of a picked line, degrees 2θ
MAX_LINES = 30  # lines a list keeps, lowest angles first
TRAIN_IMPURITY = (0.5, 0.01, 0.05)  # half-impure training set: probability, fraction range
VAL_IMPURITY = (1.0, 0.05, 0.05)  # impure validation set: every item, a 5 % phase
PLAN_SEEDS = {"train_clean": 1, "train_impure": 2, "val_clean": 3, "val_impure": 4}
TRAIN_SETS = {"train_clean": "clean lines", "train_impure": "half the items with a 1-5 % impurity"}
CHUNK_ITEMS = 25  # items per task of the pool


def line_list(peaks, item: int, rng: np.random.Generator, impurity: int | None = None, fraction: float = 0.0,
              strong: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(2θ in degrees, heights as a fraction of the strongest) of the lines of item `item` of `peaks`.

    impurity: another item whose lines are added, scaled so its strongest is `fraction` of the item's
    strongest. Lines inside TWO_THETA_RANGE_DEG, merged within MERGE_DEG (intensity-weighted position,
    summed intensity), heights ≥ max(MIN_HEIGHT, strong), positions jittered by N(0, JITTER_DEG) from
    `rng`, the first MAX_LINES.
    """
    two_theta, intensity = (np.asarray(a, dtype=float) for a in peaks.peaks(item))
    if impurity is not None:
        other_two_theta, other_intensity = (np.asarray(a, dtype=float) for a in peaks.peaks(impurity))
        two_theta = np.concatenate([two_theta, other_two_theta])
        intensity = np.concatenate([intensity, other_intensity * fraction * intensity.max() / other_intensity.max()])
    inside = (two_theta > TWO_THETA_RANGE_DEG[0]) & (two_theta < TWO_THETA_RANGE_DEG[1])
    two_theta, intensity = two_theta[inside], intensity[inside]
    order = np.argsort(two_theta)
    two_theta, intensity = two_theta[order], intensity[order]
    groups = np.concatenate([[0], np.cumsum(np.diff(two_theta) > MERGE_DEG)])
    summed = np.bincount(groups, intensity)
    position = np.bincount(groups, intensity * two_theta) / np.maximum(summed, 1e-12)
    heights = summed / summed.max()
    kept = heights >= max(MIN_HEIGHT, strong)
    position = position[kept] + rng.normal(0.0, JITTER_DEG, kept.sum())
    return position[:MAX_LINES], heights[kept][:MAX_LINES]


def impurity_plan(items: np.ndarray, probability: float, low: float, high: float, seed: int) -> list[tuple]:
    """(item, impurity item or -1, fraction, line-list seed) for each item: an impurity from another of
    `items` with `probability`, its fraction uniform in [low, high]."""
    rng = np.random.default_rng(seed)
    plan = []
    for position, item in enumerate(items):
        impurity = -1
        if rng.random() < probability:  # another crystal of the set: skip the item's own place
            pick = int(rng.integers(len(items) - 1))
            impurity = int(items[pick + (pick >= position)])
        plan.append((int(item), impurity, float(rng.uniform(low, high)), seed * 100_000 + position))
    return plan


def variants() -> dict[str, tuple[float, object]]:
    """name -> (strong threshold of the line list, describe(q2, heights, tol))."""
    from xrdnet.xrd import indexing_impurity, indexing_ortho
    return {
        "v3": (0.0, indexing_ortho.line_features_v3),
        "v3_forgiving": (0.0, indexing_impurity.forgiving_v3_features),
        "strong0.06": (0.06, indexing_impurity.forgiving_v3_features),
        "strong0.10": (0.10, indexing_impurity.forgiving_v3_features),
        "v4": (0.0, indexing_impurity.line_features_v4),  # filters its strong lines itself: give it all of them
        "v4_strong0.10": (0.0, functools.partial(indexing_impurity.line_features_v4, strong_line_height=0.10)),
    }


VARIANT_NAMES = ("v3", "v3_forgiving", "strong0.06", "strong0.10", "v4", "v4_strong0.10")


def _describe_lines(task) -> np.ndarray:
    from xrdnet.xrd import indexing
    variant, wavelength, lines = task
    describe = variants()[variant][1]
    return np.array([indexing.peak_list_features(two_theta, heights, wavelength, describe=describe)
                     for two_theta, heights in lines])


def compute_features(peaks, plans: dict[str, list[tuple]], variant: str, workers: int) -> dict[str, np.ndarray]:
    """Features of `variant` for every plan, computed in a pool of `workers` with a progress bar."""
    from tqdm.auto import tqdm
    strong = variants()[variant][0]
    tasks, owners = [], []
    for name, plan in plans.items():
        lines = [line_list(peaks, item, np.random.default_rng(seed), None if impurity < 0 else impurity, fraction, strong)
                 for item, impurity, fraction, seed in plan]
        for start in range(0, len(lines), CHUNK_ITEMS):
            tasks.append((variant, peaks.wavelength_angstrom, lines[start:start + CHUNK_ITEMS]))
            owners.append(name)
    total = sum(len(plan) for plan in plans.values())
    parts = {name: [] for name in plans}
    with multiprocessing.get_context("fork").Pool(workers) as pool, \
            tqdm(total=total, desc=f"features {variant}", unit="item") as bar:
        for name, task, part in zip(owners, tasks, pool.imap(_describe_lines, tasks)):
            parts[name].append(part)
            bar.update(len(task[2]))
    return {name: np.concatenate(chunks).astype(np.float32) for name, chunks in parts.items()}


def cache_path(cache_dir: Path, dataset: Path, variant: str, settings: dict) -> Path:
    """Feature file of `variant`, named by a hash of what determines it: the dataset, the items and their
    plans' settings, the line-list rules and the code of the features and of this study's line lists."""
    from xrdnet.xrd import indexing, indexing_impurity, indexing_ortho
    code = "".join(inspect.getsource(part) for part in (indexing, indexing_ortho, indexing_impurity, line_list,
                                                          impurity_plan))
    key = {"dataset": dataset.resolve().name, "variant": variant, "settings": settings,
           "code": hashlib.sha1(code.encode()).hexdigest()}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir / f"{dataset.resolve().name}-{variant}-{digest}.npz"


def cached_features(path: Path, compute) -> dict[str, np.ndarray]:
    from xrdnet.utils.atomic import atomic_path
    if path.exists():
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}
    features = compute()
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **features)
    return features


def train_mlp(x_train: np.ndarray, y_train: np.ndarray, evaluations: list[tuple[np.ndarray, np.ndarray]],
              args, seed: int) -> list[float]:
    """Accuracy on each (features, labels) of `evaluations` of a 2-hidden-layer MLP after args.epochs epochs."""
    import torch

    from xrdnet.crystal import CRYSTAL_SYSTEMS
    torch.manual_seed(seed)
    x = torch.tensor(x_train, dtype=torch.float32)
    y = torch.tensor(y_train, dtype=torch.long)
    mean, std = x.mean(0), x.std(0) + 1e-6
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], args.hidden), torch.nn.ReLU(),
                              torch.nn.Linear(args.hidden, args.hidden), torch.nn.ReLU(),
                              torch.nn.Linear(args.hidden, len(CRYSTAL_SYSTEMS)))
    optimizer = torch.optim.Adam(net.parameters(), args.lr, weight_decay=args.weight_decay)
    for _ in range(args.epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), args.batch_size):
            batch = order[start:start + args.batch_size]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net((x[batch] - mean) / std), y[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        return [float((net((torch.tensor(features, dtype=torch.float32) - mean) / std).argmax(1).numpy() == labels).mean())
                for features, labels in evaluations]


def default_dataset(data_dir: str) -> Path:
    """The synthetic dataset folder the default training config builds under data_dir."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from xrdnet.config import CONFIG_DIR
    from xrdnet.data.dataset import dataset_folder
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.data_dir={data_dir}", "data.real_source=null"])
    datamodule = instantiate(cfg.data)
    return dataset_folder(data_dir, datamodule.source, datamodule.simulator)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--data-dir", default="data", help="dataset cache; the default config's synthetic dataset in it is read")
    parser.add_argument("--dataset", default=None, help="a dataset folder to read instead")
    parser.add_argument("--cache-dir", default="outputs/study_impurity", help="where computed features are cached")
    parser.add_argument("--variants", nargs="+", default=list(VARIANT_NAMES), choices=VARIANT_NAMES)
    parser.add_argument("--train-items", type=int, default=5000, help="random items of the training split")
    parser.add_argument("--val-items", type=int, default=1000, help="random items of the validation split")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="MLP training seeds")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2, help="processes computing features")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from xrdnet.data.datamodule import stratified_split
    from xrdnet.data.dataset import DatasetError, PeakListSet

    torch.set_num_threads(1)
    folder = Path(args.dataset) if args.dataset else default_dataset(args.data_dir)
    try:
        peaks = PeakListSet.load(folder)
    except (FileNotFoundError, DatasetError) as error:
        hint = "" if args.dataset else " (build it with xrdnet-data, or pass --dataset)"
        raise SystemExit(f"{error}{hint}") from None
    train, val, _ = stratified_split(peaks.labels, (0.8, 0.1, 0.1), seed=0)
    rng = np.random.default_rng(1)
    train, val = rng.permutation(train)[:args.train_items], rng.permutation(val)[:args.val_items]
    plans = {"train_clean": impurity_plan(train, 0.0, 0.0, 0.0, PLAN_SEEDS["train_clean"]),
             "train_impure": impurity_plan(train, *TRAIN_IMPURITY, PLAN_SEEDS["train_impure"]),
             "val_clean": impurity_plan(val, 0.0, 0.0, 0.0, PLAN_SEEDS["val_clean"]),
             "val_impure": impurity_plan(val, *VAL_IMPURITY, PLAN_SEEDS["val_impure"])}
    settings = {"train_items": len(train), "val_items": len(val), "train_impurity": TRAIN_IMPURITY,
                "val_impurity": VAL_IMPURITY, "plan_seeds": PLAN_SEEDS,
                "lines": [TWO_THETA_RANGE_DEG, MERGE_DEG, MIN_HEIGHT, JITTER_DEG, MAX_LINES]}
    print(f"dataset {folder} ({len(peaks)} items): {len(train)} training and {len(val)} validation crystals", flush=True)
    cache_dir = Path(args.cache_dir)
    labels_train, labels_val = peaks.labels[train], peaks.labels[val]
    rows = []
    for variant in args.variants:
        path = cache_path(cache_dir, folder, variant, settings)
        features = cached_features(path, lambda: compute_features(peaks, plans, variant, args.workers))
        for train_set, described in TRAIN_SETS.items():
            scores = np.array([train_mlp(features[train_set], labels_train, [(features["val_clean"], labels_val),
                                                                            (features["val_impure"], labels_val)],
                                         args, seed) for seed in args.seeds])
            rows.append((variant, described, scores.mean(0), scores.std(0)))
            print(f"{variant} trained on {train_set}: val clean {scores[:, 0].mean():.3f}, "
                  f"val impure {scores[:, 1].mean():.3f}", flush=True)
    print(f"\nvalidation accuracy, mean ± standard deviation over seeds {' '.join(map(str, args.seeds))}:\n")
    print("| variant | trained on | val clean | val, 5 % impurity |")
    print("|---|---|---:|---:|")
    for variant, described, mean, spread in rows:
        print(f"| {variant} | {described} | {mean[0]:.3f} ± {spread[0]:.3f} | {mean[1]:.3f} ± {spread[1]:.3f} |")


if __name__ == "__main__":
    main()
