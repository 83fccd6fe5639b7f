"""How much do powder-indexing features tell about the crystal system? An MLP on them, with an ablation.

Renders clean profiles of the cached synthetic dataset and the AFLOW prototypes, computes
`xrdnet.xrd.indexing.indexing_features` for each (cached under --cache-dir), trains a small MLP on the
synthetic train split for several feature subsets, picks the epoch on the synthetic VALIDATION split
only, and prints synthetic val / test and AFLOW accuracy, macro-F1, per-class AFLOW recall and the
trigonal/hexagonal confusion. The AFLOW prototypes are a report set: nothing is chosen on them.

Variants: a = scale-free positions; b = a + cubic fit; c = b + tetragonal/hexagonal/rhombohedral fits;
d = c + orthorhombic fit (all 90 features of the `indexing` set); e = d trained with augmented (noisy)
renders added for a fraction of the training items (xrdnet.data.augment.PeakAugmenter defaults);
f = d + the monoclinic fit (the `indexing_v2` set, xrdnet.xrd.indexing_low); g = the 90 features of the
`indexing_v3` set (d with the orthorhombic fit's trial cells from xrdnet.xrd.indexing_ortho); h = g + the
monoclinic fit (the indexing_v3 vector with indexing_v2's monoclinic columns appended). For f it also
prints, per class, how often the monoclinic fit's ln M beats the orthorhombic one's on the validation split.

Example:
    PYTHONPATH=src python scripts/study_indexing_features.py --variants a b c d e --seeds 0 1
    PYTHONPATH=src python scripts/study_indexing_features.py --variants d f --seeds 0 1 2 --train-items 6000
    PYTHONPATH=src python scripts/study_indexing_features.py --variants d f g --seeds 0 1 --train-items 6000
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import inspect
import time
from pathlib import Path

import numpy as np

VARIANT_GROUPS = {
    "a": ("positions",),
    "b": ("positions", "cubic"),
    "c": ("positions", "cubic", "tetragonal", "hexagonal", "rhombohedral"),
    "d": ("positions", "cubic", "tetragonal", "hexagonal", "rhombohedral", "orthorhombic"),
    "e": ("positions", "cubic", "tetragonal", "hexagonal", "rhombohedral", "orthorhombic"),
    "f": ("positions", "cubic", "tetragonal", "hexagonal", "rhombohedral", "orthorhombic", "monoclinic"),
    "g": ("positions", "cubic", "tetragonal", "hexagonal", "rhombohedral", "orthorhombic"),
    "h": ("positions", "cubic", "tetragonal", "hexagonal", "rhombohedral", "orthorhombic", "monoclinic"),
}
V3_VARIANTS = ("g", "h")  # variants that read the indexing_v3 features (h with v2's monoclinic columns) instead of v2
GRID_ARGS = (5.0, 90.0, 0.04)


def _latest(pattern: str) -> str:
    folders = sorted(glob.glob(pattern), key=lambda p: Path(p).stat().st_mtime)
    if not folders:
        raise SystemExit(f"no dataset folder matches {pattern}; pass it explicitly")
    return folders[-1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--synthetic", default=None, help="synthetic dataset folder (default: newest /work/main/data/synthetic-*)")
    parser.add_argument("--aflow", default=None, help="AFLOW prototype folder (default: newest /work/main/data/aflow*-*)")
    parser.add_argument("--cache-dir", default="outputs/indexing_study", help="where computed features are cached")
    parser.add_argument("--variants", nargs="+", default=list(VARIANT_GROUPS), choices=list(VARIANT_GROUPS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="training seeds (each variant)")
    parser.add_argument("--extra-seeds-variant", default=None,
                        help="run only this variant with every seed in --seeds, the others with the first seed")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--augment-fraction", type=float, default=0.5,
                        help="variant e: fraction of training items that get one augmented render")
    parser.add_argument("--max-items", type=int, default=None, help="use only the first N synthetic items (quick runs)")
    parser.add_argument("--train-items", type=int, default=None,
                        help="train on a random N of the training split (features are computed for it, val and test only)")
    return parser.parse_args(argv)


def _feature_version(kind: str) -> str:
    from xrdnet.data.features import feature_set
    source = "".join(inspect.getsource(module) for module in feature_set(kind).modules)
    return hashlib.sha1(source.encode()).hexdigest()[:10]


def feature_groups() -> dict[str, slice]:
    """Column groups of the `indexing_v2` vector: those of `indexing`, then the monoclinic fit."""
    from xrdnet.xrd import indexing, indexing_low
    return {**indexing.FEATURE_GROUPS, "monoclinic": slice(indexing.N_FEATURES, indexing_low.N_FEATURES)}


def compute_features(dataset, items: np.ndarray, augmenter=None, seed: int = 0, kind: str = "indexing_v2") -> np.ndarray:
    """Features of set `kind` (indexing_v2 or indexing_v3) of dataset items, from clean renders (augmenter None) or augmented ones."""
    from xrdnet.data.features import feature_set
    from xrdnet.xrd.indexing import indexing_features
    from xrdnet.xrd.profile import ProfileSettings, TwoThetaGrid, render_profile

    grid = TwoThetaGrid(*GRID_ARGS)
    points = grid.points
    settings = ProfileSettings(shape="pseudo_voigt", crystallite_size_nm=25.0, eta=0.5)
    rng = np.random.default_rng(seed)
    describe, size = feature_set(kind).describe, feature_set(kind).size
    out = np.zeros((len(items), size), dtype=np.float32)
    wavelength = dataset.wavelength_angstrom
    start = time.perf_counter()
    for row, item in enumerate(items):
        two_theta, intensity = dataset.peaks(int(item))
        if augmenter is None:
            profile = render_profile(two_theta, intensity, grid, settings, wavelength)
        else:
            profile = augmenter(two_theta, intensity, wavelength, rng)
        out[row] = indexing_features(profile, points, wavelength, describe=describe)
        if (row + 1) % 2000 == 0:
            print(f"    {row + 1}/{len(items)} ({(time.perf_counter() - start) / (row + 1) * 1e3:.2f} ms each)", flush=True)
    return out


def cached_features(cache_dir: Path, tag: str, compute, kind: str = "indexing_v2") -> np.ndarray:
    path = cache_dir / f"{tag}-{kind.removeprefix('indexing_')}-{_feature_version(kind)}.npy"
    if path.exists():
        return np.load(path)
    print(f"computing features: {tag}", flush=True)
    start = time.perf_counter()
    features = compute()
    print(f"  {len(features)} patterns in {time.perf_counter() - start:.0f} s "
          f"({(time.perf_counter() - start) / max(len(features), 1) * 1e3:.2f} ms each, render + features)", flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, features)
    return features


def macro_f1(y_true, y_pred, n_classes):
    f1 = []
    for c in range(n_classes):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        if tp + fp + fn == 0:
            continue
        f1.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1))


def train_mlp(x_train, y_train, x_val, y_val, evals: dict, args, seed: int, n_classes: int):
    """Train; pick the epoch on validation accuracy; return metrics/predictions at that epoch for each eval set."""
    import torch

    torch.manual_seed(seed)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    norm = lambda x: torch.tensor((x - mean) / std, dtype=torch.float32)  # noqa: E731
    xt, yt = norm(x_train), torch.tensor(y_train)
    xv = norm(x_val)
    sets = {name: norm(x) for name, (x, _) in evals.items()}
    model = torch.nn.Sequential(
        torch.nn.Linear(x_train.shape[1], args.hidden), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(args.hidden, args.hidden), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(args.hidden, n_classes))
    counts = np.bincount(y_train, minlength=n_classes).astype(float)
    weights = torch.tensor(counts.sum() / (n_classes * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(seed)
    best = (-1.0, -1, None)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), args.batch_size):
            batch = order[start:start + args.batch_size]
            optimizer.zero_grad()
            loss_fn(model(xt[batch]), yt[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_acc = float((model(xv).argmax(1).numpy() == y_val).mean())
            if val_acc > best[0]:
                preds = {name: model(x).argmax(1).numpy() for name, x in sets.items()}
                best = (val_acc, epoch, preds)
    return best


def main(argv=None):
    args = parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from xrdnet.crystal import CRYSTAL_SYSTEMS
    from xrdnet.data.augment import PeakAugmenter
    from xrdnet.data.datamodule import stratified_split
    from xrdnet.data.dataset import PeakListSet
    from xrdnet.xrd.profile import TwoThetaGrid

    synthetic_dir = args.synthetic or _latest("/work/main/data/synthetic-*")
    aflow_dir = args.aflow or _latest("/work/main/data/aflow*-*")
    synthetic = PeakListSet.load(synthetic_dir)
    aflow = PeakListSet.load(aflow_dir)
    print(f"synthetic: {synthetic_dir} ({len(synthetic)} items); AFLOW: {aflow_dir} ({len(aflow)} items)")
    n_items = len(synthetic) if args.max_items is None else min(args.max_items, len(synthetic))
    labels = synthetic.labels[:n_items]
    train, val, test = stratified_split(labels, [0.8, 0.1, 0.1], seed=0)
    computed, tag = np.arange(n_items), f"clean-{n_items}"
    if args.train_items is not None:  # features of a training subset, val and test; x_syn stays indexed by item
        train = np.sort(np.random.default_rng(0).choice(train, size=min(args.train_items, len(train)), replace=False))
        computed, tag = np.sort(np.concatenate([train, val, test])), f"clean-{n_items}-train{len(train)}"
    cache_dir = Path(args.cache_dir)
    syn_name, aflow_name = Path(synthetic_dir).name, Path(aflow_dir).name
    def load(kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(synthetic features indexed by item, AFLOW features) of set `kind`, computed once and cached."""
        features = cached_features(cache_dir, f"{syn_name}-{tag}",
                                   lambda: compute_features(synthetic, computed, kind=kind), kind)
        by_item = np.zeros((n_items, features.shape[1]), dtype=np.float32)
        by_item[computed] = features
        return by_item, cached_features(cache_dir, f"{aflow_name}-clean",
                                        lambda: compute_features(aflow, np.arange(len(aflow)), kind=kind), kind)

    kinds = {variant: "indexing_v3" if variant in V3_VARIANTS else "indexing_v2" for variant in args.variants}
    if "h" in args.variants:
        kinds["h"] = "indexing_v3+monoclinic"
    arrays = {kind: load(kind) for kind in ("indexing_v2", "indexing_v3") if kind in kinds.values() or "h" in kinds}
    if "h" in kinds:  # v3's 90 columns, then v2's monoclinic ones: the column groups of feature_groups()
        arrays["indexing_v3+monoclinic"] = tuple(np.concatenate([v3, v2[:, v3.shape[1]:]], axis=1)
                                                 for v3, v2 in zip(arrays["indexing_v3"], arrays["indexing_v2"]))
    n_classes = len(CRYSTAL_SYSTEMS)

    x_aug = y_aug = None
    if "e" in args.variants:
        rng = np.random.default_rng(1)
        aug_items = np.sort(rng.choice(train, size=int(round(args.augment_fraction * len(train))), replace=False))
        augmenter = PeakAugmenter(grid=TwoThetaGrid(*GRID_ARGS))
        x_aug = cached_features(cache_dir, f"{syn_name}-augmented-{n_items}-{len(aug_items)}",
                                lambda: compute_features(synthetic, aug_items, augmenter, seed=2))
        y_aug = labels[aug_items]

    rows = []
    for variant in args.variants:
        groups = feature_groups()
        columns = np.concatenate([np.arange(groups[g].start, groups[g].stop) for g in VARIANT_GROUPS[variant]])
        x_syn, x_aflow = arrays[kinds[variant]]
        x_train, y_train = x_syn[train][:, columns], labels[train]
        if variant == "e":
            x_train = np.concatenate([x_train, x_aug[:, columns]])
            y_train = np.concatenate([y_train, y_aug])
        seeds = args.seeds if (args.extra_seeds_variant in (None, variant)) else args.seeds[:1]
        for seed in seeds:
            start = time.perf_counter()
            evals = {"val": (x_syn[val][:, columns], labels[val]), "test": (x_syn[test][:, columns], labels[test]),
                     "aflow": (x_aflow[:, columns], aflow.labels)}
            val_acc, epoch, preds = train_mlp(x_train, y_train, x_syn[val][:, columns], labels[val], evals, args, seed,
                                              n_classes)
            test_acc = float((preds["test"] == labels[test]).mean())
            y_a, p_a = aflow.labels, preds["aflow"]
            aflow_acc = float((p_a == y_a).mean())
            recall = [float((p_a[y_a == c] == c).mean()) if np.any(y_a == c) else float("nan") for c in range(n_classes)]
            trig, hexa = CRYSTAL_SYSTEMS.index("trigonal"), CRYSTAL_SYSTEMS.index("hexagonal")
            row = dict(variant=variant, seed=seed, features=len(columns), epoch=epoch, val=val_acc, test=test_acc,
                       aflow=aflow_acc, aflow_f1=macro_f1(y_a, p_a, n_classes), recall=recall,
                       trig_as_hex=int(np.sum((y_a == trig) & (p_a == hexa))), n_trig=int(np.sum(y_a == trig)),
                       hex_as_trig=int(np.sum((y_a == hexa) & (p_a == trig))), n_hex=int(np.sum(y_a == hexa)),
                       test_f1=macro_f1(labels[test], preds["test"], n_classes),
                       val_recall=[float((preds["val"][labels[val] == c] == c).mean()) for c in range(n_classes)])
            rows.append(row)
            print(f"variant {variant} seed {seed}: {len(columns)} features, best epoch {epoch + 1}, val {val_acc:.3f}, "
                  f"test {test_acc:.3f}, AFLOW {aflow_acc:.3f} (macro-F1 {row['aflow_f1']:.3f}) "
                  f"[{time.perf_counter() - start:.0f} s]", flush=True)

    print("\n| variant | features | seed | epoch | synth val | synth test | test macro-F1 | AFLOW acc | AFLOW macro-F1 | "
          "trigonal→hex | hex→trigonal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['features']} | {r['seed']} | {r['epoch'] + 1} | {r['val']:.3f} | {r['test']:.3f} | "
              f"{r['test_f1']:.3f} | {r['aflow']:.3f} | {r['aflow_f1']:.3f} | {r['trig_as_hex']}/{r['n_trig']} | "
              f"{r['hex_as_trig']}/{r['n_hex']} |")
    print("\nAFLOW per-class recall (" + ", ".join(CRYSTAL_SYSTEMS) + "); AFLOW counts "
          + str(np.bincount(aflow.labels, minlength=n_classes).tolist()))
    for r in rows:
        print(f"  {r['variant']} seed {r['seed']}: " + " ".join(f"{v:.2f}" for v in r["recall"]))
    print("\nsynthetic val per-class recall (same order)")
    for r in rows:
        print(f"  {r['variant']} seed {r['seed']}: " + " ".join(f"{v:.2f}" for v in r["val_recall"]))
    if "f" in args.variants:
        x_syn = arrays["indexing_v2"][0]
        groups = feature_groups()
        monoclinic_m = x_syn[val, groups["monoclinic"].start + 1]
        orthorhombic_m = x_syn[val, groups["orthorhombic"].start + 1]
        print("\nval items whose monoclinic fit has a higher ln M than the orthorhombic one (median ln M mono / ortho):")
        for c, name in enumerate(CRYSTAL_SYSTEMS):
            mine = labels[val] == c
            print(f"  {name}: {np.mean(monoclinic_m[mine] > orthorhombic_m[mine]):.2f} of {mine.sum()} "
                  f"({np.median(monoclinic_m[mine]):.2f} / {np.median(orthorhombic_m[mine]):.2f})")


if __name__ == "__main__":
    main()
